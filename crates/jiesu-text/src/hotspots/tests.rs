//! Unit tests of place extraction, grouping, heat, descriptions and incremental = batch.

use super::places::{bucket_key, extract, same_place, PlaceKind};
use super::*;

const DAY: i64 = 86_400_000;

fn rec(id: &str, day: i64, title: &str, text: &str) -> HotspotRecord {
    HotspotRecord {
        id: id.into(),
        submitted_at: day * DAY,
        title: title.into(),
        text: text.into(),
        ..Default::default()
    }
}

fn names(text: &str) -> Vec<String> {
    extract(text).into_iter().map(|p| p.name).collect()
}

#[test]
fn estates_roads_villages_and_schools_are_found_after_divisions_and_filler() {
    assert_eq!(names("投诉A2区丽发新城附近建搅拌站噪音扰民"), ["丽发新城"]);
    assert_eq!(
        names("A5区劳动东路魅力之城小区油烟扰民"),
        ["劳动东路", "魅力之城"]
    );
    assert_eq!(names("A市伊景园滨河苑捆绑销售车位"), ["伊景园滨河苑"]);
    assert_eq!(names("A7县春华镇金鼎村水泥路到户"), ["春华镇", "金鼎村"]);
    assert_eq!(
        names("A3区观沙岭郝家坪小学何时改扩建？"),
        ["观沙岭郝家坪小学"]
    );
    assert_eq!(names("朝阳区花家地北里小区夜间施工"), ["花家地北里"]);
    let kinds: Vec<PlaceKind> = extract("A5区劳动东路魅力之城小区")
        .iter()
        .map(|p| p.kind)
        .collect();
    assert_eq!(kinds, [PlaceKind::Road, PlaceKind::Estate]);
}

#[test]
fn generic_words_and_government_are_not_places() {
    assert!(names("请市政府和城管部门管一管，农村道路太差").is_empty());
    assert!(names("我们小区的路灯坏了").is_empty());
    assert!(names("").is_empty() && names("😀，。").is_empty());
}

#[test]
fn place_variants_share_a_bucket_and_match() {
    assert!(same_place("万科魅力之城", "魅力之城"));
    assert!(same_place("李丽发新城", "丽发新城"));
    assert!(same_place("伊景园滨河苑", "滨河苑"));
    assert!(!same_place("金色花园", "银色花园"));
    assert!(
        !same_place("新城", "丽发新城"),
        "two characters are too short to match inside"
    );
    assert_eq!(bucket_key("万科魅力之城"), bucket_key("魅力之城"));
    assert_eq!(bucket_key("李丽发新城"), bucket_key("丽发新城"));
}

fn noise(id: &str, day: i64, place: &str) -> HotspotRecord {
    rec(
        id,
        day,
        &format!("投诉{place}小区附近搅拌站噪音扰民"),
        &format!("{place}小区旁边的搅拌站白天晚上噪音很大，粉尘污染严重，无法休息。"),
    )
}

fn fixture() -> Vec<HotspotRecord> {
    vec![
        noise("a1", 0, "丽发新城"),
        rec(
            "b1",
            1,
            "丽发新城小区停水三天",
            "丽发新城小区已经停水三天了，物业不管。",
        ),
        noise("a2", 2, "丽发新城"),
        noise("c1", 3, "阳光花园"),
        rec(
            "a3",
            4,
            "A2区丽发新城搅拌站彻夜施工扰民",
            "丽发新城附近违建搅拌站，彻夜施工，噪音和灰尘让居民无法休息。",
        ),
        rec(
            "b2",
            5,
            "丽发新城小区又停水了",
            "丽发新城小区今天又停水，请尽快恢复供水。",
        ),
        noise("c2", 6, "阳光花园"),
        noise("a4", 200, "丽发新城"),
    ]
}

#[test]
fn the_same_issue_at_the_same_place_in_time_is_one_problem() {
    let index = mine_index(&mut fixture(), &HotspotConfig::default());
    let of = |id: &str| index.problem_of(id).unwrap();
    assert_eq!(of("a1"), of("a2"));
    assert_eq!(of("a1"), of("a3"), "reworded, same place and issue");
    assert_eq!(of("b1"), of("b2"));
    assert_ne!(of("a1"), of("b1"), "same place, another issue");
    assert_eq!(of("c1"), of("c2"));
    assert_ne!(of("a1"), of("c1"), "same issue, another place");
    assert_ne!(of("a1"), of("a4"), "same issue and place, 196 days later");
    let top = index.problems(10, None);
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].request_ids, ["a1", "a2", "a3"]);
    assert_eq!(top[0].place, "丽发新城");
    assert_eq!(top[0].area.as_deref(), Some("A2区"));
    assert!(top.windows(2).all(|w| w[0].heat >= w[1].heat));
}

