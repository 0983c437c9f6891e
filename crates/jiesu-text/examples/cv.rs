//! Cross-validates the classifier on classify_train.csv and prints the numbers to compare
//! with `scripts/classifier/explore.py`; optionally trains on everything and saves a model.
//!
//! ```text
//! cargo run --release -p jiesu-text --example cv -- [--data CSV] [--folds 5] [--seed 20240]
//!     [--c 1.0] [--char-max 3] [--min-df 3] [--word-weight 1.0] [--title-weight 0.5]
//!     [--title-max 2] [--tolerance 0.01] [--no-words] [--hinge]
//!     [--calibration-folds 3] [--save DIR]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use jiesu_text::classify::{cross_validate, evaluate, read_csv, train, SvmLoss, TrainOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut data = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/classify_train.csv");
    let (mut folds, mut seed, mut save) = (5usize, 20240u64, None::<PathBuf>);
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
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let examples = read_csv(&data)?;
    println!("{} examples from {}", examples.len(), data.display());
    let report = cross_validate(&examples, &opts, folds, seed)?;
    println!(
        "{folds}-fold CV (seed {seed}): pooled macro-F1 {:.4}, accuracy {:.4}, fold mean {:.4} ± {:.4}, \
         log-loss {:.4}, {:.3} ms/doc, {:.0} s",
        report.pooled.macro_f1,
        report.pooled.accuracy,
        report.macro_f1_mean,
        report.macro_f1_std,
        report.log_loss,
        report.pooled.ms_per_doc,
        report.seconds
    );
    for (label, s) in &report.pooled.per_label {
        println!(
            "  {label:<8} P {:.3} R {:.3} F1 {:.3} n {}",
            s.precision, s.recall, s.f1, s.support
        );
    }
    if let Some(dir) = save {
        let t = Instant::now();
        let mut model = train(&examples, &opts)?;
        println!(
            "trained on all data in {:.1} s, temperature {:.3}",
            t.elapsed().as_secs_f64(),
            model.metrics().temperature
        );
        let e = evaluate(&model, &examples);
        println!(
            "predict() speed over all {} messages: {:.3} ms/doc",
            e.n, e.ms_per_doc
        );
        model.set_cv_report(report);
        model.save(&dir)?;
        println!("saved to {}", dir.display());
    }
    Ok(())
}
