//! The one text normaliser of the crate: a shared character fold (full-width ASCII and the
//! ideographic space to ASCII, zero-width and other invisible characters dropped, whitespace
//! and control characters read as spaces) and the few options its users differ in (spaces
//! dropped or collapsed, case, letters and digits only, spreadsheet escapes and links, a cap
//! on characters read or kept). Knows nothing of what the normalised text is for.

/// What becomes of whitespace and control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spaces {
    /// Dropped, so "朝阳区 望京" reads as "朝阳区望京".
    Drop,
    /// Each run becomes one space, none at either end (a first space can end a title).
    Collapse,
}

/// How a text is normalised: the shared [`fold`], then these options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Normalizer {
    spaces: Spaces,
    lowercase: bool,
    alphanumeric_only: bool,
    drop_noise: bool,
    read: usize,
    keep: usize,
}

impl Normalizer {
    /// The first `chars` characters of a text, folded, with spaces dropped and case kept.
    pub const fn reading(chars: usize) -> Self {
        Normalizer {
            spaces: Spaces::Drop,
            lowercase: false,
            alphanumeric_only: false,
            drop_noise: false,
            read: chars,
            keep: usize::MAX,
        }
    }

    /// Like [`Normalizer::reading`], but cut to `chars` characters of the result; at most
    /// `4 · chars + 4096` characters are read, so a huge input still costs bounded time.
    pub const fn keeping(chars: usize) -> Self {
        Normalizer {
            read: chars.saturating_mul(4).saturating_add(4096),
            keep: chars,
            ..Normalizer::reading(0)
        }
    }

    /// Runs of spaces become one space instead of nothing.
    pub const fn collapse_spaces(self) -> Self {
        Normalizer {
            spaces: Spaces::Collapse,
            ..self
        }
    }

    /// Letters are lower-cased (Unicode lower case; full-width letters are ASCII by then).
    pub const fn lowercase(self) -> Self {
        Normalizer {
            lowercase: true,
            ..self
        }
    }

    /// Only letters, digits and CJK characters (`char::is_alphanumeric`) are kept:
    /// punctuation, symbols, emoji and spaces go.
    pub const fn alphanumeric_only(self) -> Self {
        Normalizer {
            alphanumeric_only: true,
            ..self
        }
    }

    /// Spreadsheet escapes (`_x000D_`) and `http(s)://` links are dropped (see [`noise_len`]).
    pub const fn drop_noise(self) -> Self {
        Normalizer {
            drop_noise: true,
            ..self
        }
    }

    /// The normalised text.
    #[inline]
    pub fn string(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len().min(self.read.saturating_mul(4)));
        self.each(text, |c| out.push(c));
        out
    }

    /// The normalised text as characters.
    #[inline]
    pub fn chars(&self, text: &str) -> Vec<char> {
        let mut out = Vec::with_capacity(text.len().min(self.read) / 2);
        self.each(text, |c| out.push(c));
        out
    }

    /// Calls `emit` with each character of the normalised text, in order. Inlined, so the
    /// options of a constant normaliser fold away.
    #[inline(always)]
    fn each(&self, text: &str, emit: impl FnMut(char)) {
        let folded = text.chars().take(self.read).filter_map(fold);
        let mut sink = Sink {
            opts: self,
            emit,
            kept: 0,
            pending_space: false,
        };
        if !self.drop_noise {
            for c in folded {
                if sink.full() {
                    break;
                }
                sink.push(c);
            }
            return;
        }
        let mut chars = Vec::with_capacity(text.len().min(self.read));
        chars.extend(folded);
        let mut i = 0;
        while i < chars.len() && !sink.full() {
            match noise_len(&chars[i..]) {
                Some(skip) => i += skip,
                None => {
                    sink.push(chars[i]);
                    i += 1;
                }
            }
        }
    }
}

/// The output side of [`Normalizer::each`]: options after the fold, and the cap.
struct Sink<'a, F> {
    opts: &'a Normalizer,
    emit: F,
    kept: usize,
    pending_space: bool,
}

impl<F: FnMut(char)> Sink<'_, F> {
    #[inline(always)]
    fn full(&self) -> bool {
        self.kept >= self.opts.keep
    }

    #[inline(always)]
    fn out(&mut self, c: char) {
        if !self.full() {
            (self.emit)(c);
            self.kept += 1;
        }
    }

    /// Takes one folded character (`' '` stands for any whitespace or control character).
    #[inline(always)]
    fn push(&mut self, c: char) {
        if c == ' ' {
            self.pending_space = self.opts.spaces == Spaces::Collapse && self.kept > 0;
            return;
        }
        if self.opts.alphanumeric_only && !c.is_alphanumeric() {
            return;
        }
        if std::mem::take(&mut self.pending_space) {
            self.out(' ');
        }
        if self.opts.lowercase && has_case(c) {
            c.to_lowercase().for_each(|l| self.out(l));
        } else {
            self.out(c);
        }
    }
}

/// The shared character fold: full-width forms (U+FF01..U+FF5E) become their ASCII twins;
/// whitespace (the ideographic space U+3000 included) and control characters become `' '`;
/// zero-width and other invisible characters (U+200B..U+200F, U+2060, U+FEFF) vanish.
#[inline(always)]
pub(crate) fn fold(c: char) -> Option<char> {
    match c {
        // printable ASCII and CJK ideographs, most of any text, need no table
        '!'..='~' | '\u{4E00}'..='\u{9FFF}' => Some(c),
        '\u{FF01}'..='\u{FF5E}' => Some(char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)),
        '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => None,
        _ if c.is_whitespace() || c.is_control() => Some(' '),
        _ => Some(c),
    }
}

