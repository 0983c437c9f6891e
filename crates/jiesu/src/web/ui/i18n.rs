//! The pages' strings in the page's language, from the one message table (`crate::messages`),
//! so no UI text is written into the templates. Templates ask `ctx.tr.s("key")`; values from
//! the domain (statuses, kinds, roles, …) are translated with `tr.of("status", value)`. A test
//! checks that every key the templates and page modules use is in the table.

use crate::messages;

pub use crate::messages::Lang;

/// Translations in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    /// Whether the language is English.
    pub fn is_en(self) -> bool {
        self.0 == Lang::En
    }

    /// The text of a key; the key itself when missing (a test keeps that from happening).
    pub fn s(&self, key: &'static str) -> &'static str {
        self.known(key).unwrap_or(key)
    }

    /// The text of a key, if the table has it.
    pub fn known(&self, key: &str) -> Option<&'static str> {
        messages::text(key).map(|(zh, en)| self.0.pick(zh, en))
    }

    /// The name of a domain value (`of("status", "received")`), or the value itself.
    pub fn of(&self, prefix: &str, value: &str) -> String {
        self.known(&format!("{prefix}.{value}"))
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string())
    }
}

/// The services' remarks read `中文 / English: detail`: keep the page's language, and the
/// detail (a name, a rule, a score) in both.
pub fn one_language(text: &str, en: bool) -> String {
    let Some((zh, english)) = text.split_once(" / ") else {
        return text.to_string();
    };
    if en {
        return english.to_string();
    }
    // Keep a detail that is a name or a number, not an English phrase.
    let plain_english = |d: &str| {
        d.chars()
            .all(|c| c.is_ascii_alphabetic() || " '-".contains(c))
    };
    let detail = match english.split_once(": ") {
        Some((_, d)) if !plain_english(d) => Some(d.to_string()),
        Some(_) => None,
        None => english
            .rsplit(' ')
            .next()
            .filter(|w| w.parse::<f64>().is_ok() || w.starts_with('('))
            .map(str::to_string),
    };
    match detail {
        Some(d) => format!("{zh}：{d}"),
        None => zh.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `tr.s("…")` in the templates and page modules names a key of the table.
    #[test]
    fn every_key_the_pages_use_is_translated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates", "src/web/ui"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                // This file names keys only in its documentation.
                if !path.ends_with("i18n.rs") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut missing = Vec::new();
        for src in &sources {
            for part in src.split("tr.s(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if messages::text(key).is_none() {
                    missing.push(key.to_string());
                }
            }
        }
        for key in [
            "nav.intake",
            "nav.dispatch",
            "nav.unit",
            "nav.callback",
            "nav.dashboard",
            "nav.admin",
            "dashboard.overdue",
            "dashboard.breach",
        ] {
            assert!(messages::text(key).is_some(), "{key}");
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn domain_values_are_named_in_the_page_language_or_kept() {
        assert_eq!(Tr(Lang::En).of("status", "closed"), "Closed");
        assert_eq!(Tr(Lang::Zh).of("status", "closed"), "已办结");
        assert_eq!(Tr(Lang::Zh).of("status", "strange"), "strange");
    }
}
