//! The closed choices of the `jiesu` command as clap value enums, so that `--help` lists them
//! and a bad value is refused by clap (exit 2), and the usage error every other bad value
//! becomes (exit 2 too).

use clap::builder::PossibleValue;
use clap::ValueEnum;
use jiesu::services::kpi::Level;
use jiesu_core::Role;
use std::sync::LazyLock;

/// A bad value given on the command line or in the environment: the binary exits with 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Fails with a [`Usage`] error.
pub fn usage<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(Usage(message.into()).into())
}

/// `--role`: every [`Role`], by its stable name.
#[derive(Debug, Clone, Copy)]
pub struct RoleArg(pub Role);

static ROLES: LazyLock<Vec<RoleArg>> =
    LazyLock::new(|| Role::ALL.iter().copied().map(RoleArg).collect());

impl ValueEnum for RoleArg {
    fn value_variants<'a>() -> &'a [Self] {
        &ROLES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()))
    }
}

/// `--level`: the units a ranking covers.
#[derive(Debug, Clone, Copy)]
pub struct LevelArg(pub Level);

impl ValueEnum for LevelArg {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            LevelArg(Level::Subdistrict),
            LevelArg(Level::District),
            LevelArg(Level::Department),
            LevelArg(Level::Company),
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.as_str()))
    }
}

/// `kpi ranking --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RankingFormat {
    /// JSON, as the API answers.
    Json,
    /// CSV (UTF-8 with a BOM).
    Csv,
    /// An xlsx workbook (needs --out).
    Xlsx,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_enums_name_every_role_and_level_as_the_api_does() {
        let roles: Vec<_> = RoleArg::value_variants()
            .iter()
            .map(|r| r.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(roles.len(), Role::ALL.len());
        for name in &roles {
            assert!(Role::parse(name).is_some(), "{name}");
        }
        for l in LevelArg::value_variants() {
            let name = l.to_possible_value().unwrap().get_name().to_string();
            assert_eq!(Level::parse(&name).ok(), Some(l.0));
        }
    }
}
