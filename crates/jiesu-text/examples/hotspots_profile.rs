//! A quick harness for profiling hotspot mining without the whole `jiesu` bench: the same
//! synthetic requests as `crates/jiesu/benches/hotspots.rs` (`hotspots::synth`, seed 7),
//! mined, then 2,000 (or the second argument) incremental inserts; prints times, the
//! slowest inserts with the time their thread waited for a CPU, and a fingerprint of the
//! grouping, so a change that should not alter results can be checked to give the same one.
//!
//!     cargo run --release -p jiesu-text --example hotspots_profile -- 200000 [2000]

use jiesu_text::hotspots::synth::{read_messages, synthetic};
use jiesu_text::hotspots::{mine, mine_index, HotspotConfig};
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, Instant};

/// Field `i` of this thread's Linux schedstat: 0 is nanoseconds on a CPU, 1 nanoseconds
/// runnable but waiting for one.
fn schedstat(i: usize) -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(i)?.parse().ok())
        .unwrap_or(0)
}

fn sched_wait_ns() -> u64 {
    schedstat(1)
}

/// CPU seconds of the whole process (user + system).
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<String> = s
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .map(String::from)
                .collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/tipdm2020/fujian3_messages_with_votes.csv");
    let real = read_messages(&path).expect("readable 附件3 messages");
    let cfg = HotspotConfig::default();
    let t = Instant::now();
    let top = mine(real.clone(), &cfg, 10);
    println!("real: {} ms", t.elapsed().as_millis());
    for p in &top {
        println!(
            "{} {:.1} n={} [{}] {}",
            p.rank,
            p.heat,
            p.request_ids.len(),
            p.place,
            p.description
        );
    }
    let mut synth = synthetic(&real, n, 7);
    eprintln!("mining {n}");
    let (t, cpu, main) = (Instant::now(), cpu_s(), schedstat(0));
    let mut index = mine_index(&mut synth, &cfg);
    let mine_s = t.elapsed().as_secs_f64();
    println!(
        "mine {n}: CPU {:.2} s, of it {:.2} s on the inserting thread",
        cpu_s() - cpu,
        (schedstat(0) - main) as f64 / 1e9
    );
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for r in &synth {
        index.problem_of(&r.id).hash(&mut h);
    }
    let hot = index.problems(10, None);
    for p in &hot {
        (p.heat.to_bits(), &p.description, &p.request_ids).hash(&mut h);
    }
    println!(
        "mine {n}: {mine_s:.2} s, {} problems, hottest {}, fingerprint {:016x}",
        index.problem_count(),
        hot.first().map_or(0, |p| p.request_ids.len()),
        h.finish()
    );
    let extra_n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let extra = synthetic(&real, extra_n, 99);
    let last = index.problems(1, None).first().map_or(0, |p| p.to);
    let mut lat = Vec::new();
    let mut slow = Vec::new();
    for (i, mut rec) in extra.into_iter().enumerate() {
        rec.id = format!("x{i}");
        rec.submitted_at = last + i as i64 * 1000;
        let waited = sched_wait_ns();
        let t = Instant::now();
        let joined = index.insert(&rec);
        let took = t.elapsed();
        lat.push(took);
        slow.push((took, sched_wait_ns() - waited, i, joined));
    }
    slow.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (took, waited, i, joined) in slow.iter().take(5) {
        let size = index
            .problem_by_id(index.problem_of(&format!("x{i}")).unwrap())
            .map_or(0, |p| p.request_ids.len());
        println!(
            "slow insert x{i}: {:.3} ms, {:.3} ms of it waiting for a CPU, {joined:?}, problem of {size}",
            took.as_secs_f64() * 1000.0,
            *waited as f64 / 1e6
        );
    }
    println!(
        "insert: p50 {:.3} p99 {:.3} max {:.3} ms",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );
}
