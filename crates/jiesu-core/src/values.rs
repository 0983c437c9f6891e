//! Values validated once at the edge: phone numbers, unified social credit codes and unit
//! codes. A value of these types is always valid; parsing is the only way to make one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a raw string is not a valid value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not a Chinese mobile (11 digits, 1[3-9]…) or landline (area code 0xx(x) + 7–8 digits).
    #[error("not a valid Chinese mobile or landline number")]
    Phone,
    /// Wrong length, characters, or check character (GB 32100-2015).
    #[error("not a valid unified social credit code: {0}")]
    CreditCode(&'static str),
    /// Unit codes are 1–32 characters of `A-Z a-z 0-9 . _ -`.
    #[error("not a valid unit code")]
    UnitCode,
}

/// A requester's phone number (诉求人电话), normalised to digits only.
///
/// Mobiles are 11 digits starting `1[3-9]`; landlines are an area code starting with `0`
/// (3–4 digits) followed by a 7–8 digit subscriber number, written with or without a dash.
/// A leading `+86`/`86`/`0086` country code is accepted and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses and normalises a phone number.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let mut digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '（' | '）'))
            .collect();
        if let Some(rest) = digits.strip_prefix('+') {
            digits = rest.to_string();
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(ValueError::Phone);
        }
        for cc in ["0086", "86"] {
            if digits.len() > 11 && digits.starts_with(cc) {
                digits = digits[cc.len()..].to_string();
                break;
            }
        }
        let b = digits.as_bytes();
        let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        // Area codes: 010 and 02x are three digits, the rest four (0xxx); subscriber numbers
        // are 7 or 8 digits, so a landline has 10–12 digits and starts with a single 0.
        let landline = b.len() >= 10 && b.len() <= 12 && b[0] == b'0' && b[1] != b'0';
        if mobile || landline {
            Ok(PhoneNumber(digits))
        } else {
            Err(ValueError::Phone)
        }
    }

    /// The normalised digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as shown to anyone who does not have to call the requester: the first
    /// three and last four digits (`138****5678`).
    pub fn masked(&self) -> String {
        let s = &self.0;
        let keep_tail = 4.min(s.len());
        let head = 3.min(s.len() - keep_tail);
        format!("{}****{}", &s[..head], &s[s.len() - keep_tail..])
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        PhoneNumber::parse(&s)
    }
}
impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}
impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An enterprise's unified social credit code (统一社会信用代码), GB 32100-2015: 18
/// characters from `0-9 A-H J-N P-R T U W-Y`, the last a check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl CreditCode {
    /// Completes the first 17 characters of a code with its check character (GB 32100), or
    /// None when they are not 17 characters of the code alphabet.
    pub fn with_check(body: &str) -> Option<Self> {
        let values: Vec<u32> = body
            .chars()
            .map(|c| CREDIT_ALPHABET.find(c).map(|i| i as u32))
            .collect::<Option<_>>()?;
        if values.len() != 17 {
            return None;
        }
        let sum: u32 = values.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
        let check = CREDIT_ALPHABET.as_bytes()[((31 - sum % 31) % 31) as usize] as char;
        Some(CreditCode(format!("{body}{check}")))
    }

    /// Parses a code (case-insensitive, surrounding spaces ignored) and verifies its check
    /// character.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.chars().count() != 18 {
            return Err(ValueError::CreditCode("must be 18 characters"));
        }
        let values: Option<Vec<u32>> = code
            .chars()
            .map(|c| CREDIT_ALPHABET.find(c).map(|i| i as u32))
            .collect();
        let values = values.ok_or(ValueError::CreditCode("contains a character not allowed"))?;
        let sum: u32 = values[..17]
            .iter()
            .zip(CREDIT_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(ValueError::CreditCode("check character does not match"));
        }
        Ok(CreditCode(code))
    }

    /// The code as 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        CreditCode::parse(&s)
    }
}
impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

