//! One-vs-rest linear SVM trained by dual coordinate descent (the liblinear algorithm of
//! Hsieh et al. 2008, with shrinking), L2-regularised with L2 (squared hinge) or L1 (hinge)
//! loss; the order of coordinates comes from the crate's seeded generator.

use serde::{Deserialize, Serialize};

use super::features::SparseVec;
use crate::seeded::Rng;

/// Loss of the linear SVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SvmLoss {
    /// Squared hinge (liblinear `-s 1`, scikit-learn `LinearSVC` default).
    SquaredHinge,
    /// Hinge (liblinear `-s 3`).
    Hinge,
}

/// Solver settings. Part of [`super::TrainOptions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvmOptions {
    /// Inverse regularisation strength.
    pub c: f64,
    /// Loss function.
    pub loss: SvmLoss,
    /// Stop when the projected-gradient gap is below this.
    pub tolerance: f64,
    /// Maximum passes over the data per class.
    pub max_iter: usize,
    /// Value of the constant bias feature (regularised like liblinear's `-B`).
    pub bias: f64,
    /// Class-balanced costs: an example of class `c` gets `C · n / (k · n_c)` (scikit-learn's
    /// `class_weight="balanced"`), so that rare classes weigh as much as common ones.
    #[serde(default)]
    pub balanced: bool,
    /// Naive-Bayes feature scaling (NBSVM, Wang & Manning 2012): class `c`'s SVM is trained
    /// on `r_c ∘ x`, where `r_c` is each feature's log-count ratio between the documents of
    /// `c` and the rest (document counts, add-one smoothing), and its weights are stored as
    /// `r_c ∘ w`, so prediction is the same dot product. Off in models saved before it.
    #[serde(default)]
    pub nb_scale: bool,
}

/// Weights of one binary classifier: `score = w·x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    /// Weight per feature.
    pub w: Vec<f32>,
    /// Bias term (already multiplied by the bias feature value).
    pub b: f32,
}

impl Binary {
    /// Decision value for `x`.
    pub fn score(&self, x: &SparseVec) -> f64 {
        let mut s = f64::from(self.b);
        for (&i, &v) in x.idx.iter().zip(&x.val) {
            s += f64::from(self.w[i as usize]) * f64::from(v);
        }
        s
    }
}

/// Trains one binary classifier: `positive[i]` says whether example `i` is in the class;
/// `weight[i]` multiplies `C` for example `i` (all 1 for the plain SVM).
pub fn train_binary(
    xs: &[SparseVec],
    positive: &[bool],
    weight: &[f64],
    dim: usize,
    opts: &SvmOptions,
    rng: &mut Rng,
) -> Binary {
    let l = xs.len();
    let (diag, upper): (Vec<f64>, Vec<f64>) = weight
        .iter()
        .map(|w| match opts.loss {
            SvmLoss::SquaredHinge => (0.5 / (opts.c * w), f64::INFINITY),
            SvmLoss::Hinge => (0.0, opts.c * w),
        })
        .unzip();
    let y: Vec<f64> = positive
        .iter()
        .map(|&p| if p { 1.0 } else { -1.0 })
        .collect();
    let qd: Vec<f64> = xs
        .iter()
        .zip(&diag)
        .map(|(x, d)| d + x.norm_sq() + opts.bias * opts.bias)
        .collect();
    let mut w = vec![0f64; dim];
    let mut wb = 0f64; // weight of the bias feature
    let mut alpha = vec![0f64; l];
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let (mut pg_max_old, mut pg_min_old) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut iter = 0;
    while iter < opts.max_iter {
        let (mut pg_max, mut pg_min) = (f64::NEG_INFINITY, f64::INFINITY);
        rng.shuffle(&mut index[..active]);
        let mut s = 0;
        while s < active {
            let i = index[s];
            let x = &xs[i];
            let mut dot = wb * opts.bias;
            for (&j, &v) in x.idx.iter().zip(&x.val) {
                dot += w[j as usize] * f64::from(v);
            }
            let g = y[i] * dot - 1.0 + alpha[i] * diag[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else if alpha[i] == upper[i] {
                if g < pg_min_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g > 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).clamp(0.0, upper[i]);
                let d = (alpha[i] - old) * y[i];
                for (&j, &v) in x.idx.iter().zip(&x.val) {
                    w[j as usize] += d * f64::from(v);
                }
                wb += d * opts.bias;
            }
            s += 1;
        }
        iter += 1;
        if pg_max - pg_min <= opts.tolerance {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f64::INFINITY } else { pg_max };
        pg_min_old = if pg_min >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min
        };
    }
    Binary {
        w: w.into_iter().map(|v| v as f32).collect(),
        b: (wb * opts.bias) as f32,
    }
}

