//! Unit tests of the near-duplicate index and grouping on small synthetic requests.

use super::*;

const LAMP: &str = "西湖路12号小区门口的路灯坏了一个多月，晚上一片漆黑，请尽快维修。";
// exact trigram Jaccard with LAMP: 0.366 (a looser paraphrase, with reordered place and
// synonyms throughout, falls to about 0.22 and would not be offered)
const LAMP_REWORDED: &str = "西湖路12号小区门口路灯坏了一个多月了，晚上漆黑一片，请尽快修理！";
const NOISE: &str =
    "长江路菜市场周边夜宵摊占道经营，油烟和噪音扰民到凌晨两点，多次投诉无果，请城管部门依法查处。";
const HEATING: &str =
    "阳光花园3栋暖气片一直不热，室内温度只有十二度，物业推说是热力公司的问题，请协调解决供暖。";

fn index_with(docs: &[(u64, &str)]) -> DupIndex {
    let mut index = DupIndex::new(DupConfig::default());
    for &(id, text) in docs {
        index.insert(id, text);
    }
    index
}

#[test]
fn a_reworded_duplicate_is_found_first() {
    let index = index_with(&[(1, NOISE), (2, LAMP), (3, HEATING)]);
    let hits = index.query(LAMP_REWORDED, 3);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, 2);
    assert!(hits[0].similarity >= 0.3 && hits[0].similarity < 1.0);
}

#[test]
fn an_unrelated_request_finds_nothing() {
    let index = index_with(&[(1, NOISE), (2, LAMP)]);
    assert!(index.query(HEATING, 5).is_empty());
}

