//! Table files for the reference-data commands (`jiesu units`, `jiesu categories`): writing
//! rows as CSV (UTF-8 with a BOM, so Excel on Chinese Windows opens it) or xlsx, reading a
//! `.csv` or `.xlsx` back as strings, finding columns by header, and naming a refused row and
//! column (`rows[3].name` → `row 5, name`) in the exit-2 message.

use crate::cli_args::{usage, Usage};
use clap::ValueEnum;
use jiesu::error::AppError;
use jiesu::services::imports::ImportSummary;
use jiesu::services::tables::{self, TableFormat};
use std::path::{Path, PathBuf};

/// The file format of an export.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// CSV, UTF-8 with a BOM.
    Csv,
    /// Excel.
    Xlsx,
}

impl From<Format> for TableFormat {
    fn from(f: Format) -> TableFormat {
        match f {
            Format::Csv => TableFormat::Csv,
            Format::Xlsx => TableFormat::Xlsx,
        }
    }
}

/// The rows (header first) as a file of `format`; `sheet` names the xlsx worksheet.
pub fn to_bytes(
    header: &[&str],
    rows: &[Vec<String>],
    format: Format,
    sheet: &str,
) -> anyhow::Result<Vec<u8>> {
    tables::to_bytes(header, rows, format.into(), sheet)
}

/// Writes an export to `out`, or CSV to standard output; `what` names the rows in the
/// message (`12 units written to …`).
pub fn write(
    header: &[&str],
    rows: &[Vec<String>],
    format: Format,
    out: Option<PathBuf>,
    what: &str,
) -> anyhow::Result<()> {
    let bytes = to_bytes(header, rows, format, what)?;
    match (out, format) {
        (Some(path), _) => {
            std::fs::write(&path, bytes)?;
            errln!("{} {what} written to {}", rows.len(), path.display());
        }
        (None, Format::Csv) => crate::out_bytes(&bytes),
        (None, Format::Xlsx) => return usage("--format xlsx needs --out FILE"),
    }
    Ok(())
}

/// The file's rows as trimmed strings (the header first).
pub fn read(file: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let name = file.display().to_string();
    let Some(format) = TableFormat::of_name(&name) else {
        return usage(format!("{name}: the file must end in .csv or .xlsx"));
    };
    let bytes = std::fs::read(file).or_else(|e| usage(format!("{name}: {e}")))?;
    tables::parse(&bytes, format).or_else(|e| usage(format!("{name}: {e}")))
}

/// A table read back: its header, and the cells of each data row by column name.
pub struct Table<'a> {
    header: &'a [String],
    rows: &'a [Vec<String>],
}

impl<'a> Table<'a> {
    /// The table; refused when it has no header or lacks one of `required` (`all` is listed
    /// in the message).
    pub fn new(table: &'a [Vec<String>], required: &[&str], all: &[&str]) -> anyhow::Result<Self> {
        let Some((header, rows)) = table.split_first() else {
            return usage("the file is empty: it needs a header row");
        };
        if required.iter().any(|r| !header.iter().any(|h| h == r)) {
            return usage(format!(
                "the header must name the columns {}",
                all.join(",")
            ));
        }
        Ok(Table { header, rows })
    }

    /// The data rows with their 1-based row number in the file (the header is row 1).
    pub fn rows(&self) -> impl Iterator<Item = (usize, Row<'_>)> {
        self.rows.iter().enumerate().map(|(i, r)| {
            (
                i + 2,
                Row {
                    header: self.header,
                    cells: r,
                },
            )
        })
    }
}

/// One data row.
pub struct Row<'a> {
    header: &'a [String],
    cells: &'a [String],
}

impl Row<'_> {
    /// The cell under `column` (empty when the column or the cell is missing).
    pub fn get(&self, column: &str) -> String {
        self.header
            .iter()
            .position(|h| h == column)
            .and_then(|c| self.cells.get(c))
            .cloned()
            .unwrap_or_default()
    }

    /// A 1/0 cell (`true`/`false`, `是`/`否`; empty is `default`), refused naming row
    /// `n` and the column.
    pub fn flag(&self, n: usize, column: &str, default: bool) -> anyhow::Result<bool> {
        match self.get(column).as_str() {
            "" => Ok(default),
            "1" | "true" | "是" => Ok(true),
            "0" | "false" | "否" => Ok(false),
            other => usage(format!("row {n}, {column}: must be 1 or 0, not {other:?}")),
        }
    }
}

/// `rows[3].name` → `row 5, name` (the header is row 1).
pub fn row_of(field: &str) -> String {
    match tables::row_and_column(field) {
        Some((row, f)) => format!("row {row}, {f}"),
        None => field.to_string(),
    }
}

/// An import's refusal as the exit-2 error: the message and every field by row and column.
pub fn refused(e: &AppError) -> anyhow::Error {
    let fields: Vec<String> = e
        .fields()
        .iter()
        .map(|f| format!("{}: {}", row_of(&f.field), f.message_en))
        .collect();
    Usage(format!("{} ({})", e.message(true), fields.join("; "))).into()
}

/// Ends an import: prints its counts, or turns its refusal into exit 2 naming row and column.
pub fn report(result: Result<ImportSummary, AppError>, dry_run: bool) -> anyhow::Result<()> {
    let sum = result.map_err(|e| refused(&e))?;
    print_counts(&sum, dry_run);
    Ok(())
}

/// Prints an import's counts.
pub fn print_counts(sum: &ImportSummary, dry_run: bool) {
    let verb = if dry_run { "would be " } else { "" };
    let ImportSummary {
        added,
        changed,
        unchanged,
    } = sum;
    outln!("{added} {verb}added, {changed} {verb}changed, {unchanged} unchanged");
}
