//! `jiesu hotspots`: mine hot problems from a CSV of requests and print them as JSON or CSV.
//! Reads `id,submitted_at,title,text[,upvotes,downvotes]` or the TipDM 附件3 Chinese
//! headers; bad input is an error naming the row and column (the binary exits with 2).

use std::path::{Path, PathBuf};

use jiesu_text::hotspots::time::{format_date, parse_timestamp};
use jiesu_text::hotspots::{mine, HotspotConfig, HotspotRecord, Problem};

/// Arguments of `jiesu hotspots`.
#[derive(clap::Args)]
pub struct HotspotsArgs {
    /// CSV file (UTF-8) with a header row.
    #[arg(long)]
    input: PathBuf,
    /// How many problems to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// The output.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Id column (default: id, or 留言编号).
    #[arg(long)]
    id_column: Option<String>,
    /// Time column (default: submitted_at, or 留言时间).
    #[arg(long)]
    time_column: Option<String>,
    /// Title column (default: title, or 留言主题).
    #[arg(long)]
    title_column: Option<String>,
    /// Text column (default: text, or 留言详情).
    #[arg(long)]
    text_column: Option<String>,
    /// Up-votes column, optional (default: upvotes, or 点赞数).
    #[arg(long)]
    upvotes_column: Option<String>,
    /// Down-votes column, optional (default: downvotes, or 反对数).
    #[arg(long)]
    downvotes_column: Option<String>,
    /// Requester column, optional (default: requester, or 留言用户).
    #[arg(long)]
    requester_column: Option<String>,
    /// Offset of times written without one, and of the printed dates.
    #[arg(long, default_value_t = 8, allow_hyphen_values = true)]
    utc_offset_hours: i32,
}

/// `--format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// CSV (UTF-8 with a BOM).
    Csv,
}

/// Bad input: what and where, for the terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

struct Columns {
    id: usize,
    time: usize,
    title: usize,
    text: usize,
    up: Option<usize>,
    down: Option<usize>,
    requester: Option<usize>,
}

/// Runs the command, printing to standard output.
pub fn run(args: &HotspotsArgs) -> Result<(), InputError> {
    let offset = args.utc_offset_hours * 60;
    let records = read(&args.input, args, offset)?;
    let problems = crate::cli_progress::Bar::around("mining hotspots", || {
        mine(records, &HotspotConfig::default(), args.top)
    });
    let out = match args.format {
        Format::Json => json(&problems, offset),
        Format::Csv => csv_out(&problems, offset),
    };
    outln!("{out}");
    Ok(())
}

fn find(
    headers: &[String],
    given: &Option<String>,
    defaults: &[&str],
    required: bool,
) -> Result<Option<usize>, InputError> {
    let names: Vec<&str> = match given {
        Some(g) => vec![g.as_str()],
        None => defaults.to_vec(),
    };
    let found = names
        .iter()
        .find_map(|n| headers.iter().position(|h| h == n));
    if found.is_none() && (required || given.is_some()) {
        return Err(InputError(format!(
            "no column {} in the header ({})",
            names.join(" or "),
            headers.join(",")
        )));
    }
    Ok(found)
}

fn columns(headers: &[String], a: &HotspotsArgs) -> Result<Columns, InputError> {
    let req = |g: &Option<String>, d: &[&str]| find(headers, g, d, true).map(|c| c.unwrap_or(0));
    Ok(Columns {
        id: req(&a.id_column, &["id", "留言编号"])?,
        time: req(&a.time_column, &["submitted_at", "留言时间"])?,
        title: req(&a.title_column, &["title", "留言主题"])?,
        text: req(&a.text_column, &["text", "留言详情"])?,
        up: find(headers, &a.upvotes_column, &["upvotes", "点赞数"], false)?,
        down: find(
            headers,
            &a.downvotes_column,
            &["downvotes", "反对数"],
            false,
        )?,
        requester: find(
            headers,
            &a.requester_column,
            &["requester", "留言用户"],
            false,
        )?,
    })
}

fn read(path: &Path, args: &HotspotsArgs, offset: i32) -> Result<Vec<HotspotRecord>, InputError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))?;
    let headers: Vec<String> = rdr
        .byte_headers()
        .map_err(|e| InputError(format!("{}: header: {e}", path.display())))?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_string()
        })
        .collect();
    let cols = columns(&headers, args)?;
    let mut out = Vec::new();
    for (i, row) in rdr.byte_records().enumerate() {
        let n = i + 1;
        let row = row.map_err(|e| InputError(format!("row {n}: {e}")))?;
        let cell = |c: usize| -> Result<&str, InputError> {
            let bytes = row.get(c).ok_or_else(|| {
                InputError(format!(
                    "row {n}: missing column `{}` ({} fields)",
                    headers[c],
                    row.len()
                ))
            })?;
            std::str::from_utf8(bytes).map_err(|_| {
                InputError(format!("row {n}, column `{}`: not UTF-8 (convert GBK files with iconv -f GBK -t UTF-8)", headers[c]))
            })
        };
        let count = |c: Option<usize>| -> Result<u32, InputError> {
            let Some(c) = c else { return Ok(0) };
            let v = cell(c)?.trim();
            if v.is_empty() {
                return Ok(0);
            }
            v.parse().map_err(|_| {
                InputError(format!(
                    "row {n}, column `{}`: `{v}` is not a count",
                    headers[c]
                ))
            })
        };
        let id = cell(cols.id)?.trim().to_string();
        if id.is_empty() {
            return Err(InputError(format!(
                "row {n}, column `{}`: empty id",
                headers[cols.id]
            )));
        }
        let submitted_at = parse_timestamp(cell(cols.time)?, offset)
            .map_err(|e| InputError(format!("row {n}, column `{}`: {e}", headers[cols.time])))?;
        out.push(HotspotRecord {
            id,
            submitted_at,
            title: cell(cols.title)?.to_string(),
            text: cell(cols.text)?.to_string(),
            upvotes: count(cols.up)?,
            downvotes: count(cols.down)?,
            requester: cols
                .requester
                .map(cell)
                .transpose()?
                .map(|s| s.trim().to_string()),
            ..Default::default()
        });
    }
    Ok(out)
}

fn json(problems: &[Problem], offset: i32) -> String {
    let rows: Vec<serde_json::Value> = problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "rank": p.rank,
                "heat": p.heat,
                "description": p.description,
                "place": p.place,
                "keys": p.keys,
                "area": p.area,
                "from": format_date(p.from, offset),
                "to": format_date(p.to, offset),
                "requests": p.request_ids.len(),
                "requesters": p.inputs.requesters,
                "votes": p.inputs.votes,
                "request_ids": p.request_ids,
            })
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default()
}

/// The problems as CSV, after a UTF-8 BOM (Excel on a Chinese Windows then reads UTF-8).
fn csv_out(problems: &[Problem], offset: i32) -> String {
    let mut w = csv::Writer::from_writer(jiesu::services::export::BOM.as_bytes().to_vec());
    let _ = w.write_record([
        "rank",
        "heat",
        "description",
        "place",
        "area",
        "from",
        "to",
        "requests",
        "request_ids",
    ]);
    for p in problems {
        let _ = w.write_record([
            p.rank.to_string(),
            format!("{:.1}", p.heat),
            p.description.clone(),
            p.place.clone(),
            p.area.clone().unwrap_or_default(),
            format_date(p.from, offset),
            format_date(p.to, offset),
            p.request_ids.len().to_string(),
            p.request_ids.join(";"),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default())
        .unwrap_or_default()
        .trim_end()
        .to_string()
}
