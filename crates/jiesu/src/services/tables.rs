//! Table files (CSV and xlsx) as the console and the pages exchange them: rows written as CSV
//! (UTF-8 with a BOM, so Excel on Chinese Windows opens it) or xlsx, and a file's bytes read
//! back as rows of trimmed strings. What the columns mean is each import's business.

/// A table file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// CSV, UTF-8 (a BOM is written, and skipped when read).
    Csv,
    /// Excel (the first worksheet).
    Xlsx,
}

impl TableFormat {
    /// The format a file name's extension says (`.csv`, `.xlsx`, any case).
    pub fn of_name(name: &str) -> Option<TableFormat> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(TableFormat::Csv),
            "xlsx" => Some(TableFormat::Xlsx),
            _ => None,
        }
    }

    /// The file's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            TableFormat::Csv => "text/csv; charset=utf-8",
            TableFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Xlsx => "xlsx",
        }
    }
}

/// The rows (header first) as a file of `format`; `sheet` names the xlsx worksheet.
pub fn to_bytes(
    header: &[&str],
    rows: &[Vec<String>],
    format: TableFormat,
    sheet: &str,
) -> anyhow::Result<Vec<u8>> {
    match format {
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            w.write_record(header)?;
            for r in rows {
                w.write_record(r)?;
            }
            Ok(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        TableFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet().set_name(sheet)?;
            for (c, h) in header.iter().enumerate() {
                ws.write_string(0, c as u16, *h)?;
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    ws.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
            Ok(wb.save_to_buffer()?)
        }
    }
}

/// A file's rows as trimmed strings (the header first), or why it cannot be read (in
/// English: the console prints it, the pages name the file's field with it).
pub fn parse(bytes: &[u8], format: TableFormat) -> Result<Vec<Vec<String>>, String> {
    match format {
        TableFormat::Xlsx => {
            use calamine::Reader;
            let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes))
                .map_err(|e| format!("not an xlsx workbook: {e}"))?;
            let Some(Ok(range)) = wb.worksheet_range_at(0) else {
                return Err("no worksheet".into());
            };
            Ok(range
                .rows()
                .map(|r| r.iter().map(cell_text).collect())
                .collect())
        }
        TableFormat::Csv => {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            let mut rows = Vec::new();
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| format!("row {}: {e}", i + 1))?;
                rows.push(rec.iter().map(|c| c.trim().to_string()).collect());
            }
            Ok(rows)
        }
    }
}

/// An import's refused field `rows[3].name` as the file's row and column: `(5, "name")` (the
/// header is row 1); None for a field that names no row (`file`).
pub fn row_and_column(field: &str) -> Option<(usize, &str)> {
    let (i, column) = field.strip_prefix("rows[")?.split_once("].")?;
    Some((i.parse::<usize>().ok()?.checked_add(2)?, column))
}

/// A cell as trimmed text; a date that Excel keeps as a day number (typed into a cell as a
/// date) reads back as `YYYY-MM-DD`.
fn cell_text(cell: &calamine::Data) -> String {
    if let calamine::Data::DateTime(d) = cell {
        let day = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|base| {
            base.checked_add_signed(chrono::TimeDelta::try_days(d.as_f64() as i64)?)
        });
        if let (true, Some(day)) = (d.is_datetime(), day) {
            return day.format("%Y-%m-%d").to_string();
        }
    }
    cell.to_string().trim().to_string()
}

#[cfg(test)]
mod tests {
    //! Unit tests of the round trip through both formats and of refusals.

    use super::*;

    #[test]
    fn rows_go_round_through_csv_and_xlsx() {
        let rows = vec![
            vec!["供暖报修".to_string(), "拨打热线, \"96069\"".to_string()],
            vec!["".to_string(), " 空格 ".to_string()],
        ];
        for format in [TableFormat::Csv, TableFormat::Xlsx] {
            let bytes = to_bytes(&["title", "answer"], &rows, format, "entries").unwrap();
            let back = parse(&bytes, format).unwrap();
            assert_eq!(back[0], ["title", "answer"]);
            assert_eq!(back[1], rows[0], "{format:?}");
            assert_eq!(back[2][1], "空格", "{format:?}: cells are trimmed");
        }
    }

    #[test]
    fn names_and_bad_bytes() {
        assert_eq!(TableFormat::of_name("知识库.XLSX"), Some(TableFormat::Xlsx));
        assert_eq!(TableFormat::of_name("a.csv"), Some(TableFormat::Csv));
        assert_eq!(TableFormat::of_name("a.txt"), None);
        assert_eq!(TableFormat::of_name("csv"), None);
        assert!(parse(b"\xff\xfe", TableFormat::Csv).is_err());
        assert!(parse(b"not a zip", TableFormat::Xlsx).is_err());
    }

    #[test]
    fn a_refused_field_names_its_row_in_the_file() {
        assert_eq!(row_and_column("rows[3].valid_to"), Some((5, "valid_to")));
        assert_eq!(row_and_column("rows[0].title"), Some((2, "title")));
        assert_eq!(row_and_column("file"), None);
        assert_eq!(row_and_column("rows[x].title"), None);
    }
}
