//! Words a supervisor would use for a problem: "place + problem", the problem being the
//! most representative title with its place, divisions and complaint filler (投诉, 关于,
//! 的问题, …) cut away; and a subject label for problems that name no place.

use super::places::{division_spans, extract, is_word_char, normalize};

/// Words that open a title without saying what is wrong.
const LEADING: &[&str] = &[
    "关于", "投诉", "举报", "反映", "反应", "咨询", "请问", "请求", "恳请", "建议", "希望", "强烈",
    "坚决", "再次", "要求", "请", "的", "在", "和", "，",
];
/// Words that close a title without saying what is wrong.
const TRAILING: &[&str] = &[
    "的问题",
    "问题",
    "的投诉",
    "的建议",
    "的情况",
    "情况",
    "吗",
    "呢",
    "啊",
    "的",
];
/// The problem part of a description is cut at about this many characters.
const MAX_PHRASE: usize = 24;

/// The problem phrase of one title: `strip` names (and the places found in the title)
/// and divisions removed, complaint filler trimmed, the rest joined with `，`.
pub fn phrase(title: &str, strip: &[&str]) -> String {
    let mut s = normalize(title);
    let mut names: Vec<String> = extract(title).into_iter().map(|p| p.name).collect();
    names.extend(strip.iter().map(|s| s.to_string()));
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for n in names.iter().filter(|n| !n.is_empty()) {
        for form in [format!("{n}小区"), format!("{n}社区"), n.clone()] {
            s = s.replace(&form, "|");
        }
    }
    let mut chars: Vec<char> = s.chars().collect();
    for (a, b) in division_spans(&chars) {
        chars[a..b].iter_mut().for_each(|c| *c = '|');
    }
    let mut segments = Vec::new();
    for seg in chars.split(|c| !is_word_char(*c)) {
        let seg = trim_filler(&seg.iter().collect::<String>());
        if seg.chars().count() >= 2 {
            segments.push(seg);
        }
    }
    let mut out = String::new();
    for seg in segments {
        let n = out.chars().count();
        if n > 0 && n + seg.chars().count() > MAX_PHRASE {
            break;
        }
        if n > 0 {
            out.push('，');
        }
        out.push_str(&seg);
    }
    out.chars().take(MAX_PHRASE + 8).collect()
}

fn trim_filler(seg: &str) -> String {
    let mut s = seg;
    loop {
        let before = s.len();
        for w in LEADING {
            if let Some(rest) = s.strip_prefix(w) {
                s = rest;
            }
        }
        for w in TRAILING {
            if let Some(rest) = s.strip_suffix(w) {
                s = rest;
            }
        }
        if s.len() == before {
            return s.to_string();
        }
    }
}

/// "place phrase", or the phrase alone when there is no place.
pub fn description(place: &str, phrase: &str) -> String {
    match (place.is_empty(), phrase.is_empty()) {
        (true, _) => phrase.to_string(),
        (false, true) => place.to_string(),
        (false, false) => format!("{place} {phrase}"),
    }
}

/// The subject of titles that name no place (a company, a case, a group of people): the
/// longest run of two to eight word characters found in at least 60 % of the titles (and
/// in two or more), divisions excluded; ties go to the run in more titles, then the first.
pub fn subject(titles: &[&str]) -> Option<String> {
    if titles.len() < 2 {
        return None;
    }
    let cleaned: Vec<Vec<char>> = titles
        .iter()
        .map(|t| {
            let mut c: Vec<char> = normalize(t).chars().collect();
            for (a, b) in division_spans(&c) {
                c[a..b].iter_mut().for_each(|x| *x = '|');
            }
            c
        })
        .collect();
    let need = ((titles.len() as f64 * 0.6).ceil() as usize).max(2);
    let first = &cleaned[0];
    let mut best: Option<(usize, usize, String)> = None;
    for len in (2..=8).rev() {
        for w in first.windows(len) {
            if !w.iter().all(|c| is_word_char(*c)) {
                continue;
            }
            let cand: String = w.iter().collect();
            let hits = cleaned
                .iter()
                .filter(|t| t.windows(len).any(|x| x == w))
                .count();
            if hits >= need && best.as_ref().is_none_or(|b| (len, hits) > (b.0, b.1)) {
                best = Some((len, hits, cand));
            }
        }
        if best.is_some() {
            break;
        }
    }
    best.map(|b| trim_filler(&b.2))
        .filter(|s| s.chars().count() >= 2)
}
