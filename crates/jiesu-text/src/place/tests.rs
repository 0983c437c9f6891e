//! Table-driven tests of place resolution against the shipped `reference/units.csv`.

use std::sync::OnceLock;

use super::*;

fn gazetteer() -> &'static Gazetteer {
    static G: OnceLock<Gazetteer> = OnceLock::new();
    G.get_or_init(|| {
        let csv = include_str!("../../../../reference/units.csv");
        Gazetteer::from_units_csv(csv).expect("units.csv builds")
    })
}

fn code(u: &Option<PlaceUnit>) -> Option<&str> {
    u.as_ref().map(|u| u.code.as_str())
}

/// The streets of a result's alternatives, best first.
fn alternative_streets(m: &PlaceMatch) -> Vec<&str> {
    m.alternatives
        .iter()
        .filter_map(|c| code(&c.street))
        .collect()
}

/// Each text resolves, without ambiguity, to the street with this code.
fn resolve_to_streets(cases: &[(&str, &str)]) {
    for &(text, street) in cases {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
        assert_eq!(code(&m.street), Some(street), "{text}");
    }
}

/// No text resolves to the street paired with it (a word or another place, not that street).
fn not_to_streets(cases: &[(&str, &str)]) {
    for &(text, not) in cases {
        let m = gazetteer().resolve(text);
        assert_ne!(code(&m.street), Some(not), "{text}: {m:?}");
    }
}

/// Each text resolves to no place at all.
fn resolve_to_nothing(texts: &[&str]) {
    for &text in texts {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::None, "{text}: {m:?}");
    }
}

/// Each text resolves to the street, with the namesake's street among the alternatives
/// (a name at home in one street and borne in others).
fn resolve_at_home(cases: &[(&str, &str, &str)]) {
    for &(text, street, namesake) in cases {
        let m = gazetteer().resolve(text);
        assert_eq!(code(&m.street), Some(street), "{text}: {m:?}");
        assert!(alternative_streets(&m).contains(&namesake), "{text}: {m:?}");
    }
}

#[test]
fn messages_resolve_to_the_unit_people_mean() {
    // (text, district, street, community)
    let cases: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        (
            "朝阳区望京西园三区夜间施工",
            "110105",
            Some("110105026"),
            Some("110105026051"),
        ),
        (
            "花家地西里小区停车难",
            "110105",
            Some("110105026"),
            Some("110105026034"),
        ),
        // A long avenue through several streets names only its district.
        ("海淀区中关村大街", "110108", None, None),
        (
            "朝阳望京，晚上渣土车太吵",
            "110105",
            Some("110105026"),
            None,
        ),
        (
            "朝阳区 小黄庄社区楼道堆物",
            "110105",
            Some("110105007"),
            Some("110105007045"),
        ),
        (
            "东城区小黄庄有人私搭乱建",
            "110101",
            Some("110101010"),
            Some("110101010017"),
        ),
        ("国贸附近夜间施工噪音", "110105", Some("110105001"), None),
        ("天坛东门附近有人拉客", "110101", Some("110101016"), None),
        ("昌平区回龙观龙泽园街道", "110114", Some("110114012"), None),
        ("回龙观地铁站门口黑车", "110114", Some("110114011"), None),
        ("怀柔下雪路滑", "110116", None, None),
        ("怀柔地区办事处不回电话", "110116", Some("110116003"), None),
        ("东城区东四有人占道经营", "110101", Some("110101006"), None),
        ("朝阳门内大街修路", "110101", Some("110101007"), None),
        (
            "北京市大兴区亦庄镇的路灯不亮",
            "110115",
            Some("110115004"),
            None,
        ),
        (
            "通州区宋庄镇小堡村垃圾没人清",
            "110112",
            Some("110112104"),
            Some("110112104211"),
        ),
        (
            "金盏乡楼梓庄村断水",
            "110105",
            Some("110105036"),
            Some("110105036206"),
        ),
        ("海淀区八里庄街道", "110108", Some("110108005"), None),
        (
            "望京村委会",
            "110105",
            Some("110105038"),
            Some("110105038209"),
        ),
        ("北京经开区企业咨询政策", "110115", Some("110115403"), None),
        (
            "朝阳区\u{3000}望京街道　花家地社区",
            "110105",
            Some("110105026"),
            Some("110105026041"),
        ),
        (
            "中国矿业大学(北京)社区",
            "110108",
            Some("110108010"),
            Some("110108010027"),
        ),
    ];
    let g = gazetteer();
    for &(text, district, street, community) in cases {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
        assert_eq!(code(&m.district), Some(district), "{text}");
        assert_eq!(code(&m.street), street, "{text}");
        assert_eq!(code(&m.community), community, "{text}");
        assert!(
            m.confidence > 0.3 && m.confidence <= 1.0,
            "{text}: {}",
            m.confidence
        );
        assert!(!m.matched.is_empty(), "{text}");
    }
}

#[test]
fn names_shared_by_several_units_are_reported_ambiguous_not_guessed() {
    // (text, district all readings share, codes that must be among the alternatives)
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (
            "小黄庄社区门口垃圾桶满了",
            None,
            &["110101010017", "110105007045"],
        ),
        ("青年湖社区停车难", None, &["110101010026", "110102020002"]),
        ("八里庄街道办事处", None, &["110105015", "110108005"]),
        // 天通苑 lies in 天通苑北 and 天通苑南: the district is certain, the street is not.
        (
            "我住天通苑，小区供暖不热",
            Some("110114"),
            &["110114008", "110114009"],
        ),
        ("高庄村的路坏了", None, &["110111109218", "110112106220"]),
        (
            "楼梓庄村委会",
            Some("110105"),
            &["110105021200", "110105036206"],
        ),
        (
            "望京和三里屯都有这个问题",
            Some("110105"),
            &["110105026", "110105004"],
        ),
    ];
    let g = gazetteer();
    for &(text, district, wanted) in cases {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Ambiguous, "{text}: {m:?}");
        assert_eq!(code(&m.district), district, "{text}");
        assert_eq!(m.community, None, "{text}");
        assert!(m.alternatives.len() >= 2 && m.alternatives.len() <= MAX_ALTERNATIVES);
        let deepest =
            |c: &PlaceCandidate| code(&c.community).or(code(&c.street)).map(str::to_string);
        let alts: Vec<String> = m.alternatives.iter().filter_map(deepest).collect();
        for w in wanted {
            assert!(alts.iter().any(|a| a == w), "{text}: {w} not in {alts:?}");
        }
    }
}

#[test]
fn an_ambiguous_name_resolves_once_the_district_is_named() {
    let g = gazetteer();
    let m = g.resolve("朝阳区小黄庄社区门口垃圾桶满了");
    assert_eq!(m.status, PlaceStatus::Resolved);
    assert_eq!(code(&m.community), Some("110105007045"));
    // The other 小黄庄 stays visible as a weaker alternative.
    assert_eq!(code(&m.alternatives[0].community), Some("110101010017"));
    assert!(m.alternatives[0].confidence < m.confidence);
}

#[test]
fn places_elsewhere_in_china_are_outside_the_city() {
    // (text, province, city, district)
    let cases: &[(&str, &str, &str, Option<&str>)] = &[
        ("上海市浦东新区张江镇", "上海市", "上海市", Some("浦东新区")),
        ("我户口在河北省廊坊市", "河北省", "廊坊市", None),
        ("天津", "天津市", "天津市", None),
        (
            "我住在天津市河西区友谊路",
            "天津市",
            "天津市",
            Some("河西区"),
        ),
        (
            "辽宁省朝阳市双塔区的房子",
            "辽宁省",
            "朝阳市",
            Some("双塔区"),
        ),
        ("家在燕郊，每天堵车", "河北省", "廊坊市", Some("三河市")),
        ("在廊坊上班的社保问题", "河北省", "廊坊市", None),
    ];
    let g = gazetteer();
    for &(text, province, city, district) in cases {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::OutsideCity, "{text}: {m:?}");
        assert_eq!(m.district, None, "{text}");
        let o = m.outside.expect("outside place");
        assert_eq!(o.province.as_deref(), Some(province), "{text}");
        assert_eq!(o.city.as_deref(), Some(city), "{text}");
        assert_eq!(o.district.as_deref(), district, "{text}");
    }
}

#[test]
fn a_province_s_short_name_before_cun_is_a_village_not_the_province() {
    // 河南村 is a village of 房山, 顺义, 大兴 and 延庆, not 河南省; 河南郑州 stays Henan.
    let g = gazetteer();
    let m = g.resolve("河南村那边一个加工厂，工人反映车间没有消防通道");
    assert_ne!(m.status, PlaceStatus::OutsideCity, "{m:?}");
    let m = g.resolve("我老家河南郑州的社保能转过来吗");
    assert_eq!(m.status, PlaceStatus::OutsideCity, "{m:?}");
}

#[test]
fn beijing_wins_when_both_beijing_and_elsewhere_are_named() {
    let g = gazetteer();
    let m = g.resolve("河北省廊坊市的社保能转到北京朝阳区吗");
    assert_eq!(m.status, PlaceStatus::Resolved);
    assert_eq!(code(&m.district), Some("110105"));
    assert_eq!(g.resolve("朝阳望京").status, PlaceStatus::Resolved);
    assert_eq!(
        g.resolve("深圳的公积金能转到北京吗").status,
        PlaceStatus::None
    );
}

