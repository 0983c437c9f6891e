//! Containers that grow without stopping an insert: a `Vec` that doubles copies everything
//! and a hash map that doubles rehashes everything, so the insert that crosses a power of
//! two waits for all of it (measured in crates/jiesu/benches/hotspots-report.md). Here a
//! vector grows by fixed chunks and a map is split into shards that grow one at a time.

use std::borrow::Borrow;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash};
use std::ops::{Index, IndexMut};

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::seeded::fibonacci;

/// Elements per chunk of a [`Chunked`] (a power of two).
const CHUNK_BITS: u32 = 15;
const CHUNK: usize = 1 << CHUNK_BITS;

/// A vector stored in chunks of [`CHUNK`] elements that never move once allocated.
#[derive(Debug, Clone)]
pub(super) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `x`; allocates a new chunk when the last is full.
    pub fn push(&mut self, x: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks.last_mut().expect("a chunk").push(x);
        self.len += 1;
    }

    /// The element at `i`, if any.
    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self[i])
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flatten()
    }
}

impl<T> Index<usize> for Chunked<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        &self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

impl<T> IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i >> CHUNK_BITS][i & (CHUNK - 1)]
    }
}

/// Shards of a [`Sharded`] map.
const SHARDS: usize = 256;

/// A hash map split into [`SHARDS`] maps by a mix of the key's hash, so a shard that
/// grows rehashes 1/256 of the entries.
#[derive(Debug, Clone)]
pub(super) struct Sharded<K, V> {
    shards: Vec<FxHashMap<K, V>>,
}

impl<K, V> Default for Sharded<K, V> {
    fn default() -> Self {
        Sharded {
            shards: (0..SHARDS).map(|_| FxHashMap::default()).collect(),
        }
    }
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    fn shard<Q: Hash + ?Sized>(&self, k: &Q) -> usize {
        // other bits than the shard's own map uses (its low bits and top seven)
        let h = FxBuildHasher.hash_one(k);
        (fibonacci(h).rotate_left(29) % SHARDS as u64) as usize
    }

    /// The value of `k`, if any.
    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shards[self.shard(k)].get(k)
    }

    /// The entry of `k` in its shard.
    pub fn entry(&mut self, k: K) -> Entry<'_, K, V> {
        let s = self.shard(&k);
        self.shards[s].entry(k)
    }

    /// Sets `k` to `v`, returning the value it had.
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let s = self.shard(&k);
        self.shards[s].insert(k, v)
    }
}
