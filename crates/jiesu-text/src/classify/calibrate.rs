//! Probability calibration: a softmax over the one-vs-rest decision values with one
//! temperature, fitted by minimising the negative log-likelihood of out-of-fold scores.

/// Softmax of `scores / temperature` (numerically stable; `temperature > 0`).
pub fn softmax(scores: &[f64], temperature: f64) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exps: Vec<f64> = scores
        .iter()
        .map(|s| ((s - max) / temperature).exp())
        .collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Mean negative log-likelihood of the true classes at `temperature`.
pub fn mean_nll(scores: &[Vec<f64>], truth: &[usize], temperature: f64) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    let total: f64 = scores
        .iter()
        .zip(truth)
        .map(|(s, &t)| -softmax(s, temperature)[t].max(1e-300).ln())
        .sum();
    total / scores.len() as f64
}

/// Temperature in `[0.005, 20]` minimising [`mean_nll`] (golden-section search on
/// `ln T`; the NLL is unimodal in practice). Returns 1.0 when there is nothing to fit.
pub fn fit_temperature(scores: &[Vec<f64>], truth: &[usize]) -> f64 {
    if scores.is_empty() {
        return 1.0;
    }
    let f = |lt: f64| mean_nll(scores, truth, lt.exp());
    let (mut a, mut b) = (0.005f64.ln(), 20f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    //! Unit tests of softmax and temperature fitting.

    use super::*;

    #[test]
    fn softmax_sums_to_one_and_orders() {
        let p = softmax(&[2.0, 0.0, -1.0], 0.5);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[0] > p[1] && p[1] > p[2]);
        let big = softmax(&[1e6, -1e6], 0.01);
        assert!(big[0].is_finite() && (big[0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn recovers_the_temperature_that_generated_the_labels() {
        // Two classes with scores (s, -s): P(class 0) = σ(2s/T). Build a data set whose
        // empirical frequencies follow T = 0.4 exactly and check the fit finds it.
        let t_true = 0.4;
        let mut scores = Vec::new();
        let mut truth = Vec::new();
        for k in 1..=20 {
            let s = k as f64 * 0.05;
            let p0 = softmax(&[s, -s], t_true)[0];
            let n0 = (p0 * 1000.0).round() as usize;
            for i in 0..1000 {
                scores.push(vec![s, -s]);
                truth.push(if i < n0 { 0 } else { 1 });
            }
        }
        let t = fit_temperature(&scores, &truth);
        assert!((t - t_true).abs() < 0.01, "fitted {t}");
        assert!(mean_nll(&scores, &truth, t) <= mean_nll(&scores, &truth, 1.0));
    }
}