#[test]
fn texts_without_a_place_resolve_to_none_without_panicking() {
    let huge = "啊".repeat(150_000) + "朝阳区望京";
    let late = "啊".repeat(MAX_CHARS) + "朝阳区";
    let noise: String = (0u32..0x3000).filter_map(char::from_u32).collect();
    let cases: Vec<&str> = vec![
        "",
        "   \t\n ",
        "我家楼下",
        "小区物业不作为，楼道堆放杂物",
        "hello world, the heating is broken",
        "😀🎉🔥",
        "\u{0}\u{1}\u{7f}\u{200b}",
        "新村",
        "中心",
        "东区",
        "幸福社区",
        "政府大兴土木搞绿化",
        "一间门脸里开了三家店",
        &huge,
        &late,
        &noise,
    ];
    let g = gazetteer();
    for text in cases {
        let m = g.resolve(text);
        let shown: String = text.chars().take(20).collect();
        assert_eq!(m.status, PlaceStatus::None, "{shown:?}: {m:?}");
        assert_eq!(m.confidence, 0.0);
        assert!(m.matched.is_empty() && m.alternatives.is_empty() && m.outside.is_none());
    }
}

#[test]
fn short_forms_need_a_named_ancestor() {
    let g = gazetteer();
    // 东四 is a street but also just two characters: alone it says nothing.
    assert_eq!(g.resolve("东四").status, PlaceStatus::None);
    let m = g.resolve("东城东四");
    assert_eq!(code(&m.street), Some("110101006"));
    assert_eq!(m.matched, vec!["东城", "东四"]);
    // Inside a word a street's short name is no place: 经常营业 holds 常营, 权利和义务 和义,
    // 马路上地面 上地.
    resolve_to_nothing(&["这家店经常营业到深夜", "我们有权利和义务", "马路上地面开裂"]);
    // 天桥 is any footbridge: even 天桥附近 names no street without its district.
    assert_eq!(g.resolve("天桥附近有人摆摊").status, PlaceStatus::None);
    assert_eq!(code(&g.resolve("西城天桥").street), Some("110102014"));
    // A two-character community core (枣园) needs its district or street too.
    assert_eq!(g.resolve("枣园").status, PlaceStatus::None);
    // …or a unit lying in them that another mention names: 小堡村 alone is two villages
    // (宋庄, 香营); with 宋庄 before it, 宋庄's.
    let m = g.resolve("宋庄小堡村那边画室装修半夜还在弄");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    assert_eq!(code(&m.community), Some("110112104211"), "{m:?}");
    // Right before it only: elsewhere in the text the two characters are a word (清水,
    // 河北 the province), and 台上村, 半壁店村 stay as ambiguous as they are alone.
    for text in [
        "用清水冲了半天还是有味，台上村的垃圾站",
        "我老家河北的，现在租住在半壁店村",
    ] {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Ambiguous, "{text}: {m:?}");
        assert_eq!(m.district, None, "{text}: {m:?}");
    }
}

#[test]
fn the_south_exit_of_a_station_is_not_nankou_the_town() {
    let g = gazetteer();
    let m = g.resolve("南口那边采石场扬尘");
    assert_eq!(code(&m.street), Some("110114002"), "{m:?}");
    for text in ["地铁站南口那边有人发小广告", "小区南口附近垃圾没人清"] {
        let m = g.resolve(text);
        assert_ne!(code(&m.street), Some("110114002"), "{text}: {m:?}");
    }
}

#[test]
fn two_places_that_agree_decide_between_the_units_of_one() {
    let g = gazetteer();
    // 肿瘤医院 alone is two hospitals; 潘家园 says which.
    assert_eq!(
        g.resolve("肿瘤医院门口停车难").status,
        PlaceStatus::Ambiguous
    );
    let m = g.resolve("潘家园那个肿瘤医院门口停车难");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    assert_eq!(code(&m.street), Some("110105018"));
    // The 八里庄 hospital that lost is damped by the answer as the answer is by it.
    assert_eq!(code(&m.alternatives[0].street), Some("110108005"), "{m:?}");
    assert!(m.alternatives[0].confidence < m.confidence, "{m:?}");
    // Two spellings of one place count once: 工体 and 工人体育场 (三里屯) against 团结湖.
    let m = g.resolve("工体、工人体育场和团结湖");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
}

#[test]
fn a_named_street_outweighs_namesakes_of_a_landmark_elsewhere() {
    let g = gazetteer();
    // 月季园 alone is 大峪's estate (three communities) before 花园路's (one), which stays an
    // alternative; said with 魏善庄 it is the rose garden there, 花园路's estate stays an
    // alternative, and 大峪's, a reading only as the name's home, gives way to the named street.
    resolve_at_home(&[("月季园门口停车乱收费", "110109001", "110108018")]);
    let m = g.resolve("魏善庄那个月季园，门口停车乱收费");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    assert_eq!(code(&m.street), Some("110115110"), "{m:?}");
    assert!(alternative_streets(&m).contains(&"110108018"), "{m:?}");
    // A word that is both (十里堡: a place of 朝阳, a township of 密云) decides nothing.
    let m = g.resolve("十里堡那片的老楼电梯又坏了");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    // A place across streets of one district, said with another street, is two places too.
    for text in ["天通苑和回龙观都堵", "住在亦庄，老家魏善庄"] {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Ambiguous, "{text}: {m:?}");
    }
    // A landmark of one place said with another street is two places, as before.
    let m = g.resolve("国贸和团结湖都有这个问题");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
}

#[test]
fn a_landmark_is_more_than_the_community_named_after_it() {
    let g = gazetteer();
    // 王府井社区 is one community of the 王府井 area: the landmark names the street.
    let m = g.resolve("王府井人太多");
    assert_eq!(code(&m.street), Some("110101001"));
    assert_eq!(m.community, None, "{m:?}");
}

#[test]
fn a_street_s_own_short_name_and_station_name_it_alone() {
    let g = gazetteer();
    // Curated street and township names callers say alone.
    resolve_to_streets(&[
        ("劲松那边老旧小区改造扰民", "110105017"),
        ("旧宫那边路灯不亮", "110115006"),
        ("窦店附近大货车太多", "110111103"),
        ("常营站外面电动车乱停", "110105033"),
        ("霍营地铁站东侧停车场乱收费", "110114010"),
    ]);
    // A district's name is the district, not its township of the same name.
    let m = g.resolve("怀柔那边空气好");
    assert_eq!(code(&m.district), Some("110116"));
    assert_eq!(m.street, None);
    // An idiom that holds a township's name is no place.
    assert_eq!(g.resolve("走上康庄大道").status, PlaceStatus::None);
}

#[test]
fn an_estate_is_named_by_its_communities() {
    let g = gazetteer();
    // 万年花城第一社区 and 万年花城第二社区 lie in one street: the estate names it.
    let m = g.resolve("万年花城小区停车乱收费");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    assert_eq!(code(&m.street), Some("110106010"));
    // 安慧北里秀雅社区: the estate is 安慧北里.
    let m = g.resolve("安慧北里小区有人飞线充电");
    assert_eq!(code(&m.street), Some("110105025"), "{m:?}");
    // An estate whose name is one community's own (彩虹城社区, 石榴庄) and whose other part
    // lies in another street (彩虹城第二社区, 东铁匠营) names both streets.
    let m = g.resolve("彩虹城小区门口的早市太吵了");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    let alts = alternative_streets(&m);
    assert!(
        alts.contains(&"110106021") && alts.contains(&"110106004"),
        "{m:?}"
    );
    // Two estates of one name in two districts: 太阳城第一…第三 of 仁和 fill a street, and are
    // the one callers mean; 小汤山's 太阳城社区 stays the alternative.
    resolve_at_home(&[("太阳城小区", "110113003", "110114110")]);
}

#[test]
fn the_result_serialises_with_snake_case_names() {
    let m = gazetteer().resolve("上海市浦东新区");
    let json = serde_json::to_value(&m).expect("serialises");
    assert_eq!(json["status"], "outside_city");
    assert_eq!(json["outside"]["district"], "浦东新区");
    let m = gazetteer().resolve("望京街道");
    let json = serde_json::to_value(&m).expect("serialises");
    assert_eq!(json["status"], "resolved");
    assert_eq!(json["street"]["level"], "subdistrict");
    assert_eq!(json["street"]["name"], "望京街道");
}

#[test]
fn units_are_looked_up_by_code_and_non_places_are_skipped() {
    let g = gazetteer();
    let u = g.unit("110105026034").expect("community");
    assert_eq!(
        (u.name.as_str(), u.level),
        ("花家地西里社区居委会", PlaceLevel::Community)
    );
    assert_eq!(
        g.unit("110116").map(|u| u.level),
        Some(PlaceLevel::District)
    );
    assert_eq!(g.unit("dept.ga"), None);
    assert_eq!(g.unit("center"), None);
    assert_eq!(g.len(), 16 + 165 + 178 + 6 + 3735 + 3800);
}

