//! The learned vocabulary and TF-IDF weighting: `Corpus` (training texts tokenised once,
//! terms interned) builds per-fold `Vocabulary`s; `Vocabulary::transform` turns a new
//! normalised text into the same unit-length sparse vector.

use rustc_hash::FxHashMap;

use super::features::{for_each_term, FeatureOptions, SparseVec, BLOCKS};
use super::term_index::{term_key, TermIndex};

/// Every training text tokenised once, with terms interned as global ids grouped by
/// block (first-appearance order inside a block), so that per-fold vocabularies and
/// vectors need no re-tokenising.
#[derive(Debug, Clone)]
pub struct Corpus {
    opts: FeatureOptions,
    /// Global terms: (block, term), block-major.
    terms: Vec<(u8, String)>,
    /// Per document: (global term id, count), sorted by id.
    docs: Vec<Vec<(u32, u32)>>,
}

impl Corpus {
    /// Tokenises normalised texts. Terms are interned by [`term_key`], exactly as
    /// [`Vocabulary::transform`] looks them up.
    pub fn build(opts: &FeatureOptions, norm_docs: &[String]) -> Self {
        let mut ids: FxHashMap<u64, u32> = FxHashMap::default();
        let mut terms: Vec<(u8, String)> = Vec::new();
        let mut docs = Vec::with_capacity(norm_docs.len());
        for doc in norm_docs {
            let mut hits = Vec::new();
            for_each_term(opts, doc, |b, t| {
                let next = terms.len() as u32;
                let id = *ids.entry(term_key(b, t)).or_insert_with(|| {
                    terms.push((b as u8, t.to_string()));
                    next
                });
                hits.push(id);
            });
            docs.push(hits);
        }
        // Renumber block-major (a stable counting sort by block).
        let mut rank = vec![0u32; terms.len()];
        let mut next = 0u32;
        for block in 0..BLOCKS as u8 {
            for (g, (b, _)) in terms.iter().enumerate() {
                if *b == block {
                    rank[g] = next;
                    next += 1;
                }
            }
        }
        let mut sorted = vec![(0u8, String::new()); terms.len()];
        for (g, term) in terms.into_iter().enumerate() {
            sorted[rank[g] as usize] = term;
        }
        let docs = docs
            .into_iter()
            .map(|hits| count_sorted(hits.into_iter().map(|g| rank[g as usize]).collect()))
            .collect();
        Corpus {
            opts: opts.clone(),
            terms: sorted,
            docs,
        }
    }

    /// Vocabulary fitted on the documents `subset`, and the global → feature id map.
    pub fn vocabulary(&self, subset: &[usize]) -> (Vocabulary, Vec<Option<u32>>) {
        let mut df = vec![0u32; self.terms.len()];
        for &d in subset {
            for &(g, _) in &self.docs[d] {
                df[g as usize] += 1;
            }
        }
        let n = subset.len() as f64;
        let (mut terms, mut idf, mut map) = (Vec::new(), Vec::new(), vec![None; self.terms.len()]);
        let mut block_end = [0; BLOCKS];
        for (g, (block, term)) in self.terms.iter().enumerate() {
            if df[g] >= self.opts.min_df.max(1) {
                map[g] = Some(terms.len() as u32);
                terms.push(term.clone());
                idf.push((((1.0 + n) / (1.0 + f64::from(df[g]))).ln() + 1.0) as f32);
                // Terms are block-major, so later blocks end at or after this one.
                block_end[usize::from(*block)..].fill(terms.len());
            }
        }
        (
            Vocabulary::from_parts(self.opts.clone(), terms, block_end, idf),
            map,
        )
    }

    /// TF-IDF vector of document `d` in the feature space of `vocab` (built with `map`).
    pub fn vector(&self, d: usize, vocab: &Vocabulary, map: &[Option<u32>]) -> SparseVec {
        let counts = self.docs[d]
            .iter()
            .filter_map(|&(g, c)| map[g as usize].map(|i| (i, c)))
            .collect();
        vocab.weigh(counts)
    }
}

/// Sorts term ids and collapses repeats into (id, count).
fn count_sorted(mut hits: Vec<u32>) -> Vec<(u32, u32)> {
    hits.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for h in hits {
        match out.last_mut() {
            Some((i, c)) if *i == h => *c += 1,
            _ => out.push((h, 1)),
        }
    }
    out
}

/// The learned vocabulary: term → feature id per block, IDF per feature id.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    /// Feature settings this vocabulary was built with.
    pub opts: FeatureOptions,
    /// All terms, indexed by feature id; word terms first, then character n-grams.
    pub terms: Vec<String>,
    /// End (exclusive) of each block's feature ids: block `b` owns
    /// `block_end[b-1]..block_end[b]` (block 0 starts at 0).
    pub block_end: [usize; BLOCKS],
    /// Smoothed IDF `ln((1+n)/(1+df)) + 1` per feature id.
    pub idf: Vec<f32>,
    /// `term_key(block, term)` → feature id.
    index: TermIndex,
}

