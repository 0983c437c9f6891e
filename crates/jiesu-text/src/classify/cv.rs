//! Cross-validation with a written-down protocol: stratified k folds, optionally
//! group-aware (every member of a near-duplicate group on the same side, so the estimate
//! resembles a hold-out of unseen messages) and repeated with fresh seeds, reporting the
//! mean ± standard deviation over all folds and the pooled out-of-fold scores, including
//! calibration (ECE).

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::eval::{score_labels, score_predictions, stratified_folds, Evaluation};
use super::{train_semi, ClassifyError, TrainOptions, TrainingExample};

/// How to cross-validate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPlan {
    /// Folds per repeat (≥ 2).
    pub folds: usize,
    /// Repeats, each with seed `seed + r` (≥ 1).
    pub repeats: usize,
    /// Seed of the first repeat's fold assignment.
    pub seed: u64,
    /// Group name per example (e.g. a near-duplicate group); members of one group are
    /// always in the same fold. `None`: every example is its own group.
    pub groups: Option<Vec<String>>,
}

/// Result of [`cross_validate`] / [`cross_validate_plan`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Number of folds.
    pub folds: usize,
    /// Seed of the fold assignment (of the first repeat).
    pub seed: u64,
    /// Repeats of the k-fold split.
    #[serde(default = "one")]
    pub repeats: usize,
    /// Whether near-duplicate groups were kept on one side of every split.
    #[serde(default)]
    pub grouped: bool,
    /// Unlabelled texts offered to self-training (they are never scored).
    #[serde(default)]
    pub unlabelled: usize,
    /// Options every fold was trained with.
    pub options: TrainOptions,
    /// Macro-F1 of each fold's test part (`folds × repeats` values, repeat-major).
    pub fold_macro_f1: Vec<f64>,
    /// Mean of `fold_macro_f1`.
    pub macro_f1_mean: f64,
    /// Sample standard deviation of `fold_macro_f1`.
    pub macro_f1_std: f64,
    /// All out-of-fold predictions of all repeats scored together (each message counts
    /// once per repeat), with their calibration.
    pub pooled: Evaluation,
    /// Mean negative log-likelihood of the gold label under the calibrated probabilities.
    pub log_loss: f64,
    /// Wall-clock seconds for the whole run.
    pub seconds: f64,
}

fn one() -> usize {
    1
}

/// Stratified k-fold cross-validation without groups or repeats (see [`cross_validate_plan`]).
pub fn cross_validate(
    examples: &[TrainingExample],
    opts: &TrainOptions,
    folds: usize,
    seed: u64,
) -> Result<CvReport, ClassifyError> {
    let plan = CvPlan {
        folds,
        repeats: 1,
        seed,
        groups: None,
    };
    cross_validate_plan(examples, &[], opts, &plan)
}

/// Fold per example with whole groups dealt like [`stratified_folds`] deals examples: a
/// group's label is its first member's, the groups of each label are shuffled with `seed`
/// and dealt round-robin.
pub fn group_folds(labels: &[&str], groups: &[String], folds: usize, seed: u64) -> Vec<usize> {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        first.entry(g.as_str()).or_insert_with(|| {
            order.push(g.as_str());
            i
        });
    }
    let group_labels: Vec<&str> = order.iter().map(|g| labels[first[g]]).collect();
    let group_fold = stratified_folds(&group_labels, folds, seed);
    let fold_of: BTreeMap<&str, usize> = order.iter().copied().zip(group_fold).collect();
    groups.iter().map(|g| fold_of[g.as_str()]).collect()
}

