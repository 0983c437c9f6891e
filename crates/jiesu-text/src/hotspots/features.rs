//! What the index needs of one request, computed without index state (so batch mining can
//! compute it in parallel): its places, division, term vectors and counts.

use std::hash::{Hash, Hasher};

use rustc_hash::FxHasher;

use super::places::{
    division_of_normalized, extract_from_normalized, key_form, normalize, same_place, PlaceKind,
    PlaceName,
};
use super::subjects;
use super::terms::{vector_of_normalized, TermVec};
use super::HotspotRecord;

/// Places kept per request: the given one, then the title's, or when the title names none,
/// at most two of the body's (bodies name many places in passing); one subject key may
/// follow them (the index keeps four keys per problem).
const MAX_PLACES: usize = 3;

/// One request, ready to insert.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    pub id: Box<str>,
    pub at: i64,
    pub title: Box<str>,
    pub places: Vec<PlaceName>,
    pub area: Option<Box<str>>,
    pub terms: TermVec,
    pub title_terms: TermVec,
    pub requester: Option<u64>,
    pub votes: u64,
    pub dissatisfied: bool,
    pub category: Option<Box<str>>,
}

impl Features {
    /// The features of `r`.
    pub fn of(r: &HotspotRecord) -> Self {
        // each text is normalized once here rather than by every step that reads it
        let (title, text) = (normalize(&r.title), normalize(&r.text));
        let mut title_places = extract_from_normalized(&title);
        title_places.sort_by_key(|p| p.kind);
        // bodies are read for places only when the title names none (the cost of a request
        // is mostly here)
        let mut body_places = if title_places.is_empty() && r.place.is_none() {
            extract_from_normalized(&text)
        } else {
            Vec::new()
        };
        body_places.sort_by_key(|p| p.kind);
        let strip: Vec<String> = title_places
            .iter()
            .chain(&body_places)
            .map(|p| p.name.clone())
            .collect();
        let mut places: Vec<PlaceName> = Vec::new();
        let given = r.place.as_ref().map(|h| PlaceName {
            name: key_form(h.name.trim()),
            kind: PlaceKind::Given,
        });
        let body = body_places.into_iter().take(2);
        for p in given.into_iter().chain(title_places).chain(body) {
            if p.name.is_empty() || places.iter().any(|q| same_place(&q.name, &p.name)) {
                continue;
            }
            if places.len() < MAX_PLACES {
                places.push(p);
            }
        }
        // the first company, project, product or policy the title names, a key as good as
        // a place; it comes after the places (which name the problem when it has one) but is
        // never crowded out by them
        let subject = subjects::extract_from_normalized(&title)
            .into_iter()
            .find(|p| !places.iter().any(|q| same_place(&q.name, &p.name)));
        places.extend(subject);
        let strip_refs: Vec<&str> = strip.iter().map(String::as_str).collect();
        let (terms, title_terms) = vector_of_normalized(&title, &text, &strip_refs);
        let hash = |s: &str| {
            let mut h = FxHasher::default();
            s.hash(&mut h);
            h.finish() & !(1 << 63)
        };
        Features {
            id: r.id.as_str().into(),
            at: r.submitted_at,
            title: r.title.trim().into(),
            places,
            area: division_of_normalized(&title)
                .or_else(|| division_of_normalized(&text))
                .map(Into::into),
            terms,
            title_terms,
            requester: r.requester.as_deref().filter(|s| !s.is_empty()).map(hash),
            votes: r.upvotes as u64 + r.downvotes as u64,
            dissatisfied: r.dissatisfied,
            category: r.category.as_deref().map(Into::into),
        }
    }
}
