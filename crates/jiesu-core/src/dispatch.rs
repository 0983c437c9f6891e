//! The dispatch catalogue (派单目录): rules that say which units handle a category of problem
//! in an area, and the fallback when no rule applies (the street of the place leads, the
//! category's department helps). Pure matching; the rules are stored by the application.

use crate::workflow::AssignmentRole;
use serde::{Deserialize, Serialize};

/// A unit named by a rule: a unit code, or a placeholder for the place's own unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleUnit {
    /// A unit code, or `{street}`, `{community}`, `{district}`.
    pub unit: String,
    /// Lead or co-handler.
    pub role: AssignmentRole,
}

/// One catalogue rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueRule {
    /// Id.
    pub id: String,
    /// The category it covers, and every category below it (`gggl.gr` covers `gggl.gr.sw`).
    pub category_code: String,
    /// The area: a district or street code, or empty for the whole city.
    pub area_code: String,
    /// The units, exactly one lead.
    pub units: Vec<RuleUnit>,
}

/// Where the request is, as resolved from its text or address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaceCodes {
    /// 区.
    pub district: Option<String>,
    /// 街道/乡镇.
    pub street: Option<String>,
    /// 社区/村.
    pub community: Option<String>,
}

/// A suggested unit with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestedUnit {
    /// Unit code.
    pub unit_code: String,
    /// Lead or co-handler.
    pub role: AssignmentRole,
    /// Why (`rule:<id>`, `place:street`, `category_default`).
    pub reason: String,
}

/// True when `category` is `ancestor` or lies under it in the catalogue (`hjbh.zs` covers
/// `hjbh.zs` and `hjbh.zs.sg`, not `hjbh.zsx`).
pub fn covers(ancestor: &str, category: &str) -> bool {
    category
        .strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

fn area_rank(rule: &CatalogueRule, place: &PlaceCodes) -> Option<usize> {
    if rule.area_code.is_empty() {
        Some(0)
    } else if place.street.as_deref() == Some(&rule.area_code) {
        Some(2)
    } else if place.district.as_deref() == Some(&rule.area_code) {
        Some(1)
    } else {
        None
    }
}

fn expand(unit: &str, place: &PlaceCodes) -> Option<String> {
    match unit {
        "{street}" => place.street.clone(),
        "{community}" => place.community.clone(),
        "{district}" => place.district.clone(),
        code => Some(code.to_string()),
    }
}

/// The units of the most specific applicable rule (deepest category, then narrowest area,
/// then lowest id for a stable tie-break). A rule whose lead placeholder the place cannot fill
/// does not apply; a co-handler placeholder that cannot be filled is dropped.
pub fn pick_by_rules(
    rules: &[CatalogueRule],
    category: &str,
    place: &PlaceCodes,
) -> Option<Vec<SuggestedUnit>> {
    let mut applicable: Vec<(usize, usize, &CatalogueRule, Vec<SuggestedUnit>)> = Vec::new();
    for rule in rules.iter().filter(|r| covers(&r.category_code, category)) {
        let Some(area) = area_rank(rule, place) else {
            continue;
        };
        let mut units = Vec::new();
        let mut lead_ok = false;
        for u in &rule.units {
            match expand(&u.unit, place) {
                Some(code) if !units.iter().any(|s: &SuggestedUnit| s.unit_code == code) => {
                    lead_ok |= u.role == AssignmentRole::Lead;
                    units.push(SuggestedUnit {
                        unit_code: code,
                        role: u.role,
                        reason: format!("rule:{}", rule.id),
                    });
                }
                _ => {}
            }
        }
        if lead_ok {
            applicable.push((rule.category_code.split('.').count(), area, rule, units));
        }
    }
    applicable.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.id.cmp(&b.2.id)));
    applicable.into_iter().next().map(|(_, _, _, units)| units)
}