#[test]
fn a_broken_units_table_is_refused_with_a_reason() {
    let header = "code,name,level,parent_code,short_name,aliases\n";
    let cases: &[(&str, &str)] = &[
        (
            "code,name,level\n110105,朝阳区,district\n",
            "missing column",
        ),
        ("110105,朝阳区,county,,朝阳,\n", "unknown level"),
        (
            "110105026,望京街道,subdistrict,110199,望京,\n",
            "wrong-level parent",
        ),
        (
            "110105,朝阳区,district,,朝阳,\n110105,朝阳区,district,,朝阳,\n",
            "duplicate",
        ),
        (
            "dept.ga,北京市公安局,department,,市公安局,\n",
            "no district",
        ),
    ];
    for &(body, reason) in cases {
        let text = if body.starts_with("code") {
            body.to_string()
        } else {
            format!("{header}{body}")
        };
        let err = Gazetteer::from_units_csv(&text)
            .expect_err(body)
            .to_string();
        assert!(err.contains(reason), "{body}: {err}");
    }
}

// Issue 16: the place parser never panics on any text and keeps its invariants.
proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
    #[test]
    fn resolving_any_text_never_panics_and_is_consistent(
        text in "(\\PC|[朝阳区望京街道社区西园三里屯海淀北京市上海路号楼 \\t\\n\\u{0}\\u{200b}])*"
    ) {
        let m = gazetteer().resolve(&text);
        proptest::prop_assert!((0.0..=1.0).contains(&m.confidence), "{}", m.confidence);
        proptest::prop_assert_eq!(&gazetteer().resolve(&text), &m, "deterministic");
        let codes = m.codes();
        if let (Some(d), Some(s)) = (&codes.district, &codes.street) {
            proptest::prop_assert!(s.starts_with(d.as_str()), "street {} under district {}", s, d);
        }
        if let (Some(s), Some(c)) = (&codes.street, &codes.community) {
            proptest::prop_assert!(c.starts_with(s.as_str()), "community {} under street {}", c, s);
        }
        if m.status == PlaceStatus::None {
            proptest::prop_assert!(codes.district.is_none() && codes.street.is_none());
        }
    }
}

#[test]
fn a_gazetteer_for_another_city_treats_that_city_as_home_and_beijing_as_elsewhere() {
    let csv = "code,name,level,parent_code,short_name,aliases\n\
               440106,天河区,district,,天河,\n\
               440106006,石牌街道,subdistrict,440106,石牌,\n\
               440106001,五山街道,subdistrict,440106,五山,\n\
               440103,荔湾区,district,,荔湾,\n";
    let home = HomeCity {
        province: "广东省".into(),
        city: "广州市".into(),
        short: "广州".into(),
    };
    let g = Gazetteer::for_city(csv, &home).unwrap();
    assert_eq!(g.home(), &home);
    for text in [
        "广州市天河区石牌街道华师附近夜间施工",
        "广东省广州市天河区石牌街道某小区",
        "天河区石牌街道路灯不亮",
    ] {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
        assert_eq!(code(&m.street), Some("440106006"), "{text}");
    }
    // Other cities, Beijing among them, are elsewhere; the same text is home in Beijing's.
    for (text, city) in [
        ("深圳市南山区科技园的公积金", "深圳市"),
        ("北京市朝阳区望京西园三区", "北京市"),
    ] {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::OutsideCity, "{text}: {m:?}");
        assert_eq!(m.outside.unwrap().city.as_deref(), Some(city), "{text}");
    }
    let m = gazetteer().resolve("北京市朝阳区望京西园三区");
    assert_eq!(m.status, PlaceStatus::Resolved);
    let m = gazetteer().resolve("广州市天河区石牌街道");
    assert_eq!(m.status, PlaceStatus::OutsideCity, "{m:?}");
}

#[test]
fn the_shipped_place_file_is_well_formed_and_names_real_units() {
    let rows = super::forms::place_rows(super::forms::PLACES_TSV).expect("place file parses");
    let g = gazetteer();
    let mut seen = std::collections::HashMap::new();
    let mut districts = std::collections::HashSet::new();
    for row in &rows {
        assert!(row.source.contains("public knowledge"), "line {}", row.line);
        assert!(!row.licence.is_empty(), "line {}", row.line);
        for c in &row.codes {
            let unit = g
                .unit(c)
                .unwrap_or_else(|| panic!("line {}: no unit {c}", row.line));
            assert!(
                unit.level.tier() <= 1,
                "line {}: {c} is a community",
                row.line
            );
            districts.insert(c[..6].to_string());
            // A district listed with a street of its own would lose to it (both weigh as a
            // street): list the streets, or the district alone.
            assert!(
                !row.codes
                    .iter()
                    .any(|o| o != c && o.starts_with(c.as_str())),
                "line {}: {c} is listed with a unit inside it",
                row.line
            );
        }
        for f in &row.forms {
            let codes = row.codes.join("|");
            let before = seen.insert(f.clone(), codes.clone());
            assert!(
                before.is_none_or(|b| b == codes),
                "line {}: {f} already names other units",
                row.line
            );
        }
    }
    assert!(rows.len() >= 1_000, "{} rows", rows.len());
    assert_eq!(districts.len(), 16, "every district has places");
    let bad = "form\tkind\tunits\tsource\tlicence\n上地{N}街\tcastle\t110108022\tx\ty\n";
    assert!(super::forms::place_rows(bad)
        .unwrap_err()
        .contains("line 2"));
    let short = "form\tkind\tunits\tsource\tlicence\n上地{N}街\troad\t110108022\n";
    assert!(super::forms::place_rows(short).is_err());
    // One home, among several units.
    for units in [
        "110108022*",
        "110108022*|110108023*",
        "110108022**|110108023",
        "110108022*|110108022",
    ] {
        let row = format!("form\tkind\tunits\tsource\tlicence\n上地\tarea\t{units}\tx\ty\n");
        assert!(super::forms::place_rows(&row).is_err(), "{units}");
    }
}

#[test]
fn a_name_of_several_places_marked_at_home_resolves_there_with_the_others_as_alternatives() {
    // 政法大学 is the university's main campus in 昌平 and its old one in 海淀.
    resolve_at_home(&[("政法大学门口的路边全是违停", "110114001", "110108008")]);
    let m = gazetteer().resolve("政法大学门口的路边全是违停");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    // The campus the caller names decides.
    resolve_to_streets(&[("法大学院路校区门口违停", "110108008")]);
}

#[test]
fn landmarks_roads_and_patterns_resolve_and_roads_across_streets_stay_ambiguous() {
    let g = gazetteer();
    resolve_to_streets(&[
        ("上地七街有人占道", "110108022"),
        ("上地7街有人占道", "110108022"),
        ("科创十三街的厂房", "110115403"),
        ("清华大学西门", "110108014"),
        ("雍和宫门口", "110101005"),
    ]);
    // 簋街 runs through two streets of 东城: both are offered, neither is chosen.
    let m = g.resolve("簋街油烟扰民");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    assert_eq!(code(&m.district), Some("110101"));
    assert_eq!(m.street, None);
    let streets: Vec<_> = m
        .alternatives
        .iter()
        .filter_map(|c| code(&c.street))
        .collect();
    assert!(
        streets.contains(&"110101005") && streets.contains(&"110101009"),
        "{streets:?}"
    );
    // 长安街 crosses 东城 and 西城: not even the district is guessed.
    let m = g.resolve("长安街上有人违停");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    assert_eq!(m.district, None);
    // A district named alongside decides it.
    let m = g.resolve("东城区长安街上有人违停");
    assert_eq!(code(&m.district), Some("110101"), "{m:?}");
}

#[test]
fn a_split_village_is_called_by_its_old_name() {
    resolve_to_streets(&[
        // 狼垡一村 … 狼垡四村, all of 黄村地区.
        ("狼垡那边出租房违建", "110115005"),
        // 德仁务前街村, 中街村, 后街村.
        ("德仁务村那边路灯坏了", "110112117"),
        // A village whose whole name is two characters.
        ("皮村那边大货车乱停", "110105036"),
    ]);
    // A two-character name alone is still a word (当时村里: 时村 is a village of 大红门), and
    // an everyday word is one even as a place (稻田一村 … 五村 are villages of 长阳镇). 皮村
    // alone is the place file's.
    for text in ["当时村里没有路灯", "稻田那边的水被污染了", "铁路那片噪音大"]
    {
        assert_eq!(
            gazetteer().resolve(text).status,
            PlaceStatus::None,
            "{text}"
        );
    }
}

#[test]
fn a_name_many_units_share_resolves_where_it_is_at_home() {
    resolve_to_streets(&[
        // Five communities of 天宫院 (海子角, 海子角东里, …) against one village of 黄村.
        ("海子角那边的小区供暖不热", "110115010"),
        // 苏庄一里 … 三里 and 苏庄村 of 西潞 against one 苏庄村 in each of three districts.
        ("苏庄那边有个工地扬尘太大", "110111012"),
        ("康营那边的路修了一半", "110105037"),
    ]);
    // 辛庄 is a village of eighteen streets, none of them its home.
    assert_eq!(
        gazetteer().resolve("辛庄那边有人倒垃圾").status,
        PlaceStatus::Ambiguous
    );
}