#[test]
fn descriptions_are_place_and_problem_without_filler() {
    let top = mine(fixture(), &HotspotConfig::default(), 10);
    let d = &top[0].description;
    assert!(
        d.starts_with("丽发新城 ") && d.contains("搅拌站") && d.ends_with("扰民"),
        "{d}"
    );
    let water = top.iter().find(|p| p.request_ids[0] == "b1").unwrap();
    assert!(water.description.starts_with("丽发新城 ") && water.description.contains("停水"));
    assert_eq!(
        phrase("关于A市伊景园滨河苑捆绑销售车位的问题", &["伊景园滨河苑"]),
        "捆绑销售车位"
    );
    assert_eq!(
        phrase("A5区劳动东路魅力之城小区油烟扰民！", &["魅力之城"]),
        "油烟扰民"
    );
    assert_eq!(description("", "油烟扰民"), "油烟扰民");
    assert_eq!(
        subject(&[
            "A市58车贷案件进展",
            "请关注58车贷案",
            "西地省58车贷立案半年"
        ])
        .as_deref(),
        Some("58车贷案"),
        "the longest run in at least 60 % of the titles"
    );
}

#[test]
fn more_votes_volume_or_dissatisfaction_never_lowers_heat() {
    let w = HeatWeights::default();
    let mut state = 7u64;
    let mut next = |n: u64| {
        state = crate::seeded::splitmix64(state);
        state % n
    };
    for _ in 0..2000 {
        let x = HeatInputs {
            requests: 1 + next(500),
            requesters: 1 + next(500),
            recent: next(100),
            votes: next(5000),
            dissatisfied: next(50),
        };
        let h = heat(&x, &w);
        for more in [
            HeatInputs {
                requests: x.requests + 1,
                ..x
            },
            HeatInputs {
                requesters: x.requesters + 1,
                ..x
            },
            HeatInputs {
                recent: x.recent + 1,
                ..x
            },
            HeatInputs {
                votes: x.votes + 1 + next(1000),
                ..x
            },
            HeatInputs {
                dissatisfied: x.dissatisfied + 1,
                ..x
            },
        ] {
            assert!(heat(&more, &w) >= h, "{more:?} vs {x:?}");
        }
    }
    let one = HeatInputs {
        requests: 1,
        requesters: 1,
        ..Default::default()
    };
    assert_eq!(heat(&one, &w), 13.9);
}

#[test]
fn a_problem_with_more_requests_or_votes_ranks_higher() {
    let mut records = fixture();
    records.push(noise("c3", 7, "阳光花园"));
    records.push(noise("c4", 8, "阳光花园"));
    let top = mine(records.clone(), &HotspotConfig::default(), 10);
    assert_eq!(top[0].place, "阳光花园");
    records.iter_mut().find(|r| r.id == "b1").unwrap().upvotes = 5000;
    let top = mine(records, &HotspotConfig::default(), 10);
    assert_eq!(top[0].request_ids, ["b1", "b2"]);
}

fn groups(index: &HotspotIndex, ids: &[String]) -> Vec<u32> {
    ids.iter().map(|i| index.problem_of(i).unwrap()).collect()
}

#[test]
fn incremental_inserts_in_time_order_give_the_batch_grouping() {
    let mut records = fixture();
    if let Some(real) = super::eval::load() {
        records = real;
    }
    let batch = mine_index(&mut records.clone(), &HotspotConfig::default());
    records.sort_by(|a, b| a.submitted_at.cmp(&b.submitted_at).then(a.id.cmp(&b.id)));
    let mut index = HotspotIndex::new(HotspotConfig::default());
    for r in &records {
        index.insert(r);
    }
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(groups(&index, &ids), groups(&batch, &ids));
    assert_eq!(index.problems(20, None), batch.problems(20, None));
    // inserting a request again changes nothing
    let again = index.insert(&records[0]);
    assert!(!again.created);
    assert_eq!(index.len(), records.len());
}

#[test]
fn a_given_place_joins_requests_whose_texts_name_it_differently() {
    let hint = |r: HotspotRecord| HotspotRecord {
        place: Some(PlaceHint {
            code: Some("110105026001".into()),
            name: "花家地北里社区".into(),
        }),
        ..r
    };
    let a = hint(rec(
        "1",
        0,
        "夜间施工噪音扰民",
        "楼下工地夜间施工，噪音扰民到凌晨",
    ));
    let b = hint(rec(
        "2",
        1,
        "工地夜间施工噪音太大",
        "工地每天夜间施工噪音太大无法休息",
    ));
    let top = mine(vec![a, b], &HotspotConfig::default(), 5);
    assert_eq!(top[0].request_ids, ["1", "2"]);
    assert_eq!(top[0].place, "花家地北里");
}

#[test]
fn the_same_issue_elsewhere_is_similar_and_another_issue_is_not() {
    let mut index = HotspotIndex::new(HotspotConfig::default());
    for r in [
        rec("1", 0, "花家地北里小区夜间施工噪音扰民", ""),
        rec("2", 1, "花家地北里小区工地夜间施工噪音太大", ""),
        rec("3", 2, "丽泽雅园小区工地夜间施工噪音扰民", ""),
        rec("4", 3, "望京西园三区停车难", ""),
    ] {
        index.insert(&r);
    }
    let here = index.problem_of("1").unwrap();
    let there = index.problem_of("3").unwrap();
    assert_ne!(here, there, "different places stay different problems");
    let similar = index.similar(here, 0.3, 10);
    assert_eq!(similar.first().map(|s| s.0), Some(there), "{similar:?}");
    let parking = index.problem_of("4").unwrap();
    assert!(similar.iter().all(|s| s.0 != parking));
    let p = index.problem_by_id(there).unwrap();
    assert_eq!(p.request_ids, ["3"]);
    assert_eq!(p.place, "丽泽雅园");
}
