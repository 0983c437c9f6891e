//! Hotspot mining (热点问题挖掘, 举一反三): requests about the same issue at the same place
//! within a time window are grouped into problems, ranked by a heat index and described as
//! "place + problem". Pure: records in, problems out; the caller loads requests, keeps the
//! [`HotspotIndex`] and decides what to do with a hot problem. Bursts live in `bursts`.
//!
//! ```
//! use jiesu_text::hotspots::{mine, HotspotConfig, HotspotRecord};
//! let day = 86_400_000;
//! let r = |id: &str, d: i64, title: &str| HotspotRecord {
//!     id: id.into(), submitted_at: d * day, title: title.into(), ..Default::default()
//! };
//! let problems = mine(
//!     vec![
//!         r("1", 0, "花家地北里小区夜间施工噪音扰民"),
//!         r("2", 1, "投诉花家地北里小区旁工地夜间施工噪音太大"),
//!         r("3", 2, "望京西园三区停车难"),
//!     ],
//!     &HotspotConfig::default(),
//!     10,
//! );
//! assert_eq!(problems[0].request_ids, ["1", "2"]);
//! assert_eq!(problems[0].place, "花家地北里");
//! assert!(problems[0].description.starts_with("花家地北里 "));
//! ```

mod describe;
mod docfreq;
mod features;
mod growth;
mod heat;
mod index;
mod place_ids;
pub mod places;
mod subjects;
pub mod synth;
mod terms;
pub mod time;

#[cfg(test)]
mod eval;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_subjects;

use serde::Serialize;

pub use describe::{description, phrase, subject};
pub use heat::{heat, HeatInputs, HeatWeights};
pub use index::{HotspotIndex, Joined};

/// A place already resolved by the caller (e.g. the Beijing gazetteer's community).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlaceHint {
    /// The unit code, when the place is a known unit.
    pub code: Option<String>,
    /// Its name, e.g. 花家地北里社区.
    pub name: String,
}

/// One request (诉求) as the miner sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HotspotRecord {
    /// The request's id (number or UUID), unique.
    pub id: String,
    /// When it was submitted, UTC milliseconds.
    pub submitted_at: i64,
    /// Title or summary; may be empty.
    pub title: String,
    /// The citizen's text.
    pub text: String,
    /// Up-votes (点赞数) on a public message board; 0 elsewhere.
    pub upvotes: u32,
    /// Down-votes (反对数).
    pub downvotes: u32,
    /// A key of the requester (e.g. a hash of the phone number), to count distinct people.
    pub requester: Option<String>,
    /// A place resolved before, used before the places found in the text.
    pub place: Option<PlaceHint>,
    /// The request's category code or name; requests of different categories need a much
    /// closer text to be one problem.
    pub category: Option<String>,
    /// The callback said unresolved or unsatisfied (不满意).
    pub dissatisfied: bool,
}

/// Settings of grouping and ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct HotspotConfig {
    /// Minimum IDF-weighted bigram cosine to join a problem at the same place (default
    /// 0.15: same place, and the texts share the issue's rarer words; on 附件3 0.2 splits
    /// one estate's shop noise and fumes into five problems, 0.1 starts mixing issues).
    pub same_place_threshold: f32,
    /// Minimum cosine when neither the request nor the problem names a place (a company, a
    /// case, a city-wide issue), or at the same place but another category (default 0.3).
    pub loose_threshold: f32,
    /// Minimum cosine when only one of the request and the problem names a place (default
    /// 0.6: nearly the same text).
    pub unplaced_threshold: f32,
    /// A request joins a problem only within this many days of its first or last request
    /// (default 60).
    pub max_gap_days: i64,
    /// Requests this many days before the ranking time count as recent (default 14).
    pub recent_days: i64,
    /// MinHash keys per title for candidate buckets (default 6: a title sharing 30 % of its
    /// rarer bigrams is a candidate with probability 0.88; most joins come by place anyway).
    pub lsh_keys: usize,
    /// Newest problems read per bucket (default 32), which bounds the work per insert: at
    /// most `(3 + lsh_keys) · bucket_cap` candidates.
    pub bucket_cap: usize,
    /// Terms kept in a problem's centroid (default 64).
    pub centroid_terms: usize,
    /// Problems with fewer requests are not ranked (default 2).
    pub min_requests: usize,
    /// Weights of the heat formula.
    pub heat: HeatWeights,
}

