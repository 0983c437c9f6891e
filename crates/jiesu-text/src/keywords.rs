//! Catalogue keywords: which leaf categories a text names by their keywords, ranked by the
//! characters matched. Every keyword of every category is one pattern of one automaton, so a
//! text is scanned once however many categories there are. It does not read the catalogue
//! (the caller hands the categories over) and knows nothing of the classifier.

use jiesu_core::dispatch::covers;
use std::collections::HashMap;

/// A leaf category with its keywords.
#[derive(Debug, Clone)]
pub struct KeywordCategory {
    /// Category code.
    pub code: String,
    /// Keywords, in the catalogue's order.
    pub keywords: Vec<String>,
}

/// A category the text names: its code, the characters its hits cover, and the hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordHit {
    /// Category code.
    pub code: String,
    /// The summed character length of the keywords found.
    pub weight: usize,
    /// The keywords found, in the category's order.
    pub hits: Vec<String>,
}

/// The keyword table of the leaf categories, with one automaton over all keywords.
#[derive(Debug, Clone)]
pub struct KeywordTable {
    categories: Vec<KeywordCategory>,
    automaton: Option<aho_corasick::AhoCorasick>,
    /// The pattern count.
    patterns: usize,
    /// Each category's keywords as pattern ids, in the category's own order.
    ids: Vec<Vec<usize>>,
}

/// Why the keyword automaton could not be built.
#[derive(Debug, thiserror::Error)]
#[error("keyword automaton: {0}")]
pub struct KeywordError(#[from] aho_corasick::BuildError);

impl KeywordTable {
    /// Builds the table; categories without keywords are dropped.
    pub fn new(categories: Vec<KeywordCategory>) -> Result<Self, KeywordError> {
        let categories: Vec<KeywordCategory> = categories
            .into_iter()
            .filter(|c| !c.keywords.is_empty())
            .collect();
        let mut by_word: HashMap<&str, usize> = HashMap::new();
        let mut patterns: Vec<&str> = Vec::new();
        let ids = categories
            .iter()
            .map(|c| {
                c.keywords
                    .iter()
                    .map(|k| {
                        *by_word.entry(k.as_str()).or_insert_with(|| {
                            patterns.push(k.as_str());
                            patterns.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(aho_corasick::AhoCorasick::new(&patterns)?)
        };
        let patterns = patterns.len();
        Ok(KeywordTable {
            categories,
            automaton,
            patterns,
            ids,
        })
    }

    /// The categories with keywords.
    pub fn categories(&self) -> &[KeywordCategory] {
        &self.categories
    }

    /// Which patterns occur in `text` (as `str::contains` would say, one scan).
    fn matched(&self, text: &str) -> Vec<bool> {
        let mut found = vec![false; self.patterns];
        if let Some(a) = &self.automaton {
            for m in a.find_overlapping_iter(text) {
                found[m.pattern().as_usize()] = true;
            }
        }
        found
    }

    /// Leaf categories by keyword hits, heaviest first (ties by code), optionally only those
    /// under the category `prefix`.
    pub fn ranking(&self, text: &str, prefix: Option<&str>) -> Vec<KeywordHit> {
        let found = self.matched(text);
        let mut out: Vec<KeywordHit> = self
            .categories
            .iter()
            .zip(&self.ids)
            .filter(|(c, _)| prefix.is_none_or(|p| covers(p, &c.code)))
            .filter_map(|(c, ids)| {
                let hits: Vec<String> = c
                    .keywords
                    .iter()
                    .zip(ids)
                    .filter(|(_, &id)| found[id])
                    .map(|(k, _)| k.clone())
                    .collect();
                let weight: usize = hits.iter().map(|h| h.chars().count()).sum();
                (!hits.is_empty()).then(|| KeywordHit {
                    code: c.code.clone(),
                    weight,
                    hits,
                })
            })
            .collect();
        out.sort_by(|a, b| b.weight.cmp(&a.weight).then_with(|| a.code.cmp(&b.code)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{KeywordCategory, KeywordTable};

    fn category(code: &str, words: &[&str]) -> KeywordCategory {
        KeywordCategory {
            code: code.into(),
            keywords: words.iter().map(|w| w.to_string()).collect(),
        }
    }

    fn table() -> KeywordTable {
        KeywordTable::new(vec![
            category("hjbh.zs.sg", &["施工噪音", "夜间施工", "噪音"]),
            category("hjbh.zs", &["噪音", "扰民"]),
            category("ggfw.gr", &["暖气", "暖气片", "供暖"]),
            category("empty", &[]),
        ])
        .unwrap()
    }

    #[test]
    fn one_scan_finds_exactly_the_keywords_a_substring_test_finds() {
        let t = table();
        for text in [
            "望京西园三区夜间施工噪音扰民",
            "暖气片不热，供暖不达标",
            "施工",
            "",
            "噪噪音音",
        ] {
            let found = t.matched(text);
            for (c, ids) in t.categories.iter().zip(&t.ids) {
                for (k, &id) in c.keywords.iter().zip(ids) {
                    assert_eq!(found[id], text.contains(k.as_str()), "{k} in {text}");
                }
            }
        }
        // A keyword shared by two categories is one pattern.
        assert_eq!(t.ids[0][2], t.ids[1][0]);
        // A category without keywords is dropped.
        assert_eq!(t.categories().len(), 3);
    }

    #[test]
    fn the_ranking_weighs_by_matched_characters_and_keeps_to_the_prefix() {
        let t = table();
        let r = t.ranking("望京西园三区夜间施工噪音扰民", None);
        let codes: Vec<(&str, usize)> = r.iter().map(|h| (h.code.as_str(), h.weight)).collect();
        assert_eq!(codes, vec![("hjbh.zs.sg", 10), ("hjbh.zs", 4)]);
        assert_eq!(r[0].hits, vec!["施工噪音", "夜间施工", "噪音"]);
        let under = t.ranking("暖气片不热，噪音", Some("ggfw"));
        assert_eq!(under.len(), 1);
        assert_eq!(under[0].code, "ggfw.gr");
        assert!(t.ranking("没有关键词", None).is_empty());
    }
}
