//! Calibration quality: the reliability table (confidence of the top label against how often
//! it is right, in ten equal-width bins) and the expected calibration error (ECE) derived
//! from it, plus the confidence threshold a reliability table suggests.

use serde::{Deserialize, Serialize};

/// Number of equal-width confidence bins of the reliability table.
pub const BINS: usize = 10;

/// One bin of the reliability table: predictions whose top probability lies in
/// `[lower, upper)` (the last bin includes 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Predictions in the bin.
    pub n: usize,
    /// Mean top probability in the bin (0 when empty).
    pub confidence: f64,
    /// Share of the bin's predictions whose top label is the gold label (0 when empty).
    pub accuracy: f64,
}

/// The reliability table of (top probability, top label correct) pairs, [`BINS`] bins.
pub fn reliability(pairs: &[(f64, bool)]) -> Vec<ReliabilityBin> {
    let mut sum_conf = [0.0f64; BINS];
    let mut correct = [0usize; BINS];
    let mut n = [0usize; BINS];
    for &(p, ok) in pairs {
        let p = if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let b = ((p * BINS as f64) as usize).min(BINS - 1);
        sum_conf[b] += p;
        correct[b] += usize::from(ok);
        n[b] += 1;
    }
    (0..BINS)
        .map(|b| {
            let ratio = |x: f64| if n[b] == 0 { 0.0 } else { x / n[b] as f64 };
            ReliabilityBin {
                lower: b as f64 / BINS as f64,
                upper: (b + 1) as f64 / BINS as f64,
                n: n[b],
                confidence: ratio(sum_conf[b]),
                accuracy: ratio(correct[b] as f64),
            }
        })
        .collect()
}

/// Expected calibration error: the bins' |accuracy − confidence| weighted by their share of
/// predictions (0 for an empty table).
pub fn ece(table: &[ReliabilityBin]) -> f64 {
    let total: usize = table.iter().map(|b| b.n).sum();
    if total == 0 {
        return 0.0;
    }
    table
        .iter()
        .map(|b| b.n as f64 * (b.accuracy - b.confidence).abs())
        .sum::<f64>()
        / total as f64
}

/// The lowest bin edge from which every non-empty bin at or above it is right at least
/// `target` of the time: suggestions below it should be flagged "not sure". `None` when
/// even the top bin falls short.
pub fn threshold_for(table: &[ReliabilityBin], target: f64) -> Option<f64> {
    let mut edge = None;
    for b in table.iter().rev() {
        if b.n == 0 {
            continue;
        }
        if b.accuracy < target {
            break;
        }
        edge = Some(b.lower);
    }
    edge
}

#[cfg(test)]
mod tests {
    //! Unit tests of the reliability table, ECE and the threshold.

    use super::*;

    #[test]
    fn perfectly_calibrated_pairs_have_zero_ece() {
        // 10 predictions at 0.75, 7.5 right is impossible; use 0.8 with 8 of 10 right.
        let mut pairs: Vec<(f64, bool)> = (0..10).map(|i| (0.85, i < 8)).collect();
        pairs.extend((0..4).map(|i| (0.55, i < 2)));
        let t = reliability(&pairs);
        assert_eq!(t.len(), BINS);
        assert_eq!((t[8].n, t[5].n), (10, 4));
        assert!((t[8].accuracy - 0.8).abs() < 1e-12 && (t[5].accuracy - 0.5).abs() < 1e-12);
        // |0.8-0.85|·10 + |0.5-0.55|·4 over 14.
        assert!((ece(&t) - 0.05).abs() < 1e-12, "{}", ece(&t));
    }

    #[test]
    fn overconfidence_shows_as_ece_and_edges_are_inclusive() {
        let t = reliability(&[(1.0, false), (0.0, true), (f64::NAN, true)]);
        assert_eq!((t[9].n, t[0].n), (1, 2));
        assert!((ece(&t) - (1.0 + 2.0 * 1.0) / 3.0).abs() < 1e-12);
        assert_eq!(ece(&reliability(&[])), 0.0);
    }

    #[test]
    fn threshold_is_the_lowest_edge_of_the_reliable_top_bins() {
        let pairs: Vec<(f64, bool)> = [
            (0.95, true),
            (0.95, true),
            (0.75, true),
            (0.72, true),
            (0.45, false),
            (0.45, true),
            (0.15, true),
        ]
        .to_vec();
        let t = reliability(&pairs);
        assert_eq!(threshold_for(&t, 0.9), Some(0.7));
        assert_eq!(threshold_for(&t, 0.4), Some(0.1));
        assert_eq!(threshold_for(&reliability(&[(0.95, false)]), 0.9), None);
    }
}
