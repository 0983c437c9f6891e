//! Text benchmark (issue #3): full-text search latency at N stored requests, against a SQLite
//! `LIKE` scan of the same rows in the same run; and the text part of an intake suggestion
//! (classifier, place, duplicate query at N indexed requests), against jieba tokenisation of the
//! same texts alone. Real messages from ../shared/data/tipdm2020; skipped when absent.
//!
//!     cargo bench -p jiesu --bench text -- --docs 1000000 --out benches/text-report.md

mod common;

use common::{arg, arg_or, machine, peak_rss_mib, percentile_ms as pct};
use jiesu::services::search::{BulkRequest, SearchFilter, SearchIndex};
use jiesu_text::classify::{self, TrainOptions};
use jiesu_text::dupes::{DupConfig, DupIndex};
use jiesu_text::place::Gazetteer;
use jiesu_text::seeded::Rng;
use std::path::PathBuf;
use std::time::Instant;

/// The command line.
struct Args {
    docs: usize,
    queries: usize,
    out: Option<PathBuf>,
}

fn args() -> Args {
    Args {
        docs: arg_or("--docs", 100_000),
        queries: arg_or("--queries", 500),
        out: arg("--out").map(PathBuf::from),
    }
}

fn main() -> anyhow::Result<()> {
    let a = args();
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tipdm2020");
    if !data.join("classify_train.csv").exists() {
        println!("skipped: {} is absent", data.display());
        return Ok(());
    }
    let examples = classify::read_csv(&data.join("classify_train.csv"))?;
    let texts: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let units = include_str!("../../../reference/units.csv");
    let communities: Vec<(String, String)> = units
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c.len() >= 5 && c[2] == "community").then(|| (c[0].to_string(), c[4].to_string()))
        })
        .collect();
    let mut rng = Rng::new(0x9e3779b97f4a7c15);
    let docs: Vec<(String, String, String)> = (0..a.docs)
        .map(|i| {
            let t = &texts[i % texts.len()];
            let (_, comm) = &communities[rng.below(communities.len())];
            let title: String = t.chars().take(30).collect();
            (format!("r{i:08}"), title, format!("{comm}{t}"))
        })
        .collect();
    let created = chrono::Utc::now();
    let mut report = format!(
        "# Text benchmark\n\n{} requests built from {} real TipDM messages, each given a random Beijing community; \
         {} queries; machine: {}.\n\n",
        a.docs, texts.len(), a.queries, machine(),
    );

    // Search: tantivy vs a LIKE scan over the same rows.
    let dir = tempfile::tempdir()?;
    let t0 = Instant::now();
    let index = SearchIndex::open(&dir.path().join("search"))?;
    index.add_bulk(docs.iter().map(|(id, title, body)| BulkRequest {
        id,
        title,
        body,
        address: "",
        status: "received",
        created_at: created,
    }))?;
    let build = t0.elapsed();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let pool = rt.block_on(async {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("like.db").display());
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await?;
        sqlx::query(
            "CREATE TABLE docs (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        for chunk in docs.chunks(5000) {
            let mut tx = pool.begin().await?;
            for (id, title, body) in chunk {
                sqlx::query("INSERT INTO docs VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(title)
                    .bind(body)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        anyhow::Ok(pool)
    })?;
    let tok = jieba_rs::Jieba::new();
    let words: Vec<String> = (0..a.queries)
        .map(|_| loop {
            let t = &texts[rng.below(texts.len())];
            let ws: Vec<String> = tok
                .cut(t, false)
                .into_iter()
                .map(|w| w.word.to_string())
                .filter(|w| {
                    (2..=4).contains(&w.chars().count())
                        && w.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                })
                .collect();
            if !ws.is_empty() {
                break ws[rng.below(ws.len())].clone();
            }
        })
        .collect();
    let (mut tv, mut like) = (Vec::new(), Vec::new());
    let mut found = 0usize;
    for w in &words {
        let t = Instant::now();
        found += index.search(w, &SearchFilter::default(), 20)?.hits.len();
        tv.push(t.elapsed());
        let t = Instant::now();
        rt.block_on(
            sqlx::query("SELECT id FROM docs WHERE title LIKE $1 OR body LIKE $1 LIMIT 20")
                .bind(format!("%{w}%"))
                .fetch_all(&pool),
        )?;
        like.push(t.elapsed());
    }
    report += &format!(
        "## Search at {} requests\n\n| | p50 ms | p99 ms |\n|---|---|---|\n| tantivy (jieba + n-grams, BM25 top 20, total count) | {:.2} | {:.2} |\n\
         | baseline: SQLite `LIKE '%word%'` scan, first 20 | {:.2} | {:.2} |\n| ratio baseline / tantivy | {:.1}× | {:.1}× |\n\n\
         Index build: {:.0} s ({:.0} requests/s); {:.1} hits per query on average.\n\n",
        a.docs, pct(&tv, 0.5), pct(&tv, 0.99), pct(&like, 0.5), pct(&like, 0.99),
        pct(&like, 0.5) / pct(&tv, 0.5), pct(&like, 0.99) / pct(&tv, 0.99),
        build.as_secs_f64(), a.docs as f64 / build.as_secs_f64(), found as f64 / words.len() as f64,
    );
    drop(index);
    drop(pool);

    // Suggestion text part: classifier + place + duplicate query at N indexed requests.
    let t0 = Instant::now();
    let model = classify::train(&examples, &TrainOptions::default())?;
    let train_s = t0.elapsed().as_secs_f64();
    let gazetteer = Gazetteer::from_units_csv(units)?;
    let mut dupes = DupIndex::new(DupConfig::default());
    let t0 = Instant::now();
    for (i, (_, title, body)) in docs.iter().enumerate() {
        dupes.insert(i as u64, &format!("{title} {body}"));
    }
    let dup_build = t0.elapsed().as_secs_f64();
    let (mut sugg, mut base, mut parts) =
        (Vec::new(), Vec::new(), [Vec::new(), Vec::new(), Vec::new()]);
    for _ in 0..a.queries {
        let (_, comm) = &communities[rng.below(communities.len())];
        let text = format!("{comm}{}", texts[rng.below(texts.len())]);
        let t = Instant::now();
        let _ = tok.cut(&text, true);
        base.push(t.elapsed());
        let t = Instant::now();
        let c = model.predict(&text);
        let t1 = t.elapsed();
        let p = gazetteer.resolve(&text);
        let t2 = t.elapsed();
        let d = dupes.query(&text, 10);
        let t3 = t.elapsed();
        std::hint::black_box((c, p, d));
        parts[0].push(t1);
        parts[1].push(t2 - t1);
        parts[2].push(t3 - t2);
        sugg.push(t3);
    }
    report += &format!(
        "## Intake suggestion, text part, with {} requests in the duplicate index\n\n| | p50 ms | p99 ms |\n|---|---|---|\n\
         | classifier top 3 with terms | {:.3} | {:.3} |\n| place resolution | {:.3} | {:.3} |\n| duplicate query (MinHash/LSH) | {:.3} | {:.3} |\n\
         | **all three** | **{:.3}** | **{:.3}** |\n| baseline: jieba tokenising the same text (HMM) | {:.3} | {:.3} |\n| ratio all / baseline | {:.1}× | {:.1}× |\n\n\
         Classifier trained in {:.1} s on {} messages; duplicate index built in {:.1} s. The database parts of a suggestion \
         (catalogue rules, unit names, the duplicates' rows, storing the suggestion) are not in these numbers. Peak RSS {:.0} MiB.\n",
        a.docs,
        pct(&parts[0], 0.5), pct(&parts[0], 0.99), pct(&parts[1], 0.5), pct(&parts[1], 0.99),
        pct(&parts[2], 0.5), pct(&parts[2], 0.99), pct(&sugg, 0.5), pct(&sugg, 0.99),
        pct(&base, 0.5), pct(&base, 0.99), pct(&sugg, 0.5) / pct(&base, 0.5), pct(&sugg, 0.99) / pct(&base, 0.99),
        train_s, examples.len(), dup_build, peak_rss_mib(std::process::id()),
    );
    common::write_report(a.out.as_deref(), &report)?;
    Ok(())
}
