//! What a request is about, as a bag of character bigrams (place names and divisions cut
//! out): the term vectors, their sums and products, and a lookup table for them. Weighting
//! by document frequency is `docfreq`'s; knows no problems.

use super::places::{division_spans, is_word_char, normalize};
use crate::seeded::fibonacci;

/// A bigram packed into 42 bits (21 bits per character), so terms never collide.
pub type Term = u64;

/// A sparse term vector sorted by term, with raw (field-weighted) counts.
pub type TermVec = Vec<(Term, f32)>;

/// Characters of the body read for terms; the start of a message says what it is about.
pub const BODY_CHARS: usize = 300;
/// A title's bigrams count this many times a body bigram.
const TITLE_WEIGHT: f32 = 2.0;

fn pack(a: char, b: char) -> Term {
    ((a as u64) << 21) | b as u64
}

/// Bigrams of `text` (normalized) inside runs of word characters, with divisions and the
/// given place names cut out, each counted `weight` times, added to `out`.
fn add_bigrams(text: &str, places: &[&str], weight: f32, limit: usize, out: &mut Vec<Term>) {
    let mut s = std::borrow::Cow::Borrowed(text);
    for p in places {
        if s.contains(p) {
            s = s.replace(p, "|").into();
        }
    }
    let mut chars: Vec<char> = s.chars().take(limit).collect();
    out.reserve(chars.len() * weight as usize);
    for (a, b) in division_spans(&chars) {
        chars[a..b].iter_mut().for_each(|c| *c = '|');
    }
    for w in chars.windows(2) {
        if is_word_char(w[0]) && is_word_char(w[1]) {
            for _ in 0..weight as usize {
                out.push(pack(w[0], w[1]));
            }
        }
    }
}

/// The term vector of a request: title bigrams weighted [`TITLE_WEIGHT`], plus bigrams of
/// the first [`BODY_CHARS`] characters of the body.
pub fn vector(title: &str, body: &str, places: &[&str]) -> (TermVec, TermVec) {
    vector_of_normalized(&normalize(title), &normalize(body), places)
}

/// [`vector`] of texts already passed through `normalize`.
pub(crate) fn vector_of_normalized(title: &str, body: &str, places: &[&str]) -> (TermVec, TermVec) {
    let mut t = Vec::new();
    add_bigrams(title, places, TITLE_WEIGHT, usize::MAX, &mut t);
    let title_vec = counts(t.clone());
    add_bigrams(body, places, 1.0, BODY_CHARS, &mut t);
    (counts(t), title_vec)
}

fn counts(mut terms: Vec<Term>) -> TermVec {
    terms.sort_unstable();
    let mut out: TermVec = Vec::with_capacity(terms.len());
    for t in terms {
        match out.last_mut() {
            Some((last, n)) if *last == t => *n += 1.0,
            _ => out.push((t, 1.0)),
        }
    }
    out
}

/// Euclidean norm of a weighted vector.
pub fn norm(v: &TermVec) -> f32 {
    v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt()
}

/// Dot product of two sorted weighted vectors.
pub fn dot(a: &TermVec, b: &TermVec) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// `into += v` (weighted vectors), keeping the `cap` heaviest terms (ties: smaller term);
/// `scratch` is reused between calls to save allocations.
pub fn merge_into(into: &mut TermVec, v: &TermVec, cap: usize, scratch: &mut TermVec) {
    let out = scratch;
    out.clear();
    out.reserve(into.len() + v.len());
    let (mut i, mut j) = (0, 0);
    while i < into.len() || j < v.len() {
        if j == v.len() || (i < into.len() && into[i].0 < v[j].0) {
            out.push(into[i]);
            i += 1;
        } else if i == into.len() || v[j].0 < into[i].0 {
            out.push(v[j]);
            j += 1;
        } else {
            out.push((into[i].0, into[i].1 + v[j].1));
            i += 1;
            j += 1;
        }
    }
    if out.len() > cap {
        // terms are distinct, so this order is total and selecting gives what sorting did
        out.select_nth_unstable_by(cap, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(cap);
        out.sort_unstable_by_key(|(t, _)| *t);
    }
    // copied rather than swapped, so a centroid keeps a buffer of its own size
    into.clear();
    into.extend_from_slice(out);
}

/// A weighted vector as an open-addressing table, for dot products with many short sorted
/// vectors (a request against its candidates' centroids): each of the short vector's terms
/// is looked up instead of walking both, and the products are summed in the same order as
/// [`dot`], so the result is the same to the bit. Most looked-up terms are absent; a
/// 4,096-bit filter says so without probing.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    slots: Vec<(Term, f32)>,
    shift: u32,
    filter: Vec<u64>,
}

/// No term packs to this (two characters take 42 bits).
pub(super) const VACANT: Term = u64::MAX;

impl Lookup {
    /// Holds `v` (distinct terms) from now on, reusing the table's memory.
    pub fn fill(&mut self, v: &TermVec) {
        let size = (2 * v.len()).max(8).next_power_of_two();
        self.shift = 64 - size.trailing_zeros();
        self.slots.clear();
        self.slots.resize(size, (VACANT, 0.0));
        self.filter.clear();
        self.filter.resize(64, 0);
        let mask = size - 1;
        for &(t, w) in v {
            let h = fibonacci(t);
            self.filter[(h >> 58) as usize] |= 1 << ((h >> 52) & 63);
            let mut i = (h >> self.shift) as usize;
            while self.slots[i].0 != VACANT {
                i = (i + 1) & mask;
            }
            self.slots[i] = (t, w);
        }
    }

    fn get(&self, t: Term) -> Option<f32> {
        let h = fibonacci(t);
        if self.filter[(h >> 58) as usize] & (1 << ((h >> 52) & 63)) == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let (u, w) = self.slots[i];
            if u == t {
                return Some(w);
            }
            if u == VACANT {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// `dot(held, b)` for a sorted `b`.
    pub fn dot(&self, b: &TermVec) -> f32 {
        let mut sum = 0.0f32;
        for &(t, w) in b {
            if let Some(x) = self.get(t) {
                sum += x * w;
            }
        }
        sum
    }
}
