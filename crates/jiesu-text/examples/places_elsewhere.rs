//! False places: resolves real messages written to another city's government (TipDM 2020,
//! whose places are anonymised as A市, A1区 …) and counts how many the Beijing gazetteer
//! places in Beijing anyway. Every such hit is a form that matched ordinary text; the
//! forms behind them are printed, most frequent first, so a new form that catches words is
//! seen before it ships.
//!
//! ```text
//! cargo run --release -p jiesu-text --example places_elsewhere -- [CSV ...]
//! ```
//! `SHOW=N` prints the N most frequent forms (40 by default). Default: the four message files of `../shared/data/tipdm2020`. Text is the
//! `留言主题` and `留言详情` columns, or `text`; a message number seen before is skipped.

use std::collections::{BTreeMap, HashSet};

use jiesu_text::place::{Gazetteer, PlaceStatus};

const UNITS: &str = include_str!("../../../reference/units.csv");
const DEFAULT: &[&str] = &[
    "fujian2_messages_train80.csv",
    "fujian2_official_testset_unlabelled.csv",
    "fujian3_messages_with_votes.csv",
    "fujian4_messages_with_replies.csv",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        files = DEFAULT
            .iter()
            .map(|f| format!("../shared/data/tipdm2020/{f}"))
            .collect();
    }
    let gazetteer = Gazetteer::from_units_csv(UNITS)?;
    let mut seen = HashSet::new();
    let (mut total, mut beijing, mut says_beijing) = (0usize, 0usize, 0usize);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_form: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for file in &files {
        let mut reader = csv::Reader::from_path(file)?;
        let headers = reader.headers()?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let id = col("留言编号").or(col("id"));
        let parts: Vec<usize> = match (col("留言主题"), col("留言详情")) {
            (Some(t), Some(d)) => vec![t, d],
            _ => col("text").into_iter().collect(),
        };
        if parts.is_empty() {
            return Err(format!("{file}: no 留言主题/留言详情 or text column").into());
        }
        for row in reader.records() {
            let row = row?;
            if let Some(key) = id.and_then(|i| row.get(i)) {
                if !seen.insert(key.to_string()) {
                    continue;
                }
            }
            let text: String = parts
                .iter()
                .filter_map(|&i| row.get(i))
                .collect::<Vec<_>>()
                .join("。");
            total += 1;
            let m = gazetteer.resolve(&text);
            *by_status.entry(format!("{:?}", m.status)).or_default() += 1;
            if matches!(m.status, PlaceStatus::Resolved | PlaceStatus::Ambiguous) {
                beijing += 1;
                says_beijing += usize::from(text.contains("北京"));
                let key = m.matched.join("+");
                let entry = by_form.entry(key).or_insert((0, String::new()));
                entry.0 += 1;
                if entry.1.is_empty() {
                    let unit = m.street.as_ref().or(m.district.as_ref());
                    entry.1 = unit.map(|u| u.name.clone()).unwrap_or_default();
                }
            }
        }
    }
    println!(
        "{total} messages of another city: {beijing} placed in Beijing ({:.2} %), {says_beijing} of them name 北京",
        100.0 * beijing as f64 / total.max(1) as f64
    );
    println!("by status: {by_status:?}");
    let shown = std::env::var("SHOW")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let mut forms: Vec<_> = by_form.into_iter().collect();
    forms.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    for (form, (n, unit)) in forms.iter().take(shown) {
        println!("{n:5}  {form}  → {unit}");
    }
    Ok(())
}