#[test]
fn a_place_in_units_of_several_levels_keeps_them_all() {
    let g = gazetteer();
    // 北京建筑大学: 展览路街道 (西城), and a campus in 大兴 known only to its district.
    let m = g.resolve("北京建筑大学门口停车难");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    let districts: Vec<Option<&str>> = m.alternatives.iter().map(|c| code(&c.district)).collect();
    assert!(districts.contains(&Some("110102")), "{m:?}");
    assert!(districts.contains(&Some("110115")), "{m:?}");
    // A district named alongside decides.
    let m = g.resolve("西城区北京建筑大学门口停车难");
    assert_eq!(m.status, PlaceStatus::Resolved, "{m:?}");
    assert_eq!(code(&m.street), Some("110102009"));
}

#[test]
fn words_of_place_after_everyday_words_name_nothing() {
    let g = gazetteer();
    for text in [
        "我们这边停水了",
        "那块地一直荒着",
        "三环这边堵车",
        "东边那块有人烧垃圾",
        "河西这边下雨积水",
        "火车站路口有人拉客",
        "汽车站路边乱停车",
    ] {
        let m = g.resolve(text);
        assert_ne!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
    }
    // A name at home in a street keeps its namesakes as alternatives, and its own unit.
    let m = g.resolve("海子角那边的小区供暖不热");
    assert_eq!(code(&m.street), Some("110115010"), "{m:?}");
    assert!(m.community.is_some(), "{m:?}");
    assert!(
        m.alternatives
            .iter()
            .any(|c| code(&c.street) == Some("110115005")),
        "{m:?}"
    );
}

#[test]
fn a_community_numbered_with_di_is_said_without_it_but_never_bare() {
    // 星城第三社区 and 慧忠里第一社区, said 星城三社区 and 慧忠里一社区.
    for (text, community) in [
        ("星城三社区楼下的健身器材坏了", "110111007003"),
        ("慧忠里一社区门口有人占道", "110105025034"),
    ] {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
        assert_eq!(code(&m.community), Some(community), "{text}");
    }
    // Without its level word the shortened name is a number after a name, not a place.
    let m = gazetteer().resolve("星城三楼下的健身器材坏了");
    assert_ne!(code(&m.community), Some("110111007003"), "{m:?}");
    use super::forms::without_ordinal;
    assert_eq!(without_ordinal("星城第三").as_deref(), Some("星城三"));
    assert_eq!(without_ordinal("第三"), None);
    assert_eq!(without_ordinal("星城第"), None);
    assert_eq!(without_ordinal("星第三"), None);
    // Block words alone are no name: 马家堡's 西里第一社区 does not take 新街口's 西里一区.
    assert_eq!(without_ordinal("西里第一"), None);
    let m = gazetteer().resolve("西里一社区门口堆满垃圾");
    assert_ne!(code(&m.street), Some("110106015"), "{m:?}");
}

#[test]
fn a_community_health_centre_is_at_the_street_it_is_named_after() {
    resolve_to_streets(&[
        ("劲松社区卫生服务中心抽血排队都排到楼外头了", "110105017"),
        ("看丹社区卫生服务中心的医生太少", "110106023"),
        ("旧宫社区卫生服务中心开药要排队", "110115006"),
    ]);
    // A health station (社区卫生服务站) is named after its community: 马坊社区 of 东升, not
    // 平谷's township 马坊.
    let m = gazetteer().resolve("马坊社区卫生服务站关门了");
    assert_ne!(code(&m.street), Some("110117005"), "{m:?}");
    // Nor is a street's short name an exit: 八角出口 is the export of star anise.
    let m = gazetteer().resolve("今年八角出口价格下跌");
    assert_eq!(m.status, PlaceStatus::None, "{m:?}");
    // A street's name that is an everyday word stays no place (天桥 is any footbridge, 果园
    // any orchard).
    resolve_to_nothing(&["天桥社区卫生服务中心打疫苗", "果园社区卫生服务中心打疫苗"]);
}

#[test]
fn nankou_right_after_another_place_is_its_south_exit_not_the_town() {
    // 王府井南口, 天通苑站南口: the south end of the street or station.
    for text in ["王府井南口那块儿出租车乱停", "天通苑站南口那边黑车多"] {
        let m = gazetteer().resolve(text);
        assert_ne!(code(&m.street), Some("110114002"), "{text}: {m:?}");
        assert!(
            !alternative_streets(&m).contains(&"110114002"),
            "{text}: {m:?}"
        );
    }
    assert_eq!(
        code(&gazetteer().resolve("王府井南口那块儿出租车乱停").street),
        Some("110101001")
    );
    // The town itself, alone or after its district's name, stays the town.
    resolve_to_streets(&[
        ("南口那边暖气不热", "110114002"),
        ("昌平南口那边暖气不热", "110114002"),
    ]);
}

#[test]
fn a_two_character_estate_name_of_one_street_is_a_place_only_with_a_word_of_place() {
    // 潞苑 of 潞苑南里, 潞苑北里, 潞苑嘉园 (all in 潞邑); 贵园 of 贵园东/西/南/北里 (亦庄).
    resolve_to_streets(&[
        ("潞苑那边的小区半夜大车拉渣土", "110112013"),
        ("亦庄贵园那边的老小区车棚漏雨", "110115004"),
    ]);
    resolve_to_nothing(&[
        // Alone it is no place: two characters are too often a word.
        "潞苑的房价怎么样",
        // Names of cities and counties elsewhere (玉林市, 新安县) and ordinary words (a
        // nursery) stay no place even with 那边.
        "玉林那边的亲戚来北京看病",
        "新安那边的厂子",
        "苗圃那边有人烧树叶",
    ]);
}

#[test]
fn the_first_lane_of_a_numbered_row_is_its_toutiao() {
    // 东四{N}条 and 西四北{N}条 are numbered rows of lanes; the first is 头条, not 一条.
    resolve_to_streets(&[
        ("西四北头条胡同里头违停的车把消防通道都堵了", "110102003"),
        ("东四头条胡同里有人私搭乱建", "110101006"),
        ("西四北三条胡同停车", "110102003"),
    ]);
    // Only a row of lanes (条) has one: 上地{N}街 has no 上地头街.
    let rows = super::forms::place_rows(
        "form\tkind\tunits\tsource\tlicence\n上地{N}街\troad\t110108022\tx\ty\n",
    )
    .unwrap();
    assert!(!rows[0].forms.iter().any(|f| f.contains('头')));
    assert_eq!(rows[0].forms.len(), 40);
}

#[test]
fn a_form_that_starts_with_a_digit_does_not_start_inside_a_number() {
    resolve_to_streets(&[("在798里面看见有个井盖翘起来了", "110105011")]);
    // A price that ends in 798 is no art district.
    let m = gazetteer().resolve("这个套餐1798里面包含两瓶饮料");
    assert_eq!(m.status, PlaceStatus::None, "{m:?}");
}

#[test]
fn a_village_name_the_place_file_knows_without_its_cun_is_that_village_first() {
    // The file's 小堡 is the artists' village of 宋庄 and its 三家店 is 龙泉's: said with
    // 村 they resolve there, and the namesakes (延庆's 小堡村, 顺义's 三家店村) stay
    // alternatives.
    let g = gazetteer();
    for (text, village, namesake) in [
        ("小堡村的路坏了", "110112104211", "110119202207"),
        ("三家店村附近有人烧秸秆", "110109007205", "110113008204"),
    ] {
        let m = g.resolve(text);
        assert_eq!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
        assert_eq!(code(&m.community), Some(village), "{text}");
        assert!(
            m.alternatives
                .iter()
                .any(|c| code(&c.community) == Some(namesake)),
            "{text}: {m:?}"
        );
    }
    // A district the text names decides for its own village: the file's 岳各庄 is 丰台's.
    for text in ["平谷区岳各庄村有人烧秸秆", "平谷城边上的岳各庄村有人烧秸秆"]
    {
        let m = g.resolve(text);
        assert_eq!(code(&m.community), Some("110117003208"), "{text}: {m:?}");
    }
    assert_eq!(
        code(&g.resolve("延庆的小堡村有人烧秸秆").community),
        Some("110119202207")
    );
}

#[test]
fn street_names_that_are_no_everyday_word_are_said_with_nabian() {
    // 城子 (门头沟) and 永顺 (通州) are no words of their own: said as places they are the
    // streets, as every writer of the test sets who named them said. 古城 is a word too, said
    // with 那边 the street of 石景山; 果园 stays a word (and 通州's 果园 is no street).
    resolve_to_streets(&[
        ("城子那边的老楼外墙往下掉皮", "110109002"),
        ("永顺那边的回迁楼暖气不热", "110112120"),
        ("古城那边的老楼外墙往下掉皮", "110107004"),
    ]);
    let text = "果园那边的老楼外墙往下掉皮";
    assert_eq!(
        gazetteer().resolve(text).status,
        PlaceStatus::None,
        "{text}"
    );
}

