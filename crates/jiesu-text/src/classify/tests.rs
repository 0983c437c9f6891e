//! Tests of the public classifier API: synthetic end-to-end cases, hostile input, the model
//! folder round trip and its corruption checks, CSV errors, and one real-data check.

use std::path::{Path, PathBuf};

use super::eval::stratified_folds;
use super::*;
use crate::seeded::Rng;

/// Three synthetic categories: each message mixes class keywords with shared filler.
fn synthetic(n_per_class: usize, seed: u64) -> Vec<TrainingExample> {
    let classes = [
        ("供水", ["小区停水", "自来水浑浊", "水压太低", "水管爆裂"]),
        ("教育", ["学校收费", "学生补课", "老师体罚", "幼儿园学位"]),
        ("交通", ["公交线路", "出租车拒载", "红绿灯故障", "地铁站口"]),
    ];
    let filler = [
        "请尽快处理",
        "反映问题",
        "希望有关部门",
        "市民",
        "谢谢",
        "多次投诉无果",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for (label, words) in classes {
        for i in 0..n_per_class {
            let mut text = String::new();
            for _ in 0..4 {
                text.push_str(filler[rng.below(filler.len())]);
                text.push_str(words[rng.below(words.len())]);
            }
            out.push(TrainingExample {
                id: format!("{label}{i}"),
                text,
                label: label.to_string(),
            });
        }
    }
    out
}

fn fast_opts() -> TrainOptions {
    TrainOptions {
        calibration_folds: 2,
        ..TrainOptions::default()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jiesu-text-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn learns_synthetic_categories_with_calibrated_ranked_scores() {
    let model = train(&synthetic(20, 1), &fast_opts()).unwrap();
    assert_eq!(model.labels(), ["交通", "供水", "教育"]);
    let p = model.predict("我们小区停水三天了，自来水浑浊");
    assert_eq!(p.len(), 3);
    assert_eq!(p[0].label, "供水");
    assert!(p[0].score > 0.5 && p[0].score > p[1].score && p[1].score >= p[2].score);
    assert!((p.iter().map(|x| x.score).sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(
        p[0].terms.iter().any(|t| t.contains('水')),
        "terms {:?}",
        p[0].terms
    );
    for pred in &p {
        assert!(pred.terms.len() <= 5 && pred.terms.iter().all(|t| t.chars().count() >= 2));
        let mut unique = pred.terms.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            pred.terms.len(),
            "repeated terms {:?}",
            pred.terms
        );
    }
    assert_eq!(model.predict("出租车拒载")[0].label, "交通");
    let t = model.metrics().temperature;
    assert!(t > 0.0 && t.is_finite() && t != 1.0, "temperature {t}");
    let held_out = synthetic(10, 99);
    let e = evaluate(&model, &held_out);
    assert_eq!(e.n, 30);
    assert!(e.macro_f1 > 0.95, "{e:?}");
}

#[test]
fn hostile_input_never_panics() {
    let model = train(&synthetic(10, 2), &fast_opts()).unwrap();
    let huge = "停水".repeat(120_000);
    let inputs = [
        "",
        "   \t\n",
        "hello world",
        "\u{0}\u{7}\u{1b}[31m",
        "😀🚌\u{301}",
        "\u{FEFF}",
        &huge,
    ];
    for text in inputs {
        let p = model.predict(text);
        assert_eq!(p.len(), 3, "{text:?}");
        assert!(p
            .iter()
            .all(|x| x.score.is_finite() && (0.0..=1.0).contains(&x.score)));
    }
    assert!(model.predict("").iter().all(|p| p.terms.is_empty()));
    assert_eq!(model.predict(&huge)[0].label, "供水");
}

#[test]
fn save_load_round_trip_and_corruption_is_detected() {
    let model = train(&synthetic(10, 3), &fast_opts()).unwrap();
    let dir = temp_dir("roundtrip");
    model.save(&dir).unwrap();
    let loaded = Model::load(&dir).unwrap();
    assert_eq!(loaded.predict("学校收费"), model.predict("学校收费"));
    assert_eq!(loaded.labels(), model.labels());
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["format_version"], FORMAT_VERSION);
    assert!(!metrics["choice_reasons"].as_array().unwrap().is_empty());

    let bin = std::fs::read(dir.join("model.bin")).unwrap();
    let expect_bad = |bytes: &[u8], what: &str| {
        std::fs::write(dir.join("model.bin"), bytes).unwrap();
        match Model::load(&dir) {
            Err(ClassifyError::BadModel { message, .. }) => {
                assert!(message.contains(what), "{message}")
            }
            other => panic!("expected BadModel({what}), got {other:?}"),
        }
    };
    let mut flipped = bin.clone();
    flipped[bin.len() / 2] ^= 0x40;
    expect_bad(&flipped, "checksum");
    expect_bad(&bin[..bin.len() - 3], "length");
    let mut version = bin.clone();
    version[8] = 99;
    expect_bad(&version, "version 99");
    expect_bad(b"PK\x03\x04 not a model at all, just bytes", "magic");

    // Weights of one model with the metrics of another.
    let other = train(&synthetic(12, 4), &fast_opts()).unwrap();
    let other_dir = temp_dir("other");
    other.save(&other_dir).unwrap();
    std::fs::copy(other_dir.join("model.bin"), dir.join("model.bin")).unwrap();
    match Model::load(&dir) {
        Err(ClassifyError::BadModel { path, message }) => {
            assert!(
                path.ends_with("metrics.json") && message.contains("other weights"),
                "{message}"
            )
        }
        other => panic!("expected mismatch, got {other:?}"),
    }
    std::fs::remove_file(dir.join("metrics.json")).unwrap();
    assert!(matches!(Model::load(&dir), Err(ClassifyError::Io { .. })));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other_dir);
}

#[test]
fn read_csv_accepts_good_files_and_names_bad_rows() {
    let dir = temp_dir("csv");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = write(
        "good.csv",
        "\u{FEFF}id,text,label\n1,\"小区停水,\n三天\",城乡建设\n2,学校收费,教育文体\n".as_bytes(),
    );
    let rows = read_csv(&good).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].text, "小区停水,\n三天");
    assert_eq!(rows[1].label, "教育文体");

    let err = |p: &Path| read_csv(p).unwrap_err().to_string();
    let header = err(&write("h.csv", b"id,body,label\n1,x,y\n"));
    assert!(
        header.contains("line 1") && header.contains("id,text,label"),
        "{header}"
    );
    let fields = err(&write(
        "f.csv",
        "id,text,label\n1,a,b\n2,只有两列\n".as_bytes(),
    ));
    assert!(
        fields.contains("line 3") && fields.contains("found 2"),
        "{fields}"
    );
    let utf8 = err(&write("u.csv", b"id,text,label\n1,ok,b\n2,\xff\xfe,b\n"));
    assert!(
        utf8.contains("line 3") && utf8.contains("column text") && utf8.contains("UTF-8"),
        "{utf8}"
    );
    let label = err(&write("l.csv", "id,text,label\n1,有内容, \n".as_bytes()));
    assert!(
        label.contains("line 2") && label.contains("column label"),
        "{label}"
    );
    assert!(matches!(
        read_csv(&dir.join("missing.csv")),
        Err(ClassifyError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn training_rejects_bad_data_and_options() {
    let one_label: Vec<TrainingExample> = synthetic(5, 5)
        .into_iter()
        .filter(|e| e.label == "教育")
        .collect();
    assert!(matches!(
        train(&one_label, &fast_opts()),
        Err(ClassifyError::BadTrainingData(_))
    ));
    assert!(matches!(
        train(&[], &fast_opts()),
        Err(ClassifyError::BadTrainingData(_))
    ));
    let mut bad = fast_opts();
    bad.svm.c = 0.0;
    assert!(matches!(
        train(&synthetic(5, 5), &bad),
        Err(ClassifyError::InvalidOptions(_))
    ));
    let bad = TrainOptions {
        calibration_folds: 1,
        ..fast_opts()
    };
    assert!(matches!(
        train(&synthetic(5, 5), &bad),
        Err(ClassifyError::InvalidOptions(_))
    ));
}

#[test]
fn cross_validation_is_deterministic_and_sensible() {
    let data = synthetic(15, 6);
    let opts = TrainOptions {
        calibration_folds: 0,
        ..TrainOptions::default()
    };
    let a = cross_validate(&data, &opts, 3, 11).unwrap();
    let b = cross_validate(&data, &opts, 3, 11).unwrap();
    assert_eq!(a.fold_macro_f1, b.fold_macro_f1);
    assert_eq!(a.pooled.n, 45);
    assert!(a.pooled.macro_f1 > 0.9 && a.macro_f1_mean > 0.9, "{a:?}");
    assert!(cross_validate(&data, &opts, 1, 11).is_err());
}

/// Real data: stratified 80 / 20 split (fold 0 of `stratified_folds(.., 5, 20240)`) of
/// classify_train.csv. Measured macro-F1 on the 20 %: 0.920 (5-fold CV: 0.928 ± 0.006);
/// the bar sits a little under it. Calibration is off because the temperature does not
/// change the ranking and it would quadruple the debug-build run time.
#[test]
fn real_data_holdout_macro_f1() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/classify_train.csv");
    if !path.exists() {
        eprintln!("skip: {} not found", path.display());
        return;
    }
    let data = read_csv(&path).unwrap();
    let labels: Vec<&str> = data.iter().map(|e| e.label.as_str()).collect();
    let folds = stratified_folds(&labels, 5, 20240);
    let (test, train_part): (Vec<_>, Vec<_>) =
        data.iter().cloned().zip(folds).partition(|(_, f)| *f == 0);
    let train_part: Vec<TrainingExample> = train_part.into_iter().map(|(e, _)| e).collect();
    let test: Vec<TrainingExample> = test.into_iter().map(|(e, _)| e).collect();
    let opts = TrainOptions {
        calibration_folds: 0,
        ..TrainOptions::default()
    };
    let model = train(&train_part, &opts).unwrap();
    let e = evaluate(&model, &test);
    eprintln!(
        "real-data 80/20: macro-F1 {:.4}, accuracy {:.4}, {:.3} ms/doc",
        e.macro_f1, e.accuracy, e.ms_per_doc
    );
    assert!(
        e.macro_f1 >= 0.90,
        "macro-F1 {:.4} on {} held-out messages",
        e.macro_f1,
        e.n
    );
}

#[test]
fn evaluation_reports_calibration() {
    let model = train(&synthetic(20, 1), &fast_opts()).unwrap();
    let e = evaluate(&model, &synthetic(10, 99));
    assert_eq!(e.reliability.len(), BINS);
    assert_eq!(e.reliability.iter().map(|b| b.n).sum::<usize>(), e.n);
    assert!((0.0..=1.0).contains(&e.ece), "{}", e.ece);
    // The ECE is the weighted gap of the table it comes with.
    assert!((e.ece - ece(&e.reliability)).abs() < 1e-12);
}

#[test]
fn grouped_repeated_cv_keeps_groups_apart_and_counts_every_fold() {
    let data = synthetic(15, 6);
    let opts = TrainOptions {
        calibration_folds: 0,
        ..TrainOptions::default()
    };
    // Pairs of examples form a group.
    let groups: Vec<String> = (0..data.len()).map(|i| format!("g{}", i / 2)).collect();
    let plan = CvPlan {
        folds: 3,
        repeats: 2,
        seed: 11,
        groups: Some(groups.clone()),
    };
    let r = cross_validate_plan(&data, &[], &opts, &plan).unwrap();
    assert_eq!((r.fold_macro_f1.len(), r.repeats, r.grouped), (6, 2, true));
    assert_eq!(r.pooled.n, 2 * data.len());
    assert!(r.macro_f1_mean > 0.9, "{r:?}");
    let labels: Vec<&str> = data.iter().map(|e| e.label.as_str()).collect();
    let f = group_folds(&labels, &groups, 3, 11);
    assert!((0..data.len()).all(|i| f[i] == f[i / 2 * 2]));
    let wrong = CvPlan {
        groups: Some(vec!["x".into()]),
        ..plan
    };
    assert!(cross_validate_plan(&data, &[], &opts, &wrong).is_err());
}

#[test]
fn self_training_adds_confident_unlabelled_texts_and_only_when_on() {
    let data = synthetic(15, 2);
    let unlabelled: Vec<String> = synthetic(5, 77).into_iter().map(|e| e.text).collect();
    let off = train_semi(&data, &unlabelled, &fast_opts()).unwrap();
    assert_eq!(off.metrics().pseudo_labelled, 0);
    let mut opts = fast_opts();
    opts.self_training.threshold = 0.5;
    let on = train_semi(&data, &unlabelled, &opts).unwrap();
    let added = on.metrics().pseudo_labelled;
    assert!(added > 0 && added <= unlabelled.len(), "{added}");
    assert_eq!(on.metrics().trained_examples, data.len());
    opts.self_training.threshold = 1.5;
    assert!(matches!(
        train_semi(&data, &unlabelled, &opts),
        Err(ClassifyError::InvalidOptions(_))
    ));
}

#[test]
fn nested_cv_picks_a_candidate_per_outer_fold() {
    let data = synthetic(12, 3);
    let base = TrainOptions {
        calibration_folds: 0,
        ..TrainOptions::default()
    };
    let mut words = base.clone();
    words.features.words = true;
    let candidates = [("chars".to_string(), base), ("words".to_string(), words)];
    let plan = CvPlan {
        folds: 3,
        repeats: 1,
        seed: 5,
        groups: None,
    };
    let r = nested_cross_validate(&data, &[], &candidates, &plan, 2).unwrap();
    assert_eq!(r.outer_macro_f1.len(), 3);
    assert!(r.chosen.iter().all(|c| c == "chars" || c == "words"));
    assert!(r.inner_macro_f1.iter().all(|s| s.len() == 2));
    assert!(r.macro_f1_mean > 0.8, "{r:?}");
    assert!(nested_cross_validate(&data, &[], &[], &plan, 2).is_err());
}

#[test]
fn unlabelled_csv_reads_tipdm_and_jiesu_columns() {
    let dir = temp_dir("texts");
    std::fs::create_dir_all(&dir).unwrap();
    let tipdm = dir.join("tipdm.csv");
    std::fs::write(
        &tipdm,
        "\u{feff}留言编号,留言主题,留言详情\n1,小区停水,三天了\n2,,只有正文\n3,,\n",
    )
    .unwrap();
    assert_eq!(read_texts(&tipdm).unwrap(), ["小区停水 三天了", "只有正文"]);
    let plain = dir.join("plain.csv");
    std::fs::write(&plain, "id,text\n1,噪音扰民\n").unwrap();
    assert_eq!(read_texts(&plain).unwrap(), ["噪音扰民"]);
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "id,body\n1,x\n").unwrap();
    assert!(matches!(read_texts(&bad), Err(ClassifyError::Csv { .. })));
    let _ = std::fs::remove_dir_all(&dir);
}
