//! Document frequencies of terms over the requests indexed so far, the IDF weights that
//! follow and what is weighed by them (IDF cosine, LSH keys that skip common terms).
//! Open-addressing tables of its own rather than a `HashMap`, so that a request's few
//! hundred terms can be brought into cache together before they are counted (at 1 M
//! requests the counting waited on one cache miss after another); split into shards that
//! grow one at a time, so no insert rehashes the whole vocabulary.

use super::terms::{Term, TermVec, VACANT};
use crate::seeded::{fibonacci, splitmix64};
/// Shards are chosen by this many top bits of a term's hash.
const SHARD_BITS: u32 = 6;

/// One shard: (term, documents with it), at most half full.
#[derive(Debug, Clone, Default)]
struct Shard {
    slots: Vec<(Term, u32)>,
    len: usize,
    shift: u32,
}

impl Shard {
    fn slot(&self, h: u64) -> usize {
        ((h << SHARD_BITS) >> self.shift) as usize
    }

    fn get(&self, t: Term, h: u64) -> u32 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h);
        loop {
            match self.slots[i] {
                (u, n) if u == t => return n,
                (VACANT, _) => return 0,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Adds one to `t`'s count and returns it.
    fn increment(&mut self, t: Term, h: u64) -> u32 {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(h);
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == t {
                slot.1 += 1;
                return slot.1;
            }
            if slot.0 == VACANT {
                *slot = (t, 1);
                self.len += 1;
                return 1;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = (2 * self.slots.len()).max(64);
        let old = std::mem::replace(&mut self.slots, vec![(VACANT, 0); size]);
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for (t, n) in old.into_iter().filter(|s| s.0 != VACANT) {
            let mut i = self.slot(fibonacci(t));
            while self.slots[i].0 != VACANT {
                i = (i + 1) & mask;
            }
            self.slots[i] = (t, n);
        }
    }
}

/// Document frequencies of terms.
#[derive(Debug, Clone)]
pub struct DocFreq {
    docs: u64,
    shards: Vec<Shard>,
}

impl Default for DocFreq {
    fn default() -> Self {
        DocFreq {
            docs: 0,
            shards: vec![Shard::default(); 1 << SHARD_BITS],
        }
    }
}

impl DocFreq {
    fn shard(&self, h: u64) -> usize {
        (h >> (64 - SHARD_BITS)) as usize
    }

    /// Number of documents counted.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Number of documents with `t`.
    pub fn get(&self, t: Term) -> u32 {
        let h = fibonacci(t);
        self.shards[self.shard(h)].get(t, h)
    }

    /// Smoothed inverse document frequency, `ln((N+1)/(df+1)) + 1`.
    pub fn idf(&self, t: Term) -> f32 {
        ((self.docs as f32 + 1.0) / (self.get(t) as f32 + 1.0)).ln() + 1.0
    }

    /// Counts one document's distinct terms and returns `v` with each count multiplied by
    /// the term's IDF after counting.
    pub fn add_weighed(&mut self, v: &TermVec) -> TermVec {
        self.docs += 1;
        // independent loads overlap; probing term after term waits for each miss in turn
        let mut touch = 0;
        for (t, _) in v {
            let h = fibonacci(*t);
            let shard = &self.shards[self.shard(h)];
            if let Some(s) = shard.slots.get(shard.slot(h)) {
                touch ^= s.0;
            }
        }
        std::hint::black_box(touch);
        let n = self.docs as f32 + 1.0;
        v.iter()
            .map(|&(t, w)| {
                let h = fibonacci(t);
                let s = self.shard(h);
                let df = self.shards[s].increment(t, h);
                (t, w * ((n / (df as f32 + 1.0)).ln() + 1.0))
            })
            .collect()
    }
}

/// Cosine similarity of two sorted vectors under the current IDF weights.
pub fn cosine(a: &TermVec, b: &TermVec, df: &DocFreq) -> f32 {
    let norm = |v: &TermVec| {
        v.iter()
            .map(|(t, w)| (w * df.idf(*t)).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1 * df.idf(a[i].0).powi(2);
                i += 1;
                j += 1;
            }
        }
    }
    if dot == 0.0 {
        return 0.0;
    }
    dot / (norm(a) * norm(b))
}

/// Locality-sensitive bucket keys of a title: for each of `k` seeded hash functions, the
/// title bigram with the smallest hash (MinHash with one row per band), skipping bigrams
/// in more than 1 % of the requests so far (扰民, 问题) that would make buckets crowded.
/// Two titles with bigram Jaccard J share a key with probability 1 − (1 − J)^k.
pub fn lsh_keys(title: &TermVec, k: usize, df: &DocFreq) -> Vec<u64> {
    let common = (df.docs() / 100).max(20) as u32;
    let any_rare = title.iter().any(|(t, _)| df.get(*t) <= common);
    // the rare terms, or all when none is rare
    let pool = || {
        title
            .iter()
            .map(|(t, _)| *t)
            .filter(move |t| !any_rare || df.get(*t) <= common)
    };
    let mut keys = Vec::with_capacity(k);
    for seed in 0..k as u64 {
        let salt = splitmix64(seed.wrapping_add(0x5EED));
        if let Some(t) = pool().min_by_key(|t| splitmix64(*t ^ salt)) {
            keys.push(splitmix64(t ^ salt.rotate_left(7)));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}
