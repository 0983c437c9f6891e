//! Term → feature id lookup for prediction: a stable 64-bit key per (block, term) and a
//! flat open-addressing table of 16-byte slots, so that a lookup usually touches a single
//! cache line (the vocabulary has ~0.3M terms and each message needs ~1,000 lookups).

use crate::seeded::{mix64, Fnv1a};

/// Stable 64-bit key of a term in a block: FNV-1a over the block byte and the UTF-8 bytes,
/// then a SplitMix64 finaliser so that the low bits (the table position) are well mixed.
/// Two distinct terms share a key with probability ~2⁻⁶⁴ per pair.
pub fn term_key(block: usize, term: &str) -> u64 {
    let block = u8::try_from(block).expect("a block number fits a byte");
    mix64(Fnv1a::new().write(&[block]).write(term.as_bytes()).finish())
}

#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(16))]
struct Slot {
    key: u64,
    id: u32,
}

const EMPTY: u32 = u32::MAX;

/// Open-addressing (linear probing) map from [`term_key`] to feature id, load ≤ 2/3.
#[derive(Debug, Clone, PartialEq)]
pub struct TermIndex {
    slots: Vec<Slot>,
    mask: usize,
}

impl TermIndex {
    /// Builds the table from `(key, id)` pairs; on a repeated key the first pair wins.
    pub fn new(pairs: impl ExactSizeIterator<Item = (u64, u32)>) -> Self {
        let cap = (pairs.len() * 3 / 2 + 1).next_power_of_two().max(8);
        let mut index = TermIndex {
            slots: vec![Slot { key: 0, id: EMPTY }; cap],
            mask: cap - 1,
        };
        for (key, id) in pairs {
            debug_assert!(id != EMPTY);
            let mut pos = key as usize & index.mask;
            loop {
                let slot = &mut index.slots[pos];
                if slot.id == EMPTY {
                    *slot = Slot { key, id };
                    break;
                }
                if slot.key == key {
                    break;
                }
                pos = (pos + 1) & index.mask;
            }
        }
        index
    }

    /// Appends the feature id of every present key in `keys` to `out`, in order.
    /// Prefetches the slot of the key a few places ahead, so misses overlap.
    pub fn get_many(&self, keys: &[u64], out: &mut Vec<u32>) {
        const AHEAD: usize = 8;
        for (i, &key) in keys.iter().enumerate() {
            if let Some(&next) = keys.get(i + AHEAD) {
                self.prefetch(next);
            }
            if let Some(id) = self.get(key) {
                out.push(id);
            }
        }
    }

    #[inline]
    fn prefetch(&self, key: u64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let slot: *const Slot = &self.slots[key as usize & self.mask];
            // SAFETY: prefetching is a hint; the pointer is in bounds and never dereferenced.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(slot.cast()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// Feature id of `key`, if present.
    #[inline]
    pub fn get(&self, key: u64) -> Option<u32> {
        let mut pos = key as usize & self.mask;
        loop {
            let slot = self.slots[pos];
            if slot.id == EMPTY {
                return None;
            }
            if slot.key == key {
                return Some(slot.id);
            }
            pos = (pos + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests of the term key and the lookup table.

    use super::*;

    #[test]
    fn finds_every_inserted_key_and_nothing_else() {
        let terms: Vec<String> = (0..5000).map(|i| format!("词{i}")).collect();
        let index = TermIndex::new(
            terms
                .iter()
                .enumerate()
                .map(|(i, t)| (term_key(1, t), i as u32)),
        );
        for (i, t) in terms.iter().enumerate() {
            assert_eq!(index.get(term_key(1, t)), Some(i as u32));
            assert_eq!(index.get(term_key(0, t)), None, "blocks are separate keys");
        }
        assert_eq!(index.get(term_key(1, "不在表里")), None);
        let empty = TermIndex::new(std::iter::empty());
        assert_eq!(empty.get(term_key(0, "")), None);
    }

    #[test]
    fn first_pair_wins_on_a_repeated_key() {
        let index = TermIndex::new([(7u64, 1u32), (7, 2), (15, 3)].into_iter());
        assert_eq!((index.get(7), index.get(15)), (Some(1), Some(3)));
    }

    #[test]
    fn keys_are_stable_across_builds() {
        // Values from an independent Python implementation. Only the vocabulary's terms
        // are saved, so a change here would not break old models, only slow nothing; still,
        // keep the function deterministic and platform-independent.
        assert_eq!(term_key(0, ""), 0x25fc_6dd3_6ce0_4b20);
        assert_eq!(term_key(1, "停水"), 0x5d9d_4b76_253f_1fa8);
    }
}
