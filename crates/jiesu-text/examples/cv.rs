//! Cross-validates the classifier on classify_train.csv and prints the numbers to compare
//! with `scripts/classifier/explore.py`; optionally trains on everything and saves a model.
//!
//! ```text
//! cargo run --release -p jiesu-text --example cv -- [--data CSV] [--folds 5] [--seed 20240]
//!     [--c 1.0] [--char-max 3] [--min-df 3] [--word-weight 1.0] [--title-weight 0.5]
//!     [--title-max 2] [--tolerance 0.01] [--no-words] [--hinge]
//!     [--calibration-folds 3] [--save DIR]
//!     [--groups fujian2_messages_train80.csv] [--repeats 1] [--balanced]
//!     [--unlabelled CSV]... [--self-train 0.9] [--json FILE] [--nested INNER_FOLDS]
//!     [--nb | --no-nb]
//! ```
//!
//! `--nested K` runs nested CV instead: on each outer training part a K-fold inner CV
//! picks one of two candidates fixed in advance (the given options with NB scaling off and
//! on), which is then scored on the outer test part.
//!
//! `--groups` keeps the near-duplicate groups (column `近重复组`, joined on `留言编号` = id)
//! on one side of every split; `--repeats R` repeats the k-fold split with seeds
//! `seed..seed+R`; the summary gives the mean ± sd over all `folds × R` folds.

use std::path::PathBuf;
use std::time::Instant;

use std::collections::HashMap;

use jiesu_text::classify::{
    cross_validate_plan, evaluate, nested_cross_validate, read_csv, read_texts, train_semi, CvPlan,
    SvmLoss, TrainOptions,
};

