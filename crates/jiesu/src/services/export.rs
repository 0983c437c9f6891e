//! Request lists as files for offices: CSV (UTF-8 with a byte-order mark, so Excel on a
//! Chinese Windows reads it as UTF-8) and xlsx, with the list's own filters and scoping
//! (`views::export_rows`), phones masked, at most [`ROW_CAP`] rows, headers in either
//! language. The HTTP edge is `web::api`.

use super::views::{self, RequestView};
use super::AppState;
use crate::error::AppError;
use crate::messages::{self, Lang};
use jiesu_core::workflow::AssignmentRole;
use jiesu_core::Actor;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// The most rows one export holds; the answer says how many matched (`X-Total-Count`).
pub const ROW_CAP: i64 = 10_000;

/// The UTF-8 byte-order mark every CSV export begins with.
pub const BOM: &str = "\u{feff}";

/// A file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values, UTF-8 with a BOM.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

/// An exported file.
pub struct Export {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Rows written (at most [`ROW_CAP`]).
    pub rows: usize,
    /// Requests that match the filters in all.
    pub total: i64,
}

/// The columns: message key, and the cell of a request.
const COLUMNS: [&str; 13] = [
    "export.col.number",
    "export.col.created_at",
    "export.col.kind",
    "export.col.channel",
    "export.col.status",
    "export.col.category",
    "export.col.title",
    "export.col.address",
    "export.col.requester",
    "export.col.phone",
    "export.col.lead_unit",
    "export.col.reply_by",
    "export.col.closed_at",
];

/// Prefixes a CSV text with the BOM.
pub fn with_bom(csv: String) -> String {
    format!("{BOM}{csv}")
}

/// The requests `actor` may list with these filters, as a file.
pub async fn requests(
    state: &AppState,
    actor: &Actor,
    status: Option<String>,
    unit: Option<String>,
    format: FileFormat,
    lang: Lang,
) -> Result<Export, AppError> {
    let (views, total) = views::export_rows(state, actor, status, unit, ROW_CAP).await?;
    let offset = state.config.offset();
    let head: Vec<&str> = COLUMNS.iter().map(|k| label(k, lang)).collect();
    let rows: Vec<Vec<String>> = views.iter().map(|v| cells(v, lang, offset)).collect();
    let bytes = match format {
        FileFormat::Csv => csv_bytes(&head, &rows)?,
        FileFormat::Xlsx => xlsx_bytes(&head, &rows, total, lang).map_err(xlsx)?,
    };
    Ok(Export {
        bytes,
        rows: rows.len(),
        total,
    })
}

fn label(key: &str, lang: Lang) -> &'static str {
    messages::text(key).map_or("", |(zh, en)| lang.pick(zh, en))
}

fn local(t: chrono::DateTime<chrono::Utc>, offset: chrono::FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn cells(v: &RequestView, lang: Lang, offset: chrono::FixedOffset) -> Vec<String> {
    let lead = v
        .assignments
        .iter()
        .filter(|a| a.round == v.round && a.role == AssignmentRole::Lead)
        .max_by_key(|a| a.dispatched_at);
    let requester = v.requester.as_ref();
    vec![
        v.number.clone(),
        local(v.created_at, offset),
        label(&format!("kind.{}", v.kind.as_str()), lang).to_string(),
        label(&format!("channel.{}", v.channel.as_str()), lang).to_string(),
        label(&format!("status.{}", v.status.as_str()), lang).to_string(),
        v.category_code.clone().unwrap_or_default(),
        v.title.clone(),
        v.address.clone(),
        requester.map(|r| r.name.clone()).unwrap_or_default(),
        requester.map(|r| r.phone.clone()).unwrap_or_default(),
        lead.map(|a| a.unit_code.clone()).unwrap_or_default(),
        lead.map(|a| local(a.reply_by, offset)).unwrap_or_default(),
        v.closed_at.map(|t| local(t, offset)).unwrap_or_default(),
    ]
}

fn csv_bytes(head: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::Writer::from_writer(BOM.as_bytes().to_vec());
    w.write_record(head)
        .map_err(|e| AppError::Internal(e.into()))?;
    for r in rows {
        w.write_record(r)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))
}

fn xlsx(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("xlsx: {e}"))
}

fn xlsx_bytes(
    head: &[&str],
    rows: &[Vec<String>],
    total: i64,
    lang: Lang,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name(label("export.sheet", lang))?;
    let bold = Format::new().set_bold();
    for (c, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, if c == 6 || c == 7 { 32 } else { 14 })?;
    }
    ws.set_freeze_panes(1, 0)?;
    for (i, r) in rows.iter().enumerate() {
        for (c, v) in r.iter().enumerate() {
            ws.write_string(i as u32 + 1, c as u16, v)?;
        }
    }
    let note = wb
        .add_worksheet()
        .set_name(label("export.note_sheet", lang))?;
    let (zh, en) = messages::pair(
        "export.note",
        &[
            ("cap", ROW_CAP.to_string()),
            ("rows", rows.len().to_string()),
            ("total", total.to_string()),
        ],
    );
    note.write_string(0, 0, lang.pick(&zh, &en))?;
    wb.save_to_buffer()
}