/// Trains one binary classifier per class (`labels[i]` is the class index of `xs[i]`).
pub fn train_ovr(
    xs: &[SparseVec],
    labels: &[usize],
    n_classes: usize,
    dim: usize,
    opts: &SvmOptions,
    seed: u64,
) -> Vec<Binary> {
    let mut count = vec![0usize; n_classes];
    labels.iter().for_each(|&l| count[l] += 1);
    let weight: Vec<f64> = labels
        .iter()
        .map(|&l| {
            if opts.balanced {
                labels.len() as f64 / (n_classes as f64 * count[l] as f64)
            } else {
                1.0
            }
        })
        .collect();
    let counts = opts
        .nb_scale
        .then(|| document_counts(xs, labels, n_classes, dim));
    (0..n_classes)
        .map(|k| {
            let positive: Vec<bool> = labels.iter().map(|&l| l == k).collect();
            let mut rng = Rng::new(seed ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
            let Some((per_class, all)) = &counts else {
                return train_binary(xs, &positive, &weight, dim, opts, &mut rng);
            };
            let r = log_count_ratio(&per_class[k], all);
            let scaled: Vec<SparseVec> = xs
                .iter()
                .map(|x| SparseVec {
                    idx: x.idx.clone(),
                    val: x
                        .idx
                        .iter()
                        .zip(&x.val)
                        .map(|(&j, &v)| v * r[j as usize] as f32)
                        .collect(),
                })
                .collect();
            let mut m = train_binary(&scaled, &positive, &weight, dim, opts, &mut rng);
            // (r ∘ x)·w = x·(r ∘ w): the stored weights take the scale.
            for (w, &rj) in m.w.iter_mut().zip(&r) {
                *w = (f64::from(*w) * rj) as f32;
            }
            m
        })
        .collect()
}

/// In how many documents each feature occurs: per class, and in all.
fn document_counts(
    xs: &[SparseVec],
    labels: &[usize],
    n_classes: usize,
    dim: usize,
) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut per_class = vec![vec![0u32; dim]; n_classes];
    let mut all = vec![0u32; dim];
    for (x, &l) in xs.iter().zip(labels) {
        for (&j, &v) in x.idx.iter().zip(&x.val) {
            if v != 0.0 {
                per_class[l][j as usize] += 1;
                all[j as usize] += 1;
            }
        }
    }
    (per_class, all)
}

/// NBSVM's log-count ratio of each feature for one class: `ln(p_j / Σp) − ln(q_j / Σq)`
/// with `p_j = 1 + ` the class's documents holding feature `j`, `q_j = 1 + ` the others'.
fn log_count_ratio(class: &[u32], all: &[u32]) -> Vec<f64> {
    let p: Vec<f64> = class.iter().map(|&c| 1.0 + f64::from(c)).collect();
    let q: Vec<f64> = class
        .iter()
        .zip(all)
        .map(|(&c, &a)| 1.0 + f64::from(a - c))
        .collect();
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    p.iter()
        .zip(&q)
        .map(|(pj, qj)| (pj / sp).ln() - (qj / sq).ln())
        .collect()
}

#[cfg(test)]
mod tests {
    //! Unit tests of the dual coordinate descent solver.

    use super::*;

