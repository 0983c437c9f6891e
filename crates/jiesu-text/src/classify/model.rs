//! The trained model: `train` (vocabulary, one-vs-rest SVM, temperature calibration on
//! internal out-of-fold scores), `Model::predict` with explanations, and the metadata
//! that goes to `metrics.json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calibrate::{fit_temperature, mean_nll, softmax};
use super::cv::CvReport;
use super::eval::stratified_folds;
use super::features::{normalize, SparseVec};
use super::options::{TrainOptions, CHOICE_REASONS};
use super::svm::{train_ovr, Binary};
use super::vocab::{Corpus, Vocabulary};
use super::{ClassifyError, Prediction, TrainingExample};

/// How many ranked labels [`Model::predict`] returns.
const TOP_LABELS: usize = 3;
/// How many explaining terms each prediction carries (at most).
const TOP_TERMS: usize = 5;

/// Facts about a trained model, saved as `metrics.json` next to the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    /// Model file format version.
    pub format_version: u32,
    /// Number of training examples.
    pub trained_examples: usize,
    /// Training examples per label.
    pub label_counts: BTreeMap<String, usize>,
    /// Number of features (vocabulary size).
    pub n_features: usize,
    /// Unlabelled texts that self-training added with a pseudo-label (0 when off).
    #[serde(default)]
    pub pseudo_labelled: usize,
    /// Fitted softmax temperature.
    pub temperature: f64,
    /// Mean negative log-likelihood of the internal out-of-fold scores at `temperature`
    /// (`None` when calibration was off).
    pub calibration_log_loss: Option<f64>,
    /// Options the model was trained with.
    pub options: TrainOptions,
    /// Cross-validation of these options on the training data, if one was attached with
    /// [`Model::set_cv_report`].
    pub cv: Option<CvReport>,
    /// Why these options were chosen.
    pub choice_reasons: Vec<String>,
    /// FNV-1a 64 hash (hex) of `model.bin`'s payload; set by `save`, checked by `load`.
    pub weights_checksum: String,
}

/// A trained request-category classifier. Cheap to share across threads (`&self` only).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Known labels, sorted; index = class number.
    pub(crate) labels: Vec<String>,
    /// Vocabulary, IDF and feature settings.
    pub(crate) vocab: Vocabulary,
    /// Weights, feature-major: `weights[feature * labels.len() + label]` (one cache line
    /// per feature at prediction time).
    pub(crate) weights: Vec<f32>,
    /// Bias per label.
    pub(crate) bias: Vec<f32>,
    /// Facts saved as `metrics.json` (including the softmax temperature).
    pub(crate) metrics: ModelMetrics,
}

/// Trains a model on `examples` with `opts`.
pub fn train(examples: &[TrainingExample], opts: &TrainOptions) -> Result<Model, ClassifyError> {
    train_parts(examples, &[], opts)
}

/// Trains on `examples`, then, when `opts.self_training` is on, labels `unlabelled` with
/// that model and trains again with the confident pseudo-labelled texts added (see
/// [`super::SelfTraining`]); the calibration is fitted on labelled examples only.
pub fn train_semi(
    examples: &[TrainingExample],
    unlabelled: &[String],
    opts: &TrainOptions,
) -> Result<Model, ClassifyError> {
    let first = train(examples, opts)?;
    let threshold = opts.self_training.threshold;
    if threshold <= 0.0 || unlabelled.is_empty() {
        return Ok(first);
    }
    let pseudo: Vec<TrainingExample> = unlabelled
        .iter()
        .enumerate()
        .filter_map(|(i, text)| {
            let best = first.predict_top(text)?;
            (best.1 >= threshold).then(|| TrainingExample {
                id: format!("unlabelled-{i}"),
                text: text.clone(),
                label: best.0,
            })
        })
        .collect();
    train_parts(examples, &pseudo, opts)
}

