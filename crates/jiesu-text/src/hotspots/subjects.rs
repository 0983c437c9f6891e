//! Problem keys other than a place (issue #22 item 5): the company, developer, project,
//! product or policy a title names, found like places by a generic ending (公司, 集团, 项目,
//! 一卡通, 补贴, 政策, …) and the characters before it up to a boundary. The key is short
//! on purpose, so one subject written in many ways shares it: an organisation's name with
//! its generic words dropped, last four characters (西地省聚利人普惠投资有限公司 → 利人普惠), a policy's
//! qualifier and class (A市人才购房补贴, 人才新政补贴 and 人才购房补助 → 人才政策). The index
//! treats a key like a place: requests sharing it join at the same-place threshold.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use super::places::{byte_to_char, division_spans, is_word_char, PlaceKind, PlaceName};

/// Words that never belong to a subject's name: where the name before an ending starts
/// (fewer than a place's: 才 or 新 may be part of a policy's name).
const BOUNDARIES: &[&str] = &[
    "的",
    "在",
    "于",
    "和",
    "与",
    "及",
    "对",
    "把",
    "被",
    "从",
    "到",
    "是",
    "有",
    "了",
    "我们",
    "投诉",
    "反映",
    "关于",
    "举报",
    "咨询",
    "请问",
    "请",
    "建议",
    "希望",
    "要求",
    "为什么",
    "为何",
    "问题",
    "申请",
    "发放",
    "办理",
    "领取",
    "享受",
    "缴纳",
    "购买",
    "何时",
    "能否",
    "是否",
    "怎么",
    "如何",
    "还",
    "等",
    "对于",
    "针对",
    "业主",
    "居民",
    "市民",
    "职工",
    "问",
    "想",
    "能",
];

/// What a subject's ending says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A company, developer, bank or platform: the key is its name.
    Organisation,
    /// A project, estate development or product: the key is its name.
    Project,
    /// A product or scheme known by its brand (楚行一卡通, 58车贷): the key is the ending
    /// with the two characters before it.
    Product,
    /// A policy or benefit: the key is its first two characters and 政策.
    Policy,
}

const ENDINGS: &[(&str, Class)] = &[
    ("有限责任公司", Class::Organisation),
    ("有限公司", Class::Organisation),
    ("分公司", Class::Organisation),
    ("公司", Class::Organisation),
    ("集团", Class::Organisation),
    ("银行", Class::Organisation),
    ("平台", Class::Organisation),
    ("车贷", Class::Product),
    ("项目", Class::Project),
    ("楼盘", Class::Project),
    ("一卡通", Class::Product),
    ("补贴", Class::Policy),
    ("补助", Class::Policy),
    ("新政", Class::Policy),
    ("政策", Class::Policy),
];

/// Generic words at the end of an organisation's or project's name, dropped from its key
/// (longer first).
const GENERIC_TAIL: &[&str] = &[
    "房地产开发",
    "房地产",
    "地产",
    "开发",
    "建设",
    "置业",
    "投资",
    "实业",
    "科技",
    "网络",
    "发展",
    "管理",
    "服务",
    "工程",
    "股份",
    "有限",
    "责任",
    "经济技术",
    "技术",
    "资产",
    "数码",
    "机械",
    "建筑",
    "咨询",
    "电子",
    "商务",
    "物业管理",
    "物业",
    "的",
];

/// Keys that name no one subject (every estate has its 物业公司).
const GENERIC_KEY: &[&str] = &[
    "物业",
    "开发商",
    "开发",
    "我们",
    "我",
    "该",
    "这家",
    "这个",
    "那家",
    "此",
    "本",
    "某",
    "相关",
    "建设",
    "有关",
    "国家",
    "政府",
    "部门",
    "具体",
    "优惠",
    "扶持",
    "国家政策",
    "小区",
    "社区",
    "城投",
    "施工",
    "房产",
    "私人",
    "一家",
    "中介",
    "保险",
    "家",
    "贷款",
    "申请",
    "工作",
];

/// At most this many characters before an ending are read.
const MAX_CORE: usize = 10;
/// Characters of an organisation's or project's name kept in its key: the last ones.
const KEY_CHARS: usize = 4;

struct Automata {
    endings: AhoCorasick,
    boundary: AhoCorasick,
}

fn automata() -> &'static Automata {
    static A: OnceLock<Automata> = OnceLock::new();
    A.get_or_init(|| {
        let build = |p: Vec<&str>| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(p)
                .expect("static patterns build")
        };
        Automata {
            endings: build(ENDINGS.iter().map(|e| e.0).collect()),
            boundary: build(BOUNDARIES.to_vec()),
        }
    })
}