impl Vocabulary {
    /// Builds the vocabulary from normalised training texts.
    #[cfg(test)]
    pub fn fit(opts: &FeatureOptions, norm_docs: &[String]) -> Self {
        let all: Vec<usize> = (0..norm_docs.len()).collect();
        Corpus::build(opts, norm_docs).vocabulary(&all).0
    }

    /// Rebuilds the lookup tables from stored parts (used when loading a model).
    pub fn from_parts(
        opts: FeatureOptions,
        terms: Vec<String>,
        block_end: [usize; BLOCKS],
        idf: Vec<f32>,
    ) -> Self {
        let index = TermIndex::new(terms.iter().enumerate().map(|(i, t)| {
            let block = block_end.partition_point(|&end| end <= i);
            (term_key(block, t), i as u32)
        }));
        Vocabulary {
            opts,
            terms,
            block_end,
            idf,
            index,
        }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// True when no term survived `min_df`.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// TF-IDF vector of a normalised text.
    pub fn transform(&self, norm: &str) -> SparseVec {
        // Hash first, look up afterwards: the lookups are independent cache misses that
        // the table can prefetch ahead.
        let mut keys: Vec<u64> = Vec::with_capacity(norm.len() + 16);
        for_each_term(&self.opts, norm, |b, t| keys.push(term_key(b, t)));
        let mut hits = Vec::with_capacity(keys.len());
        self.index.get_many(&keys, &mut hits);
        self.weigh(count_sorted(hits))
    }

    /// Weights sorted (feature id, count) pairs: per block (sublinear) tf × idf scaled to
    /// unit L2 norm and by the block weight, then the whole vector scaled to unit L2 norm.
    fn weigh(&self, counts: Vec<(u32, u32)>) -> SparseVec {
        let mut v = SparseVec {
            idx: Vec::with_capacity(counts.len()),
            val: Vec::with_capacity(counts.len()),
        };
        for (i, c) in counts {
            let tf = if self.opts.sublinear_tf && c > 1 {
                1.0 + (c as f32).ln()
            } else {
                c as f32
            };
            v.idx.push(i);
            v.val.push(tf * self.idf[i as usize]);
        }
        // Ids are sorted and blocks are contiguous id ranges, so each block is a slice.
        let mut start = 0;
        for (end, weight) in self.block_end.iter().zip(self.opts.block_weights()) {
            let stop = start + v.idx[start..].partition_point(|&i| (i as usize) < *end);
            let block = &mut v.val[start..stop];
            let norm: f32 = block.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                block.iter_mut().for_each(|x| *x *= weight / norm);
            }
            start = stop;
        }
        let total = v.norm_sq().sqrt() as f32;
        if total > 0.0 {
            v.val.iter_mut().for_each(|x| *x /= total);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    //! Unit tests of vocabulary fitting and TF-IDF vectors.

    use super::super::features::{normalize, tests::opts, FeatureOptions};
    use super::*;

    #[test]
    fn char_ngrams_and_unit_norm() {
        let docs = vec![normalize("小区停水"), normalize("学校放假")];
        let v = Vocabulary::fit(
            &FeatureOptions {
                words: false,
                ..opts()
            },
            &docs,
        );
        // 4 unigrams + 3 bigrams per doc, all distinct.
        assert_eq!(v.len(), 14);
        assert!(v.terms.contains(&"停水".to_string()));
        let x = v.transform("小区停水");
        assert_eq!(x.idx.len(), 7);
        assert!((x.norm_sq() - 1.0).abs() < 1e-5);
        assert!(x.idx.windows(2).all(|w| w[0] < w[1]));
        assert!(v.transform("").idx.is_empty());
        assert!(v.transform("hello").idx.is_empty());
    }

    #[test]
    fn min_df_drops_rare_terms_and_words_come_first() {
        let docs: Vec<String> = ["小区停水", "小区停电", "学校"]
            .iter()
            .map(|s| normalize(s))
            .collect();
        let v = Vocabulary::fit(
            &FeatureOptions {
                min_df: 2,
                ..opts()
            },
            &docs,
        );
        let words = &v.terms[..v.block_end[0]];
        assert!(words.contains(&"小区".to_string()));
        assert!(!v.terms.contains(&"学校".to_string()));
        assert!(v.terms[v.block_end[0]..].contains(&"区".to_string()));
        assert_eq!(v.block_end[1], v.len());
    }

    #[test]
    fn corpus_vectors_equal_string_transform() {
        let docs: Vec<String> = ["小区停水三天了", "学校放假通知", "小区物业停水", "abc 学校"]
            .iter()
            .map(|s| normalize(s))
            .collect();
        let corpus = Corpus::build(
            &FeatureOptions {
                min_df: 2,
                char_max: 3,
                title_ngram_max: 2,
                ..opts()
            },
            &docs,
        );
        let (vocab, map) = corpus.vocabulary(&[0, 1, 2]);
        assert!(vocab.block_end[0] < vocab.block_end[1] && vocab.block_end[1] < vocab.len());
        for (d, doc) in docs.iter().enumerate() {
            assert_eq!(
                corpus.vector(d, &vocab, &map),
                vocab.transform(doc),
                "doc {d}"
            );
        }
    }
}
