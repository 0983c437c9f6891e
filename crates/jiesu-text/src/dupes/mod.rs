//! Near-duplicate requests (并单): character-shingle MinHash with LSH banding, so intake can
//! offer to merge a new request into an open one about the same problem at the same place.
//! Owns what counts as the same text, the incremental [`DupIndex`], batch [`group`]ing and pairwise
//! scoring; it does not decide which requests are open or inside the merge window.
//!
//! ```
//! use jiesu_text::dupes::{DupConfig, DupIndex};
//! let mut index = DupIndex::new(DupConfig::default());
//! index.insert(7, "西湖路12号小区门口的路灯坏了一个多月，晚上一片漆黑，请尽快维修。");
//! let hits = index.query("西湖路12号小区门口路灯坏了一个多月了，晚上漆黑一片，请尽快修理！", 5);
//! assert_eq!(hits[0].id, 7);
//! assert!(index.query("公交车站台的广告牌被风吹倒了", 5).is_empty());
//! ```

mod group;
mod index;
mod minhash;
mod normalize;

#[cfg(test)]
mod eval;
#[cfg(test)]
mod tests;

pub use group::{group, pair_scores, PairScores};
pub use index::DupIndex;

/// How much of the shorter text's shingles under `cfg` the other text shares (the overlap
/// coefficient, 0 to 1; 0 when either is empty): a caller's short "the noise again" against
/// their earlier, longer request scores high where Jaccard would not.
pub fn overlap(a: &str, b: &str, cfg: &DupConfig) -> f64 {
    let shingles =
        |t: &str| normalize::shingle_hashes(&normalize::normalize(t, cfg.max_chars), cfg.shingle);
    let (a, b) = (shingles(a), shingles(b));
    let both = a.iter().filter(|h| b.binary_search(h).is_ok()).count();
    match a.len().min(b.len()) {
        0 => 0.0,
        n => both as f64 / n as f64,
    }
}

/// Settings of near-duplicate detection. The default was chosen on the TipDM 附件2 data
/// (see `eval.rs`): trigrams separate unrelated messages best (mean pairwise Jaccard 0.001),
/// and between 0.3 and 0.44 most pairs are reworded duplicates the gold groups miss.
#[derive(Debug, Clone, PartialEq)]
pub struct DupConfig {
    /// Characters per shingle, 1 to 8 (default 3).
    pub shingle: usize,
    /// Signature length, i.e. number of MinHash functions, 1 to 1024 (default 128). The
    /// similarity estimate has standard error √(J(1−J)/num_perm): 0.04 at J = 0.3.
    pub num_perm: usize,
    /// LSH bands (default 32). A pair becomes a candidate when some band agrees entirely,
    /// with probability 1 − (1 − J^rows)^bands: 0.95 at J = 0.3, 0.999 at J = 0.44.
    pub bands: usize,
    /// Signature rows per band (default 2); `bands · rows` must not exceed `num_perm`.
    pub rows: usize,
    /// Minimum Jaccard similarity of a duplicate (default 0.3).
    pub threshold: f64,
    /// Normalised characters kept per text (default 10,000; longer texts are cut there).
    pub max_chars: usize,
}

impl Default for DupConfig {
    fn default() -> Self {
        Self {
            shingle: 3,
            num_perm: 128,
            bands: 32,
            rows: 2,
            threshold: 0.3,
            max_chars: 10_000,
        }
    }
}

impl DupConfig {
    /// This configuration brought into range: sizes clamped to their documented bounds,
    /// bands reduced until `bands · rows ≤ num_perm`, a NaN threshold treated as 1.
    pub fn validated(&self) -> Self {
        let num_perm = self.num_perm.clamp(1, 1024);
        let rows = self.rows.clamp(1, num_perm);
        let threshold = if self.threshold.is_nan() {
            1.0
        } else {
            self.threshold.clamp(0.0, 1.0)
        };
        Self {
            shingle: self.shingle.clamp(1, 8),
            num_perm,
            bands: self.bands.clamp(1, num_perm / rows),
            rows,
            threshold,
            max_chars: self.max_chars.max(1),
        }
    }
}

/// One near-duplicate found by [`DupIndex::query`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DupHit {
    /// Id the document was inserted under.
    pub id: u64,
    /// Estimated Jaccard similarity of the shingle sets, in [threshold, 1].
    pub similarity: f64,
}
