//! The place names an index has seen, interned: each distinct name gets a small id once,
//! with its bucket key, so problems hold ids and compare ids before names. Knows nothing
//! of problems.

use std::hash::{Hash, Hasher};

use rustc_hash::FxHasher;

use super::growth::{Chunked, Sharded};

use super::places::{bucket_key, same_place};

/// A string's FxHash.
pub(super) fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    s.hash(&mut h);
    h.finish()
}

/// Interned place names with their bucket keys.
#[derive(Debug, Clone, Default)]
pub(super) struct PlaceIds {
    ids: Sharded<Box<str>, u32>,
    names: Chunked<Box<str>>,
    keys: Chunked<u64>,
}

impl PlaceIds {
    /// The id of `name`, given one if it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.into(), id);
        self.names.push(name.into());
        self.keys.push(hash_str(bucket_key(name)));
        id
    }

    /// The name of an id.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// The hashed bucket key ([`bucket_key`]) of an id's name.
    pub fn key(&self, id: u32) -> u64 {
        self.keys[id as usize]
    }

    /// [`same_place`] of two ids' names.
    pub fn same(&self, a: u32, b: u32) -> bool {
        a == b || same_place(self.name(a), self.name(b))
    }

    /// Whether two different ids share a bucket key and are the same place (the test a
    /// candidate's place must pass). Two different names of one length never are.
    pub fn same_keyed(&self, a: u32, b: u32) -> bool {
        let (x, y) = (self.name(a), self.name(b));
        self.key(a) == self.key(b) && x.len() != y.len() && same_place(x, y)
    }
}
