//! Evaluation of near-duplicate grouping on the TipDM 附件2 messages (skipped when the
//! shared data folder is absent) and an ignored speed/memory probe at one million documents.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use super::group::group_by;
use super::*;

/// Ids (`序号`), texts and gold groups (`近重复组` with two or more rows).
type Data = (Vec<(String, String)>, Vec<Vec<String>>);

fn load() -> Option<Data> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/fujian2_messages_train80.csv");
    if !path.exists() {
        eprintln!("skip: {} not found", path.display());
        return None;
    }
    let mut reader = csv::Reader::from_path(&path).expect("readable csv");
    let headers = reader.headers().expect("header row").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (id, seg, raw, dup) = (
        col("序号"),
        col("分词文本"),
        col("原文_主题加详情"),
        col("近重复组"),
    );
    let mut docs = Vec::new();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("csv row");
        let text = if row[raw].trim().is_empty() {
            row[seg].replace(' ', "")
        } else {
            row[raw].to_string()
        };
        docs.push((row[id].to_string(), text));
        groups
            .entry(row[dup].to_string())
            .or_default()
            .push(row[id].to_string());
    }
    let gold = groups.into_values().filter(|g| g.len() >= 2).collect();
    Some((docs, gold))
}

// Measured with the default config: P 0.680, R 0.995, F1 0.808 (560 predicted pairs, 381 of
// 383 gold pairs); the floors sit a little under. Precision is a lower bound: the gold only
// groups near-identical rows, and most extra pairs read as reworded duplicates.
#[test]
fn default_grouping_recovers_the_gold_near_duplicates() {
    let Some((docs, gold)) = load() else { return };
    assert_eq!(docs.len(), 7366);
    let s = pair_scores(&group(&docs, &DupConfig::default()), &gold);
    eprintln!("default: {s:?}");
    assert!(s.recall >= 0.97, "{s:?}");
    assert!(s.precision >= 0.64, "{s:?}");
}

/// `cargo test -p jiesu-text --release dupes::eval::sweep -- --ignored --nocapture`
#[test]
#[ignore = "prints the threshold/shingle table; run on demand"]
fn sweep() {
    let Some((docs, gold)) = load() else { return };
    println!("| shingle | threshold | similarity | groups | pred pairs | P | R | F1 |");
    println!("|---|---|---|---|---|---|---|---|");
    for shingle in [2, 3] {
        for threshold in [0.2, 0.3, 0.4, 0.44, 0.5, 0.6, 0.8] {
            for exact in [true, false] {
                let cfg = DupConfig {
                    shingle,
                    threshold,
                    ..DupConfig::default()
                };
                let groups = group_by(&docs, &cfg, exact);
                let s = pair_scores(&groups, &gold);
                let how = if exact { "exact" } else { "estimate" };
                println!(
                    "| {shingle} | {threshold} | {how} | {} | {} | {:.3} | {:.3} | {:.3} |",
                    groups.len(),
                    s.predicted_pairs,
                    s.precision,
                    s.recall,
                    s.f1
                );
            }
        }
    }
}

/// `cargo test -p jiesu-text --release dupes::eval::million -- --ignored --nocapture`
#[test]
#[ignore = "builds a one-million-document index; run on demand in release mode"]
fn million() {
    let Some((docs, _)) = load() else { return };
    // synthetic 300-character requests spliced from 10-character pieces of real ones, so
    // common trigrams are as common as in real traffic but documents are unrelated
    let pool: Vec<Vec<char>> = docs
        .iter()
        .map(|(_, t)| t.chars().filter(|c| c.is_alphanumeric()).collect())
        .filter(|c: &Vec<char>| c.len() >= 10)
        .collect();
    let mut state = 42u64;
    let mut text = || -> String {
        let mut s = String::new();
        for _ in 0..30 {
            state = crate::seeded::splitmix64(state);
            let src = &pool[state as usize % pool.len()];
            let at = (state >> 32) as usize % (src.len() - 9);
            s.extend(&src[at..at + 10]);
        }
        s
    };
    let mut index = DupIndex::new(DupConfig::default());
    let start = Instant::now();
    let mut slowest = std::time::Duration::ZERO;
    for id in 0..1_000_000u64 {
        let t = text();
        let one = Instant::now();
        index.insert(id, &t);
        slowest = slowest.max(one.elapsed());
    }
    let mb = index.memory_bytes() >> 20;
    eprintln!(
        "built 1M in {:?} (slowest insert {slowest:?}), ~{mb} MB",
        start.elapsed()
    );
    let probe: Vec<String> = (0..2000).map(|_| text()).collect();
    let start = Instant::now();
    let mut found = 0;
    for (i, t) in probe.iter().enumerate() {
        found += index.query(t, 5).len();
        index.insert(2_000_000 + i as u64, t);
    }
    let per = start.elapsed() / probe.len() as u32;
    eprintln!("query+insert at 1M: {per:?} per request, {found} hits for 2000 unrelated probes");
    let again = probe
        .iter()
        .filter(|t| !index.query(&format!("请尽快处理{t}"), 1).is_empty())
        .count();
    eprintln!("{again} of 2000 probes found again after an edit");
    let start = Instant::now();
    let real: usize = docs
        .iter()
        .take(2000)
        .map(|(_, t)| index.query(t, 5).len())
        .sum();
    eprintln!(
        "query of 2000 real texts: {:?} each, {real} hits",
        start.elapsed() / 2000
    );
}