/// Cross-validation by `plan`: for every repeat and fold, trains on the other folds (plus,
/// for self-training, the `unlabelled` texts) and scores the held-out fold.
pub fn cross_validate_plan(
    examples: &[TrainingExample],
    unlabelled: &[String],
    opts: &TrainOptions,
    plan: &CvPlan,
) -> Result<CvReport, ClassifyError> {
    let folds = plan.folds;
    if folds < 2 || folds > examples.len() || plan.repeats == 0 {
        return Err(ClassifyError::InvalidOptions(format!(
            "cross-validation needs 2 ≤ folds ≤ examples and ≥ 1 repeat, got {folds} folds, \
             {} repeats for {} examples",
            plan.repeats,
            examples.len()
        )));
    }
    if let Some(g) = &plan.groups {
        if g.len() != examples.len() {
            return Err(ClassifyError::InvalidOptions(format!(
                "{} group names for {} examples",
                g.len(),
                examples.len()
            )));
        }
    }
    let start = Instant::now();
    let labels: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
    let (mut gold, mut predicted, mut top_prob) = (Vec::new(), Vec::new(), Vec::new());
    let mut fold_macro_f1 = Vec::with_capacity(folds * plan.repeats);
    let mut nll = 0.0;
    let mut predict_secs = 0.0;
    for r in 0..plan.repeats {
        let seed = plan.seed.wrapping_add(r as u64);
        let assignment = match &plan.groups {
            Some(g) => group_folds(&labels, g, folds, seed),
            None => stratified_folds(&labels, folds, seed),
        };
        for f in 0..folds {
            let train_part: Vec<TrainingExample> = examples
                .iter()
                .zip(&assignment)
                .filter(|(_, &a)| a != f)
                .map(|(e, _)| e.clone())
                .collect();
            let model = train_semi(&train_part, unlabelled, opts)?;
            let t = Instant::now();
            let (mut fg, mut fp) = (Vec::new(), Vec::new());
            for e in examples
                .iter()
                .zip(&assignment)
                .filter(|p| *p.1 == f)
                .map(|p| p.0)
            {
                let probs = model.probabilities(&e.text);
                let (best, p) = probs
                    .iter()
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map_or((String::new(), 0.0), |p| (p.0.clone(), p.1));
                let p_gold = probs.iter().find(|p| p.0 == e.label).map_or(0.0, |p| p.1);
                nll -= p_gold.max(1e-15).ln();
                fg.push(e.label.as_str());
                fp.push(best);
                top_prob.push(p);
            }
            predict_secs += t.elapsed().as_secs_f64();
            let fp_ref: Vec<&str> = fp.iter().map(String::as_str).collect();
            fold_macro_f1.push(score_labels(&fg, &fp_ref, 0.0).macro_f1);
            gold.extend(fg);
            predicted.extend(fp);
        }
    }
    let pred: Vec<&str> = predicted.iter().map(String::as_str).collect();
    let n = gold.len().max(1) as f64;
    let pooled = score_predictions(&gold, &pred, &top_prob, predict_secs * 1000.0 / n);
    let k = fold_macro_f1.len() as f64;
    let mean = fold_macro_f1.iter().sum::<f64>() / k;
    let var = fold_macro_f1
        .iter()
        .map(|f| (f - mean).powi(2))
        .sum::<f64>()
        / (k - 1.0);
    Ok(CvReport {
        folds,
        seed: plan.seed,
        repeats: plan.repeats,
        grouped: plan.groups.is_some(),
        unlabelled: unlabelled.len(),
        options: opts.clone(),
        fold_macro_f1,
        macro_f1_mean: mean,
        macro_f1_std: var.sqrt(),
        pooled,
        log_loss: nll / n,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    //! Unit tests of group-aware folds.

    use super::*;

    #[test]
    fn groups_stay_together_and_labels_stay_balanced() {
        let labels: Vec<&str> = (0..60)
            .map(|i| if i % 3 == 0 { "a" } else { "b" })
            .collect();
        // Pairs of neighbours with the same label share a group: 0&3, 1&2, 4&5, …
        let groups: Vec<String> = (0..60)
            .map(|i| {
                if labels[i] == "a" {
                    format!("a{}", i / 6)
                } else {
                    format!("b{}", i / 3)
                }
            })
            .collect();
        let f = group_folds(&labels, &groups, 5, 3);
        assert_eq!(f, group_folds(&labels, &groups, 5, 3));
        for i in 0..60 {
            for j in 0..60 {
                if groups[i] == groups[j] {
                    assert_eq!(f[i], f[j], "{i} {j}");
                }
            }
        }
        for fold in 0..5 {
            let a = (0..60)
                .filter(|&i| f[i] == fold && labels[i] == "a")
                .count();
            assert!((2..=6).contains(&a), "fold {fold}: {a} of label a");
        }
    }
}
