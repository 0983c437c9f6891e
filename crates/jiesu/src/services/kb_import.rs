//! Knowledge-base entries in bulk (知识库批量导入导出): an import checks every row first and
//! then writes all of them in one transaction (new entries many rows a statement, each with
//! its first version; a row naming an existing id makes a new version of it when it
//! differs), recorded as one event naming the batch; a refused row is named `rows[i].field`.

use super::accounts::By;
use super::imports::ImportSummary;
use super::kb::{check, KbEntry, KbInput};
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::kb::{self, KbFilter};
use chrono::{DateTime, Utc};
use jiesu_core::kb::{KbError, KbStatus};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// One row of an import: an entry as it should be.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    /// An existing entry to change (new version), or the id a new one gets; absent: a new id.
    pub id: Option<String>,
    /// The question.
    pub title: String,
    /// The answer.
    pub answer: String,
    /// Keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// Owning unit.
    pub unit_code: Option<String>,
    /// Where the answer comes from.
    #[serde(default)]
    pub source: String,
    /// Valid from.
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until.
    pub valid_until: Option<DateTime<Utc>>,
    /// `draft` (default) or `published`.
    pub status: Option<KbStatus>,
}

impl ImportRow {
    fn input(&self) -> KbInput {
        KbInput {
            title: self.title.clone(),
            answer: self.answer.clone(),
            tags: self.tags.clone(),
            category: self.category.clone(),
            unit_code: self.unit_code.clone(),
            source: self.source.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            status: self.status,
        }
    }
}

/// At most this many refused fields are reported (a wrong file would name every row).
const MAX_ERRORS: usize = 50;

async fn known_units(state: &AppState, rows: &[ImportRow]) -> Result<HashSet<String>, AppError> {
    let codes: HashSet<&str> = rows.iter().filter_map(|r| r.unit_code.as_deref()).collect();
    let mut known = HashSet::new();
    for code in codes {
        if crate::store::reference::unit(state.store.reader(), code)
            .await?
            .is_some()
        {
            known.insert(code.to_string());
        }
    }
    Ok(known)
}

