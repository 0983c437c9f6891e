//! Every text Jiesu shows a person, in Chinese (the first language) and English, in one table
//! (`table.rs`): the pages' strings (read through `web::ui::i18n::Tr`), the field errors and
//! remarks of the services, and the messages of the errors every call can end in. Services and
//! pages name a text by its key and fill its `{placeholders}`; nobody writes user-facing text
//! inline. A test checks that every key used in the code is in the table.

mod table;

use std::collections::HashMap;
use std::sync::LazyLock;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 中文, the default.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en` (also `zh-CN`, `en-US`, …).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The code stored in the language cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// One of two texts.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

static TABLE: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> = LazyLock::new(|| {
    table::STRINGS
        .iter()
        .map(|(k, zh, en)| (*k, (*zh, *en)))
        .collect()
});

/// The (中文, English) text of a key, if the table has it.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    TABLE.get(key).copied()
}

/// Both languages of a key with its `{placeholders}` filled; the key itself in both when the
/// table lacks it (a test keeps that from happening).
pub fn pair(key: &str, args: &[(&str, String)]) -> (String, String) {
    let (zh, en) = text(key).unwrap_or((key, key));
    (fill(zh, args), fill(en, args))
}

/// `中文 / English`, as the remarks of a suggestion travel in the API (the pages keep one
/// language of them).
pub fn both(key: &str, args: &[(&str, String)]) -> String {
    let (zh, en) = pair(key, args);
    format!("{zh} / {en}")
}

/// `template` with each `{name}` of `args` replaced by its value, in one pass (a value is
/// never read as a template); other braces stay.
pub fn fill(template: &str, args: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_no_duplicate_keys_and_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, zh, en) in table::STRINGS {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn placeholders_are_filled_by_name_and_other_braces_stay() {
        let args = [("max", "200".to_string())];
        assert_eq!(
            fill("至多 {max} 字，{other}", &args),
            "至多 200 字，{other}"
        );
        let sneaky = [("a", "{b}".to_string()), ("b", "x".to_string())];
        assert_eq!(fill("{a}{b}{", &sneaky), "{b}x{");
        let (zh, en) = pair("api.too_many_attempts", &[("seconds", "60".into())]);
        assert_eq!(zh, "登录失败次数过多，请 60 秒后再试");
        assert_eq!(en, "too many failed logins, retry in 60 s");
        assert_eq!(
            pair("no.such.key", &[]),
            ("no.such.key".into(), "no.such.key".into())
        );
    }

    /// Every key the services and the web name (`AppError::invalid`, `FieldError::of`,
    /// `messages::both`, …) is in the table.
    #[test]
    fn every_key_the_code_names_is_in_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        let mut missing = Vec::new();
        let calls = [
            "invalid(",
            "invalid_with(",
            "FieldError::of(",
            "FieldError::with(",
            "both(",
            "pair(",
        ];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap();
                for call in calls {
                    for part in src.split(call).skip(1) {
                        // the keys among the call's string literals (a field name has no
                        // prefix of the table's groups)
                        let args = part.split(';').next().unwrap_or_default();
                        for (i, literal) in args.split('"').enumerate() {
                            let is_key = i % 2 == 1
                                && ["err.", "note.", "reason.", "api."]
                                    .iter()
                                    .any(|g| literal.starts_with(g))
                                && !literal.contains(' ');
                            if is_key && text(literal).is_none() {
                                missing.push(format!("{}: {literal}", path.display()));
                            }
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the table: {missing:?}"
        );
    }
}
