//! Nested cross-validation: an honest estimate of "pick the best of these candidate
//! configurations by cross-validation, then train it", because the pick is made inside each
//! outer training part (by an inner grouped CV) and the outer test part never takes part.

use serde::{Deserialize, Serialize};

use super::cv::{cross_validate_plan, group_folds, CvPlan};
use super::eval::{score_labels, stratified_folds};
use super::{train_semi, ClassifyError, TrainOptions, TrainingExample};

/// Result of [`nested_cross_validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NestedReport {
    /// Candidate names, in the order given.
    pub candidates: Vec<String>,
    /// Per outer fold: the candidate the inner CV picked.
    pub chosen: Vec<String>,
    /// Per outer fold: the inner CV mean macro-F1 of every candidate.
    pub inner_macro_f1: Vec<Vec<f64>>,
    /// Per outer fold: macro-F1 of the picked candidate on the outer test part.
    pub outer_macro_f1: Vec<f64>,
    /// Mean of `outer_macro_f1`: the estimate.
    pub macro_f1_mean: f64,
    /// Sample standard deviation of `outer_macro_f1`.
    pub macro_f1_std: f64,
}

/// Outer folds by `outer` (its `repeats` is honoured), inner `inner_folds`-fold CV (grouped
/// when `outer` is) on each outer training part to pick one of `candidates`, which is then
/// trained on the whole outer training part and scored on the outer test part.
pub fn nested_cross_validate(
    examples: &[TrainingExample],
    unlabelled: &[String],
    candidates: &[(String, TrainOptions)],
    outer: &CvPlan,
    inner_folds: usize,
) -> Result<NestedReport, ClassifyError> {
    if candidates.is_empty() || outer.folds < 2 || inner_folds < 2 || outer.repeats == 0 {
        return Err(ClassifyError::InvalidOptions(
            "nested CV needs candidates, ≥ 2 outer and inner folds and ≥ 1 repeat".into(),
        ));
    }
    let labels: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
    let mut report = NestedReport {
        candidates: candidates.iter().map(|c| c.0.clone()).collect(),
        chosen: Vec::new(),
        inner_macro_f1: Vec::new(),
        outer_macro_f1: Vec::new(),
        macro_f1_mean: 0.0,
        macro_f1_std: 0.0,
    };
    for r in 0..outer.repeats {
        let seed = outer.seed.wrapping_add(r as u64);
        let assignment = match &outer.groups {
            Some(g) => group_folds(&labels, g, outer.folds, seed),
            None => stratified_folds(&labels, outer.folds, seed),
        };
        for f in 0..outer.folds {
            let inside: Vec<usize> = (0..examples.len())
                .filter(|&i| assignment[i] != f)
                .collect();
            let train_part: Vec<TrainingExample> =
                inside.iter().map(|&i| examples[i].clone()).collect();
            let inner = CvPlan {
                folds: inner_folds,
                repeats: 1,
                seed: seed ^ 0x1234_5678,
                groups: outer
                    .groups
                    .as_ref()
                    .map(|g| inside.iter().map(|&i| g[i].clone()).collect()),
            };
            let mut scores = Vec::with_capacity(candidates.len());
            for (_, opts) in candidates {
                scores.push(
                    cross_validate_plan(&train_part, unlabelled, opts, &inner)?.macro_f1_mean,
                );
            }
            // Ties go to the earlier candidate (list the simpler ones first).
            let best = (0..candidates.len())
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            let model = train_semi(&train_part, unlabelled, &candidates[best].1)?;
            let (gold, pred): (Vec<&str>, Vec<String>) = (0..examples.len())
                .filter(|&i| assignment[i] == f)
                .map(|i| {
                    let top = model.predict_top(&examples[i].text).map(|p| p.0);
                    (labels[i], top.unwrap_or_default())
                })
                .unzip();
            let pred: Vec<&str> = pred.iter().map(String::as_str).collect();
            report
                .outer_macro_f1
                .push(score_labels(&gold, &pred, 0.0).macro_f1);
            report.chosen.push(candidates[best].0.clone());
            report.inner_macro_f1.push(scores);
        }
    }
    let v = &report.outer_macro_f1;
    let k = v.len() as f64;
    report.macro_f1_mean = v.iter().sum::<f64>() / k;
    report.macro_f1_std = if v.len() > 1 {
        (v.iter()
            .map(|x| (x - report.macro_f1_mean).powi(2))
            .sum::<f64>()
            / (k - 1.0))
            .sqrt()
    } else {
        0.0
    };
    Ok(report)
}