#[test]
fn an_identical_request_scores_one_and_hits_are_best_first() {
    let index = index_with(&[(1, LAMP_REWORDED), (2, LAMP)]);
    let hits = index.query(LAMP, 5);
    assert_eq!(hits.iter().map(|h| h.id).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(hits[0].similarity, 1.0);
    assert_eq!(index.query(LAMP, 1).len(), 1);
}

#[test]
fn whitespace_padding_and_punctuation_do_not_matter() {
    let index = index_with(&[(9, "小区停水三天了，请尽快恢复供水")]);
    let hits = index.query("\n\t\t\t小区 停水 三天了！！请尽快恢复供水。\n\t\t\t", 1);
    assert_eq!(hits[0].similarity, 1.0);
}

#[test]
fn removed_and_replaced_documents_are_no_longer_found() {
    let mut index = index_with(&[(1, LAMP), (2, NOISE), (3, LAMP)]);
    assert!(index.remove(1));
    assert!(!index.remove(1));
    assert_eq!(
        index
            .query(LAMP, 5)
            .iter()
            .map(|h| h.id)
            .collect::<Vec<_>>(),
        [3]
    );
    index.insert(3, HEATING);
    assert!(index.query(LAMP, 5).is_empty());
    assert_eq!(index.len(), 2);
    index.insert(4, LAMP);
    assert_eq!(index.query(LAMP, 5)[0].id, 4);
}

#[test]
fn results_are_the_same_in_every_build() {
    let docs = [(1, LAMP), (2, LAMP_REWORDED), (3, NOISE)];
    let a = index_with(&docs).query(LAMP, 5);
    let b = index_with(&docs).query(LAMP, 5);
    assert_eq!(a, b);
    // pinned: changing seeds, hashing or normalisation must be a deliberate decision
    assert_eq!(a.len(), 2);
    assert_eq!(a[1].similarity, PINNED_REWORDED_SIMILARITY);
}

const PINNED_REWORDED_SIMILARITY: f64 = 54.0 / 128.0;

#[test]
fn degenerate_texts_never_panic_and_empty_matches_nothing() {
    let huge = "路灯坏了".repeat(30_000) + &"\u{0}\u{1b}".repeat(1000);
    let texts = [
        "",
        "   \n\t\t\t ",
        "，。！",
        "水",
        "停水",
        "\u{0}\u{7f}\u{202e}",
        "hello world 123",
        "😀😀",
        &huge,
    ];
    let mut index = DupIndex::new(DupConfig::default());
    for (id, text) in texts.iter().enumerate() {
        index.insert(id as u64, text);
        let _ = index.query(text, 3);
    }
    for empty in ["", "   \n\t\t\t ", "，。！", "😀😀"] {
        assert!(index.query(empty, 10).is_empty(), "{empty:?}");
        assert!(!index.contains(0));
    }
    assert_eq!(index.query("水", 5)[0].id, 3);
    assert_eq!(index.query("Hello, World! 123", 5)[0].id, 6);
    assert_eq!(index.query(&huge, 5)[0].id, 8);
}

#[test]
fn odd_configurations_are_brought_into_range() {
    let cfg = DupConfig {
        shingle: 0,
        num_perm: 0,
        bands: 0,
        rows: 0,
        threshold: f64::NAN,
        max_chars: 0,
    };
    let mut index = DupIndex::new(cfg);
    index.insert(1, LAMP);
    assert_eq!(index.query(LAMP, 1)[0].id, 1);
    let cfg = DupConfig {
        bands: 1000,
        ..DupConfig::default()
    }
    .validated();
    assert!(cfg.bands * cfg.rows <= cfg.num_perm);
}

#[test]
fn the_index_survives_growth_and_slot_reuse() {
    let mut index = DupIndex::new(DupConfig::default());
    for id in 0..3000u64 {
        index.insert(id, &format!("{LAMP}编号{id}"));
    }
    for id in (0..3000u64).step_by(2) {
        index.remove(id);
    }
    index.insert(5000, NOISE);
    assert_eq!(index.len(), 1501);
    let hits = index.query(NOISE, 2);
    assert_eq!(hits[0].id, 5000);
    assert!(index.query(LAMP, usize::MAX).iter().all(|h| h.id % 2 == 1));
}

fn docs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn grouping_chains_duplicates_and_drops_singletons() {
    let d = docs(&[
        ("a", LAMP),
        ("b", NOISE),
        ("c", LAMP_REWORDED),
        ("d", HEATING),
        ("e", LAMP),
        ("f", ""),
    ]);
    let groups = group(&d, &DupConfig::default());
    assert_eq!(groups, vec![vec!["a".to_string(), "c".into(), "e".into()]]);
    assert!(group(&docs(&[("x", ""), ("y", "")]), &DupConfig::default()).is_empty());
}

#[test]
fn pair_scores_count_pairs_inside_groups() {
    let s = |g: &[&[&str]]| {
        g.iter()
            .map(|v| v.iter().map(|x| x.to_string()).collect())
            .collect::<Vec<Vec<String>>>()
    };
    let predicted = s(&[&["a", "b", "c"], &["d", "e"]]);
    let gold = s(&[&["a", "b"], &["c", "d", "e", "f"]]);
    let r = pair_scores(&predicted, &gold);
    assert_eq!((r.predicted_pairs, r.gold_pairs, r.true_pairs), (4, 7, 2));
    assert!((r.precision - 0.5).abs() < 1e-12 && (r.recall - 2.0 / 7.0).abs() < 1e-12);
    assert!((r.f1 - 2.0 * 0.5 * (2.0 / 7.0) / (0.5 + 2.0 / 7.0)).abs() < 1e-12);
    assert_eq!(pair_scores(&[], &gold).f1, 0.0);
}

#[test]
fn a_flood_of_copies_is_cut_short_without_hiding_another_duplicate() {
    let mut index = DupIndex::new(DupConfig::default());
    for id in 0..3000 {
        index.insert(id, NOISE);
    }
    index.insert(5000, LAMP);
    for id in 3000..4000 {
        index.insert(id, NOISE);
    }
    // The flood: k hits, all exact, all copies, and only a bounded part of it was read.
    let hits = index.query(NOISE, 10);
    assert_eq!(hits.len(), 10);
    assert!(hits.iter().all(|h| h.similarity == 1.0 && h.id < 4000));
    let sig = index.signature(NOISE).unwrap();
    let bounded = index.candidates(&sig, index::MIN_QUERY_CANDIDATES);
    assert!(
        bounded.len() < 1000,
        "{} of 4000 copies read",
        bounded.len()
    );
    assert_eq!(index.candidates(&sig, usize::MAX).len(), 4000);
    // Another problem's duplicate is still found among them.
    let hits = index.query(LAMP_REWORDED, 10);
    assert_eq!(hits.first().map(|h| h.id), Some(5000), "{hits:?}");
}

#[test]
fn a_short_follow_up_overlaps_its_longer_request_and_not_another_problem() {
    let cfg = DupConfig::default();
    let earlier = "望京西园三区工地夜间施工噪音扰民，凌晨两点还在施工。";
    let again = "工地夜间施工噪音还在继续";
    assert!(super::overlap(again, earlier, &cfg) >= 0.5);
    assert!(super::overlap(earlier, again, &cfg) >= 0.5, "symmetric");
    assert!(super::overlap("小区门口路灯不亮了", earlier, &cfg) < 0.1);
    assert_eq!(super::overlap("", earlier, &cfg), 0.0);
}
