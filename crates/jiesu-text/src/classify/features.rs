//! Text → terms: normalisation, the feature options, and the three term blocks (jieba
//! words, character n-grams of the whole text, character n-grams of the title), plus the
//! sparse vector type the SVM uses. The vocabulary and TF-IDF weighting live in `vocab`.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use serde::{Deserialize, Serialize};

use crate::normalize::Normalizer;

/// Longest text (in characters) the classifier looks at; longer input is cut to its first
/// `MAX_CHARS` characters. The longest training message has about 9,200 characters.
pub const MAX_CHARS: usize = 20_000;

/// How text is turned into features. Part of [`super::TrainOptions`] and stored in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureOptions {
    /// Use jieba word tokens (HMM on) as one feature block.
    pub words: bool,
    /// Shortest character n-gram (0 disables the character block).
    pub char_min: usize,
    /// Longest character n-gram.
    pub char_max: usize,
    /// Keep only terms seen in at least this many training documents.
    pub min_df: u32,
    /// Use `1 + ln(tf)` instead of the raw count.
    pub sublinear_tf: bool,
    /// Weight of the word block relative to the character block (each block is first
    /// scaled to unit L2 norm, then the whole vector is re-normalised).
    pub word_weight: f32,
    /// Longest character n-gram (from 1) of the title block; 0 disables it. The title is
    /// the text before the first space when that is at most [`TITLE_MAX_CHARS`]
    /// characters in, else the first [`TITLE_FALLBACK_CHARS`] characters.
    pub title_ngram_max: usize,
    /// Weight of the title block relative to the character block.
    pub title_weight: f32,
    /// Let jieba guess unknown words with its HMM (slower; models saved before this
    /// option existed used it).
    #[serde(default = "yes")]
    pub word_hmm: bool,
}

fn yes() -> bool {
    true
}

/// Number of term blocks: 0 = jieba words, 1 = character n-grams, 2 = title n-grams.
pub const BLOCKS: usize = 3;
/// A space at most this many characters into the text ends the title.
pub const TITLE_MAX_CHARS: usize = 60;
/// Title length when no such space exists (messages stored without a separator).
pub const TITLE_FALLBACK_CHARS: usize = 25;

impl FeatureOptions {
    /// Weight of each block, in block order.
    pub fn block_weights(&self) -> [f32; BLOCKS] {
        [self.word_weight, 1.0, self.title_weight]
    }
}

/// A sparse vector: sorted, unique feature indices with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Feature indices, strictly increasing.
    pub idx: Vec<u32>,
    /// Values, same length as `idx`.
    pub val: Vec<f32>,
}

impl SparseVec {
    /// Squared L2 norm.
    pub fn norm_sq(&self) -> f64 {
        self.val.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }
}

/// The shared jieba segmenter (its dictionary loads once per process).
pub(crate) fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// The first [`MAX_CHARS`] characters of `text` through the crate's [`Normalizer`],
/// lower-cased, each run of whitespace and control characters made one space (none at the
/// ends).
pub fn normalize(text: &str) -> String {
    Normalizer::reading(MAX_CHARS)
        .collapse_spaces()
        .lowercase()
        .string(text)
}

/// The title part of a normalised text (see [`FeatureOptions::title_ngram_max`]).
pub fn title(norm: &str) -> &str {
    let cut = |n: usize| norm.char_indices().nth(n).map_or(norm.len(), |(i, _)| i);
    match norm.find(' ') {
        Some(i) if i > 0 && norm[..i].chars().count() <= TITLE_MAX_CHARS => &norm[..i],
        _ => &norm[..cut(TITLE_FALLBACK_CHARS)],
    }
}

/// Calls `f(block, n, text)` for the character n-grams of `text`, `n` in `min..=max`.
fn char_ngrams<'a>(text: &'a str, min: usize, max: usize, mut f: impl FnMut(&'a str)) {
    if min == 0 || max < min {
        return;
    }
    let mut bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    bounds.push(text.len());
    let nchars = bounds.len() - 1;
    for n in min..=max {
        for i in 0..nchars.saturating_sub(n - 1) {
            f(&text[bounds[i]..bounds[i + n]]);
        }
    }
}

/// Calls `f` with every term of an already normalised text: the block number
/// (see [`BLOCKS`]) and the term.
pub fn for_each_term<'a>(opts: &FeatureOptions, norm: &'a str, mut f: impl FnMut(usize, &'a str)) {
    if opts.words {
        for tok in jieba().cut(norm, opts.word_hmm) {
            if !tok.word.trim().is_empty() {
                f(0, tok.word);
            }
        }
    }
    char_ngrams(norm, opts.char_min, opts.char_max, |t| f(1, t));
    char_ngrams(title(norm), 1, opts.title_ngram_max, |t| f(2, t));
}

#[cfg(test)]
pub(crate) mod tests {
    //! Unit tests of normalisation, titles and term blocks; `opts()` is shared with the
    //! vocabulary tests.

    use super::*;

    /// Small options for unit tests: words, char 1-2, no title block, min_df 1.
    pub(crate) fn opts() -> FeatureOptions {
        FeatureOptions {
            words: true,
            char_min: 1,
            char_max: 2,
            min_df: 1,
            sublinear_tf: true,
            word_weight: 1.0,
            title_ngram_max: 0,
            title_weight: 0.5,
            word_hmm: true,
        }
    }

    #[test]
    fn normalize_folds_width_case_controls_and_spaces() {
        assert_eq!(
            normalize("  ＡＢｃ\u{0}\t\n 小区\u{3000}停水 "),
            "abc 小区 停水"
        );
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("\u{7}\u{1b}  "), "");
        let long = "水".repeat(MAX_CHARS + 50);
        assert_eq!(normalize(&long).chars().count(), MAX_CHARS);
    }

    #[test]
    fn title_is_text_before_first_space_or_a_prefix() {
        assert_eq!(title("小区停水 已经三天了 请处理"), "小区停水");
        let no_space = "一二三四五六七八九十".repeat(4);
        assert_eq!(title(&no_space).chars().count(), TITLE_FALLBACK_CHARS);
        let late_space = format!("{} 尾", "长".repeat(TITLE_MAX_CHARS + 1));
        assert_eq!(title(&late_space).chars().count(), TITLE_FALLBACK_CHARS);
        assert_eq!(title(""), "");
        assert_eq!(title("短"), "短");
    }

    #[test]
    fn terms_come_in_three_blocks() {
        let o = FeatureOptions {
            title_ngram_max: 1,
            ..opts()
        };
        let mut seen: Vec<(usize, String)> = Vec::new();
        for_each_term(&o, "停水 小区", |b, t| seen.push((b, t.to_string())));
        let block = |b: usize| -> Vec<&str> {
            seen.iter()
                .filter(|s| s.0 == b)
                .map(|s| s.1.as_str())
                .collect()
        };
        assert_eq!(block(0), ["停水", "小区"]);
        assert_eq!(
            block(1),
            ["停", "水", " ", "小", "区", "停水", "水 ", " 小", "小区"]
        );
        assert_eq!(block(2), ["停", "水"]);
    }
}