/// Units when no rule applies: the place's street leads (直派到街乡) with the category's
/// department as co-handler; without a street, the department leads.
pub fn fallback(default_unit: Option<&str>, place: &PlaceCodes) -> Vec<SuggestedUnit> {
    let mut out = Vec::new();
    if let Some(street) = &place.street {
        out.push(SuggestedUnit {
            unit_code: street.clone(),
            role: AssignmentRole::Lead,
            reason: "place:street".into(),
        });
    }
    if let Some(dept) = default_unit.filter(|d| Some(*d) != place.street.as_deref()) {
        let role = if out.is_empty() {
            AssignmentRole::Lead
        } else {
            AssignmentRole::Co
        };
        out.push(SuggestedUnit {
            unit_code: dept.to_string(),
            role,
            reason: "category_default".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssignmentRole::{Co, Lead};

    #[test]
    fn a_category_covers_itself_and_what_lies_below_it_only() {
        assert!(covers("hjbh.zs", "hjbh.zs"));
        assert!(covers("hjbh.zs", "hjbh.zs.sg"));
        assert!(!covers("hjbh.zs", "hjbh.zsx"));
        assert!(!covers("hjbh.zs.sg", "hjbh.zs"));
    }

    fn rule(id: &str, cat: &str, area: &str, units: &[(&str, AssignmentRole)]) -> CatalogueRule {
        CatalogueRule {
            id: id.into(),
            category_code: cat.into(),
            area_code: area.into(),
            units: units
                .iter()
                .map(|(u, r)| RuleUnit {
                    unit: u.to_string(),
                    role: *r,
                })
                .collect(),
        }
    }

    fn wangjing() -> PlaceCodes {
        PlaceCodes {
            district: Some("110105".into()),
            street: Some("110105026".into()),
            community: Some("110105026034".into()),
        }
    }

    fn codes(units: &[SuggestedUnit]) -> Vec<(&str, AssignmentRole)> {
        units
            .iter()
            .map(|u| (u.unit_code.as_str(), u.role))
            .collect()
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = vec![
            rule("r1", "gggl", "", &[("{street}", Lead)]),
            rule(
                "r2",
                "gggl.gr",
                "",
                &[("co.heating", Lead), ("{street}", Co)],
            ),
            rule(
                "r3",
                "gggl.gr",
                "110105",
                &[("co.heating", Lead), ("{street}", Co), ("{community}", Co)],
            ),
            rule("r4", "gggl.gr", "110108", &[("co.other", Lead)]),
        ];
        let got = pick_by_rules(&rules, "gggl.gr.swbdb", &wangjing()).unwrap();
        assert_eq!(
            codes(&got),
            vec![
                ("co.heating", Lead),
                ("110105026", Co),
                ("110105026034", Co)
            ]
        );
        assert_eq!(got[0].reason, "rule:r3");
        // Another district: the city-wide heating rule.
        let haidian = PlaceCodes {
            district: Some("110108".into()),
            street: None,
            community: None,
        };
        assert_eq!(
            codes(&pick_by_rules(&rules, "gggl.gr", &haidian).unwrap()),
            vec![("co.other", Lead)]
        );
        // Prefixes are whole segments: gggl.grx is not under gggl.gr.
        assert_eq!(
            pick_by_rules(&rules, "gggl.grx", &wangjing()).unwrap()[0].reason,
            "rule:r1"
        );
        assert!(pick_by_rules(&rules, "cxjs", &wangjing()).is_none());
    }

    #[test]
    fn a_rule_whose_lead_cannot_be_placed_does_not_apply() {
        let rules = vec![rule(
            "r1",
            "cxjs",
            "",
            &[("{street}", Lead), ("dept.zjw", Co)],
        )];
        assert!(pick_by_rules(&rules, "cxjs.wygl", &PlaceCodes::default()).is_none());
        let rules = vec![rule(
            "r1",
            "cxjs",
            "",
            &[("dept.zjw", Lead), ("{community}", Co)],
        )];
        let got = pick_by_rules(&rules, "cxjs", &PlaceCodes::default()).unwrap();
        assert_eq!(codes(&got), vec![("dept.zjw", Lead)]);
    }

    #[test]
    fn fallback_sends_to_the_street_with_the_department_helping() {
        assert_eq!(
            codes(&fallback(Some("dept.cgzf"), &wangjing())),
            vec![("110105026", Lead), ("dept.cgzf", Co)]
        );
        assert_eq!(
            codes(&fallback(Some("dept.cgzf"), &PlaceCodes::default())),
            vec![("dept.cgzf", Lead)]
        );
        assert!(fallback(None, &PlaceCodes::default()).is_empty());
    }
}
