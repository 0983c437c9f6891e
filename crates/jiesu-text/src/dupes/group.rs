//! Batch grouping of near-duplicates (union-find over LSH candidate pairs re-checked with
//! exact Jaccard) and pairwise precision/recall of groupings. Owns no index state.

use std::collections::HashSet;

use super::normalize::jaccard;
use super::{DupConfig, DupIndex};

/// Pairwise agreement of a predicted grouping with a gold one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairScores {
    /// True pairs / predicted pairs (0 when nothing is predicted).
    pub precision: f64,
    /// True pairs / gold pairs (0 when the gold has no pairs).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
    /// Distinct unordered id pairs inside predicted groups.
    pub predicted_pairs: usize,
    /// Distinct unordered id pairs inside gold groups.
    pub gold_pairs: usize,
    /// Pairs in both.
    pub true_pairs: usize,
}

/// Groups `(id, text)` documents whose exact shingle Jaccard is at or above the threshold,
/// taking connected components, so A~B and B~C put A, B, C together. Candidates come from
/// the same LSH banding as [`DupIndex`]. Returns only groups of two or more, each in input
/// order, ordered by their first member.
pub fn group(docs: &[(String, String)], cfg: &DupConfig) -> Vec<Vec<String>> {
    group_by(docs, cfg, true)
}

/// [`group`], with similarity either exact or the index's signature estimate.
pub(super) fn group_by(
    docs: &[(String, String)],
    cfg: &DupConfig,
    exact: bool,
) -> Vec<Vec<String>> {
    let mut index = DupIndex::new(cfg.clone());
    let threshold = index.config().threshold;
    let mut parent: Vec<usize> = (0..docs.len()).collect();
    let mut shingles = Vec::with_capacity(docs.len());
    for (i, (_, text)) in docs.iter().enumerate() {
        shingles.push(index.shingles(text));
        let Some(sig) = index.sign(&shingles[i]) else {
            continue;
        };
        for j in index.candidate_ids(&sig) {
            let j = j as usize;
            let similarity = if exact {
                jaccard(&shingles[i], &shingles[j])
            } else {
                index
                    .signature_of(j as u64)
                    .map_or(0.0, |other| super::minhash::estimate(&sig, other))
            };
            if similarity >= threshold {
                union(&mut parent, i, j);
            }
        }
        index.insert_signature(i as u64, &sig);
    }
    components(docs, &mut parent)
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    // the smaller index becomes the root, so output order does not depend on pair order
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

fn components(docs: &[(String, String)], parent: &mut [usize]) -> Vec<Vec<String>> {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); docs.len()];
    for i in 0..docs.len() {
        let root = find(parent, i);
        members[root].push(i);
    }
    members
        .into_iter()
        .filter(|m| m.len() >= 2)
        .map(|m| m.into_iter().map(|i| docs[i].0.clone()).collect())
        .collect()
}

/// Pairwise precision, recall and F1 of `predicted` groups against `gold` groups, over all
/// unordered pairs of distinct ids that share a group.
pub fn pair_scores(predicted: &[Vec<String>], gold: &[Vec<String>]) -> PairScores {
    let p = pairs(predicted);
    let g = pairs(gold);
    let true_pairs = p.intersection(&g).count();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let precision = ratio(true_pairs, p.len());
    let recall = ratio(true_pairs, g.len());
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    PairScores {
        precision,
        recall,
        f1,
        predicted_pairs: p.len(),
        gold_pairs: g.len(),
        true_pairs,
    }
}

fn pairs(groups: &[Vec<String>]) -> HashSet<(&str, &str)> {
    let mut out = HashSet::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                if a != b {
                    out.insert(if a < b {
                        (a.as_str(), b.as_str())
                    } else {
                        (b.as_str(), a.as_str())
                    });
                }
            }
        }
    }
    out
}