    fn sv(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            idx: pairs.iter().map(|p| p.0).collect(),
            val: pairs.iter().map(|p| p.1).collect(),
        }
    }

    fn opts(loss: SvmLoss) -> SvmOptions {
        SvmOptions {
            c: 1.0,
            loss,
            tolerance: 1e-4,
            max_iter: 1000,
            bias: 1.0,
            balanced: false,
            nb_scale: false,
        }
    }

    #[test]
    fn separates_a_linearly_separable_problem() {
        // Class 0 lives on feature 0, class 1 on feature 1, class 2 on feature 2.
        let xs = vec![
            sv(&[(0, 1.0)]),
            sv(&[(0, 0.8), (3, 0.6)]),
            sv(&[(1, 1.0)]),
            sv(&[(1, 0.6), (3, 0.8)]),
            sv(&[(2, 1.0)]),
        ];
        let labels = [0, 0, 1, 1, 2];
        for loss in [SvmLoss::SquaredHinge, SvmLoss::Hinge] {
            let m = train_ovr(&xs, &labels, 3, 4, &opts(loss), 7);
            for (x, &l) in xs.iter().zip(&labels) {
                let best = (0..3)
                    .max_by(|&a, &b| m[a].score(x).total_cmp(&m[b].score(x)))
                    .unwrap();
                assert_eq!(best, l, "{loss:?}");
            }
            assert!(m[0].w[0] > 0.0 && m[0].w[1] < 0.0);
        }
    }

    #[test]
    fn nb_scaling_uses_log_count_ratios_and_still_separates() {
        // Feature 0 in both documents of class 0 and in neither of class 1; feature 1 in all.
        let xs = vec![
            sv(&[(0, 0.6), (1, 0.8)]),
            sv(&[(0, 0.8), (1, 0.6)]),
            sv(&[(1, 1.0)]),
            sv(&[(1, 1.0)]),
        ];
        let labels = [0, 0, 1, 1];
        let (per, all) = document_counts(&xs, &labels, 2, 2);
        assert_eq!(
            (per[0].clone(), per[1].clone(), all),
            (vec![2, 2], vec![0, 2], vec![2, 4])
        );
        // Class 0: p = (3, 3)/6, q = (1, 3)/4.
        let r = log_count_ratio(&per[0], &[2, 4]);
        assert!((r[0] - 2f64.ln()).abs() < 1e-12, "{r:?}");
        assert!((r[1] - (0.5f64 / 0.75).ln()).abs() < 1e-12, "{r:?}");
        let nb = SvmOptions {
            nb_scale: true,
            ..opts(SvmLoss::SquaredHinge)
        };
        let m = train_ovr(&xs, &labels, 2, 2, &nb, 3);
        for (x, &l) in xs.iter().zip(&labels) {
            assert_eq!(m[0].score(x) > m[1].score(x), l == 0, "{x:?}");
        }
        // The class's own feature weighs most in its folded weights.
        assert!(m[0].w[0] > m[0].w[1].abs(), "{:?}", m[0].w);
    }

    #[test]
    fn matches_known_solution_of_one_dimensional_problem() {
        // x = +1 positive, x = -1 negative, no bias, L2 loss, C = 1:
        // minimise w²/2 + 2·max(0, 1 - w)² → w = 4/5 (primal optimum).
        let xs = vec![sv(&[(0, 1.0)]), sv(&[(0, -1.0)])];
        let o = SvmOptions {
            bias: 0.0,
            tolerance: 1e-9,
            ..opts(SvmLoss::SquaredHinge)
        };
        let m = train_binary(&xs, &[true, false], &[1.0, 1.0], 1, &o, &mut Rng::new(1));
        assert!((m.w[0] - 0.8).abs() < 1e-4, "w = {}", m.w[0]);
    }

    #[test]
    fn balanced_costs_move_the_boundary_towards_the_common_class() {
        // One positive at x = 1 against nine negatives at x = 0.2: balanced costs weigh the
        // lone positive nine times more, so its decision value must rise.
        let mut xs = vec![sv(&[(0, 1.0)])];
        xs.extend((0..9).map(|_| sv(&[(0, 0.2)])));
        let labels: Vec<usize> = (0..10).map(|i| usize::from(i > 0)).collect();
        let plain = train_ovr(&xs, &labels, 2, 1, &opts(SvmLoss::SquaredHinge), 5);
        let bal = SvmOptions {
            balanced: true,
            ..opts(SvmLoss::SquaredHinge)
        };
        let balanced = train_ovr(&xs, &labels, 2, 1, &bal, 5);
        assert!(
            balanced[0].score(&xs[0]) > plain[0].score(&xs[0]) + 0.05,
            "{} vs {}",
            balanced[0].score(&xs[0]),
            plain[0].score(&xs[0])
        );
    }

    #[test]
    fn deterministic_for_a_seed() {
        let xs: Vec<SparseVec> = (0..40u32)
            .map(|i| sv(&[(i % 5, 1.0), (5 + i % 3, 0.5)]))
            .collect();
        let labels: Vec<usize> = (0..40).map(|i| (i % 5 == 0) as usize).collect();
        let a = train_ovr(&xs, &labels, 2, 8, &opts(SvmLoss::SquaredHinge), 3);
        let b = train_ovr(&xs, &labels, 2, 8, &opts(SvmLoss::SquaredHinge), 3);
        assert_eq!(a, b);
    }
}
