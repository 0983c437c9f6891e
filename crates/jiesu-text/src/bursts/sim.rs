//! A seeded synthetic stream of daily counts with planted bursts, and the scoring of a
//! detector on it: detection delay (days from a burst's first day to its first alert) and
//! false alarms (alerts on series-days outside any burst). For tests and the benchmark.

use super::{BurstConfig, BurstDetector};
use crate::seeded::Rng;

/// Shape of the synthetic stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of (place × category) series (default 2,000).
    pub series: usize,
    /// Days per series (default 365).
    pub days: usize,
    /// Share of series that get one planted burst (default 0.5).
    pub burst_share: f64,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            series: 2_000,
            days: 365,
            burst_share: 0.5,
            seed: 12_345,
        }
    }
}

/// One planted burst.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedBurst {
    /// The series.
    pub series: usize,
    /// First day of the burst.
    pub start: usize,
    /// Length in days (3 to 10).
    pub days: usize,
    /// Rate multiplier during the burst (2, 3, 4, 6 or 10).
    pub multiplier: f64,
    /// The series' mean daily rate before seasonality.
    pub baseline: f64,
}

/// A generated stream: `counts[series][day]`.
#[derive(Debug, Clone)]
pub struct SimStream {
    /// Daily counts per series.
    pub counts: Vec<Vec<u64>>,
    /// Per series, the mean daily rate.
    pub baselines: Vec<f64>,
    /// The planted bursts (at most one per series).
    pub bursts: Vec<PlantedBurst>,
}

/// A Poisson draw: multiplication for small means, a rounded normal for large ones.
pub fn poisson(rng: &mut Rng, mu: f64) -> u64 {
    if mu <= 0.0 {
        return 0;
    }
    if mu > 60.0 {
        let z = (-2.0 * rng.f64().max(1e-300).ln()).sqrt()
            * (2.0 * std::f64::consts::PI * rng.f64()).cos();
        return (mu + z * mu.sqrt()).round().max(0.0) as u64;
    }
    let limit = (-mu).exp();
    let (mut k, mut p) = (0u64, 1.0);
    loop {
        p *= rng.f64();
        if p <= limit {
            return k;
        }
        k += 1;
    }
}

/// Weekday factors of the synthetic city: quieter weekends, mean 1.
const WEEK: [f64; 7] = [1.1, 1.1, 0.75, 0.75, 1.1, 1.1, 1.1];

/// Generates the stream: series rates log-uniform in 0.2–20 a day with weekday factors and
/// a slow ±20 % yearly swing, Poisson counts, and in `burst_share` of the series one burst
/// of 3–10 days at 2×, 3×, 4×, 6× or 10× starting after day 60.
pub fn simulate(cfg: &SimConfig) -> SimStream {
    let mut rng = Rng::new(cfg.seed);
    let (mut counts, mut baselines, mut bursts) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..cfg.series {
        let base = (0.2f64.ln() + rng.f64() * (100.0f64).ln()).exp();
        let phase = rng.f64() * std::f64::consts::TAU;
        let burst = (rng.f64() < cfg.burst_share && cfg.days > 80).then(|| PlantedBurst {
            series: s,
            start: 60 + rng.below(cfg.days - 75),
            days: 3 + rng.below(8),
            multiplier: [2.0, 3.0, 4.0, 6.0, 10.0][rng.below(5)],
            baseline: base,
        });
        let row = (0..cfg.days)
            .map(|d| {
                let swing = 1.0 + 0.2 * (d as f64 / 365.0 * std::f64::consts::TAU + phase).sin();
                let mut mu = base * WEEK[d % 7] * swing;
                if let Some(b) = &burst {
                    if (b.start..b.start + b.days).contains(&d) {
                        mu *= b.multiplier;
                    }
                }
                poisson(&mut rng, mu)
            })
            .collect();
        counts.push(row);
        baselines.push(base);
        bursts.extend(burst);
    }
    SimStream {
        counts,
        baselines,
        bursts,
    }
}

/// How a detector did on a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SimScore {
    /// Per planted burst, the delay in days of its first alert (0: on its first day), or
    /// `None` when no alert fell inside it.
    pub delays: Vec<Option<usize>>,
    /// Alerts on series-days outside bursts (the day after a burst is left out: a two-day
    /// window ending there still sees the burst).
    pub false_alarms: usize,
    /// Series-days outside bursts after the warm-up.
    pub null_days: usize,
}

impl SimScore {
    /// False alarms per 1,000 series-days.
    pub fn false_alarms_per_1000(&self) -> f64 {
        1000.0 * self.false_alarms as f64 / self.null_days.max(1) as f64
    }

    /// Share of the selected bursts first alerted within `days` days (delay < days), and
    /// how many were selected.
    pub fn caught_within(
        &self,
        stream: &SimStream,
        days: usize,
        keep: impl Fn(&PlantedBurst) -> bool,
    ) -> (f64, usize) {
        let picked: Vec<_> = stream
            .bursts
            .iter()
            .zip(&self.delays)
            .filter(|(b, _)| keep(b))
            .collect();
        let hit = picked
            .iter()
            .filter(|(_, d)| d.is_some_and(|d| d < days))
            .count();
        (hit as f64 / picked.len().max(1) as f64, picked.len())
    }
}

/// Runs a fresh detector over every series of `stream` day by day.
pub fn score(stream: &SimStream, cfg: &BurstConfig) -> SimScore {
    let mut det = BurstDetector::new(cfg.clone());
    let mut delays = vec![None; stream.bursts.len()];
    let burst_of: Vec<Option<usize>> = {
        let mut v = vec![None; stream.counts.len()];
        for (i, b) in stream.bursts.iter().enumerate() {
            v[b.series] = Some(i);
        }
        v
    };
    let (mut false_alarms, mut null_days) = (0, 0);
    for (s, row) in stream.counts.iter().enumerate() {
        let key = format!("s{s}");
        for (d, &n) in row.iter().enumerate() {
            let alert = det.observe(&key, "c", d as i64, n).is_some();
            let inside = burst_of[s]
                .map(|i| &stream.bursts[i])
                .filter(|b| (b.start..=b.start + b.days).contains(&d));
            match inside {
                Some(b) if d < b.start + b.days => {
                    let i = burst_of[s].expect("burst");
                    if alert && delays[i].is_none() {
                        delays[i] = Some(d - b.start);
                    }
                }
                Some(_) => {}
                None if d >= cfg.warmup_days as usize => {
                    null_days += 1;
                    false_alarms += alert as usize;
                }
                None => {}
            }
        }
    }
    SimScore {
        delays,
        false_alarms,
        null_days,
    }
}
