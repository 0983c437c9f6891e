//! What counts as "the same text" for near-duplicate detection (which characters survive
//! the crate's normaliser, how shingles are hashed); knows nothing of MinHash or the index.

use crate::normalize::Normalizer;
use crate::seeded::splitmix64;

/// Normalises `text` for shingling and keeps at most `max_chars` characters of the result
/// (reading at most `4 * max_chars + 4096` characters): the crate's [`Normalizer`] with
/// letters lower-cased, spreadsheet escapes (`_x000D_`) and `http(s)://` links dropped, and
/// only letters, digits and CJK characters kept, so whitespace, the site's "\n\t\t\t"
/// padding, punctuation, symbols, emoji and control characters all disappear.
pub fn normalize(text: &str, max_chars: usize) -> Vec<char> {
    Normalizer::keeping(max_chars)
        .lowercase()
        .alphanumeric_only()
        .drop_noise()
        .chars(text)
}

/// Hashes of the distinct `k`-character shingles of normalised `chars`, sorted.
///
/// A text shorter than `k` (but not empty) is one shingle, so very short texts can still
/// match an identical one; an empty text has no shingles and therefore never matches.
pub fn shingle_hashes(chars: &[char], k: usize) -> Vec<u64> {
    let k = k.max(1);
    if chars.is_empty() {
        return Vec::new();
    }
    let mut hashes: Vec<u64> = if chars.len() < k {
        vec![shingle_hash(chars)]
    } else {
        chars.windows(k).map(shingle_hash).collect()
    };
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// A fixed, platform-independent hash: up to three chars pack injectively into 63 bits
/// (21 bits each) before mixing, so trigram hashes collide only through the finaliser.
fn shingle_hash(chars: &[char]) -> u64 {
    let mut h = chars.len() as u64;
    for &c in chars {
        h = h.rotate_left(21) ^ c as u64;
    }
    splitmix64(h)
}

/// Exact Jaccard similarity of two sorted, deduplicated hash lists (0 when either is empty).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    both as f64 / (a.len() + b.len() - both) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s, 10_000).into_iter().collect()
    }

    #[test]
    fn padding_punctuation_and_full_width_are_removed() {
        assert_eq!(norm("\n\t\t\t小区，停水！\n\t\t\t"), "小区停水");
        assert_eq!(norm("３号楼ＡＢ漏水"), "3号楼ab漏水");
        assert_eq!(
            norm("路灯_x000D_坏了 https://baidu.com/x 请修"),
            "路灯坏了请修"
        );
        assert_eq!(norm("\u{0}\u{7}\u{1b}[0m😀"), "0m");
    }

    #[test]
    fn the_cap_bounds_the_kept_characters() {
        assert_eq!(normalize(&"停".repeat(50), 10).len(), 10);
    }

    #[test]
    fn short_texts_become_one_shingle_and_empty_none() {
        assert_eq!(shingle_hashes(&['水'], 3).len(), 1);
        assert!(shingle_hashes(&[], 3).is_empty());
        let c: Vec<char> = "停水停水停水".chars().collect();
        assert_eq!(shingle_hashes(&c, 3).len(), 2);
    }
}
