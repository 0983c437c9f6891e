//! Intake suggestions: while the operator types, say what the request is about (classifier,
//! or the catalogue's keywords when no model is trained — and say so), where it is, who must
//! handle it and why, whether it was already reported, and what the knowledge base answers.
//! Every suggestion shown is stored, so production accuracy is measurable.

use super::AppState;
use crate::error::AppError;
use crate::store::{requests, suggestions};
use jiesu_core::dispatch::{self, PlaceCodes, SuggestedUnit};
use jiesu_core::RequestStatus;
use jiesu_text::place::{PlaceMatch, PlaceStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The longest text a suggestion reads.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// What the operator has typed so far.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestInput {
    /// The request's text.
    pub text: String,
    /// The address, if typed separately.
    #[serde(default)]
    pub address: String,
}

/// A suggested category.
#[derive(Debug, Serialize)]
pub struct CategorySuggestion {
    /// Category code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// Calibrated probability (classifier) or share of keyword weight (keywords).
    pub score: f64,
    /// The terms that drove it.
    pub terms: Vec<String>,
}

/// A suggested unit.
#[derive(Debug, Serialize)]
pub struct UnitSuggestion {
    /// Unit code.
    pub unit_code: String,
    /// Official name.
    pub name: String,
    /// `lead` or `co`.
    pub role: String,
    /// Why: rule hit, category default, place match, classifier score.
    pub reasons: Vec<String>,
}

/// A possible duplicate.
#[derive(Debug, Serialize)]
pub struct DuplicateSuggestion {
    /// Request id.
    pub id: String,
    /// Request number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Estimated Jaccard similarity of the texts.
    pub similarity: f64,
}

/// Everything intake suggests.
#[derive(Debug, Serialize)]
pub struct Suggestion {
    /// Pass it with the new request so accuracy can be measured.
    pub suggestion_id: String,
    /// `classifier`, `keywords`, or `none` (nothing recognised).
    pub source: String,
    /// Ranked categories (top 3).
    pub categories: Vec<CategorySuggestion>,
    /// The most specific category found (a keyword leaf under the top category).
    pub refined_category: Option<String>,
    /// Where.
    pub place: PlaceMatch,
    /// Who should handle it.
    pub units: Vec<UnitSuggestion>,
    /// Open requests in the last 30 days about the same thing.
    pub duplicates: Vec<DuplicateSuggestion>,
    /// Knowledge-base answers.
    pub answers: Vec<super::kb::KbHit>,
    /// Honest remarks (no model, ambiguous place, …).
    pub notes: Vec<String>,
}

fn categories(state: &AppState, text: &str) -> (String, Vec<CategorySuggestion>, Vec<String>) {
    let t = &state.text;
    let mut notes = Vec::new();
    if let Some(model) = &t.model {
        let cats = model
            .predict(text)
            .into_iter()
            .filter_map(|p| {
                let code = t.code_of_label(&p.label)?;
                let name = t.category_names.get(&code).cloned().unwrap_or_default();
                Some(CategorySuggestion {
                    code,
                    name,
                    score: p.score,
                    terms: p.terms,
                })
            })
            .collect();
        return ("classifier".into(), cats, notes);
    }
    notes.push("未训练分类模型：分类来自派单目录关键词 / no trained model: categories come from catalogue keywords".into());
    let ranking = t.keyword_ranking(text, None);
    let total: usize = ranking.iter().take(3).map(|r| r.1).sum();
    let cats: Vec<CategorySuggestion> = ranking
        .into_iter()
        .take(3)
        .map(|(code, weight, hits)| CategorySuggestion {
            name: t.category_names.get(&code).cloned().unwrap_or_default(),
            code,
            score: weight as f64 / total.max(1) as f64,
            terms: hits,
        })
        .collect();
    let source = if cats.is_empty() { "none" } else { "keywords" };
    (source.into(), cats, notes)
}

/// The levels of the place that are certain: all of a resolved place, the shared levels of an
/// ambiguous one (the gazetteer fills only those), none otherwise.
pub(crate) fn place_codes(p: &PlaceMatch) -> PlaceCodes {
    if !matches!(p.status, PlaceStatus::Resolved | PlaceStatus::Ambiguous) {
        return PlaceCodes::default();
    }
    PlaceCodes {
        district: p.district.as_ref().map(|u| u.code.clone()),
        street: p.street.as_ref().map(|u| u.code.clone()),
        community: p.community.as_ref().map(|u| u.code.clone()),
    }
}