/// Whether `c` may have a lower case; false for ASCII other than capitals and for the CJK
/// blocks (U+3000..U+9FFF), which skips the Unicode table for nearly every character here.
#[inline(always)]
fn has_case(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_uppercase()
    } else {
        !('\u{3000}'..='\u{9FFF}').contains(&c)
    }
}

/// Length of an ASCII noise token starting at `s[0]`, if one starts there: an Excel
/// `_xHHHH_` escape (the data has `_x000D_` where a carriage return was) or a URL, which is
/// anonymised to the same `https://baidu.com/` in the data and would only add false overlap.
fn noise_len(s: &[char]) -> Option<usize> {
    let hex = |c: &[char]| c.iter().all(char::is_ascii_hexdigit);
    if s.len() >= 7 && s[0] == '_' && s[1] == 'x' && s[6] == '_' && hex(&s[2..6]) {
        return Some(7);
    }
    let starts = |p: &str| p.chars().zip(s).filter(|(a, b)| a == *b).count() == p.len();
    if starts("http://") || starts("https://") {
        let n = s
            .iter()
            .take_while(|c| c.is_ascii_graphic() && !matches!(c, '"' | '<' | '>'))
            .count();
        return Some(n);
    }
    None
}

#[cfg(test)]
mod tests {
    //! The fold and each option on its own; the callers' tests pin their combinations.

    use super::*;

    #[test]
    fn the_fold_maps_width_spaces_and_invisibles() {
        assert_eq!(fold('Ａ'), Some('A'));
        assert_eq!(fold('１'), Some('1'));
        assert_eq!(fold('（'), Some('('));
        assert_eq!(fold('\u{3000}'), Some(' '));
        assert_eq!(fold('\t'), Some(' '));
        assert_eq!(fold('\u{7}'), Some(' '));
        for c in ['\u{200B}', '\u{200D}', '\u{200F}', '\u{2060}', '\u{FEFF}'] {
            assert_eq!(fold(c), None, "{c:?}");
        }
        assert_eq!(fold('水'), Some('水'));
    }

    #[test]
    fn only_characters_with_a_case_skip_the_shortcut() {
        for c in ('\0'..='\u{FFFF}').filter(|c| !has_case(*c)) {
            assert!(c.to_lowercase().eq([c]), "{c:?} has a lower case");
        }
    }

    #[test]
    fn spaces_are_dropped_or_collapsed_and_never_at_the_ends() {
        let text = " \t朝阳区\u{3000}\u{3000}望京\u{200B}西园\n ";
        assert_eq!(Normalizer::keeping(100).string(text), "朝阳区望京西园");
        let collapsed = Normalizer::keeping(100).collapse_spaces();
        assert_eq!(collapsed.string(text), "朝阳区 望京西园");
    }

    #[test]
    fn case_letters_and_noise_are_options() {
        let text = "ＡＢｃ路灯_x000D_坏了, https://baidu.com/x 请修!";
        assert_eq!(
            Normalizer::keeping(100).string(text),
            "ABc路灯_x000D_坏了,https://baidu.com/x请修!"
        );
        assert_eq!(Normalizer::keeping(100).lowercase().string("ÉΑB"), "éαb");
        let dupes = Normalizer::keeping(100)
            .lowercase()
            .alphanumeric_only()
            .drop_noise();
        assert_eq!(dupes.string(text), "abc路灯坏了请修");
    }

    #[test]
    fn a_cap_counts_characters_read_or_characters_kept() {
        assert_eq!(Normalizer::reading(3).string(" 停 水 停 水 "), "停");
        assert_eq!(Normalizer::keeping(3).string("  停 水 停 水 "), "停水停");
        let collapsed = Normalizer::keeping(3).collapse_spaces();
        assert_eq!(collapsed.string("停 水 停"), "停 水");
        let padded = format!("{}停水", " ".repeat(4 * 3 + 4096));
        assert_eq!(Normalizer::keeping(3).string(&padded), "");
        assert_eq!(Normalizer::reading(0).string("停"), "");
    }

    // Issue 16: the normaliser never panics and keeps its promises on any text.
    proptest::proptest! {
        #[test]
        fn any_text_normalises_within_the_options_promises(
            text in "(\\PC|[ 　\\t\\n\\r\\u{0}\\u{7}\\u{200b}\\u{feff}ＡＢ１２（）_x000D_]|https?://[a-z.]{0,8})*",
            keep in 0usize..64,
        ) {
            let dropped = Normalizer::reading(usize::MAX).string(&text);
            proptest::prop_assert!(!dropped.chars().any(|c| c.is_whitespace() || c.is_control()), "{:?}", dropped);
            let kept = Normalizer::keeping(keep).string(&text);
            proptest::prop_assert!(kept.chars().count() <= keep);
            let collapsed = Normalizer::reading(usize::MAX).collapse_spaces().string(&text);
            proptest::prop_assert!(!collapsed.starts_with(' ') && !collapsed.ends_with(' '), "{:?}", collapsed);
            proptest::prop_assert!(!collapsed.contains("  "), "{:?}", collapsed);
            proptest::prop_assert!(!collapsed.chars().any(|c| c.is_control()), "{:?}", collapsed);
            let alnum = Normalizer::reading(usize::MAX).alphanumeric_only().lowercase().string(&text);
            proptest::prop_assert!(alnum.chars().all(char::is_alphanumeric), "{:?}", alnum);
            let noise = Normalizer::reading(usize::MAX).drop_noise().string(&text);
            proptest::prop_assert!(noise.chars().count() <= dropped.chars().count());
            proptest::prop_assert_eq!(Normalizer::reading(usize::MAX).chars(&text), dropped.chars().collect::<Vec<_>>());
        }
    }
}