impl Default for HotspotConfig {
    fn default() -> Self {
        Self {
            same_place_threshold: 0.15,
            loose_threshold: 0.3,
            unplaced_threshold: 0.6,
            max_gap_days: 60,
            recent_days: 14,
            lsh_keys: 6,
            bucket_cap: 32,
            centroid_terms: 64,
            min_requests: 2,
            heat: HeatWeights::default(),
        }
    }
}

/// A mined problem (热点问题).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// 1 for the hottest.
    pub rank: usize,
    /// The heat index ([`heat`]).
    pub heat: f64,
    /// "place problem", e.g. 丽发新城 附近建搅拌站噪音扰民.
    pub description: String,
    /// The place (or, for a problem without one, the subject its requests share).
    pub place: String,
    /// What it was grouped by: the keys its requests share, places (丽发新城) and subjects
    /// its titles name (a company, project, product or policy: 人才政策, 58车贷); empty for a
    /// problem grouped by text alone.
    pub keys: Vec<String>,
    /// The division most of its requests name (A2区), if any.
    pub area: Option<String>,
    /// The category most of its requests carry, if given.
    pub category: Option<String>,
    /// First request, UTC ms.
    pub from: i64,
    /// Last request, UTC ms.
    pub to: i64,
    /// Its requests, in insertion order.
    pub request_ids: Vec<String>,
    /// What its heat was computed from.
    pub inputs: HeatInputs,
}

/// Groups `records` into problems as if inserted one by one in time order (ties by id) into
/// a fresh [`HotspotIndex`], and returns the `top` hottest. Text features are computed on
/// the other cores while the grouping, which is sequential, inserts the ones before.
pub fn mine(mut records: Vec<HotspotRecord>, cfg: &HotspotConfig, top: usize) -> Vec<Problem> {
    mine_index(&mut records, cfg).problems(top, None)
}

/// Most requests whose features are computed together in one batch; with at most two
/// batches waiting per worker, this bounds memory.
const CHUNK: usize = 4_096;

/// [`mine`], returning the whole index (to rank again, or keep inserting).
pub fn mine_index(records: &mut [HotspotRecord], cfg: &HotspotConfig) -> HotspotIndex {
    records.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    // small inputs still get a few batches per worker, so the inserting starts early
    let chunk = (records.len() / (4 * workers)).clamp(256, CHUNK);
    let batches: Vec<&[HotspotRecord]> = records.chunks(chunk).collect();
    let mut index = HotspotIndex::new(cfg.clone());
    std::thread::scope(|s| {
        // worker w computes batches w, w + workers, …; the batches come back in order, and
        // go back to be freed where they were allocated (freeing another thread's memory
        // is slow in glibc)
        let queues: Vec<_> = (0..workers)
            .map(|w| {
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<features::Features>>(1);
                let (done_tx, done_rx) = std::sync::mpsc::channel::<Vec<features::Features>>();
                let batches = &batches;
                s.spawn(move || {
                    for batch in batches.iter().skip(w).step_by(workers) {
                        done_rx.try_iter().for_each(drop);
                        let features = batch.iter().map(features::Features::of).collect();
                        if tx.send(features).is_err() {
                            break;
                        }
                    }
                    done_rx.iter().for_each(drop);
                });
                (rx, done_tx)
            })
            .collect();
        for i in 0..batches.len() {
            let (rx, done) = &queues[i % workers];
            let features = rx.recv().expect("feature worker");
            for f in &features {
                index.insert_features(f);
            }
            // a worker that has finished has stopped listening: free the batch here
            if let Err(back) = done.send(features) {
                drop(back.0);
            }
        }
    });
    index
}
