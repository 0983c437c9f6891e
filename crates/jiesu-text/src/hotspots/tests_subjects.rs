//! Unit tests of problems keyed by a company, project or policy rather than a place.

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

/// The problem (of any size) holding each id.
fn problem_of(records: Vec<HotspotRecord>, ids: &[&str]) -> Vec<u32> {
    let mut records = records;
    let index = mine_index(&mut records, &HotspotConfig::default());
    ids.iter()
        .map(|id| index.problem_of(id).expect("inserted"))
        .collect()
}

fn policy() -> Vec<HotspotRecord> {
    vec![
        rec(
            "p1",
            0,
            "A市人才购房补贴申请是否与单位注册地有关？",
            "我在A3区工作，单位注册在A5区，买房后申请人才购房补贴被拒，请问补贴发放条件。",
        ),
        rec(
            "p2",
            3,
            "A2区丽发新城业主咨询人才新政补贴何时发放",
            "本人硕士，在丽发新城买房，人才新政购房补贴申请提交三个月了还没有发放。",
        ),
        rec(
            "p3",
            9,
            "咨询A市人才购房补助发放问题",
            "去年申请了人才购房补助，至今没有发放，请问什么时候能够发放补贴。",
        ),
        rec(
            "p4",
            15,
            "A7县星沙街道居民问人才购房补贴申请条件",
            "在星沙买的房子，能不能申请人才购房补贴，需要社保满多久，补贴怎么发放。",
        ),
        rec(
            "p5",
            22,
            "A5区魅力之城业主：人才购房补贴为何迟迟不到账",
            "申请人才购房补贴已经审核通过，补贴一直没有发放到账。",
        ),
    ]
}

fn company() -> Vec<HotspotRecord> {
    vec![
        rec(
            "c1",
            1,
            "西地省聚利人普惠投资有限公司涉嫌诈骗巨额资金",
            "聚利人普惠投资有限公司以高息理财为名非法集资，投资人本金无法取回，请公安立案侦查。",
        ),
        rec(
            "c2",
            6,
            "A5区候家塘社区居民：请认真对待聚利人普惠公司诈骗一案",
            "聚利人普惠诈骗案在候家塘派出所立案，投资人的资金至今没有追回，案件毫无进展。",
        ),
        rec(
            "c3",
            12,
            "A3区望月湖小区多名老人被聚利人普惠投资公司非法集资",
            "聚利人普惠非法集资诈骗，投资人血汗钱被骗，立案三个月案件没有进展，请追回资金。",
        ),
        rec(
            "c4",
            20,
            "A1区远大一路聚利人普惠投资有限公司门店已人去楼空",
            "我们是聚利人普惠的投资人，公司非法集资诈骗，请求公安机关尽快追缴资金、公布案件进展。",
        ),
    ]
}

fn noise() -> Vec<HotspotRecord> {
    vec![
        rec(
            "n1",
            2,
            "A3区望月湖小区路灯不亮",
            "望月湖小区三栋旁边路灯坏了一个月，晚上出行不便。",
        ),
        rec(
            "n2",
            8,
            "A6区月亮岛路垃圾清运不及时",
            "月亮岛路沿线垃圾堆放多日无人清运，气味难闻。",
        ),
        rec(
            "n3",
            14,
            "广铁集团火车票改签手续费太高",
            "在A市火车站改签车票，手续费收得太高，希望铁路部门降低改签费用。",
        ),
    ]
}

#[test]
fn a_policy_question_asked_from_all_over_the_city_is_one_problem() {
    let mut all = policy();
    all.extend(noise());
    let got = problem_of(all, &["p1", "p2", "p3", "p4", "p5"]);
    assert!(got.iter().all(|&p| p == got[0]), "{got:?}");
    let problems = mine(
        policy().into_iter().chain(noise()).collect(),
        &HotspotConfig::default(),
        1,
    );
    assert_eq!(problems[0].request_ids.len(), 5);
    assert_eq!(problems[0].place, "人才政策");
}

#[test]
fn a_company_written_many_ways_and_places_is_one_problem() {
    let mut all = company();
    all.extend(noise());
    let got = problem_of(all, &["c1", "c2", "c3", "c4"]);
    assert!(got.iter().all(|&p| p == got[0]), "{got:?}");
}

#[test]
fn unrelated_problems_stay_apart_even_when_they_share_nothing_but_time() {
    let all: Vec<HotspotRecord> = policy()
        .into_iter()
        .chain(company())
        .chain(noise())
        .collect();
    let got = problem_of(all, &["p1", "c1", "n1", "n2", "n3"]);
    let mut distinct = got.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), got.len(), "{got:?}");
}

#[test]
fn the_same_company_with_another_problem_is_another_problem() {
    let mut all = vec![
        rec(
            "g1",
            0,
            "广铁集团要求员工购房时必须同时购买车位",
            "伊景园滨河苑是广铁集团职工定向商品房，开发商要求购房必须捆绑购买车位，否则不能买房。",
        ),
        rec(
            "g2",
            4,
            "广铁集团职工购房被强制捆绑销售车位",
            "广铁集团定向房伊景园滨河苑捆绑销售车位，车位价格高，职工买房必须买车位。",
        ),
    ];
    all.extend(noise());
    let got = problem_of(all, &["g1", "g2", "n3"]);
    assert_eq!(got[0], got[1]);
    assert_ne!(got[0], got[2]);
}
