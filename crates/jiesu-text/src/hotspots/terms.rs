//! What a request is about, as a bag of character bigrams (place names and divisions cut
//! out), weighted by inverse document frequency over the requests seen so far. Owns the
//! term vectors, the document-frequency table and cosine similarity; knows no problems.

use rustc_hash::FxHashMap;

use super::places::{division_spans, is_word_char, normalize};

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

/// Bigrams of `text` inside runs of word characters, with divisions and the given place
/// names cut out, each counted `weight` times, added to `out`.
fn add_bigrams(text: &str, places: &[&str], weight: f32, limit: usize, out: &mut Vec<Term>) {
    let mut s = normalize(text);
    for p in places {
        if s.contains(p) {
            s = s.replace(p, "|");
        }
    }
    let mut chars: Vec<char> = s.chars().take(limit).collect();
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

/// Document frequencies of terms over the requests indexed so far.
#[derive(Debug, Clone, Default)]
pub struct DocFreq {
    docs: u64,
    df: FxHashMap<Term, u32>,
}

impl DocFreq {
    /// Counts one document's distinct terms.
    pub fn add(&mut self, v: &TermVec) {
        self.docs += 1;
        for (t, _) in v {
            *self.df.entry(*t).or_insert(0) += 1;
        }
    }

    /// Smoothed inverse document frequency, `ln((N+1)/(df+1)) + 1`.
    pub fn idf(&self, t: Term) -> f32 {
        let df = self.df.get(&t).copied().unwrap_or(0);
        ((self.docs as f32 + 1.0) / (df as f32 + 1.0)).ln() + 1.0
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

/// `v` with each count multiplied by the term's current IDF.
pub fn weigh(v: &TermVec, df: &DocFreq) -> TermVec {
    v.iter().map(|(t, w)| (*t, w * df.idf(*t))).collect()
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

/// `into + v` (weighted vectors), keeping the `cap` heaviest terms (ties: smaller term).
pub fn merge(into: &TermVec, v: &TermVec, cap: usize) -> TermVec {
    let mut out: TermVec = Vec::with_capacity(into.len() + v.len());
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
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.truncate(cap);
        out.sort_unstable_by_key(|(t, _)| *t);
    }
    out
}

/// Locality-sensitive bucket keys of a title: for each of `k` seeded hash functions, the
/// title bigram with the smallest hash (MinHash with one row per band), skipping bigrams
/// in more than 1 % of the requests so far (扰民, 问题) that would make buckets crowded.
/// Two titles with bigram Jaccard J share a key with probability 1 − (1 − J)^k.
pub fn lsh_keys(title: &TermVec, k: usize, df: &DocFreq) -> Vec<u64> {
    let common = (df.docs / 100).max(20) as u32;
    let rare: Vec<Term> = title
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| df.df.get(t).copied().unwrap_or(0) <= common)
        .collect();
    let pool = if rare.is_empty() {
        title.iter().map(|(t, _)| *t).collect()
    } else {
        rare
    };
    let mut keys = Vec::with_capacity(k);
    for seed in 0..k as u64 {
        let salt = splitmix64(seed.wrapping_add(0x5EED));
        if let Some(t) = pool.iter().min_by_key(|t| splitmix64(**t ^ salt)) {
            keys.push(splitmix64(*t ^ salt.rotate_left(7)));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The SplitMix64 finaliser: a cheap, fixed 64-bit mixer.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