async fn units(
    state: &AppState,
    category: Option<&str>,
    top_score: Option<f64>,
    place: &PlaceMatch,
) -> Result<Vec<UnitSuggestion>, AppError> {
    let Some(category) = category else {
        return Ok(Vec::new());
    };
    let codes = place_codes(place);
    let rules = state.text.rules(state.store.reader()).await?;
    let picked: Vec<SuggestedUnit> = match dispatch::pick_by_rules(&rules, category, &codes) {
        Some(units) => units,
        None => {
            let default = state.text.default_units.get(category).map(String::as_str);
            dispatch::fallback(default, &codes)
        }
    };
    let mut out = Vec::new();
    for u in picked {
        let name = state
            .text
            .unit_names
            .get(&u.unit_code)
            .cloned()
            .unwrap_or_default();
        let mut reasons = vec![match u.reason.split_once(':') {
            Some(("rule", id)) => format!("派单目录规则 / catalogue rule {id} ({category})"),
            Some(("place", _)) => format!("属地街乡 / the place's street: {name}"),
            _ => format!("分类默认承办单位 / default unit of {category}"),
        }];
        if let Some(s) = top_score {
            reasons.push(format!("分类置信度 / category score {s:.2}"));
        }
        out.push(UnitSuggestion {
            unit_code: u.unit_code,
            name,
            role: u.role.as_str().into(),
            reasons,
        });
    }
    Ok(out)
}

async fn duplicates(
    state: &AppState,
    text: &str,
    place: &PlaceMatch,
) -> Result<Vec<DuplicateSuggestion>, AppError> {
    let hits: Vec<(String, f64)> = {
        let d = state
            .text
            .dupes
            .read()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("duplicate index poisoned")))?;
        d.index
            .query(text, 10)
            .into_iter()
            .filter_map(|h| d.ids.get(&h.id).map(|id| (id.clone(), h.similarity)))
            .collect()
    };
    let street = place_codes(place).street;
    let since = state.clock.now() - chrono::Duration::days(super::text::DUPLICATE_WINDOW_DAYS);
    let ids: Vec<String> = hits.iter().map(|h| h.0.clone()).collect();
    let reader = state.store.reader();
    let mut rows: HashMap<String, requests::DuplicateCandidate> =
        requests::duplicate_candidates(reader, &ids)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    let candidates: Vec<(requests::DuplicateCandidate, f64)> = hits
        .into_iter()
        .filter_map(|(id, similarity)| rows.remove(&id).map(|r| (r, similarity)))
        .filter(|(r, _)| {
            let open = RequestStatus::parse(&r.status).is_some_and(|s| !s.is_final());
            open && r.created_at >= since
        })
        .collect();
    // Same problem at the same place: a different resolved street rules it out. A request's
    // street is resolved once (and kept); the text it is resolved from is read only then.
    let texts = match &street {
        Some(_) => {
            let unknown: Vec<String> = candidates
                .iter()
                .filter(|(r, _)| state.text.known_street(&r.id).is_none())
                .map(|(r, _)| r.id.clone())
                .collect();
            requests::place_texts(reader, &unknown).await?
        }
        None => HashMap::new(),
    };
    let mut out = Vec::new();
    for (r, similarity) in candidates {
        if let Some(street) = &street {
            let theirs = match texts.get(&r.id) {
                Some(text) => state.text.street_of(&r.id, || text.clone()),
                None => state.text.known_street(&r.id).flatten(),
            };
            if theirs.as_ref().is_some_and(|s| s != street) {
                continue;
            }
        }
        out.push(DuplicateSuggestion {
            id: r.id,
            number: r.number,
            title: r.title,
            status: r.status,
            similarity,
        });
    }
    Ok(out)
}