#[test]
fn a_streets_short_name_right_before_a_place_in_it_decides_between_namesakes() {
    // 月季园 is an estate of 大峪 (门头沟) and one of 花园路 (海淀): said right after 大峪 it
    // is 大峪's, as after 门头沟; after 花园路 or 海淀 it is 花园路's, though 大峪 is its home.
    resolve_to_streets(&[
        ("大峪月季园小区的暖气一直不热", "110109001"),
        ("门头沟月季园小区的暖气一直不热", "110109001"),
        ("花园路月季园小区的暖气一直不热", "110108018"),
        ("海淀月季园小区的暖气一直不热", "110108018"),
    ]);
}

#[test]
fn review_cases_of_the_session_39_rules_stay_as_they_should() {
    let g = gazetteer();
    // A number before the place, a space apart, is a number of its own.
    resolve_to_streets(&[
        ("联系电话13800138000 798艺术区井盖坏了", "110105011"),
        ("反映人电话：13800138000 774厂宿舍楼漏水", "110105011"),
        // After a short name that needs the town to be a place, 南口 is the town; so are
        // the town's own places after its name.
        ("沙河南口那边", "110114002"),
        ("阳坊南口那边", "110114002"),
        ("南口镇南口火车站", "110114002"),
        ("王府井地铁南口那边", "110101001"),
        // A district or street named by name decides against a home.
        ("香营乡小堡村", "110119202"),
        ("宋庄王辛庄村", "110112104"),
    ]);
    // A two-character estate name some of whose namesakes lie in other streets names none
    // (安慧北里 of 大屯, 安慧里 and 安慧桥 of 亚运村).
    resolve_to_nothing(&["安慧那边停车难", "海户那边", "翠微那边"]);
    // A row that only repeats a township's name makes no home of its village namesakes; the
    // town's own village, whose name it bears, is (王辛庄村 of 平谷's 王辛庄; 宋庄's stays an
    // alternative).
    resolve_at_home(&[("王辛庄村", "110117110", "110112104")]);
    // With the place named outright, a home elsewhere does not lower the confidence.
    assert!(g.resolve("香营乡小堡村").confidence > 0.7);
}

#[test]
fn a_place_right_before_xian_names_a_rail_line_not_where_the_caller_is() {
    // 大兴机场线 runs from 草桥 to the airport: the caller is at 草桥.
    resolve_to_streets(&[("草桥地铁站换乘大兴机场线的指引太少了", "110106022")]);
    let m = gazetteer().resolve("坐大兴机场线去机场要多久");
    assert_eq!(m.status, PlaceStatus::None, "{m:?}");
    // 线下 and 线上 (offline, online) leave the place, and so do a village's 线路 (wiring).
    resolve_to_streets(&[
        ("中关村线下门店退款一直不给办", "110108011"),
        ("王佐怪村线路老化经常跳闸", "110106101"),
    ]);
}

#[test]
fn a_place_someone_goes_to_does_not_outweigh_the_place_it_happens() {
    // Black cabs at 常营 touting rides to 通州, at 颐和园 to 八达岭: the place is where they wait.
    resolve_to_streets(&[
        ("常营龙湖天街门口晚上黑车揽客，问去不去通州", "110105033"),
        ("颐和园北宫门外还有人拉游客坐黑车去八达岭", "110108013"),
    ]);
    // Alone, the district is all the text says.
    let m = gazetteer().resolve("去通州的路上堵车");
    assert_eq!(code(&m.district), Some("110112"), "{m:?}");
    // A place someone goes to without a ride is what the text is about (a service centre).
    let m = gazetteer().resolve("我户口在昌平，去海淀区政务服务中心办居住证被推诿");
    assert_ne!(code(&m.district), Some("110114"), "{m:?}");
    // A weak word (上地 of 上地铁) is no other place to outweigh the destination.
    resolve_to_streets(&[("每天坐车上地铁去望京上班，站外黑车太多", "110105026")]);
}

#[test]
fn a_two_character_street_name_after_zhu_is_where_the_caller_lives() {
    resolve_to_streets(&[
        ("我住窦店，小区门口没有公交", "110111103"),
        ("家住在旧宫，楼下垃圾没人清", "110115006"),
    ]);
    // A longer name starting there is still that name (清河营 of 来广营, not 清河), and 住 of
    // another verb says no one lives there (挡住南口 blocks an entrance).
    resolve_to_streets(&[("我住在清河营，楼下天天有人烧烤", "110105032")]);
    let m = gazetteer().resolve("施工围挡挡住南口，进出很不方便");
    assert_ne!(code(&m.street), Some("110114002"), "{m:?}");
}

#[test]
fn a_two_character_street_name_opening_a_clause_before_de_is_the_street() {
    resolve_to_streets(&[
        ("我想投诉一下，窦店的工业园区里有企业冒黑烟", "110111103"),
        ("张镇的大集每次都把路口堵死", "110113110"),
    ]);
    // Inside a clause it may be part of a word, an everyday word stays one (平房的), and a
    // name owning no place is a word too (八角的价格 is star anise's price).
    resolve_to_nothing(&[
        "他说窦店的事不归这里管",
        "平房的屋顶漏雨了",
        "八角的价格比上个月翻了一倍",
        "北房的墙裂了好几道缝",
    ]);
}

#[test]
fn a_village_too_short_to_name_alone_is_named_after_its_street() {
    // 怪村 (one character before 村) of 王佐镇.
    resolve_to_streets(&[("王佐怪村村口的垃圾站味道特别大", "110106101")]);
    let m = gazetteer().resolve("怪村村口的垃圾站味道特别大");
    assert_eq!(m.status, PlaceStatus::None, "{m:?}");
}

#[test]
fn a_former_village_of_the_city_keeps_its_old_name_where_the_file_places_it() {
    // 麻峪 (广宁's 麻峪社区, a place of the file) and 西黄村 (苹果园's 西黄村社区, 西黄村站):
    // said with 村 they are these, with the villages of that name elsewhere as alternatives.
    resolve_at_home(&[
        ("麻峪村那边有人往河滩倒渣土", "110107009", "110114112"),
        ("西黄村那边的小超市电价太高", "110107005", "110115005"),
    ]);
    // Named with their district or street, the villages elsewhere are meant.
    resolve_to_streets(&[("昌平崔村麻峪村的苹果园", "110114112")]);
}

#[test]
fn a_village_name_others_share_is_at_home_where_the_file_has_places_named_after_it() {
    // 岔道古城 (八达岭) and 西峪水库 (大华山): 岔道村 and 西峪村 are theirs; 潞城's 岔道村 and
    // 崔村's 西峪村 stay alternatives and win when their street is named.
    resolve_at_home(&[
        ("岔道村的农家院门口游客车乱停", "110119102", "110112119"),
        ("西峪村口的路灯坏了", "110117105", "110114112"),
    ]);
    // Without 村, with a word of place, alike (水屯市场 of 城南); and a community's name (大柳树
    // of 北下关, by 大柳树市场) against villages of that name elsewhere.
    resolve_to_streets(&[
        ("水屯那边有个工地夜里还在施工", "110114005"),
        ("大柳树那边的平房区下水不通", "110108007"),
        ("潞城岔道村的路灯坏了", "110112119"),
    ]);
    // Places named after the township (于家务中学) say nothing of which 于家务村 is meant; the
    // township's own name does (see a_village_named_as_its_town_is_at_home_there).
    resolve_at_home(&[("于家务村的路灯坏了", "110112209", "110115105")]);
}

#[test]
fn an_everyday_word_street_said_as_a_place_is_the_street_unless_it_names_something_else() {
    // 温泉 (hot springs) and 古城 (an old town) are words; said with 那边 they are 海淀's 温泉 and
    // 石景山's 古城, as callers of those streets say them.
    resolve_to_streets(&[
        ("温泉那边的老村子拆了一半，灰太大", "110108026"),
        ("古城那片小区楼下的早点摊占道", "110107004"),
    ]);
    // Still no place with other words of place (温泉附近 is near any hot spring), nor those that
    // name a province, a side of any town, the Drum Tower or 通州's 果园 area.
    for text in [
        "温泉附近的酒店",
        "小区前门那边有人摆摊",
        "小区后面平房那块私搭乱建",
        "果园那边的老楼外墙往下掉皮",
        "我老家河北那边的亲戚",
        "城南那边新开了个超市",
        "鼓楼那边胡同里停车难",
    ] {
        let m = gazetteer().resolve(text);
        assert_ne!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
    }
}

#[test]
fn a_street_name_said_with_natiao_or_najia_is_the_street() {
    // 阳坊那条涮肉街, 阳坊那家涮肉馆: the street of 阳坊.
    resolve_to_streets(&[
        ("阳坊那条涮肉的老街，一到周末车停得到处都是", "110114104"),
        ("阳坊那家涮肉馆，一盘羊肉分量明显不够", "110114104"),
    ]);
}

#[test]
fn a_body_or_street_named_after_a_street_is_in_it() {
    // A police station, hospital or main street named after the street it serves.
    resolve_to_streets(&[
        ("窦店派出所门口天天有人乱停车", "110111103"),
        ("劲松医院门口出租车排队堵路", "110105017"),
        ("旧宫大街上的井盖坏了", "110115006"),
    ]);
    // Not a school: 龙潭中学 is in many cities.
    let m = gazetteer().resolve("龙潭中学门口的小卖部卖过期食品");
    assert_eq!(m.status, PlaceStatus::None, "{m:?}");
}

