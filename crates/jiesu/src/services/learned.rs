//! A model learned from the city's own history, as a node holds it: the category classifier
//! over the taxonomy's leaves, offered up the tree when unsure (a confident level 1 rather
//! than an unsure level 3), and the lead-unit classifier. Pure: no I/O.

use jiesu_core::dispatch::PlaceCodes;
use jiesu_text::classify::Model;
use jiesu_text::place::{Gazetteer, PlaceStatus};
use std::collections::HashMap;

/// The units a lead may be named by relative to the request's place, as in the dispatch
/// catalogue: a street's requests are led by *their* street, which a text classifier learns
/// as `{street}` rather than as 349 separate streets.
const PLACES: [&str; 3] = ["{street}", "{community}", "{district}"];

/// The place of a request as intake resolves it: the address alone when it resolves, else
/// the address with the text.
pub fn place_of(gazetteer: &Gazetteer, address: &str, text: &str) -> PlaceCodes {
    if !address.trim().is_empty() {
        let by_address = gazetteer.resolve(address);
        if by_address.status == PlaceStatus::Resolved {
            return by_address.codes();
        }
    }
    gazetteer.resolve(&format!("{address} {text}")).codes()
}

/// The label a lead unit is learned as: `{street}` (or community, district) when it is the
/// request's own, else its code.
pub fn lead_label(place: &PlaceCodes, lead: &str) -> String {
    let own = [&place.street, &place.community, &place.district];
    match own.iter().position(|c| c.as_deref() == Some(lead)) {
        Some(i) => PLACES[i].to_string(),
        None => lead.to_string(),
    }
}

fn unit_of(place: &PlaceCodes, label: &str) -> Option<String> {
    match PLACES.iter().position(|p| *p == label) {
        Some(0) => place.street.clone(),
        Some(1) => place.community.clone(),
        Some(_) => place.district.clone(),
        None => Some(label.to_string()),
    }
}

/// The category and lead-unit classifiers of one learned model.
pub struct Learned {
    /// The model's id (`text_models.id`).
    pub id: String,
    /// Category classifier: labels are category codes (the finest the dispatcher chose).
    pub category: Model,
    /// Lead-unit classifier: labels are unit codes.
    pub unit: Model,
    /// Each category's parent, as the taxonomy was when the model was trained.
    pub parents: HashMap<String, String>,
}

/// The category offered for a text: the most specific one whose probability (its own plus
/// its descendants') reaches the threshold, or the top leaf when none does.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// Category code.
    pub code: String,
    /// Its probability (summed over the leaves below it).
    pub score: f64,
    /// Levels above the top leaf (0: the leaf itself).
    pub levels_up: usize,
    /// Whether the score reaches the threshold.
    pub sure: bool,
}

impl Learned {
    /// The category chain from `code` up to its level-1 ancestor.
    fn chain(&self, code: &str) -> Vec<String> {
        let mut out = vec![code.to_string()];
        while let Some(p) = self
            .parents
            .get(out.last().map(String::as_str).unwrap_or(""))
        {
            if out.contains(p) || out.len() > 8 {
                break;
            }
            out.push(p.clone());
        }
        out
    }

    /// The category to offer for `text` at the confidence `threshold` (see [`Offer`]).
    pub fn offer(&self, text: &str, threshold: f64) -> Option<Offer> {
        offer_from(&self.category.probabilities(text), threshold, |c| {
            self.chain(c)
        })
    }

    /// The most likely lead unit for a request at `place`, and its probability.
    pub fn lead(&self, text: &str, place: &PlaceCodes) -> Option<(String, f64)> {
        let (label, p) = self.unit.predict_top(text)?;
        Some((unit_of(place, &label)?, p))
    }
}

/// [`Learned::offer`] over leaf probabilities, with `chain` naming a code and its ancestors.
pub fn offer_from(
    leaves: &[(String, f64)],
    threshold: f64,
    chain: impl Fn(&str) -> Vec<String>,
) -> Option<Offer> {
    let top = leaves.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
    if top.1 >= threshold {
        return Some(Offer {
            code: top.0.clone(),
            score: top.1,
            levels_up: 0,
            sure: true,
        });
    }
    // Sum each ancestor's leaves; go up the top leaf's chain to the first node that is sure.
    let mut sums: HashMap<String, f64> = HashMap::new();
    for (leaf, p) in leaves {
        for node in chain(leaf).into_iter().skip(1) {
            *sums.entry(node).or_default() += p;
        }
    }
    let up = chain(&top.0);
    for (i, node) in up.iter().enumerate().skip(1) {
        let p = sums.get(node).copied().unwrap_or(0.0);
        if p >= threshold {
            return Some(Offer {
                code: node.clone(),
                score: p,
                levels_up: i,
                sure: true,
            });
        }
    }
    Some(Offer {
        code: top.0.clone(),
        score: top.1,
        levels_up: 0,
        sure: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(c: &str) -> Vec<String> {
        // Dotted codes: a.b.c → a.b → a.
        let mut out = vec![c.to_string()];
        let mut s = c;
        while let Some((p, _)) = s.rsplit_once('.') {
            out.push(p.to_string());
            s = p;
        }
        out
    }

    fn leaves(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(c, p)| (c.to_string(), *p)).collect()
    }

    #[test]
    fn a_lead_is_learned_relative_to_the_place_when_it_is_the_places_own() {
        let place = PlaceCodes {
            district: Some("110105".into()),
            street: Some("110105026".into()),
            community: None,
        };
        assert_eq!(lead_label(&place, "110105026"), "{street}");
        assert_eq!(lead_label(&place, "110105"), "{district}");
        assert_eq!(lead_label(&place, "dept.cgzf"), "dept.cgzf");
        assert_eq!(unit_of(&place, "{street}").as_deref(), Some("110105026"));
        assert_eq!(unit_of(&place, "{community}"), None);
    }

    #[test]
    fn a_confident_leaf_is_offered_as_it_is() {
        let o = offer_from(&leaves(&[("a.b.c", 0.7), ("a.b.d", 0.3)]), 0.6, chain).unwrap();
        assert_eq!((o.code.as_str(), o.levels_up, o.sure), ("a.b.c", 0, true));
    }

    #[test]
    fn an_unsure_leaf_gives_way_to_its_sure_parent_then_grandparent() {
        let l = leaves(&[
            ("a.b.c", 0.4),
            ("a.b.d", 0.3),
            ("a.e.f", 0.2),
            ("g.h.i", 0.1),
        ]);
        let o = offer_from(&l, 0.6, chain).unwrap();
        assert_eq!((o.code.as_str(), o.levels_up), ("a.b", 1));
        assert!((o.score - 0.7).abs() < 1e-9 && o.sure);
        let o = offer_from(&l, 0.85, chain).unwrap();
        assert_eq!((o.code.as_str(), o.levels_up), ("a", 2));
        let o = offer_from(&l, 0.95, chain).unwrap();
        assert_eq!((o.code.as_str(), o.sure), ("a.b.c", false));
    }
}
