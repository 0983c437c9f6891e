//! The heat index (热度) of a problem: one documented, monotone formula over its volume,
//! distinct requesters, recent requests, votes and dissatisfied callbacks. Owns nothing
//! else.

use serde::Serialize;

/// What the heat of a problem is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HeatInputs {
    /// Requests in the problem (n).
    pub requests: u64,
    /// Distinct requesters (u); a request without a requester key counts as its own.
    pub requesters: u64,
    /// Requests in the last `recent_days` up to the ranking time (r).
    pub recent: u64,
    /// Up-votes plus down-votes over all its requests (v): both are attention.
    pub votes: u64,
    /// Requests whose callback was unsatisfied or unresolved (d).
    pub dissatisfied: u64,
}

/// Weights of the heat formula; every weight must be ≥ 0 so more never means cooler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatWeights {
    /// Weight of ln(1 + n) (default 1).
    pub volume: f64,
    /// Weight of ln(1 + u) (default 1).
    pub requesters: f64,
    /// Weight of ln(1 + r) (default 0.5): growth, recent requests count again.
    pub recent: f64,
    /// Weight of ln(1 + v) (default 0.3): votes are log-scaled so one viral post does not
    /// outweigh many people.
    pub votes: f64,
    /// Weight of ln(1 + d) (default 0.5).
    pub dissatisfied: f64,
}

impl Default for HeatWeights {
    fn default() -> Self {
        Self {
            volume: 1.0,
            requesters: 1.0,
            recent: 0.5,
            votes: 0.3,
            dissatisfied: 0.5,
        }
    }
}

/// heat = 10 · (w_n·ln(1+n) + w_u·ln(1+u) + w_r·ln(1+r) + w_v·ln(1+v) + w_d·ln(1+d)),
/// rounded to 0.1. Every term grows with its input, so one more request, requester, vote or
/// dissatisfied callback never lowers the heat. One request with no votes scores 13.9; ten
/// requests from ten people, none recent, 48.0.
pub fn heat(x: &HeatInputs, w: &HeatWeights) -> f64 {
    let l = |v: u64| (1.0 + v as f64).ln();
    let raw = w.volume.max(0.0) * l(x.requests)
        + w.requesters.max(0.0) * l(x.requesters)
        + w.recent.max(0.0) * l(x.recent)
        + w.votes.max(0.0) * l(x.votes)
        + w.dissatisfied.max(0.0) * l(x.dissatisfied);
    (raw * 100.0).round() / 10.0
}
