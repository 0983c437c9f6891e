//! The incremental near-duplicate index: MinHash signatures in flat slots and one bucket
//! table per LSH band. Owns insertion, removal and lookup of open requests; the caller
//! decides which requests are in it (open ones, inside the merge window).

use rustc_hash::FxHashMap;

use super::minhash::{estimate, MinHasher};
use super::normalize::{normalize, shingle_hashes};
use super::{DupConfig, DupHit};
use crate::seeded::splitmix64;

/// End of a bucket chain.
/// Candidates a query takes from each band at least.
pub(super) const MIN_QUERY_CANDIDATES: usize = 32;

const NONE: u32 = u32::MAX;
/// Bucket tables start at this many heads per band and double when the index outgrows them.
const MIN_TABLE: usize = 1 << 10;

/// Incremental MinHash-LSH index of request texts (并单候选). Per document it stores only
/// the 16-bit signature and bucket links, about `2·num_perm + (8 to 12)·bands + 30` bytes
/// (see BENCHMARKS.md for a million documents), never the text.
#[derive(Debug, Clone)]
pub struct DupIndex {
    cfg: DupConfig,
    hasher: MinHasher,
    /// Per slot: the document id (meaningful only while the slot is live).
    ids: Vec<u64>,
    /// Per slot: `num_perm` signature values.
    sigs: Vec<u16>,
    /// Per slot and band: the next slot in the same bucket.
    next: Vec<u32>,
    /// Per band and bucket: the first slot. Buckets are not keyed, so a shared bucket only
    /// costs a comparison of the band's values, never a wrong candidate.
    heads: Vec<u32>,
    table: usize,
    slot_of: FxHashMap<u64, u32>,
    free: Vec<u32>,
}

impl DupIndex {
    /// An empty index; `cfg` is first brought into range by [`DupConfig::validated`].
    pub fn new(cfg: DupConfig) -> Self {
        Self::with_capacity(cfg, 0)
    }

    /// An empty index sized for `n` documents. Growing past the bucket tables relinks every
    /// document once, so a long-lived intake index should be sized up front.
    pub fn with_capacity(cfg: DupConfig, n: usize) -> Self {
        let cfg = cfg.validated();
        let table = n.max(MIN_TABLE).next_power_of_two();
        let mut slot_of = FxHashMap::default();
        slot_of.reserve(n);
        Self {
            hasher: MinHasher::new(cfg.num_perm),
            ids: Vec::with_capacity(n),
            sigs: Vec::with_capacity(n * cfg.num_perm),
            next: Vec::with_capacity(n * cfg.bands),
            heads: vec![NONE; cfg.bands * table],
            table,
            slot_of,
            free: Vec::new(),
            cfg,
        }
    }

    /// The configuration in use (after validation).
    pub fn config(&self) -> &DupConfig {
        &self.cfg
    }

    /// Number of indexed documents (texts that normalise to nothing are not counted).
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// True when `id` is indexed.
    pub fn contains(&self, id: u64) -> bool {
        self.slot_of.contains_key(&id)
    }

    /// Approximate heap bytes held by the index (signatures, links, id map).
    pub fn memory_bytes(&self) -> usize {
        self.ids.capacity() * 8
            + self.sigs.capacity() * 2
            + (self.next.capacity() + self.heads.capacity() + self.free.capacity()) * 4
            + self.slot_of.capacity() * (8 + 4 + 1)
    }

    /// Indexes `text` under `id`, replacing any earlier text of that id. A text with no
    /// letters, digits or CJK characters is not indexed (and the id is dropped).
    pub fn insert(&mut self, id: u64, text: &str) {
        self.remove(id);
        if let Some(sig) = self.sign(&self.shingles(text)) {
            self.insert_signature(id, &sig);
        }
    }