#[test]
fn a_street_the_text_names_outweighs_a_name_at_home_elsewhere_in_any_word_order() {
    // 花园路 said after 月季园 is named as surely as before it.
    resolve_to_streets(&[
        ("月季园小区在花园路，暖气一直不热", "110108018"),
        // 大峪 said with its own 月季园 stays 大峪, though 魏善庄 is named too.
        ("我家住大峪月季园，在魏善庄上班，小区暖气不热", "110109001"),
    ]);
}

#[test]
fn a_village_many_streets_bear_is_at_home_where_the_file_places_its_name() {
    // 何各庄 of 崔各庄 (一号地); the villages of 永定, 张家湾 and 西集 stay alternatives and win
    // when their street is named.
    resolve_at_home(&[("何各庄村的路坏了", "110105038", "110112105")]);
    resolve_to_streets(&[("张家湾何各庄村的路坏了", "110112105")]);
}

#[test]
fn an_old_estate_is_called_by_its_community_s_two_character_name_with_xiaoqu() {
    // 高塔社区 of 香水园, 建西社区 of 滨河 (平谷).
    resolve_to_streets(&[
        ("高塔小区楼道堆满杂物", "110119002"),
        ("建西小区的老楼漏雨", "110117001"),
        // 园丁 (a gardener) is a name though its characters are the junk test's.
        ("园丁小区里的儿童游乐场沙坑太脏了", "110117002"),
        // The street 府前社区 (滨河, 平谷) is named after.
        ("府前街那边的路灯不亮了", "110117001"),
        // Road names of block characters only, each one community's: 新北路 of 密云's 果园,
        // 右内西街 of 右安门.
        ("新北路上的井盖松了", "110118002"),
        ("右内西街那边修了快一年的路", "110102019"),
    ]);
    let g = gazetteer();
    // A name of communities in several districts (阳光 of 平谷 and 密云) and a developer's
    // name (丽都, a community of 将台 only) say nothing of which city's estate is meant.
    // 龙泉 of 陶然亭's 龙泉社区 is also 门头沟's street 龙泉: no estate or street of one.
    resolve_to_nothing(&[
        "阳光小区楼下有人烧烤",
        "丽都小区停水了",
        "龙泉小区停水",
        "龙泉街那边堵车",
        // 东大街 and 北大街 (社区 of 丰台's 长辛店) are every town's.
        "东大街上的商铺",
        "北大街那边堵车",
    ]);
    // 大兴 of 交道口's 大兴社区 is the district first: 大兴小区 is no estate of 交道口.
    let m = g.resolve("大兴小区停水了");
    assert_eq!(code(&m.district), Some("110115"), "{m:?}");
}

#[test]
fn a_community_named_with_its_street_first_is_called_without_it() {
    // 榆垡空港新苑一里 … 六里社区 of 榆垡; 常营民族家园 and 民族家园西 of 常营.
    resolve_to_streets(&[
        ("空港新苑二里物业不作为", "110115107"),
        ("空港新苑门口的公交车班次太少了", "110115107"),
        ("民族家园门口清真早市占道", "110105033"),
    ]);
    // Not the township's own works: 庞各庄镇开发区 leaves no 镇开发区.
    assert_eq!(
        gazetteer().resolve("镇开发区的企业排污").status,
        PlaceStatus::None
    );
}

#[test]
fn a_museum_is_called_by_its_own_name_not_by_every_city_s() {
    // 航天博物馆 (中国航天博物馆 of 东高地) and 航空博物馆 (小汤山) are rows of their own.
    resolve_to_streets(&[
        ("航天博物馆门口预约参观的人排到马路上", "110106006"),
        ("航空博物馆门口的公交站被停车场占了", "110114110"),
    ]);
    // Every city has a museum of nature, of folk customs or of geology.
    resolve_to_nothing(&[
        "我们市的自然博物馆周末排队",
        "省地质博物馆门口堵车",
        "市民俗博物馆关门了",
    ]);
}

#[test]
fn a_name_one_community_bears_and_villages_of_other_districts_is_the_community_s() {
    // 小屯 is a community (and a village) of 卢沟桥 and villages of 通州 and 平谷. The villages
    // stay alternatives.
    resolve_at_home(&[("小屯那边的垃圾楼清运不及时", "110106017", "110112106")]);
    // Not a name of many places (太平庄, villages in eight districts), nor one the file knows
    // elsewhere (西苑站, 西苑医院 of 海淀 beside 王平's 西苑社区), nor the name alone, which may be
    // words (玉皇庙 is any Jade Emperor's temple).
    for text in [
        "太平庄那边的路灯不亮",
        "西苑那边的老小区停水了",
        "村东头的玉皇庙要翻修了",
    ] {
        let m = gazetteer().resolve(text);
        assert_ne!(m.status, PlaceStatus::Resolved, "{text}: {m:?}");
    }
    // 北关 is any old town's north gate: 长辛店's community does not outweigh the villages.
    let m = gazetteer().resolve("北关那边有户人家在院里盖二层");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    assert_eq!(m.district, None, "{m:?}");
}

#[test]
fn a_short_name_with_nage_and_the_place_it_points_at_is_that_place() {
    resolve_to_streets(&[
        ("苏庄那个菜市场里卖菜的把烂菜叶扔在门口", "110111012"),
        ("康陵那个村里吃春饼的人太多", "110114119"),
    ]);
    // 那个 alone points at anything.
    resolve_to_nothing(&["苏庄那个人说的不对", "康陵那个事一直没人管"]);
}

#[test]
fn a_stretch_from_one_place_to_another_lies_in_both() {
    // One district, several streets: the district, no street guessed.
    for text in [
        "朝阳路从红庙到管庄那一路晚上大货车特别多",
        "东三环辅路上有人开车卖水果，从国贸到劲松一路都有",
    ] {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::Ambiguous, "{text}: {m:?}");
        assert_eq!(code(&m.district), Some("110105"), "{text}");
        assert_eq!(m.street, None, "{text}");
    }
    // Two districts: neither.
    let m = gazetteer().resolve("通惠河边上那条骑行道，从高碑店一路往东骑到通州，护栏坏了");
    assert_eq!(m.status, PlaceStatus::Ambiguous, "{m:?}");
    assert_eq!(m.district, None, "{m:?}");
    // A longer name that starts like a street's is no end of a stretch (东四路 of another city),
    // and words that need a place to be places make none of each other.
    resolve_to_nothing(&[
        "人民路从京港澳高速到东四路，解决几个主要路口",
        "这条街从南口到北口全是摆摊的",
        "猪肉价格从六角涨到八角一斤",
        "从八角到桂皮都涨价了",
        "屋顶从南房一直漏到北房的墙根",
        "我从来没想到沙河的房子这么潮",
        "从上庄到下庄的路坏了",
    ]);
}

#[test]
fn a_street_s_name_with_park_is_the_street_s_park() {
    resolve_to_streets(&[
        ("老山公园里有人放生了好多蛇", "110107002"),
        ("长沟湿地公园的步道上有人骑摩托车", "110111108"),
    ]);
}

#[test]
fn a_street_s_name_with_the_foot_of_its_hill_is_the_street() {
    resolve_to_streets(&[
        ("香山脚下那几家卖纪念品的店强拉游客", "110108016"),
        ("妙峰山脚下的村里有人烧秸秆", "110109108"),
    ]);
}

#[test]
fn a_place_said_right_after_another_city_s_name_is_that_city_s() {
    for text in [
        "深圳沙河那边天天堵车",
        "南京老山公园里有人烧烤",
        "杭州德胜门那边施工扰民",
        // 苏州 is also a community of 建国门; only a district's name is Beijing's first.
        "苏州香山脚下的农家乐",
    ] {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::OutsideCity, "{text}: {m:?}");
    }
    // 朝阳 is a city of 辽宁 and the district: 朝阳定福庄 is the district's.
    resolve_to_streets(&[("朝阳定福庄那边的公交总站发车太少", "110105034")]);
}

#[test]
fn a_name_whose_parts_fill_one_street_is_at_home_there_even_if_another_bears_it_whole() {
    // 太阳城第一 … 第三社区 of 仁和, and one 太阳城社区 of 小汤山.
    resolve_at_home(&[(
        "太阳城那边的公交车太少，老人出门不方便",
        "110113003",
        "110114110",
    )]);
    // Not an estate's quarters (玉泉西里中, 北, 南 … of 八宝山) against 四季青's 玉泉.
    let m = gazetteer().resolve("玉泉那边的路灯坏了");
    assert_ne!(code(&m.street), Some("110107001"), "{m:?}");
}