/// The subject keys of a normalised title, in order of appearance, without repeats.
pub(crate) fn extract_from_normalized(s: &str) -> Vec<PlaceName> {
    let chars: Vec<char> = s.chars().collect();
    let char_at = byte_to_char(s);
    let mut blocked: Vec<bool> = chars.iter().map(|c| !is_word_char(*c)).collect();
    for (a, b) in division_spans(&chars) {
        blocked[a..b].iter_mut().for_each(|x| *x = true);
    }
    let a = automata();
    for m in a.boundary.find_iter(s) {
        let (from, to) = (char_at[m.start()], char_at[m.end()]);
        blocked[from..to].iter_mut().for_each(|x| *x = true);
    }
    let mut out: Vec<PlaceName> = Vec::new();
    for m in a.endings.find_iter(s) {
        let class = ENDINGS[m.pattern().as_usize()].1;
        let start = char_at[m.start()];
        let floor = start.saturating_sub(MAX_CORE);
        let mut j = start;
        while j > floor && !blocked[j - 1] {
            j -= 1;
        }
        let core: String = chars[j..start].iter().collect();
        let Some(name) = key(&core, class, ENDINGS[m.pattern().as_usize()].0) else {
            continue;
        };
        if !out.iter().any(|p| p.name == name) {
            out.push(PlaceName {
                name,
                kind: PlaceKind::Subject,
            });
        }
    }
    out
}

/// The key of the name `core` before an ending of `class`, or `None` when it names no one
/// subject.
fn key(core: &str, class: Class, ending: &str) -> Option<String> {
    if class == Class::Product {
        let chars: Vec<char> = core.chars().collect();
        if chars.len() < 2 {
            return None;
        }
        return Some(chars[chars.len() - 2..].iter().collect::<String>() + ending);
    }
    let mut core = core.trim_start_matches(|c: char| c.is_ascii_digit());
    if class != Class::Policy {
        while let Some(rest) = GENERIC_TAIL.iter().find_map(|g| core.strip_suffix(g)) {
            core = rest;
        }
    }
    let chars: Vec<char> = core.chars().collect();
    if chars.len() < 2 || GENERIC_KEY.contains(&core) {
        return None;
    }
    let key: String = match class {
        Class::Policy => chars[..2].iter().collect::<String>() + "政策",
        // the end of a name is anchored by its ending, its start is not (对待聚利人普惠公司)
        _ => chars[chars.len().saturating_sub(KEY_CHARS)..]
            .iter()
            .collect(),
    };
    (!GENERIC_KEY.contains(&key.as_str())).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::super::places::normalize;
    use super::*;

    fn keys(title: &str) -> Vec<String> {
        extract_from_normalized(&normalize(title))
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    #[test]
    fn one_subject_written_many_ways_has_one_key() {
        assert_eq!(
            keys("A市人才购房补贴申请是否与单位注册地有关？"),
            ["人才政策"]
        );
        assert_eq!(keys("社保补缴后，A市人才新政补贴会补发吗"), ["人才政策"]);
        assert_eq!(keys("咨询A市人才购房补助发放问题"), ["人才政策"]);
        assert_eq!(keys("西地省聚利人普惠投资有限公司涉嫌诈骗"), ["利人普惠"]);
        assert_eq!(keys("请认真对待聚利人普惠公司诈骗一案"), ["利人普惠"]);
        assert_eq!(keys("广铁集团要求员工购房时必须同时购买车位"), ["广铁"]);
        assert_eq!(keys("严惩A市58车贷特大集资诈骗案保护伞"), ["58车贷"]);
        assert_eq!(
            keys("A市城市楚行一卡通推行后，以前的交通卡怎么处理？"),
            ["楚行一卡通"]
        );
    }

    #[test]
    fn the_simulators_policy_and_developer_have_one_key_each() {
        // titles as intake derives them from the simulator's texts (crates/jiesu/src/sim)
        for t in [
            "咨询人才购房补贴什么时候发放，我住望京西园三区，申请提交20天了还没有到账",
            "请问人才新政补贴的申请条件是什么，在花家地北里买的房能不能申请",
            "人才购房补助审核通过9天了一直没发，家住丽发新城，请问补贴发放进度",
        ] {
            assert_eq!(keys(t), ["人才政策"], "{t}");
        }
        for t in [
            "投诉恒远云栖置业有限公司延期交房，合同约定的交房日期已过30天",
            "恒远云栖公司开发的楼盘墙体开裂、渗水，望京西园三区的业主多次找开发商没有结果",
            "反映恒远云栖房地产开发公司拖延办理房产证，已经交房40天",
        ] {
            assert_eq!(keys(t), ["恒远云栖"], "{t}");
        }
    }

    #[test]
    fn any_text_around_the_endings_never_panics() {
        let pieces = [
            "公司",
            "有限公司",
            "补贴",
            "一卡通",
            "车贷",
            "A2区",
            "的",
            "1",
            "x",
            "人才",
            "，",
            "投资",
            "𠀀",
            "",
            " ",
            "新政政策",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let t = format!("{a}{b}{c}");
                    for k in keys(&t) {
                        assert!(k.chars().count() >= 2, "{t} -> {k}");
                    }
                }
            }
        }
    }

    #[test]
    fn generic_subjects_give_no_key() {
        assert!(keys("投诉小区物业公司乱收费").is_empty());
        assert!(keys("开发商不按合同交房").is_empty());
        assert!(keys("咨询国家政策").is_empty());
    }
}