/// Suggests everything for a text being typed, and stores what was suggested.
pub async fn suggest(state: &AppState, input: SuggestInput) -> Result<Suggestion, AppError> {
    if input.text.trim().is_empty() {
        return Err(AppError::field(
            "text",
            "请输入诉求内容",
            "text must not be empty",
        ));
    }
    if input.text.chars().count() > MAX_TEXT_CHARS || input.address.chars().count() > 500 {
        return Err(AppError::field(
            "text",
            "内容过长（至多 100,000 字）",
            "text over 100,000 characters",
        ));
    }
    let text = input
        .text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect::<String>();
    let (source, cats, mut notes) = categories(state, &text);
    let top = cats.first().map(|c| c.code.clone());
    let refined = top.as_deref().and_then(|t| {
        state
            .text
            .keyword_ranking(&text, Some(t))
            .into_iter()
            .next()
            .map(|r| r.0)
    });
    let place = if input.address.trim().is_empty() {
        state.text.gazetteer.resolve(&text)
    } else {
        let by_address = state.text.gazetteer.resolve(&input.address);
        if by_address.status == PlaceStatus::Resolved {
            by_address
        } else {
            state
                .text
                .gazetteer
                .resolve(&format!("{} {}", input.address, text))
        }
    };
    match place.status {
        PlaceStatus::Ambiguous => {
            notes.push("地点有歧义，请确认 / the place is ambiguous: confirm it".into())
        }
        PlaceStatus::OutsideCity => {
            notes.push("地址不在本市 / the address is outside the city".into())
        }
        PlaceStatus::None => notes.push("未识别出地点 / no place recognised".into()),
        PlaceStatus::Resolved => {}
    }
    let unit_category = refined.clone().or(top.clone());
    let units = units(
        state,
        unit_category.as_deref(),
        cats.first().map(|c| c.score),
        &place,
    )
    .await?;
    let duplicates = duplicates(state, &text, &place).await?;
    let answers = super::kb::search(state, &text, 3, 0.3).await?;
    let suggestion = Suggestion {
        suggestion_id: uuid::Uuid::now_v7().to_string(),
        source,
        categories: cats,
        refined_category: refined,
        place,
        units,
        duplicates,
        answers,
        notes,
    };
    let lead = suggestion
        .units
        .iter()
        .find(|u| u.role == "lead")
        .map(|u| u.unit_code.clone());
    let payload = serde_json::to_string(&suggestion).map_err(|e| AppError::Internal(e.into()))?;
    suggestions::insert(
        &state.store,
        &suggestion.suggestion_id,
        state.clock.now(),
        &suggestion.source,
        unit_category.as_deref(),
        lead.as_deref(),
        &payload,
    )
    .await?;
    Ok(suggestion)
}

/// Production accuracy: of the suggestions linked to requests created in the range, how often
/// the operator kept the top category and the top lead unit.
#[derive(Debug, Serialize)]
pub struct Accuracy {
    /// Linked suggestions.
    pub n: usize,
    /// Of those with a suggested category and a chosen one: how many agreed.
    pub category_n: usize,
    /// Agreements.
    pub category_kept: usize,
    /// category_kept / category_n.
    pub category_rate: Option<f64>,
    /// Of those with a suggested and a dispatched lead.
    pub lead_n: usize,
    /// Agreements.
    pub lead_kept: usize,
    /// lead_kept / lead_n.
    pub lead_rate: Option<f64>,
}

fn same_or_below(chosen: &str, suggested: &str) -> bool {
    dispatch::covers(suggested, chosen) || dispatch::covers(chosen, suggested)
}

/// Computes [`Accuracy`] over [from, to).
pub async fn accuracy(
    state: &AppState,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Accuracy, AppError> {
    let rows = suggestions::outcomes(state.store.reader(), from, to).await?;
    let cat: Vec<bool> = rows
        .iter()
        .filter_map(|r| {
            Some(same_or_below(
                r.category.as_deref()?,
                r.top_category.as_deref()?,
            ))
        })
        .collect();
    let lead: Vec<bool> = rows
        .iter()
        .filter_map(|r| Some(r.lead.as_deref()? == r.top_lead.as_deref()?))
        .collect();
    let rate = |v: &[bool]| {
        (!v.is_empty()).then(|| v.iter().filter(|b| **b).count() as f64 / v.len() as f64)
    };
    Ok(Accuracy {
        n: rows.len(),
        category_n: cat.len(),
        category_kept: cat.iter().filter(|b| **b).count(),
        category_rate: rate(&cat),
        lead_n: lead.len(),
        lead_kept: lead.iter().filter(|b| **b).count(),
        lead_rate: rate(&lead),
    })
}
