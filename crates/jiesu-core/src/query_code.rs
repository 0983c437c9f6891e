//! The query code (查询码): a random secret given to the requester at intake, with which the
//! request's number can be tracked. Eight characters from an alphabet without look-alikes
//! (no 0/O, 1/I/L), so it can be read out on the phone and typed back: 31⁸ ≈ 8.5·10¹¹ codes
//! (39.6 bits). This module only checks and spells codes; the random draws come from the
//! caller (a CSPRNG in the application), since the domain floor does no I/O.

use std::fmt;

/// The characters a code is made of.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Characters in a code.
pub const LEN: usize = 8;

/// A well-formed query code, upper case, without separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryCode(String);

impl QueryCode {
    /// Reads a code as a person typed it: case, spaces and dashes do not matter (`abcd-2345`
    /// is `ABCD2345`). None when it is not eight characters of the alphabet.
    pub fn parse(raw: &str) -> Option<QueryCode> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let ok = code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b));
        ok.then_some(QueryCode(code))
    }

    /// A code drawn uniformly with `next_u32`, which must be a cryptographically secure
    /// random source: each character by rejection sampling, so no character is likelier
    /// than another.
    pub fn random(mut next_u32: impl FnMut() -> u32) -> QueryCode {
        let n = ALPHABET.len() as u32;
        // The largest multiple of n that fits: draws at or above it are thrown away.
        let zone = u32::MAX - (u32::MAX % n);
        let code = (0..LEN)
            .map(|_| loop {
                let x = next_u32();
                if x < zone {
                    break ALPHABET[(x % n) as usize] as char;
                }
            })
            .collect();
        QueryCode(code)
    }

    /// The code, eight characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for QueryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_are_normalised_and_bad_ones_refused() {
        assert_eq!(QueryCode::parse("abcd-2345").unwrap().as_str(), "ABCD2345");
        assert_eq!(
            QueryCode::parse(" ABCD 2345 ").unwrap().as_str(),
            "ABCD2345"
        );
        assert!(QueryCode::parse("ABCD234").is_none(), "too short");
        assert!(QueryCode::parse("ABCD23456").is_none(), "too long");
        assert!(
            QueryCode::parse("ABCD2340").is_none(),
            "0 is not in the alphabet"
        );
        assert!(
            QueryCode::parse("ABCDI234").is_none(),
            "I is not in the alphabet"
        );
        assert!(QueryCode::parse("ABCD234Ö").is_none());
    }

    #[test]
    fn random_codes_use_the_whole_alphabet_evenly_and_parse_back() {
        // A small xorshift stands in for the CSPRNG here: only the mapping is under test.
        let mut s = 0x9E37_79B9_u32;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        let mut counts = [0usize; 31];
        for _ in 0..4000 {
            let c = QueryCode::random(&mut next);
            assert_eq!(QueryCode::parse(c.as_str()), Some(c.clone()));
            for b in c.as_str().bytes() {
                counts[ALPHABET.iter().position(|a| *a == b).unwrap()] += 1;
            }
        }
        // 32,000 characters: about 1,032 each.
        assert!(
            counts.iter().all(|&n| (850..1250).contains(&n)),
            "{counts:?}"
        );
        // Draws in the rejected zone are skipped, not mapped.
        let mut draws = vec![u32::MAX, 0, 1, 2, 3, 4, 5, 6, 7].into_iter();
        let c = QueryCode::random(|| draws.next().unwrap());
        assert_eq!(c.as_str(), "23456789");
    }
}
