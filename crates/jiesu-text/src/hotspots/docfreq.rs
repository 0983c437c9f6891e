//! Document frequencies of terms over the requests indexed so far, and the IDF weights
//! that follow. Open-addressing tables of its own rather than a `HashMap`, so that a
//! request's few hundred terms can be brought into cache together before they are counted
//! (at 1 M requests the counting waited on one cache miss after another); split into
//! shards that grow one at a time, so no insert rehashes the whole vocabulary.

use super::terms::{Term, TermVec};
use crate::seeded::fibonacci;

/// No term packs to this (two characters take 42 bits).
const VACANT: Term = u64::MAX;
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