    /// Removes `id`; returns whether it was indexed.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = self.slot_of.remove(&id) else {
            return false;
        };
        for band in 0..self.cfg.bands {
            let head = self.head_index(band, self.slot_sig(slot));
            let link = slot as usize * self.cfg.bands + band;
            if self.heads[head] == slot {
                self.heads[head] = self.next[link];
            } else {
                let mut cur = self.heads[head];
                while cur != NONE {
                    let cur_link = cur as usize * self.cfg.bands + band;
                    if self.next[cur_link] == slot {
                        self.next[cur_link] = self.next[link];
                        break;
                    }
                    cur = self.next[cur_link];
                }
            }
            self.next[link] = NONE;
        }
        self.free.push(slot);
        true
    }

    /// Indexed documents whose estimated Jaccard similarity to `text` is at or above the
    /// threshold, best first (ties by id), at most `k`. An empty text matches nothing.
    ///
    /// Each band contributes at most `max(4·k, 32)` candidates, mostly its newest (a chain
    /// starts with its latest insert): with more exact copies than that, the hits are recent
    /// ones among equally similar ones.
    pub fn query(&self, text: &str, k: usize) -> Vec<DupHit> {
        let Some(sig) = self.signature(text) else {
            return Vec::new();
        };
        let mut hits: Vec<DupHit> = self
            .candidates(&sig, k.saturating_mul(4).max(MIN_QUERY_CANDIDATES))
            .into_iter()
            .filter_map(|slot| {
                let similarity = estimate(&sig, self.slot_sig(slot));
                (similarity >= self.cfg.threshold).then(|| DupHit {
                    id: self.ids[slot as usize],
                    similarity,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.id.cmp(&b.id)));
        hits.truncate(k);
        hits
    }

    pub(super) fn signature(&self, text: &str) -> Option<Vec<u16>> {
        self.sign(&self.shingles(text))
    }

    /// The sorted shingle hashes of `text` under this configuration.
    pub(super) fn shingles(&self, text: &str) -> Vec<u64> {
        shingle_hashes(&normalize(text, self.cfg.max_chars), self.cfg.shingle)
    }

    /// The signature of a shingle set, or `None` for the empty set.
    pub(super) fn sign(&self, shingles: &[u64]) -> Option<Vec<u16>> {
        (!shingles.is_empty()).then(|| self.hasher.signature(shingles))
    }

    /// Stores a signature under a fresh `id` (the caller has removed any earlier one).
    pub(super) fn insert_signature(&mut self, id: u64, sig: &[u16]) {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = self.ids.len() as u32;
                self.ids.push(0);
                self.sigs.resize(self.sigs.len() + self.cfg.num_perm, 0);
                self.next.resize(self.next.len() + self.cfg.bands, NONE);
                slot
            }
        };
        self.ids[slot as usize] = id;
        let n = self.cfg.num_perm;
        self.sigs[slot as usize * n..(slot as usize + 1) * n].copy_from_slice(sig);
        self.slot_of.insert(id, slot);
        if self.slot_of.len() > self.table {
            self.grow();
        } else {
            self.link(slot);
        }
    }

    /// Ids of indexed documents sharing at least one whole band with `sig`, deduplicated.
    pub(super) fn candidate_ids(&self, sig: &[u16]) -> Vec<u64> {
        let slots = self.candidates(sig, usize::MAX);
        slots.into_iter().map(|s| self.ids[s as usize]).collect()
    }

    /// The slots sharing a band with `sig`; at most `per_band` from each band, mostly the
    /// newest (a bucket's chain starts with its latest insert). A problem reported thousands
    /// of times fills its buckets with exact copies: a query that wants the best few stops
    /// early instead of walking them all.
    pub(super) fn candidates(&self, sig: &[u16], per_band: usize) -> Vec<u32> {
        let rows = self.cfg.rows;
        let mut out = Vec::new();
        for band in 0..self.cfg.bands {
            let want = &sig[band * rows..(band + 1) * rows];
            let mut cur = self.heads[self.head_index(band, sig)];
            let mut found = 0;
            while cur != NONE && found < per_band {
                let start = cur as usize * self.cfg.num_perm + band * rows;
                if &self.sigs[start..start + rows] == want {
                    out.push(cur);
                    found += 1;
                }
                cur = self.next[cur as usize * self.cfg.bands + band];
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The stored signature of `id`, if indexed.
    pub(super) fn signature_of(&self, id: u64) -> Option<&[u16]> {
        self.slot_of.get(&id).map(|&slot| self.slot_sig(slot))
    }

    fn slot_sig(&self, slot: u32) -> &[u16] {
        let n = self.cfg.num_perm;
        &self.sigs[slot as usize * n..(slot as usize + 1) * n]
    }

    fn head_index(&self, band: usize, sig: &[u16]) -> usize {
        let rows = self.cfg.rows;
        let mut h = band as u64;
        for &v in &sig[band * rows..(band + 1) * rows] {
            h = splitmix64(h ^ u64::from(v).rotate_left(17));
        }
        band * self.table + (h as usize & (self.table - 1))
    }

    fn link(&mut self, slot: u32) {
        for band in 0..self.cfg.bands {
            let head = self.head_index(band, self.slot_sig(slot));
            self.next[slot as usize * self.cfg.bands + band] = self.heads[head];
            self.heads[head] = slot;
        }
    }

    /// Doubles the bucket tables and relinks every live slot (amortised O(1) per insert).
    fn grow(&mut self) {
        while self.table < self.slot_of.len() {
            self.table *= 2;
        }
        self.heads = vec![NONE; self.cfg.bands * self.table];
        self.next.fill(NONE);
        let mut live: Vec<u32> = self.slot_of.values().copied().collect();
        live.sort_unstable();
        for slot in live {
            self.link(slot);
        }
    }
}