/// Trains on `examples` plus `extra` (always in the training part, never held out for
/// calibration, not counted in `label_counts`).
fn train_parts(
    labelled: &[TrainingExample],
    extra: &[TrainingExample],
    opts: &TrainOptions,
) -> Result<Model, ClassifyError> {
    opts.validate()?;
    let n_labelled = labelled.len();
    let examples: Vec<TrainingExample> = labelled.iter().chain(extra).cloned().collect();
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(ClassifyError::BadTrainingData(format!(
            "need at least 2 distinct labels, found {} in {} examples",
            labels.len(),
            examples.len()
        )));
    }
    let y: Vec<usize> = examples
        .iter()
        .map(|e| labels.binary_search(&e.label).unwrap_or(0))
        .collect();
    let norm: Vec<String> = examples.iter().map(|e| normalize(&e.text)).collect();
    let corpus = Corpus::build(&opts.features, &norm);

    let (temperature, calibration_log_loss) = if opts.calibration_folds >= 2 {
        let folds = opts.calibration_folds.min(n_labelled);
        let label_refs: Vec<&str> = labelled.iter().map(|e| e.label.as_str()).collect();
        let mut assignment = stratified_folds(&label_refs, folds, opts.seed ^ 0xC0FFEE);
        // Pseudo-labelled texts train every fold and are never held out.
        assignment.resize(examples.len(), usize::MAX);
        let mut scores = vec![Vec::new(); n_labelled];
        for f in 0..folds {
            let (fit_ix, held): (Vec<usize>, Vec<usize>) =
                (0..examples.len()).partition(|&i| assignment[i] != f);
            let (vocab, map, clfs) = fit(&corpus, &fit_ix, &y, labels.len(), opts);
            let mut present = vec![false; labels.len()];
            fit_ix.iter().for_each(|&i| present[y[i]] = true);
            for i in held {
                let x = corpus.vector(i, &vocab, &map);
                // A label absent from this fold's training part gets a very low score.
                scores[i] = clfs
                    .iter()
                    .zip(&present)
                    .map(|(c, &p)| if p { c.score(&x) } else { -10.0 })
                    .collect();
            }
        }
        let t = fit_temperature(&scores, &y[..n_labelled]);
        (t, Some(mean_nll(&scores, &y[..n_labelled], t)))
    } else {
        (1.0, None)
    };

    let all: Vec<usize> = (0..examples.len()).collect();
    let (vocab, _, classifiers) = fit(&corpus, &all, &y, labels.len(), opts);
    if vocab.is_empty() {
        return Err(ClassifyError::BadTrainingData(
            "no feature occurs in min_df training texts; lower min_df or add data".into(),
        ));
    }
    let mut label_counts = BTreeMap::new();
    for e in labelled {
        *label_counts.entry(e.label.clone()).or_insert(0) += 1;
    }
    let metrics = ModelMetrics {
        format_version: super::FORMAT_VERSION,
        trained_examples: n_labelled,
        label_counts,
        pseudo_labelled: extra.len(),
        n_features: vocab.len(),
        temperature,
        calibration_log_loss,
        options: opts.clone(),
        cv: None,
        choice_reasons: CHOICE_REASONS.iter().map(|s| s.to_string()).collect(),
        weights_checksum: String::new(),
    };
    let k = labels.len();
    let mut weights = vec![0f32; vocab.len() * k];
    for (label, c) in classifiers.iter().enumerate() {
        for (j, &w) in c.w.iter().enumerate() {
            weights[j * k + label] = w;
        }
    }
    let bias = classifiers.iter().map(|c| c.b).collect();
    Ok(Model {
        labels,
        vocab,
        weights,
        bias,
        metrics,
    })
}

/// Vocabulary and SVMs fitted on the documents `subset`.
fn fit(
    corpus: &Corpus,
    subset: &[usize],
    y: &[usize],
    n_labels: usize,
    opts: &TrainOptions,
) -> (Vocabulary, Vec<Option<u32>>, Vec<Binary>) {
    let (vocab, map) = corpus.vocabulary(subset);
    let xs: Vec<SparseVec> = subset
        .iter()
        .map(|&d| corpus.vector(d, &vocab, &map))
        .collect();
    let ys: Vec<usize> = subset.iter().map(|&d| y[d]).collect();
    let clfs = train_ovr(&xs, &ys, n_labels, vocab.len(), &opts.svm, opts.seed);
    (vocab, map, clfs)
}

