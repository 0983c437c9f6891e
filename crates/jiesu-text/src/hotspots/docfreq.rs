//! Document frequencies of terms over the requests indexed so far, and the IDF weights
//! that follow. An open-addressing table of its own rather than a `HashMap`, so that a
//! request's few hundred terms can be brought into cache together before they are counted
//! (at 1 M requests the counting waited on one cache miss after another).

use super::terms::{Term, TermVec};

/// No term packs to this (two characters take 42 bits).
const VACANT: Term = u64::MAX;

/// Document frequencies of terms.
#[derive(Debug, Clone, Default)]
pub struct DocFreq {
    docs: u64,
    /// (term, documents with it), at most half full.
    slots: Vec<(Term, u32)>,
    len: usize,
    shift: u32,
}

impl DocFreq {
    /// Number of documents counted.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Number of documents with `t`.
    pub fn get(&self, t: Term) -> u32 {
        if self.slots.is_empty() {
            return 0;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(t);
        loop {
            match self.slots[i] {
                (u, n) if u == t => return n,
                (VACANT, _) => return 0,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Smoothed inverse document frequency, `ln((N+1)/(df+1)) + 1`.
    pub fn idf(&self, t: Term) -> f32 {
        ((self.docs as f32 + 1.0) / (self.get(t) as f32 + 1.0)).ln() + 1.0
    }

    /// Counts one document's distinct terms and returns `v` with each count multiplied by
    /// the term's IDF after counting.
    pub fn add_weighed(&mut self, v: &TermVec) -> TermVec {
        while 2 * (self.len + v.len()) > self.slots.len() {
            self.grow();
        }
        self.docs += 1;
        // independent loads overlap; probing term after term waits for each miss in turn
        let mut touch = 0;
        for (t, _) in v {
            touch ^= self.slots[self.slot(*t)].0;
        }
        std::hint::black_box(touch);
        let n = self.docs as f32 + 1.0;
        v.iter()
            .map(|&(t, w)| {
                let df = self.increment(t);
                (t, w * ((n / (df as f32 + 1.0)).ln() + 1.0))
            })
            .collect()
    }

    fn slot(&self, t: Term) -> usize {
        (t.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Adds one to `t`'s count and returns it; room must have been made.
    fn increment(&mut self, t: Term) -> u32 {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(t);
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
        let size = (2 * self.slots.len()).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![(VACANT, 0); size]);
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for (t, n) in old.into_iter().filter(|s| s.0 != VACANT) {
            let mut i = self.slot(t);
            while self.slots[i].0 != VACANT {
                i = (i + 1) & mask;
            }
            self.slots[i] = (t, n);
        }
    }
}
