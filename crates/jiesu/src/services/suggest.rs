//! Intake suggestions: while the operator types, say what the request is about (classifier,
//! or the catalogue's keywords when no model is trained — and say so), where it is, who must
//! handle it and why, whether it was already reported, and what the knowledge base answers.
//! Every suggestion shown is stored, so production accuracy is measurable.

use super::AppState;
use crate::error::AppError;
use crate::messages;
use crate::store::{requests, suggestions};
use jiesu_core::dispatch::{self, SuggestedUnit};
use jiesu_core::workflow::AssignmentRole;
use jiesu_core::RequestStatus;
use jiesu_text::place::{PlaceCandidate, PlaceLevel, PlaceMatch, PlaceStatus, PlaceUnit};
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
    /// Where, on a map (issue 20): the district whose boundary holds the point decides the
    /// place's district; the text may still name the street inside it.
    #[serde(default)]
    pub location: Option<super::maps::LocationInput>,
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
    /// The classifier's calibrated probability reaches `JIESU_TEXT_CONFIDENT`; false for
    /// "not sure" (不确定) and always false for keyword guesses.
    pub sure: bool,
}

/// A suggested unit.
#[derive(Debug, Serialize)]
pub struct UnitSuggestion {
    /// Unit code.
    pub unit_code: String,
    /// Official name.
    pub name: String,
    /// `lead` or `co`.
    pub role: AssignmentRole,
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
    pub status: RequestStatus,
    /// Estimated Jaccard similarity of the texts.
    pub similarity: f64,
}