/// Hints the CPU to load the start of `row` (a weight row a few features ahead), so the
/// cache misses of the scattered rows overlap.
#[inline]
fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: prefetching is a hint; the pointer is in bounds and never dereferenced.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(row.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

impl Model {
    /// The labels the model knows, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Training facts, calibration and (if attached) cross-validation results.
    pub fn metrics(&self) -> &ModelMetrics {
        &self.metrics
    }

    /// Attaches a cross-validation report so that it is saved in `metrics.json`.
    pub fn set_cv_report(&mut self, report: CvReport) {
        self.metrics.cv = Some(report);
    }

    /// The most likely label and its calibrated probability (no explanation terms).
    pub fn predict_top(&self, text: &str) -> Option<(String, f64)> {
        let x = self.vocab.transform(&normalize(text));
        let probs = softmax(&self.scores(&x), self.metrics.temperature);
        let best =
            (0..probs.len()).max_by(|&a, &b| probs[a].total_cmp(&probs[b]).then(b.cmp(&a)))?;
        Some((self.labels[best].clone(), probs[best]))
    }

    /// Calibrated probability of every label (in `labels()` order) for `text`.
    pub fn probabilities(&self, text: &str) -> Vec<(String, f64)> {
        let x = self.vocab.transform(&normalize(text));
        let probs = softmax(&self.scores(&x), self.metrics.temperature);
        self.labels.iter().cloned().zip(probs).collect()
    }

    fn scores(&self, x: &SparseVec) -> Vec<f64> {
        let k = self.labels.len();
        let mut s: Vec<f64> = self.bias.iter().map(|&b| f64::from(b)).collect();
        const AHEAD: usize = 8;
        for (n, (&i, &v)) in x.idx.iter().zip(&x.val).enumerate() {
            if let Some(&next) = x.idx.get(n + AHEAD) {
                prefetch(&self.weights[next as usize * k..]);
            }
            let row = &self.weights[i as usize * k..(i as usize + 1) * k];
            s.iter_mut()
                .zip(row)
                .for_each(|(s, &w)| *s += f64::from(w * v));
        }
        s
    }

    /// The three most likely labels for `text`, best first, with calibrated probabilities
    /// and the terms that pushed each label up most. Any input is accepted: the text is cut
    /// to [`super::MAX_CHARS`] characters and control characters are ignored. Text with no
    /// known feature still gets a ranking (from the biases alone) and empty `terms`.
    pub fn predict(&self, text: &str) -> Vec<Prediction> {
        let x = self.vocab.transform(&normalize(text));
        let probs = softmax(&self.scores(&x), self.metrics.temperature);
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(TOP_LABELS)
            .map(|k| Prediction {
                label: self.labels[k].clone(),
                score: probs[k],
                terms: self.top_terms(k, &x),
            })
            .collect()
    }

    /// Terms with the largest positive contribution `x_j · w_kj` to label `k`.
    fn top_terms(&self, k: usize, x: &SparseVec) -> Vec<String> {
        let n = self.labels.len();
        let mut contrib: Vec<(f32, u32)> = x
            .idx
            .iter()
            .zip(&x.val)
            .map(|(&i, &v)| (v * self.weights[i as usize * n + k], i))
            .filter(|(c, _)| *c > 0.0)
            .collect();
        let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        // Single characters explain little and the same string can be a term of two blocks
        // (body and title n-gram): keep extra candidates, then drop those.
        let keep = 4 * TOP_TERMS;
        if contrib.len() > keep {
            contrib.select_nth_unstable_by(keep - 1, order);
            contrib.truncate(keep);
        }
        contrib.sort_by(order);
        let mut terms: Vec<String> = Vec::with_capacity(TOP_TERMS);
        for (_, i) in contrib {
            let term = &self.vocab.terms[i as usize];
            let readable = term.chars().nth(1).is_some();
            if readable && terms.len() < TOP_TERMS && !terms.contains(term) {
                terms.push(term.clone());
            }
        }
        terms
    }
}
