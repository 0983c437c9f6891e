//! Knowledge-base search benchmark (issue 23): answers searched across N entries (200,000 by
//! default) with the inverted bigram index the intake desk uses, against the plain scan it
//! replaced, in the same run and on the same queries; each query's hits are compared. The
//! entries are real replies (TipDM 2020 附件4), repeated under numbered titles to reach N;
//! the queries are real citizens' messages (附件2: subject and the start of the details).
//! Skipped when ../shared/data/tipdm2020 is absent.
//!
//!     cargo bench -p jiesu --bench kb -- --entries 200000 --queries 1000 --out benches/kb-report.md

mod common;

use common::{arg, arg_or, machine, peak_rss_mib, percentile_ms as pct, write_report};
use jiesu_text::kb_index::{KbDoc, KbIndex, KbScan};
use jiesu_text::seeded::Rng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn column_pairs(file: &Path, a: usize, b: usize) -> anyhow::Result<Vec<(String, String)>> {
    let mut rdr = csv::Reader::from_path(file)?;
    let clean = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(rdr
        .records()
        .filter_map(Result::ok)
        .map(|r| (clean(&r[a]), clean(&r[b])))
        .filter(|(x, y)| !x.is_empty() && !y.is_empty())
        .collect())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() -> anyhow::Result<()> {
    let entries: usize = arg_or("--entries", 200_000);
    let queries: usize = arg_or("--queries", 1000);
    let scanned: usize = arg_or("--scan-queries", 200).min(queries);
    let out = arg("--out").map(PathBuf::from);
    // --data names the folder for a checkout that is not beside ../shared.
    let data = arg("--data").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tipdm2020")
    });
    let replies = data.join("fujian4_messages_with_replies.csv");
    if !replies.exists() {
        println!("skipped: {} is absent", replies.display());
        return Ok(());
    }
    let pairs = column_pairs(&replies, 2, 5)?;
    let messages = column_pairs(&data.join("fujian2_messages_train80.csv"), 2, 4)?;
    let docs = (0..entries).map(|i| {
        let (topic, answer) = &pairs[i % pairs.len()];
        KbDoc {
            id: format!("e{i}"),
            head: format!("{topic}（{}） 留言 答复", i / pairs.len() + 1),
            body: answer.clone(),
            valid_from: None,
            valid_until: None,
            updated_at: i as i64,
        }
    });
    let (index, index_build) = timed(|| KbIndex::build(docs.clone()));
    let (scan, scan_build) = timed(|| KbScan::build(docs));
    let mut rng = Rng::new(23);
    let qs: Vec<String> = (0..queries)
        .map(|_| {
            let (subject, details) = &messages[rng.below(messages.len())];
            let start: String = details.chars().take(60).collect();
            format!("{subject} {start}")
        })
        .collect();
    let mut by_index = Vec::with_capacity(queries);
    let mut by_scan = Vec::with_capacity(scanned);
    let mut agree = 0;
    let mut found = 0;
    for (i, q) in qs.iter().enumerate() {
        let (hits, took) = timed(|| index.search(q, 0, 3, 0.3));
        by_index.push(took);
        found += usize::from(!hits.is_empty());
        if i < scanned {
            let (plain, took) = timed(|| scan.search(q, 0, 3, 0.3));
            by_scan.push(took);
            agree += usize::from(plain == hits);
        }
    }
    let rss = peak_rss_mib(std::process::id());
    let report = format!(
        "# Knowledge-base search benchmark\n\n{}\n\n\
         {entries} entries (real replies from TipDM 2020 附件4, {} distinct, repeated under numbered titles); \
         {queries} queries, each a real citizen's message (附件2 subject and the first 60 characters of its details), \
         top 3 at score ≥ 0.3 as the intake desk asks. The scan is the search the desk used before: every entry's \
         bigram sets compared with the query's; it ran on the first {scanned} queries, and its hits were compared \
         with the index's.\n\n\
         | | inverted bigram index | plain scan |\n|---|---|---|\n\
         | build, s | {:.1} | {:.1} |\n\
         | latency per query, p50 / p99 | {:.2} / {:.2} ms | {:.1} / {:.1} ms |\n\
         | p99 scan ÷ p99 index | {:.0}× | |\n\n\
         Same hits from both on {agree} of {scanned} queries; {found} of {queries} queries found at least one answer. \
         Peak memory of the process holding both: {rss:.0} MiB.\n",
        machine(),
        pairs.len(),
        index_build.as_secs_f64(),
        scan_build.as_secs_f64(),
        pct(&by_index, 0.5),
        pct(&by_index, 0.99),
        pct(&by_scan, 0.5),
        pct(&by_scan, 0.99),
        pct(&by_scan, 0.99) / pct(&by_index, 0.99).max(1e-6),
    );
    write_report(out.as_deref(), &report)
}