/// The code of a handling unit (承办单位): an official division code such as `110105001`, or
/// a department/company code such as `dept.zjw` or `co.heating`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    /// Parses a unit code.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let ok = !raw.is_empty()
            && raw.len() <= 32
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(UnitCode(raw.to_string()))
        } else {
            Err(ValueError::UnitCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitCode {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        UnitCode::parse(&s)
    }
}
impl From<UnitCode> for String {
    fn from(c: UnitCode) -> String {
        c.0
    }
}
impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_and_landlines_are_accepted_and_normalised() {
        let cases = [
            ("13812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("008613812345678", "13812345678"),
            ("010-12345678", "01012345678"),
            ("(010)6512 3456", "01065123456"),
            ("0755-1234567", "07551234567"),
            ("19912345678", "19912345678"),
        ];
        for (raw, want) in cases {
            assert_eq!(PhoneNumber::parse(raw).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn malformed_numbers_are_rejected() {
        for raw in [
            "",
            "12345",
            "12812345678",
            "1381234567",
            "138123456789",
            "abc",
            "001012345678",
            "12345678",
            "138-1234-567x",
        ] {
            assert_eq!(PhoneNumber::parse(raw), Err(ValueError::Phone), "{raw}");
        }
    }

    #[test]
    fn masking_keeps_three_and_four_digits() {
        assert_eq!(
            PhoneNumber::parse("13812345678").unwrap().masked(),
            "138****5678"
        );
        assert_eq!(
            PhoneNumber::parse("01065123456").unwrap().masked(),
            "010****3456"
        );
    }

    #[test]
    fn credit_codes_with_a_right_check_character_pass() {
        // Published codes of well-known companies.
        for raw in [
            "91110000802100433B",
            "91350100M000100Y43",
            "911100007109339484",
            "91110108MA01KPGK0L",
        ] {
            assert!(CreditCode::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(
            CreditCode::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn credit_codes_with_a_wrong_check_character_or_shape_fail() {
        assert!(matches!(
            CreditCode::parse("91350100M000100Y44"),
            Err(ValueError::CreditCode(_))
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100Y4"),
            Err(ValueError::CreditCode(_))
        ));
        assert!(matches!(
            CreditCode::parse("91350100I000100Y43"),
            Err(ValueError::CreditCode(_))
        ));
    }

    #[test]
    fn unit_codes_are_short_plain_ascii() {
        assert!(UnitCode::parse("110105001").is_ok());
        assert!(UnitCode::parse("co.heating").is_ok());
        for bad in ["", "朝阳区", "a b", &"x".repeat(33)] {
            assert_eq!(UnitCode::parse(bad), Err(ValueError::UnitCode), "{bad}");
        }
    }

    // Issue 16: the value parsers never panic on any text and keep their invariants.
    proptest::proptest! {
        #[test]
        fn phone_numbers_parse_to_digits_that_parse_again_and_mask_to_the_same_length(
            raw in "(\\PC|[0-9 +()（）-]){0,24}"
        ) {
            if let Ok(p) = PhoneNumber::parse(&raw) {
                proptest::prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_digit()));
                proptest::prop_assert!((10..=12).contains(&p.as_str().len()));
                proptest::prop_assert_eq!(PhoneNumber::parse(p.as_str()), Ok(p.clone()));
                let masked = p.masked();
                proptest::prop_assert_eq!(masked.len(), p.as_str().len().min(7) + 4);
                proptest::prop_assert!(masked.contains("****"));
            }
        }

        #[test]
        fn any_mobile_written_any_usual_way_parses_to_its_eleven_digits(
            second in 3u8..=9, rest in "[0-9]{9}", prefix in "(|\\+86|86|0086)", sep in "(| |-)"
        ) {
            let digits = format!("1{second}{rest}");
            let raw = format!("{prefix}{sep}{}{sep}{}", &digits[..3], &digits[3..]);
            proptest::prop_assert_eq!(PhoneNumber::parse(&raw).map(|p| p.as_str().to_string()), Ok(digits));
        }

        #[test]
        fn credit_codes_never_panic_and_a_completed_body_always_verifies(
            raw in "\\PC{0,24}", body in "[0-9A-HJ-NP-RTUW-Y]{17}"
        ) {
            if let Ok(c) = CreditCode::parse(&raw) {
                proptest::prop_assert_eq!(c.as_str().chars().count(), 18);
                proptest::prop_assert_eq!(CreditCode::parse(c.as_str()), Ok(c.clone()));
            }
            let c = CreditCode::with_check(&body).expect("17 characters of the alphabet");
            proptest::prop_assert_eq!(CreditCode::parse(&c.as_str().to_ascii_lowercase()), Ok(c.clone()));
        }

        #[test]
        fn unit_codes_are_exactly_1_to_32_safe_characters(raw in "\\PC{0,40}") {
            let safe = !raw.is_empty()
                && raw.len() <= 32
                && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            proptest::prop_assert_eq!(UnitCode::parse(&raw).is_ok(), safe);
        }
    }
}