fn entry_of(
    row: &ImportRow,
    id: String,
    version: i64,
    created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> KbEntry {
    KbEntry {
        id,
        title: row.title.trim().to_string(),
        answer: row.answer.trim().to_string(),
        tags: row.tags.clone(),
        category: row.category.trim().to_string(),
        unit_code: row.unit_code.clone().filter(|u| !u.is_empty()),
        source: row.source.trim().to_string(),
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        status: row.status.unwrap_or(KbStatus::Draft),
        version,
        last_used_at: None,
        active: true,
        created_at: created,
        updated_at: now,
    }
}

/// Whether an import row says what the entry already says.
fn same(a: &KbEntry, b: &KbEntry) -> bool {
    (
        &a.title,
        &a.answer,
        &a.tags,
        &a.category,
        &a.unit_code,
        &a.source,
    ) == (
        &b.title,
        &b.answer,
        &b.tags,
        &b.category,
        &b.unit_code,
        &b.source,
    ) && (a.valid_from, a.valid_until, a.status, a.active)
        == (b.valid_from, b.valid_until, b.status, b.active)
}

/// Checks every row, then adds and changes entries all or nothing; `dry_run` counts only.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<ImportSummary, AppError> {
    if let By::User(actor) = by {
        if !jiesu_core::kb::is_keeper(actor) {
            return Err(KbError::Forbidden.into());
        }
    }
    let units = known_units(state, rows).await?;
    let named: Vec<String> = rows.iter().filter_map(|r| r.id.clone()).collect();
    let existing: HashMap<String, KbEntry> = kb::existing(state.store.reader(), &named)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let at = format!("rows[{i}].");
        let unit_ok = row.unit_code.as_ref().is_none_or(|u| units.contains(u));
        // An import sets draft or published; a row that repeats an entry's reviewed or
        // expired status as it stands (an export read back) keeps it.
        let mut input = row.input();
        let stands = |e: &KbEntry| Some(e.status) == row.status;
        if row
            .id
            .as_ref()
            .and_then(|id| existing.get(id))
            .is_some_and(stands)
        {
            input.status = None;
        }
        errors.extend(check(&input, &at, unit_ok));
        if let Some(id) = &row.id {
            if id.is_empty() || id.chars().count() > 64 || !seen.insert(id.as_str()) {
                errors.push(FieldError::of(
                    format!("{at}id"),
                    "err.kb.id_repeated_or_bad",
                ));
            }
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.clock.now();
    let mut sum = ImportSummary::default();
    let (mut added, mut changed) = (Vec::new(), Vec::new());
    for row in rows {
        let id = row
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        match existing.get(&id) {
            None => {
                sum.added += 1;
                added.push(entry_of(row, id, 1, now, now));
            }
            Some(old) => {
                let new = entry_of(row, id, old.version + 1, old.created_at, now);
                if same(old, &new) {
                    sum.unchanged += 1;
                } else {
                    sum.changed += 1;
                    let was = kb::AsRead::of(old);
                    changed.push((
                        KbEntry {
                            last_used_at: old.last_used_at,
                            ..new
                        },
                        was,
                    ));
                }
            }
        }
    }
    if dry_run {
        return Ok(sum);
    }
    let batch = uuid::Uuid::now_v7().to_string();
    let who = match by {
        By::User(a) => a.user_id.clone(),
        _ => "console".to_string(),
    };
    let mut tx = state.store.begin().await?;
    kb::insert_many(&mut tx, &added, &batch, &who).await?;
    for (e, read) in &changed {
        super::kb::changed_since(kb::update_if(&mut tx, e, &who, *read, Some(&batch)).await?)?;
    }
    let payload = serde_json::json!({
        "batch_id": batch, "added": sum.added, "changed": sum.changed, "unchanged": sum.unchanged,
    });
    tx.event(by.event(state, "kb.imported", payload));
    tx.commit().await?;
    Ok(sum)
}

/// Every active entry matching `filter`, newest change first (center staff, or the console).
pub async fn export(
    state: &AppState,
    by: By<'_>,
    filter: &KbFilter,
) -> Result<Vec<KbEntry>, AppError> {
    if let By::User(actor) = by {
        if !jiesu_core::kb::is_keeper(actor) {
            return Err(KbError::Forbidden.into());
        }
    }
    Ok(kb::list(state.store.reader(), filter, i64::MAX / 2, 0).await?)
}

/// The columns of an export and an import file (CSV or xlsx).
pub const COLUMNS: [&str; 10] = [
    "id",
    "title",
    "answer",
    "category",
    "unit_code",
    "source",
    "valid_from",
    "valid_to",
    "keywords",
    "status",
];

/// A validity bound as a file cell: the local day where it is a local midnight (`valid_to`
/// the day before: the file's end day is included), else RFC 3339; empty when unbounded.
fn day_or_time(state: &AppState, t: Option<DateTime<Utc>>, to: bool) -> String {
    let Some(t) = t else {
        return String::new();
    };
    let local = t.with_timezone(&state.config.offset());
    if local.time() == chrono::NaiveTime::MIN {
        let day = local.date_naive();
        let day = if to {
            day.pred_opt().unwrap_or(day)
        } else {
            day
        };
        day.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339()
    }
}

/// An entry as a row of [`COLUMNS`].
pub fn cells(state: &AppState, e: &KbEntry) -> Vec<String> {
    vec![
        e.id.clone(),
        e.title.clone(),
        e.answer.clone(),
        e.category.clone(),
        e.unit_code.clone().unwrap_or_default(),
        e.source.clone(),
        day_or_time(state, e.valid_from, false),
        day_or_time(state, e.valid_until, true),
        e.tags.join("|"),
        e.status.as_str().to_string(),
    ]
}

/// A date cell: `YYYY-MM-DD` (local midnight; for `valid_to` the day is included) or RFC
/// 3339; empty is none.
fn when(state: &AppState, cell: &str, to: bool) -> Result<Option<DateTime<Utc>>, ()> {
    if cell.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(cell) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let day = jiesu_core::dates::parse_day(cell).map_err(|_| ())?;
    let day = if to {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(Some(state.config.local_midnight(day)))
}

/// The rows of a table file (header first) with [`COLUMNS`] (`title` and `answer` needed,
/// any order, others optional; `keywords` `|`-separated): a missing header is a 422 naming
/// `file`, a bad date or status one naming `rows[i].column` (i counts data rows from 0).
pub fn rows_of_table(state: &AppState, table: &[Vec<String>]) -> Result<Vec<ImportRow>, AppError> {
    let Some((header, data)) = table.split_first() else {
        return Err(AppError::invalid_with(
            "file",
            "err.kb.file_header",
            &[("columns", COLUMNS.join(","))],
        ));
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    if col("title").is_none() || col("answer").is_none() {
        return Err(AppError::invalid_with(
            "file",
            "err.kb.file_header",
            &[("columns", COLUMNS.join(","))],
        ));
    }
    let at: Vec<Option<usize>> = COLUMNS.iter().map(|c| col(c)).collect();
    let mut rows = Vec::with_capacity(data.len());
    let mut errors = Vec::new();
    for (i, r) in data.iter().enumerate() {
        let get = |c: usize| at[c].and_then(|k| r.get(k)).cloned().unwrap_or_default();
        let some = |v: String| (!v.is_empty()).then_some(v);
        let field = |c: usize| format!("rows[{i}].{}", COLUMNS[c]);
        let status = match get(9).as_str() {
            "" => None,
            s => match KbStatus::parse(s) {
                Some(s) => Some(s),
                None => {
                    errors.push(FieldError::of(field(9), "err.kb.status_draft_or_published"));
                    None
                }
            },
        };
        let mut date = |c: usize, to: bool| {
            when(state, &get(c), to).unwrap_or_else(|()| {
                errors.push(FieldError::of(field(c), "err.kb.date"));
                None
            })
        };
        let valid_from = date(6, false);
        let valid_until = date(7, true);
        rows.push(ImportRow {
            id: some(get(0)),
            title: get(1),
            answer: get(2),
            category: get(3),
            unit_code: some(get(4)),
            source: get(5),
            valid_from,
            valid_until,
            tags: get(8)
                .split('|')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect(),
            status,
        });
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(AppError::Invalid(errors))
    }
}
