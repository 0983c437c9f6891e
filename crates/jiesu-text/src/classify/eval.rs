//! Measuring a classifier: accuracy / per-label precision, recall, F1 / macro-F1, speed
//! and calibration (`evaluate`), and deterministic stratified folds (cross-validation is in
//! `cv`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::reliability::{ece, reliability, ReliabilityBin};
use super::{Model, TrainingExample};
use crate::seeded::Rng;

/// Precision, recall, F1 and support of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelScores {
    /// Correct predictions of the label / all predictions of the label (0 if none).
    pub precision: f64,
    /// Correct predictions of the label / gold examples of the label (0 if none).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 if both are 0).
    pub f1: f64,
    /// Number of gold examples with the label.
    pub support: usize,
}

/// Result of [`evaluate`]. Serialises to
/// `{"n","accuracy","macro_f1","per_label":{label:{"precision","recall","f1","support"}},"ms_per_doc",
/// "ece","reliability":[{"lower","upper","n","confidence","accuracy"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Number of examples evaluated.
    pub n: usize,
    /// Share of examples whose top prediction is the gold label.
    pub accuracy: f64,
    /// Unweighted mean F1 over every label that is gold or predicted at least once.
    pub macro_f1: f64,
    /// Scores per label (gold or predicted), sorted by label.
    pub per_label: BTreeMap<String, LabelScores>,
    /// Mean wall-clock milliseconds per `Model::predict` call.
    pub ms_per_doc: f64,
    /// Expected calibration error of the top label's probability (10 equal-width bins;
    /// 0 when no probabilities were scored).
    #[serde(default)]
    pub ece: f64,
    /// The reliability table behind `ece` (empty when no probabilities were scored).
    #[serde(default)]
    pub reliability: Vec<ReliabilityBin>,
}

/// Scores gold labels against predicted labels (pairs at the same position).
pub fn score_labels(gold: &[&str], predicted: &[&str], ms_per_doc: f64) -> Evaluation {
    let labels: BTreeSet<&str> = gold.iter().chain(predicted).copied().collect();
    let mut per_label = BTreeMap::new();
    for &l in &labels {
        let tp = gold
            .iter()
            .zip(predicted)
            .filter(|(g, p)| **g == l && **p == l)
            .count();
        let n_pred = predicted.iter().filter(|p| **p == l).count();
        let support = gold.iter().filter(|g| **g == l).count();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(tp, n_pred), ratio(tp, support));
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        per_label.insert(
            l.to_string(),
            LabelScores {
                precision,
                recall,
                f1,
                support,
            },
        );
    }
    let correct = gold.iter().zip(predicted).filter(|(g, p)| g == p).count();
    let n = gold.len();
    let macro_f1 = if per_label.is_empty() {
        0.0
    } else {
        per_label.values().map(|s| s.f1).sum::<f64>() / per_label.len() as f64
    };
    Evaluation {
        n,
        accuracy: if n == 0 {
            0.0
        } else {
            correct as f64 / n as f64
        },
        macro_f1,
        per_label,
        ms_per_doc,
        ece: 0.0,
        reliability: Vec::new(),
    }
}

/// [`score_labels`] plus the calibration of the top labels' probabilities `top_prob`.
pub fn score_predictions(
    gold: &[&str],
    predicted: &[&str],
    top_prob: &[f64],
    ms_per_doc: f64,
) -> Evaluation {
    let mut e = score_labels(gold, predicted, ms_per_doc);
    let pairs: Vec<(f64, bool)> = top_prob
        .iter()
        .zip(gold.iter().zip(predicted))
        .map(|(&p, (g, q))| (p, g == q))
        .collect();
    e.reliability = reliability(&pairs);
    e.ece = ece(&e.reliability);
    e
}

/// Predicts every example with `model` and scores the top label against the gold label.
pub fn evaluate(model: &Model, examples: &[TrainingExample]) -> Evaluation {
    let start = Instant::now();
    let (predicted, top_prob): (Vec<String>, Vec<f64>) = examples
        .iter()
        .map(|e| {
            model
                .predict(&e.text)
                .into_iter()
                .next()
                .map_or((String::new(), 0.0), |p| (p.label, p.score))
        })
        .unzip();
    let ms = start.elapsed().as_secs_f64() * 1000.0 / examples.len().max(1) as f64;
    let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
    let pred: Vec<&str> = predicted.iter().map(String::as_str).collect();
    score_predictions(&gold, &pred, &top_prob, ms)
}

/// Fold number (`0..folds`) per example: every label's examples are shuffled with `seed`
/// and dealt round-robin, continuing where the previous label stopped, so each fold gets
/// about `1/folds` of every label.
pub fn stratified_folds(labels: &[&str], folds: usize, seed: u64) -> Vec<usize> {
    let folds = folds.max(1);
    let mut by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        by_label.entry(l).or_default().push(i);
    }
    let mut rng = Rng::new(seed);
    let mut out = vec![0; labels.len()];
    let mut next = 0;
    for idx in by_label.values_mut() {
        rng.shuffle(idx);
        for &i in idx.iter() {
            out[i] = next % folds;
            next += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Unit tests of metric arithmetic, folds and the Evaluation JSON shape.

    use super::*;

    #[test]
    fn scores_match_hand_computation() {
        let gold = ["a", "a", "a", "b", "b", "c"];
        let pred = ["a", "a", "b", "b", "c", "c"];
        let e = score_labels(&gold, &pred, 0.0);
        assert_eq!(e.n, 6);
        assert!((e.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let a = &e.per_label["a"];
        assert_eq!((a.precision, a.support), (1.0, 3));
        assert!((a.recall - 2.0 / 3.0).abs() < 1e-12 && (a.f1 - 0.8).abs() < 1e-12);
        // b: P = 1/2, R = 1/2; c: P = 1/2, R = 1 → F1 = 2/3.
        assert!((e.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn predicted_only_labels_count_in_macro_f1() {
        let e = score_labels(&["a", "a"], &["a", "x"], 0.0);
        assert_eq!(e.per_label["x"].support, 0);
        assert!((e.macro_f1 - (2.0 / 3.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn evaluation_serialises_to_the_agreed_keys() {
        let v = serde_json::to_value(score_labels(&["a"], &["a"], 0.1)).unwrap();
        let keys = |v: &serde_json::Value| {
            v.as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            keys(&v),
            [
                "accuracy",
                "ece",
                "macro_f1",
                "ms_per_doc",
                "n",
                "per_label",
                "reliability"
            ]
            .map(String::from)
            .into()
        );
        assert_eq!(
            keys(&v["per_label"]["a"]),
            ["f1", "precision", "recall", "support"]
                .map(String::from)
                .into()
        );
    }

    #[test]
    fn folds_are_stratified_and_deterministic() {
        let labels: Vec<&str> = (0..100)
            .map(|i| if i % 4 == 0 { "rare" } else { "common" })
            .collect();
        let a = stratified_folds(&labels, 5, 9);
        assert_eq!(a, stratified_folds(&labels, 5, 9));
        assert_ne!(a, stratified_folds(&labels, 5, 10));
        for f in 0..5 {
            let rare = (0..100)
                .filter(|&i| a[i] == f && labels[i] == "rare")
                .count();
            let all = a.iter().filter(|&&x| x == f).count();
            assert_eq!((rare, all), (5, 20));
        }
    }
}