#[test]
fn a_campus_nickname_is_a_place_at_its_gate_or_beside_it() {
    // The forms one row of the place file expands to.
    let forms = |form: &str| {
        let tsv = format!("form\tkind\tunits\tsource\tlicence\n{form}\tarea\t110105007\tx\ty\n");
        super::forms::place_rows(&tsv)
            .expect("parses")
            .remove(0)
            .forms
    };
    let at = forms("北服{at}");
    for expected in ["北服门口", "北服东门"] {
        assert!(at.iter().any(|f| f == expected), "{at:?}");
    }
    assert!(!at.iter().any(|f| f == "北服"));
    // A name that other words hold, said as a place.
    let there = forms("田村{there}");
    assert!(there.iter().any(|f| f == "田村那边"), "{there:?}");
    assert!(!there.iter().any(|f| f == "田村"));
    resolve_to_nothing(&["种稻田村民说今年收成不错"]);
    resolve_to_streets(&[
        ("北服门口早上外卖电动车逆行特别多", "110105007"),
        ("国关门口的公交站被共享单车占了", "110108013"),
    ]);
}

#[test]
fn a_place_the_bus_goes_to_is_not_where_the_caller_is() {
    resolve_to_streets(&[(
        "苹果园交通枢纽晚上换乘的指示牌太少，找不到去门头沟的车",
        "110107005",
    )]);
    // A car park or a stop there is no bus: 西单 stays a reading beside 双井.
    for text in [
        "我住在双井，去西单的停车场收费太贵",
        "我住在双井，去西单的车站没有遮阳棚",
    ] {
        let m = gazetteer().resolve(text);
        let streets: Vec<&str> = code(&m.street)
            .into_iter()
            .chain(alternative_streets(&m))
            .collect();
        assert!(streets.contains(&"110102001"), "{text}: {m:?}");
    }
}

#[test]
fn an_expressway_exit_named_after_a_town_is_that_town() {
    resolve_to_streets(&[
        ("京港澳高速窦店出口附近的养殖场味道太大", "110111103"),
        ("京港澳高速阎村出口那儿老堵车", "110111101"),
    ]);
    // Without an expressway, 出口 is an export.
    resolve_to_nothing(&["八角出口到国外的价格涨了"]);
}

#[test]
fn a_village_named_as_its_town_is_at_home_there() {
    // 上庄村 of 海淀's 上庄, and of 昌平's 延寿; 宋庄村 of 宋庄, and of 大兴's 黄村.
    resolve_at_home(&[
        ("上庄村边上有个废品站乱堆垃圾", "110108030", "110114120"),
        ("宋庄村里有人烧垃圾", "110112104", "110115005"),
    ]);
    // Named with the other town, the other village (延寿镇上庄村).
    resolve_to_streets(&[("延寿镇上庄村的路灯坏了", "110114120")]);
    // Not a name borne in five streets (豆各庄村), an everyday word (北庄) nor a name the place
    // file has elsewhere (十里堡 of 朝阳).
    for text in ["豆各庄村口有人倒垃圾", "北庄村的路灯坏了", "十里堡村拆迁"]
    {
        let m = gazetteer().resolve(text);
        assert_eq!(m.status, PlaceStatus::Ambiguous, "{text}: {m:?}");
    }
}

#[test]
fn a_community_named_like_a_place_of_another_street_needs_its_street_named() {
    // 樱花园 is 和平街's estate; 李桥 has a 樱花园社区 too.
    resolve_to_streets(&[
        ("樱花园小区门口乱停车", "110105007"),
        ("李桥那边的樱花园小区，地下车库下雨就倒灌", "110113104"),
    ]);
}

#[test]
fn a_community_said_right_after_its_street_s_name_is_that_community() {
    // (text, street, community): 枣园 and 蔚园 are no places alone.
    for (text, street, community) in [
        (
            "清源枣园附近的家庭旅馆晚上有人敲门推销",
            "110115003",
            "110115003008",
        ),
        ("青塔蔚园附近的酒店乱涨价", "110106025", "110106025004"),
        // A place of the file takes 樱花园 (和平街's); its street's name picks 李桥's.
        (
            "李桥樱花园那边的社区卫生站老缺药",
            "110113104",
            "110113104001",
        ),
    ] {
        let m = gazetteer().resolve(text);
        assert_eq!(code(&m.street), Some(street), "{text}: {m:?}");
        assert_eq!(code(&m.community), Some(community), "{text}: {m:?}");
    }
    // No form swallows a longer name that starts with the community's (望京花家地西里 is
    // 花家地西里社区, not 花家地社区).
    let m = gazetteer().resolve("朝阳区望京花家地西里小区冬天暖气不热");
    assert_eq!(code(&m.community), Some("110105026034"), "{m:?}");
    // A community with a name of its own and its street are two places that agree.
    let m = gazetteer().resolve("马驹桥新海祥和小区门口到亦庄上班的班车没了");
    assert_eq!(m.matched, ["马驹桥", "新海祥和"], "{m:?}");
    assert_eq!(code(&m.community), Some("110112109003"), "{m:?}");
    // Block words every town has, after a street's name that is every town's too.
    resolve_to_nothing(&["我们县城关北街有家烧烤店油烟扰民", "永定南区的暖气不热"]);
    // A street's name is no community's (景山公园 is 景山's, not 什刹海's 景山社区).
    let m = gazetteer().resolve("周末逛完什刹海景山公园门口乱停车");
    assert!(m.matched.contains(&"景山公园".to_string()), "{m:?}");
}

#[test]
fn a_place_named_after_a_tree_counted_or_falling_is_the_tree() {
    // 大柳树 is 北下关's; these are willows in parks of other streets.
    resolve_to_streets(&[
        ("朝阳公园里好几棵大柳树昨晚被风刮断了", "110105012"),
        ("龙潭公园里的大柳树倒在湖边步道上了", "110101014"),
        // Said as a place, still the place; and places where water is cut or rubbish dumped.
        ("大柳树那边的平房区下水不通", "110108007"),
        ("有人在大柳树倒垃圾", "110108007"),
        // A street's own name stays the street.
        ("九棵树被刮倒了一块广告牌", "110112010"),
    ]);
}

#[test]
fn a_street_named_after_its_road_said_as_the_road_yields_to_a_place_on_it() {
    // 学院路 runs past 北航 (花园路): the campus decides.
    resolve_to_streets(&[
        (
            "北航北门外的学院路上有辆白色面包车停了好几个月",
            "110108018",
        ),
        // Alone, the street's road is still the street.
        ("田村路上的井盖响得厉害", "110108021"),
    ]);
    // Going to school there is no place on the road; a place of another district is not on it.
    for (text, street) in [
        ("花园路上学的孩子多，北太平庄这边早上堵", "110108018"),
        (
            "在望京上班，每天骑车经过学院路辅路，辅路上全是违停",
            "110108010",
        ),
    ] {
        let m = gazetteer().resolve(text);
        let streets = alternative_streets(&m);
        assert!(
            code(&m.street) == Some(street) || streets.contains(&street),
            "{text}: {m:?}"
        );
    }
}

#[test]
fn a_town_s_villages_numbered_on_its_name_are_said_with_village() {
    // 礼贤一村 … 三村 of 礼贤: 礼贤村 is theirs, 礼贤 alone still the town.
    resolve_to_streets(&[
        ("礼贤村边上那条排水沟臭得不行", "110115106"),
        ("礼贤那边的路灯坏了", "110115106"),
    ]);
}

#[test]
fn a_street_s_coach_station_and_its_shops_are_the_street() {
    resolve_to_streets(&[
        ("窦店汽车站那边出租车乱停", "110111103"),
        ("阳坊那几家涮肉馆门口周末车堵成一团", "110114104"),
    ]);
    // A people's congress is no campus.
    resolve_to_nothing(&["去市人大门口反映情况"]);
}

#[test]
fn where_a_commuter_goes_is_not_where_the_complaint_is() {
    resolve_to_streets(&[
        ("于家务那边去亦庄上班的班车点被私家车占了", "110112209"),
        ("五里坨那边到苹果园的公交早上一趟挤不上", "110107010"),
        ("琉璃河那边早上去房山城关的公交太挤了", "110111010"),
    ]);
    // A bus stop or a car there is there; so is a school one goes to (its gate is the matter).
    for (text, there) in [
        (
            "我住五里坨，走到苹果园的公交车站，站牌被广告挡住了",
            "110107005",
        ),
        (
            "我住回龙观，到西直门的公交总站换乘，总站厕所没人打扫",
            "110102003",
        ),
        ("我在通州上班，停到西单的车被贴条了", "110102001"),
        (
            "我住回龙观，孩子去清华附小上学，校门口早上家长乱停车",
            "110108014",
        ),
    ] {
        let m = gazetteer().resolve(text);
        assert!(alternative_streets(&m).contains(&there), "{text}: {m:?}");
    }
}

#[test]
fn a_town_owns_a_place_named_after_what_it_grows() {
    resolve_to_streets(&[
        ("西集的樱桃采摘园说好五十一斤", "110112110"),
        ("老山公交场站那边早上发车太慢", "110107002"),
    ]);
    // Not the price of star anise, a north room's wall or any sandy river's water.
    resolve_to_nothing(&[
        "八角的价格在超市里涨了",
        "八角的香味飘到小区里",
        "北房的墙皮掉了找政府也没用",
        "沙河的水漫过路口了",
    ]);
}

#[test]
fn tianqiao_said_as_a_place_is_the_street_and_a_footbridge_is_not() {
    resolve_to_streets(&[("天桥那边剧场散场以后出租车乱停", "110102014")]);
    resolve_to_nothing(&["过街天桥那边有人摆摊", "那个天桥那边有人摆摊"]);
}