/// Everything intake suggests.
#[derive(Debug, Serialize)]
pub struct Suggestion {
    /// Pass it with the new request so accuracy can be measured.
    pub suggestion_id: String,
    /// `learned` (the model learned from the city's history), `classifier`, `keywords`, or
    /// `none` (nothing recognised).
    pub source: String,
    /// The learned model that made it (`text_models.id`), when one is in force.
    pub model: Option<String>,
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

/// The learned model's categories: its three most likely leaves, and before them, when the
/// top leaf is not sure, the most specific category above it that is.
fn learned_categories(
    state: &AppState,
    l: &super::learned::Learned,
    text: &str,
) -> (Vec<CategorySuggestion>, Vec<String>) {
    let t = &state.models;
    let confident = state.config.text_confident;
    let mut notes = Vec::new();
    let mut cats: Vec<CategorySuggestion> = l
        .category
        .predict(text)
        .into_iter()
        .filter_map(|p| {
            let code = t.code_of_label(&p.label)?;
            Some(CategorySuggestion {
                name: t.category_name(&code).unwrap_or_default(),
                code,
                sure: p.score >= confident,
                score: p.score,
                terms: p.terms,
            })
        })
        .collect();
    match l.offer(text, confident) {
        Some(o) if o.levels_up > 0 => {
            notes.push(messages::both(
                "note.level_offered",
                &[
                    ("code", o.code.clone()),
                    ("score", format!("{:.0}%", o.score * 100.0)),
                ],
            ));
            let terms = cats.first().map(|c| c.terms.clone()).unwrap_or_default();
            cats.insert(
                0,
                CategorySuggestion {
                    name: t.category_name(&o.code).unwrap_or_default(),
                    code: o.code,
                    score: o.score,
                    terms,
                    sure: true,
                },
            );
        }
        Some(o) if !o.sure => notes.push(messages::both(
            "note.not_sure",
            &[
                ("score", format!("{:.0}%", o.score * 100.0)),
                ("threshold", format!("{:.0}%", confident * 100.0)),
            ],
        )),
        _ => {}
    }
    (cats, notes)
}

fn categories(state: &AppState, text: &str) -> (String, Vec<CategorySuggestion>, Vec<String>) {
    let t = &state.models;
    if let Some(l) = t.learned() {
        let (cats, notes) = learned_categories(state, &l, text);
        return ("learned".into(), cats, notes);
    }
    let mut notes = Vec::new();
    if let Some(model) = &t.model {
        let confident = state.config.text_confident;
        let cats: Vec<CategorySuggestion> = model
            .predict(text)
            .into_iter()
            .filter_map(|p| {
                let code = t.code_of_label(&p.label)?;
                let name = t.category_name(&code).unwrap_or_default();
                Some(CategorySuggestion {
                    code,
                    name,
                    sure: p.score >= confident,
                    score: p.score,
                    terms: p.terms,
                })
            })
            .collect();
        if let Some(top) = cats.first().filter(|c| !c.sure) {
            notes.push(messages::both(
                "note.not_sure",
                &[
                    ("score", format!("{:.0}%", top.score * 100.0)),
                    ("threshold", format!("{:.0}%", confident * 100.0)),
                ],
            ));
        }
        return ("classifier".into(), cats, notes);
    }
    notes.push(messages::both("note.no_model", &[]));
    let ranking = t.keyword_ranking(text, None);
    let total: usize = ranking.iter().take(3).map(|r| r.weight).sum();
    let cats: Vec<CategorySuggestion> = ranking
        .into_iter()
        .take(3)
        .map(|r| CategorySuggestion {
            name: t.category_name(&r.code).unwrap_or_default(),
            code: r.code,
            score: r.weight as f64 / total.max(1) as f64,
            terms: r.hits,
            sure: false,
        })
        .collect();
    let source = if cats.is_empty() { "none" } else { "keywords" };
    (source.into(), cats, notes)
}

async fn units(
    state: &AppState,
    category: Option<&str>,
    top_score: Option<f64>,
    place: &PlaceMatch,
    learned_lead: Option<(String, f64)>,
) -> Result<Vec<UnitSuggestion>, AppError> {
    let Some(category) = category else {
        return Ok(Vec::new());
    };
    let codes = place.codes();
    let rules = state.models.rules(state.store.reader()).await?;
    let picked: Vec<SuggestedUnit> = match dispatch::pick_by_rules(&rules, category, &codes) {
        Some(units) => units,
        None => {
            let default = state.models.default_unit(category);
            dispatch::fallback(default.as_deref(), &codes)
        }
    };
    let mut out = Vec::new();
    // The lead the learned model names leads; the rules' co-handlers stay.
    let learned = learned_lead.and_then(|(code, p)| {
        let name = state.models.unit_name(&code)?;
        Some(UnitSuggestion {
            reasons: vec![messages::both(
                "reason.learned_unit",
                &[("score", format!("{p:.2}"))],
            )],
            unit_code: code,
            name,
            role: AssignmentRole::Lead,
        })
    });
    let picked: Vec<SuggestedUnit> = match &learned {
        Some(l) => picked
            .into_iter()
            .filter(|u| u.role != AssignmentRole::Lead && u.unit_code != l.unit_code)
            .collect(),
        None => picked,
    };
    out.extend(learned);
    for u in picked {
        let name = state.models.unit_name(&u.unit_code).unwrap_or_default();
        let mut reasons = vec![match u.reason.split_once(':') {
            Some(("rule", id)) => messages::both(
                "reason.rule",
                &[("id", id.to_string()), ("category", category.to_string())],
            ),
            Some(("place", _)) => messages::both("reason.place", &[("name", name.to_string())]),
            _ => messages::both("reason.default_unit", &[("category", category.to_string())]),
        }];
        if let Some(s) = top_score {
            reasons.push(messages::both(
                "reason.category_score",
                &[("score", format!("{s:.2}"))],
            ));
        }
        out.push(UnitSuggestion {
            unit_code: u.unit_code,
            name,
            role: u.role,
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
            .models
            .dupes
            .read()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("duplicate index poisoned")))?;
        d.index
            .query(text, 10)
            .into_iter()
            .filter_map(|h| d.ids.get(&h.id).map(|id| (id.clone(), h.similarity)))
            .collect()
    };
    let street = place.codes().street;
    let since = state.clock.now() - chrono::Duration::days(super::models::DUPLICATE_WINDOW_DAYS);
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
            let open = !r.status.is_final();
            open && r.created_at >= since
        })
        .collect();
    // Same problem at the same place: a different resolved street rules it out. A request's
    // street is resolved once (and kept); the text it is resolved from is read only then.
    let texts = match &street {
        Some(_) => {
            let unknown: Vec<String> = candidates
                .iter()
                .filter(|(r, _)| state.models.known_street(&r.id).is_none())
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
                Some(text) => state.models.street_of(&r.id, || text.clone()),
                None => state.models.known_street(&r.id).flatten(),
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

/// Suggests everything for a text being typed, and stores what was suggested (its id is
/// passed back when the request is recorded, so production accuracy is measurable).
pub async fn suggest(state: &AppState, input: SuggestInput) -> Result<Suggestion, AppError> {
    let suggestion = advise(state, input).await?;
    let lead = suggestion
        .units
        .iter()
        .find(|u| u.role == AssignmentRole::Lead)
        .map(|u| u.unit_code.clone());
    let unit_category = suggestion
        .refined_category
        .clone()
        .or_else(|| suggestion.categories.first().map(|c| c.code.clone()));
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

/// The same suggestions, stored nowhere: for pages that only show them (the dispatch and task
/// forms), so that viewing a page writes nothing.
pub async fn advise(state: &AppState, input: SuggestInput) -> Result<Suggestion, AppError> {
    if input.text.trim().is_empty() {
        return Err(AppError::invalid(
            "text",
            "err.suggest.text_must_not_be_empty",
        ));
    }
    if input.text.chars().count() > MAX_TEXT_CHARS || input.address.chars().count() > 500 {
        return Err(AppError::invalid(
            "text",
            "err.suggest.text_over_100_000_characters",
        ));
    }
    let started = std::time::Instant::now();
    // A model promoted or rolled back on any node is served from the next suggestion on.
    super::learning::follow(state).await?;
    let text = input
        .text
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .collect::<String>();
    let (source, cats, mut notes) = categories(state, &text);
    let top = cats.first().map(|c| c.code.clone());
    let refined = top.as_deref().and_then(|t| {
        state
            .models
            .keyword_ranking(&text, Some(t))
            .into_iter()
            .next()
            .map(|r| r.code)
    });
    let place = if input.address.trim().is_empty() {
        state.models.gazetteer().resolve(&text)
    } else {
        let by_address = state.models.gazetteer().resolve(&input.address);
        if by_address.status == PlaceStatus::Resolved {
            by_address
        } else {
            state
                .models
                .gazetteer()
                .resolve(&format!("{} {}", input.address, text))
        }
    };
    let place = match &input.location {
        Some(l) => {
            let point = super::maps::check("location", l)?;
            match super::maps::district_unit_at(state, point.lat, point.lon).await? {
                Some((code, name)) => placed_by_point(place, code, name, &mut notes),
                None => place,
            }
        }
        None => place,
    };
    match place.status {
        PlaceStatus::Ambiguous => notes.push(messages::both("note.place_ambiguous", &[])),
        PlaceStatus::OutsideCity => notes.push(messages::both("note.place_outside", &[])),
        PlaceStatus::None => notes.push(messages::both("note.place_none", &[])),
        PlaceStatus::Resolved => {}
    }
    let unit_category = refined.clone().or(top.clone());
    let learned = state.models.learned();
    let units = units(
        state,
        unit_category.as_deref(),
        cats.first().map(|c| c.score),
        &place,
        learned.as_ref().and_then(|l| l.lead(&text, &place.codes())),
    )
    .await?;
    let duplicates = duplicates(state, &text, &place).await?;
    let answers = super::kb::search(state, &text, 3, 0.3).await?;
    let suggestion = Suggestion {
        suggestion_id: uuid::Uuid::now_v7().to_string(),
        source,
        model: learned.map(|l| l.id.clone()),
        categories: cats,
        refined_category: refined,
        place,
        units,
        duplicates,
        answers,
        notes,
    };
    metrics::histogram!(crate::telemetry::SUGGESTION_DURATION).record(started.elapsed());
    Ok(suggestion)
}

/// The place once a map point is known (issue 20): the district whose boundary holds the
/// point decides. The text's reading stays where it lies in that district (a street or a
/// community is finer than a district boundary); of an ambiguous reading only the readings in
/// that district stay (one left: resolved); a reading elsewhere, or none, gives way to the
/// district alone, the text's reading kept as an alternative and the disagreement noted.
fn placed_by_point(
    place: PlaceMatch,
    code: String,
    name: String,
    notes: &mut Vec<String>,
) -> PlaceMatch {
    let here = |u: &Option<PlaceUnit>| u.as_ref().is_some_and(|u| u.code == code);
    if place.status == PlaceStatus::Resolved && here(&place.district) {
        return place;
    }
    let district = PlaceUnit {
        code: code.clone(),
        name: name.clone(),
        level: PlaceLevel::District,
    };
    // Every reading of the text: the best one when it resolved (elsewhere), then the others.
    let main = (place.status == PlaceStatus::Resolved).then(|| PlaceCandidate {
        district: place.district.clone(),
        street: place.street.clone(),
        community: place.community.clone(),
        confidence: place.confidence,
    });
    let mut readings: Vec<PlaceCandidate> = Vec::new();
    for c in main.into_iter().chain(place.alternatives.iter().cloned()) {
        if c.district.is_some() && !readings.contains(&c) {
            readings.push(c);
        }
    }
    let kept: Vec<PlaceCandidate> = readings
        .iter()
        .filter(|c| here(&c.district))
        .cloned()
        .collect();
    if let [one] = kept.as_slice() {
        notes.push(messages::both(
            "note.place_point_decided",
            &[("district", name)],
        ));
        return PlaceMatch {
            status: PlaceStatus::Resolved,
            district: one.district.clone(),
            street: one.street.clone(),
            community: one.community.clone(),
            confidence: one.confidence,
            matched: place.matched,
            alternatives: readings.into_iter().filter(|c| c != one).collect(),
            outside: None,
        };
    }
    if kept.len() > 1 {
        // Still ambiguous inside the district: the shared street, if any, is certain.
        let street = kept[0].street.clone().filter(|s| {
            kept.iter()
                .all(|c| c.street.as_ref().map(|x| &x.code) == Some(&s.code))
        });
        return PlaceMatch {
            status: PlaceStatus::Ambiguous,
            district: Some(district),
            street,
            community: None,
            confidence: place.confidence,
            matched: place.matched,
            alternatives: kept,
            outside: None,
        };
    }
    let elsewhere = matches!(place.status, PlaceStatus::Resolved | PlaceStatus::Ambiguous)
        && place.district.is_some();
    notes.push(if elsewhere {
        let text = place
            .district
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_default();
        messages::both(
            "note.place_point_disagrees",
            &[("district", name), ("text", text)],
        )
    } else {
        messages::both("note.place_by_point", &[("district", name)])
    });
    PlaceMatch {
        status: PlaceStatus::Resolved,
        district: Some(district),
        street: None,
        community: None,
        confidence: 0.9,
        matched: Vec::new(),
        alternatives: readings
            .into_iter()
            .take(jiesu_text::place::MAX_ALTERNATIVES)
            .collect(),
        outside: None,
    }
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
    /// The same by week (local, from Monday), oldest first.
    pub by_week: Vec<AccuracyPart>,
    /// The same by the category finally chosen, most requests first.
    pub by_category: Vec<AccuracyPart>,
    /// Categories where suggestions are often overruled: at least 3 suggestions and the
    /// category or the lead kept in fewer than half, most overruled first.
    pub overruled: Vec<AccuracyPart>,
}

/// [`Accuracy`] over part of the suggestions (a week, a category).
#[derive(Debug, Serialize)]
pub struct AccuracyPart {
    /// The week's Monday (`YYYY-MM-DD`) or the category code.
    pub key: String,
    /// The category's Chinese name (by category only).
    pub name: Option<String>,
    /// Linked suggestions.
    pub n: usize,
    /// Category agreements / judged.
    pub category_kept: usize,
    /// Judged for the category.
    pub category_n: usize,
    /// Lead agreements.
    pub lead_kept: usize,
    /// Judged for the lead.
    pub lead_n: usize,
    /// Share of judged suggestions (category and lead together) that were overruled.
    pub overruled_rate: Option<f64>,
}

fn part(key: String, name: Option<String>, rows: &[&suggestions::Outcome]) -> AccuracyPart {
    let cat: Vec<bool> = rows.iter().filter_map(|r| category_kept(r)).collect();
    let lead: Vec<bool> = rows.iter().filter_map(|r| lead_kept(r)).collect();
    let judged = cat.len() + lead.len();
    let kept = |v: &[bool]| v.iter().filter(|b| **b).count();
    AccuracyPart {
        key,
        name,
        n: rows.len(),
        category_kept: kept(&cat),
        category_n: cat.len(),
        lead_kept: kept(&lead),
        lead_n: lead.len(),
        overruled_rate: (judged > 0)
            .then(|| (judged - kept(&cat) - kept(&lead)) as f64 / judged as f64),
    }
}

fn category_kept(r: &suggestions::Outcome) -> Option<bool> {
    Some(same_or_below(
        r.category.as_deref()?,
        r.top_category.as_deref()?,
    ))
}

fn lead_kept(r: &suggestions::Outcome) -> Option<bool> {
    Some(r.lead.as_deref()? == r.top_lead.as_deref()?)
}

fn breakdown(
    state: &AppState,
    rows: &[suggestions::Outcome],
) -> (Vec<AccuracyPart>, Vec<AccuracyPart>, Vec<AccuracyPart>) {
    use chrono::Datelike;
    let offset = state.config.offset();
    let mut weeks: std::collections::BTreeMap<chrono::NaiveDate, Vec<&suggestions::Outcome>> =
        Default::default();
    let mut cats: HashMap<String, Vec<&suggestions::Outcome>> = HashMap::new();
    for r in rows {
        let day = r.created_at.with_timezone(&offset).date_naive();
        let monday = day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
        weeks.entry(monday).or_default().push(r);
        if let Some(c) = &r.category {
            cats.entry(c.clone()).or_default().push(r);
        }
    }
    let by_week = weeks
        .into_iter()
        .map(|(d, v)| part(d.to_string(), None, &v))
        .collect();
    let mut by_category: Vec<AccuracyPart> = cats
        .into_iter()
        .map(|(c, v)| part(c.clone(), state.models.category_name(&c), &v))
        .collect();
    by_category.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
    let mut overruled: Vec<AccuracyPart> = by_category
        .iter()
        .filter(|p| p.n >= 3)
        .filter(|p| 2 * p.category_kept < p.category_n || 2 * p.lead_kept < p.lead_n)
        .map(|p| AccuracyPart {
            key: p.key.clone(),
            name: p.name.clone(),
            ..*p
        })
        .collect();
    overruled.sort_by(|a, b| {
        b.overruled_rate
            .unwrap_or(0.0)
            .total_cmp(&a.overruled_rate.unwrap_or(0.0))
            .then(a.key.cmp(&b.key))
    });
    (by_week, by_category, overruled)
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
    let cat: Vec<bool> = rows.iter().filter_map(category_kept).collect();
    let lead: Vec<bool> = rows.iter().filter_map(lead_kept).collect();
    let (by_week, by_category, overruled) = breakdown(state, &rows);
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
        by_week,
        by_category,
        overruled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(code: &str, name: &str, level: PlaceLevel) -> Option<PlaceUnit> {
        Some(PlaceUnit {
            code: code.into(),
            name: name.into(),
            level,
        })
    }

    fn reading(district: &str, street: &str) -> PlaceCandidate {
        PlaceCandidate {
            district: unit(district, district, PlaceLevel::District),
            street: unit(street, street, PlaceLevel::Subdistrict),
            community: None,
            confidence: 0.6,
        }
    }

    /// A road crossing two districts: the point's district settles it; two readings left in
    /// the district stay ambiguous; none left gives way to the district, noted.
    #[test]
    fn a_point_settles_an_ambiguous_place_only_within_its_district() {
        let ambiguous = |alts: Vec<PlaceCandidate>| PlaceMatch {
            status: PlaceStatus::Ambiguous,
            alternatives: alts,
            matched: vec!["某某路".into()],
            ..PlaceMatch::none()
        };
        let mut notes = Vec::new();
        let two = ambiguous(vec![reading("110105", "s1"), reading("110108", "s2")]);
        let p = placed_by_point(two, "110108".into(), "海淀区".into(), &mut notes);
        assert_eq!(p.status, PlaceStatus::Resolved);
        assert_eq!(p.street.unwrap().code, "s2");
        assert_eq!(p.alternatives, vec![reading("110105", "s1")]);
        assert!(notes[0].contains("海淀区"), "{notes:?}");

        let mut notes = Vec::new();
        let three = ambiguous(vec![
            reading("110105", "s1"),
            reading("110105", "s3"),
            reading("110108", "s2"),
        ]);
        let p = placed_by_point(three, "110105".into(), "朝阳区".into(), &mut notes);
        assert_eq!(p.status, PlaceStatus::Ambiguous);
        assert_eq!(p.district.unwrap().code, "110105");
        assert!(p.street.is_none());
        assert_eq!(p.alternatives.len(), 2);
        assert!(notes.is_empty());

        let mut notes = Vec::new();
        let elsewhere = ambiguous(vec![reading("110105", "s1"), reading("110108", "s2")]);
        let p = placed_by_point(elsewhere, "110101".into(), "东城区".into(), &mut notes);
        assert_eq!(p.status, PlaceStatus::Resolved);
        assert_eq!(p.district.unwrap().code, "110101");
        assert!(p.street.is_none());
        assert_eq!(p.alternatives.len(), 2);
        assert_eq!(notes.len(), 1);
    }

    /// A text read first as another district's street, second as one in the point's: the
    /// second reading is taken, with its street.
    #[test]
    fn a_resolved_reading_elsewhere_gives_way_to_its_alternative_in_the_district() {
        let mut notes = Vec::new();
        let elsewhere = PlaceMatch {
            status: PlaceStatus::Resolved,
            district: unit("110105", "110105", PlaceLevel::District),
            street: unit("s1", "s1", PlaceLevel::Subdistrict),
            confidence: 0.7,
            alternatives: vec![reading("110108", "s2")],
            ..PlaceMatch::none()
        };
        let p = placed_by_point(elsewhere, "110108".into(), "海淀区".into(), &mut notes);
        assert_eq!(p.status, PlaceStatus::Resolved);
        assert_eq!(p.street.unwrap().code, "s2");
        assert_eq!(p.alternatives.len(), 1);
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn a_street_inside_the_points_district_is_kept() {
        let here = PlaceMatch {
            status: PlaceStatus::Resolved,
            district: unit("110105", "朝阳区", PlaceLevel::District),
            street: unit("110105026", "望京街道", PlaceLevel::Subdistrict),
            confidence: 0.9,
            ..PlaceMatch::none()
        };
        let mut notes = Vec::new();
        let p = placed_by_point(here.clone(), "110105".into(), "朝阳区".into(), &mut notes);
        assert_eq!(p, here);
        assert!(notes.is_empty());
    }
}
