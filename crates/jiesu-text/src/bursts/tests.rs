//! Burst detection on small hand-made series and on the seeded synthetic stream.

use rustc_hash::FxHashMap;

use super::sim::{score, simulate, SimConfig};
use super::*;

#[test]
fn the_poisson_tail_matches_known_values() {
    assert_eq!(poisson_tail(0, 3.0), 1.0);
    // P(X >= 1 | 2) = 1 - e^-2
    assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
    // P(X >= 10 | 2) = 4.6498e-5 (tables)
    assert!((poisson_tail(10, 2.0) / 4.6498e-5 - 1.0).abs() < 1e-3);
    assert!(poisson_tail(400, 100.0) < 1e-50);
    assert!(poisson_tail(50, 100.0) > 0.999);
}

fn feed(det: &mut BurstDetector, counts: &[u64]) -> Vec<(usize, BurstAlert)> {
    counts
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| {
            det.observe("望京西园三区", "噪音扰民", d as i64, n)
                .map(|a| (d, a))
        })
        .collect()
}

#[test]
fn a_quiet_series_with_a_sudden_jump_alerts_on_the_jump_day_with_reasons() {
    let mut det = BurstDetector::new(BurstConfig::default());
    let mut counts: Vec<u64> = (0..60).map(|d| [1, 0, 2, 1, 0, 1, 1][d % 7]).collect();
    counts.extend([9, 11, 2]);
    let alerts = feed(&mut det, &counts);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let (day, a) = &alerts[0];
    assert_eq!((*day, a.count), (60, 9));
    assert!(a.expected < 2.0 && a.p_value < 1e-4, "{a:?}");
    assert!(
        a.why_zh.contains("望京西园三区") && a.why_zh.contains("今日9件"),
        "{}",
        a.why_zh
    );
    assert!(a.why_en.contains("9 requests today"), "{}", a.why_en);
}

#[test]
fn nothing_alerts_during_warm_up_or_below_the_minimum_count() {
    let mut det = BurstDetector::new(BurstConfig::default());
    let mut counts = vec![0u64; 20];
    counts.push(30);
    assert!(feed(&mut det, &counts).is_empty());
    let mut det = BurstDetector::new(BurstConfig::default());
    let mut counts = vec![0u64; 60];
    counts.push(2);
    assert!(
        feed(&mut det, &counts).is_empty(),
        "two requests are never a burst"
    );
}

#[test]
fn a_lasting_level_shift_stops_alerting_once_absorbed() {
    let mut det = BurstDetector::new(BurstConfig::default());
    let mut counts = vec![2u64; 60];
    counts.extend(vec![8u64; 90]);
    let alerts = feed(&mut det, &counts);
    assert!(!alerts.is_empty());
    assert!(alerts.iter().all(|(d, _)| *d < 100), "{:?}", alerts.last());
}

#[test]
fn days_are_closed_for_all_series_and_missing_series_count_zero() {
    let mut det = BurstDetector::new(BurstConfig::default());
    let key = |p: &str| (p.to_string(), "停水".to_string());
    for day in 0..40 {
        let mut counts = FxHashMap::default();
        counts.insert(key("甲小区"), (day % 2) as u64);
        if day == 0 {
            counts.insert(key("乙小区"), 1);
        }
        assert!(det.day(day, &counts).is_empty());
    }
    let mut counts = FxHashMap::default();
    counts.insert(key("乙小区"), 12);
    counts.insert(key("甲小区"), 1);
    let alerts = det.day(40, &counts);
    assert_eq!(alerts.len(), 1);
    assert_eq!((alerts[0].place.as_str(), alerts[0].count), ("乙小区", 12));
    assert_eq!(det.len(), 2);
}

// Measured on this stream (seed 12345, 2,000 series × 365 days, the crate's SplitMix64):
// 0.58 false alarms per 1,000 series-days; 95.8 % of the 448 bursts of ≥ 3× adding ≥ 6
// requests a day, and 95.1 % of the 144 tenfold bursts over ≥ 0.5 a day, alerted on their
// first or second day. Over seeds 1–19 and 12345 the means are 0.63, 96.4 % and 98.3 %
// (the same as with the xorshift64* generator used before); 12345 is the lowest tenfold
// share of those 20, so that bound sits at the edge. Smaller bursts on quiet series are in
// the benchmark report.
#[test]
fn planted_bursts_are_caught_fast_and_false_alarms_are_rare() {
    let stream = simulate(&SimConfig::default());
    let s = score(&stream, &BurstConfig::default());
    let fa = s.false_alarms_per_1000();
    let (big, n_big) = s.caught_within(&stream, 2, |b| {
        b.multiplier >= 3.0 && b.baseline * (b.multiplier - 1.0) >= 6.0
    });
    let (tenfold, n_ten) =
        s.caught_within(&stream, 2, |b| b.multiplier >= 10.0 && b.baseline >= 0.5);
    eprintln!("false alarms {fa:.3}/1000 series-days ({} of {}); ≥3× with ≥6 extra a day: {big:.3} of {n_big} within 2 days; 10× over ≥0.5/day: {tenfold:.3} of {n_ten}", s.false_alarms, s.null_days);
    assert!(n_big >= 200 && n_ten >= 50);
    assert!(fa <= 0.8, "false alarms {fa} per 1000 series-days");
    assert!(big >= 0.93, "{big}");
    assert!(tenfold >= 0.95, "{tenfold}");
}