/// Near-duplicate group per example id from the TipDM file with `留言编号` and `近重复组`
/// (an example not in the file is its own group).
fn groups_for(path: &PathBuf, ids: &[&str]) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == n)
            .ok_or(format!("{}: no column {n}", path.display()))
    };
    let (id_col, group_col) = (col("留言编号")?, col("近重复组")?);
    let mut map = HashMap::new();
    for r in rdr.records() {
        let r = r?;
        map.insert(r[id_col].to_string(), r[group_col].to_string());
    }
    Ok(ids
        .iter()
        .map(|id| match map.get(*id) {
            Some(g) if !g.is_empty() => format!("g{g}"),
            _ => format!("id{id}"),
        })
        .collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/classify_train.csv");
    let (mut folds, mut seed, mut save) = (5usize, 20240u64, None::<PathBuf>);
    let (mut groups, mut repeats, mut unlabelled, mut json) = (
        None::<PathBuf>,
        1usize,
        Vec::<PathBuf>::new(),
        None::<PathBuf>,
    );
    let mut nested = 0usize;
    let mut opts = TrainOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--data" => data = val()?.into(),
            "--folds" => folds = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "--save" => save = Some(val()?.into()),
            "--c" => opts.svm.c = val()?.parse()?,
            "--char-max" => opts.features.char_max = val()?.parse()?,
            "--min-df" => opts.features.min_df = val()?.parse()?,
            "--word-weight" => opts.features.word_weight = val()?.parse()?,
            "--title-weight" => opts.features.title_weight = val()?.parse()?,
            "--title-max" => opts.features.title_ngram_max = val()?.parse()?,
            "--tolerance" => opts.svm.tolerance = val()?.parse()?,
            "--calibration-folds" => opts.calibration_folds = val()?.parse()?,
            "--no-words" => opts.features.words = false,
            "--hinge" => opts.svm.loss = SvmLoss::Hinge,
            "--groups" => groups = Some(val()?.into()),
            "--repeats" => repeats = val()?.parse()?,
            "--balanced" => opts.svm.balanced = true,
            "--no-nb" => opts.svm.nb_scale = false,
            "--nb" => opts.svm.nb_scale = true,
            "--unlabelled" => unlabelled.push(val()?.into()),
            "--self-train" => opts.self_training.threshold = val()?.parse()?,
            "--no-hmm" => opts.features.word_hmm = false,
            "--json" => json = Some(val()?.into()),
            "--nested" => nested = val()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let examples = read_csv(&data)?;
    println!("{} examples from {}", examples.len(), data.display());
    let mut texts = Vec::new();
    for u in &unlabelled {
        texts.extend(read_texts(u)?);
    }
    let ids: Vec<&str> = examples.iter().map(|e| e.id.as_str()).collect();
    let plan = CvPlan {
        folds,
        repeats,
        seed,
        groups: groups.as_ref().map(|g| groups_for(g, &ids)).transpose()?,
    };
    if nested > 0 {
        // The choice the default makes now: NB scaling on or off, all else as given.
        let mut plain = opts.clone();
        plain.svm.nb_scale = false;
        let mut nb = opts.clone();
        nb.svm.nb_scale = true;
        let candidates = [("no-nb".to_string(), plain), ("nb".to_string(), nb)];
        let t = Instant::now();
        let r = nested_cross_validate(&examples, &texts, &candidates, &plan, nested)?;
        println!(
            "nested CV ({folds} outer folds × {repeats}, {nested} inner, grouped {}): \
             macro-F1 {:.4} ± {:.4}, {:.0} s",
            plan.groups.is_some(),
            r.macro_f1_mean,
            r.macro_f1_std,
            t.elapsed().as_secs_f64()
        );
        for ((c, o), inner) in r
            .chosen
            .iter()
            .zip(&r.outer_macro_f1)
            .zip(&r.inner_macro_f1)
        {
            println!("  chose {c:<18} outer {o:.4}  inner {inner:.4?}");
        }
        if let Some(path) = &json {
            std::fs::write(path, serde_json::to_string_pretty(&r)?)?;
        }
        return Ok(());
    }
    let report = cross_validate_plan(&examples, &texts, &opts, &plan)?;
    println!(
        "{folds}-fold × {repeats} CV (seed {seed}, grouped {}, {} unlabelled): fold macro-F1 \
         {:.4} ± {:.4} (min {:.4}, max {:.4}); pooled macro-F1 {:.4}, accuracy {:.4}, \
         ECE {:.4}, log-loss {:.4}, {:.3} ms/doc, {:.0} s",
        report.grouped,
        texts.len(),
        report.macro_f1_mean,
        report.macro_f1_std,
        report
            .fold_macro_f1
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min),
        report.fold_macro_f1.iter().copied().fold(0.0, f64::max),
        report.pooled.macro_f1,
        report.pooled.accuracy,
        report.pooled.ece,
        report.log_loss,
        report.pooled.ms_per_doc,
        report.seconds
    );
    println!(
        "folds: {:?}",
        report
            .fold_macro_f1
            .iter()
            .map(|f| (f * 1e4).round() / 1e4)
            .collect::<Vec<_>>()
    );
    for b in &report.pooled.reliability {
        println!(
            "  p in [{:.1},{:.1}): n {:>5}  confidence {:.3}  accuracy {:.3}",
            b.lower, b.upper, b.n, b.confidence, b.accuracy
        );
    }
    if let Some(path) = &json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    for (label, s) in &report.pooled.per_label {
        println!(
            "  {label:<8} P {:.3} R {:.3} F1 {:.3} n {}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    if let Some(dir) = save {
        let t = Instant::now();
        let mut model = train_semi(&examples, &texts, &opts)?;
        println!(
            "trained on all data in {:.1} s, temperature {:.3}",
            t.elapsed().as_secs_f64(),
            model.metrics().temperature
        );
        for _ in 0..2 {
            let e = evaluate(&model, &examples);
            let t = Instant::now();
            let top: usize = examples
                .iter()
                .filter_map(|x| model.predict_top(&x.text))
                .count();
            println!(
                "predict() speed over all {} messages: {:.3} ms/doc (predict_top: {:.3} ms/doc)",
                e.n,
                e.ms_per_doc,
                t.elapsed().as_secs_f64() * 1000.0 / top.max(1) as f64
            );
        }
        model.set_cv_report(report);
        model.save(&dir)?;
        println!("saved to {}", dir.display());
    }
    Ok(())
}