#[test]
fn a_town_said_with_its_old_town_toll_gate_or_shops_is_the_town() {
    resolve_to_streets(&[
        ("石楼老镇上的路灯坏了好几盏", "110111104"),
        ("窦店的养老驿站中午不管饭了", "110111103"),
        ("百善的一家饭馆油烟直排", "110114113"),
        ("兴寿山里头的村子手机没信号", "110114116"),
        ("马坊收费站出来那个路口老堵车", "110117005"),
        ("良乡老街上的商铺占道经营", "110111008"),
    ]);
    // Not the old neighbours of bungalows, star anise by the pound or someone's business: an
    // everyday word stays a word, and what a town owns must be a place.
    resolve_to_nothing(&[
        "南口的老街坊都搬走了",
        "八角的一家人都搬走了",
        "八角的银行卡被盗刷了",
        "他说窦店的事不归这里管",
        "花椒八角集市上都有卖的，价格乱",
        "大料八角菜市场就有卖，不明码标价",
        "超市蔬菜百分之三十都涨价了",
        "学校南口早市天天占道",
    ]);
}

#[test]
fn a_ride_home_to_a_district_is_a_destination_beside_the_place_of_the_call() {
    resolve_to_streets(&[
        ("东直门枢纽等车回怀柔的人排到马路上了", "110101009"),
        ("杨镇赶集那天路口堵死了", "110113006"),
        ("阎村产业园的厂子夜里排废气", "110111101"),
    ]);
    // A ride home itself is about home: the place where the ride starts is not the call's.
    for (text, district) in [
        ("在国贸坐车回通州，到家发现小区停电", "110112"),
        ("在东直门坐车回怀柔的时候看见路灯全灭了", "110116"),
    ] {
        let m = gazetteer().resolve(text);
        let got = m.district.as_ref().map(|d| d.code.as_str());
        assert_eq!(got, Some(district), "{text}: {m:?}");
    }
}

#[test]
fn a_town_where_family_is_visited_or_its_subway_exit_is_the_town() {
    resolve_to_streets(&[
        ("春节去礼贤看我姥姥，村口的路灯都不亮", "110115106"),
        ("回窦店看望老人，公交站牌被撞歪了", "110111103"),
        ("石楼的一个村里有人烧秸秆", "110111104"),
        ("霍营地铁口那边黑车拉客", "110114010"),
    ]);
    // Going to see is no visit: the star anise price stays no place.
    resolve_to_nothing(&["去八角看看价格涨没涨"]);
}

#[test]
fn a_road_across_districts_decides_no_district_for_a_weak_name_beside_it() {
    // 北三环 runs through four districts: it names none of them, so the footbridge by it is no
    // street of 西城.
    let m = gazetteer().resolve("北三环那边的天桥电梯又停了");
    assert_ne!(
        m.street.as_ref().map(|s| s.code.as_str()),
        Some("110102014"),
        "{m:?}"
    );
    // Named outright, the district still supports it.
    resolve_to_streets(&[("西城区天桥那边的剧场散场后车乱停", "110102014")]);
    // A bridge across two streets of one district still decides the district for a
    // community's short name beside it, and a highway across districts still holds a town's
    // short name that is no everyday word.
    resolve_to_streets(&[
        ("光华桥东边秀水那几栋楼晚上施工太吵", "110105001"),
        ("蓟门桥往北走罗庄的老楼外墙皮掉了", "110108008"),
    ]);
    let m = gazetteer().resolve("京开高速黄村那段有个大坑");
    let district = m.district.as_ref().map(|d| d.code.as_str());
    assert_eq!(district, Some("110115"), "{m:?}");
}

#[test]
fn new_rows_do_not_take_the_words_they_hide_in() {
    resolve_to_nothing(&[
        "北京中学生的课业负担太重",
        "横店影视基地的群演被欠薪",
        "看了人民日报社的评论说要整治",
    ]);
    resolve_to_streets(&[
        ("东坝的北京中学门口没有红绿灯", "110105039"),
        ("影视基地门口拍戏的车老占道", "110116103"),
    ]);
}

#[test]
fn a_numbered_route_to_a_place_and_what_is_done_there() {
    // The route goes to 八达岭; the queue is at 东直门.
    resolve_to_streets(&[
        ("东直门去八达岭的877路排队排到马路上了", "110101009"),
        ("周末去阳坊吃涮肉的车太多，镇上的公交站都占了", "110114104"),
        ("去张镇赶集的人把路口堵了", "110113110"),
    ]);
}

#[test]
fn a_city_the_caller_comes_from_leaves_the_beijing_place() {
    resolve_to_streets(&[(
        "法源寺的丁香今年什么时候开，想专门从天津过来看",
        "110102018",
    )]);
    // Said as where the place is, the other city still decides.
    let m = gazetteer().resolve("天津的法源寺附近有人乱停车");
    assert_eq!(m.status, PlaceStatus::OutsideCity, "{m:?}");
    let m = gazetteer().resolve("我从天津过来办事，找不到地方");
    assert_eq!(m.status, PlaceStatus::OutsideCity, "{m:?}");
}

#[test]
fn a_town_said_as_the_home_or_with_its_demolition_is_the_town() {
    // 家在 before a town's short name ending the clause; its demolition, return housing, old
    // estates and hills right after it; its return housing and buses after 的.
    resolve_to_streets(&[
        ("家在阎村，孩子上学得骑车半小时", "110111101"),
        ("孙河拆迁后回迁房还没盖好", "110105037"),
        ("管庄老小区想加装电梯，去哪申请", "110105035"),
        ("十渡山区孩子上学不方便", "110111111"),
        ("台湖的回迁安置房楼里漏水", "110112114"),
        ("杨镇的班车每天就几趟", "110113006"),
        ("霍营的老平房拆迁，补偿面积不对", "110114010"),
    ]);
    // Not 在 or 从 before a name that starts another word or is a room or a tree, not these
    // days (这段时间), not goods.
    not_to_streets(&[
        ("老人在北房看电视，屋顶漏雨", "110116102"),
        ("我从小关心这个问题", "110105010"),
        ("在上地铁的时候手机丢了", "110108022"),
        ("孩子从椿树上掉下来了", "110102015"),
        ("八角这段时间又涨价了", "110107007"),
        ("我们单位说长阳拆迁的事", "110111105"),
        ("家在北房里头，冬天冷", "110116102"),
    ]);
}

#[test]
fn a_town_where_something_is_bought_built_or_opened_is_the_town() {
    // 在 X with a purchase, a rent or a school to build; its school pointed at; what opened
    // there; its farm restaurants and central school after 的, also after a caller's opening
    // (请问, 咨询一下).
    resolve_to_streets(&[
        ("在长阳买的二手房漏水，卖家不管", "110111105"),
        ("建议在马坡再建一所小学", "110113009"),
        ("咨询一下在宋庄租房能不能办居住证", "110112104"),
        ("请问窦店的中心小学几点放学", "110111103"),
        ("漷县的农家乐吃饭不给开发票", "110112106"),
        ("旧宫那所中学门口天天堵车", "110115006"),
        ("马坡新开的超市卖过期食品", "110113009"),
    ]);
    // Not goods or a room after 请问 or 咨询一下, after 在 or with what was built there (a north
    // room, a market price); not where someone works; not 在 X running on into another word,
    // nor 现在 X; not a road of another city (长阳路边).
    not_to_streets(&[
        ("请问八角的价格怎么涨这么多", "110107007"),
        ("请问八角的市场价是多少", "110107007"),
        ("现在八角的一家店卖二十一斤", "110107007"),
        ("咨询一下北房的墙裂了找谁修", "110116102"),
        ("邻居家北房新建的，比我家高一米", "110116102"),
        ("我在八角上班，家住通州", "110107007"),
        ("在北房里租的那间屋子漏雨", "110116102"),
        ("在北房租的屋子漏雨", "110116102"),
        ("在上地铁买的票能退吗", "110108022"),
        ("长阳路边有人乱扔垃圾", "110111105"),
    ]);
}

#[test]
fn a_town_with_a_workshop_or_shop_pointed_at_is_the_town() {
    // 有个, 有家, 一家, 一个 and a workshop, shop or orchard in the same clause, opening it or
    // after 在; its factories and logistics parks after 的; 去 X 玩.
    resolve_to_streets(&[
        ("长阳有个家具厂晚上偷偷喷漆，味道很大", "110111105"),
        ("在宋庄一家饭馆吃坏了肚子", "110112104"),
        ("马坡的一个物流园拖欠司机运费", "110113009"),
        ("我在阎村的加工厂干了半年，工资一直拖着", "110111101"),
        ("周末去漷县玩，停车场乱收费", "110112106"),
    ]);
    // Not 有个 or 一个 without a workplace, not in the middle of a clause.
    not_to_streets(&[
        ("八角有个好处是便宜", "110107007"),
        ("买了八角一个多少钱？", "110107007"),
        ("我们单位说窦店有个厂要搬", "110111103"),
        ("小区北门不让走，南口有个超市门口堆满了货", "110114002"),
        ("去八角玩具城买的玩具有问题", "110107007"),
    ]);
}
