//! Operator intake (受理): the form, live suggestions while typing (category, place, units,
//! duplicates, knowledge-base answers), and one-click follow-ups: answer at intake from the
//! knowledge base, merge into a duplicate, or (for those who may) dispatch at once.

use super::{done, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::handling;
use crate::services::intake::{self, NewRequest, NewRequester};
use crate::services::kb;
use crate::services::suggest::{self, SuggestInput, Suggestion};
use crate::services::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{Html, IntoResponse};
use jiesu_core::access::Action;
use jiesu_core::workflow::AssignmentRole;
use jiesu_core::{Actor, Channel, RequestKind, RequestStatus};

#[derive(Template, WebTemplate)]
#[template(path = "intake.html")]
struct IntakePage {
    ctx: Ctx,
    kinds: Vec<(&'static str, String)>,
    channels: Vec<(&'static str, String)>,
    may_dispatch: bool,
    /// This drawing's key: the form sent twice makes one request.
    key: String,
}

/// `GET /ui/intake`.
pub async fn page(page: Page) -> UiResult {
    if !page.actor.may(Action::CreateRequest) {
        return Err(UiError(AppError::Forbidden("recording requests")));
    }
    let tr = page.ctx.tr;
    let kinds = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str(), tr.of("kind", k.as_str())))
        .collect();
    let channels = Channel::ALL
        .iter()
        .filter(|c| {
            !matches!(
                c,
                Channel::Enterprise | Channel::MergedLine | Channel::Community
            )
        })
        .map(|c| (c.as_str(), tr.of("channel", c.as_str())))
        .collect();
    Ok(IntakePage {
        may_dispatch: page.actor.may(Action::Dispatch),
        ctx: page.ctx,
        kinds,
        channels,
        key: super::forms::new_form_key(),
    }
    .into_response())
}

/// One suggested category, shown.
pub struct CategoryV {
    code: String,
    name: String,
    score: String,
    /// The classifier is not sure of it (below `JIESU_TEXT_CONFIDENT`).
    not_sure: bool,
}

/// One suggested unit, shown.
pub struct UnitV {
    code: String,
    name: String,
    lead: bool,
    first_lead: bool,
    role: String,
    reasons: String,
}

/// One possible duplicate, shown.
pub struct DupV {
    id: String,
    number: String,
    title: String,
    status: String,
    score: String,
}

/// One knowledge-base answer, shown.
pub struct KbV {
    id: String,
    title: String,
    answer: String,
    /// The 有用 / 没用 buttons (`kb::rate_html`).
    rate: String,
}

/// The suggestion panel's content.
pub struct SuggestV {
    suggestion_id: String,
    notes: Vec<String>,
    categories: Vec<CategoryV>,
    place: String,
    units: Vec<UnitV>,
    duplicates: Vec<DupV>,
    answers: Vec<KbV>,
    may_dispatch: bool,
    classes: Vec<(String, String)>,
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// A suggested place as its levels' names, `朝阳区 › 望京街道`; "" for none.
pub(super) fn place_line(p: &jiesu_text::place::PlaceMatch) -> String {
    [&p.district, &p.street, &p.community]
        .iter()
        .filter_map(|u| u.as_ref().map(|u| u.name.clone()))
        .collect::<Vec<_>>()
        .join(" › ")
}

/// Shapes a suggestion for the panel in the page's language.
pub fn suggest_view(
    ctx: &Ctx,
    s: Suggestion,
    actor: &Actor,
    classes: Vec<(String, String)>,
) -> SuggestV {
    let tr = ctx.tr;
    let en = tr.is_en();
    let place = place_line(&s.place);
    let notes = s
        .notes
        .iter()
        .map(|n| super::i18n::one_language(n, en))
        .collect();
    let first_lead = s.units.iter().position(|u| u.role == AssignmentRole::Lead);
    let by_classifier = s.source == "classifier";
    SuggestV {
        suggestion_id: s.suggestion_id,
        notes,
        categories: s
            .categories
            .into_iter()
            .map(|c| CategoryV {
                code: c.code,
                name: c.name,
                score: percent(c.score),
                not_sure: by_classifier && !c.sure,
            })
            .collect(),
        place: if place.is_empty() {
            place
        } else {
            format!("{place} ({})", percent(s.place.confidence))
        },
        units: s
            .units
            .into_iter()
            .enumerate()
            .map(|(i, u)| UnitV {
                first_lead: Some(i) == first_lead,
                lead: u.role == AssignmentRole::Lead,
                role: tr.of("order_role", u.role.as_str()),
                code: u.unit_code,
                name: u.name,
                reasons: u
                    .reasons
                    .iter()
                    .map(|r| super::i18n::one_language(r, en))
                    .collect::<Vec<_>>()
                    .join("；"),
            })
            .collect(),
        duplicates: s
            .duplicates
            .into_iter()
            .map(|d| DupV {
                status: tr.of("status", d.status.as_str()),
                id: d.id,
                number: d.number,
                title: d.title,
                score: percent(d.similarity),
            })
            .collect(),
        answers: s
            .answers
            .into_iter()
            .map(|a| KbV {
                rate: super::kb::rate_html(ctx, &a.entry.id, "", None),
                id: a.entry.id,
                title: a.entry.title,
                answer: a.entry.answer,
            })
            .collect(),
        may_dispatch: actor.may(Action::Dispatch),
        classes,
    }
}

#[derive(Template)]
#[template(path = "intake_suggest.html")]
struct SuggestPanel {
    ctx: Ctx,
    v: SuggestV,
}

/// `POST /ui/intake/suggest` (htmx): the suggestion panel for what has been typed so far.
pub async fn suggest(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    if !(page.actor.may(Action::CreateRequest) || page.actor.may(Action::Dispatch)) {
        return Err(UiError(AppError::Forbidden("intake suggestions")));
    }
    let text = f.text("text");
    if text.is_empty() {
        let hint = page.ctx.tr.s("intake.suggest_hint");
        return Ok(Html(format!("<p class=\"muted\">{hint}</p>")).into_response());
    }
    let suggestion = suggest::suggest(
        &s,
        SuggestInput {
            text,
            address: f.text("address"),
            // A pin half set while typing is no place yet, not an error.
            location: super::forms::location(&f)
                .ok()
                .flatten()
                .filter(|l| crate::services::maps::check("location", l).is_ok()),
        },
    )
    .await?;
    let classes = super::forms::classes(&s, page.ctx.tr).await?;
    let v = suggest_view(&page.ctx, suggestion, &page.actor, classes);
    let html = SuggestPanel { ctx: page.ctx, v }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Html(html).into_response())
}

fn new_request(f: &FormData) -> Result<NewRequest, AppError> {
    let kind = RequestKind::parse(&f.text("kind"))
        .ok_or_else(|| AppError::invalid("kind", "err.choose_a_request_kind"))?;
    let channel = match f.opt("channel") {
        Some(c) => Channel::parse(&c)
            .ok_or_else(|| AppError::invalid("channel", "err.intake.no_such_channel"))?,
        None => Channel::Phone,
    };
    Ok(NewRequest {
        kind,
        channel,
        merged_line: None,
        title: f.opt("title"),
        text: f.text("text"),
        address: f.text("address"),
        category_code: f.opt("category_code"),
        requester: NewRequester {
            name: f.text("name"),
            phone: f.text("phone"),
            enterprise: None,
            confidential: f.flag("confidential"),
        },
        suggestion_id: f.opt("suggestion_id"),
        location: super::forms::location(f)?,
        idempotency_key: f.opt("idempotency_key"),
    })
}

/// `POST /ui/intake`: records the request, then does the follow-up the operator clicked.
pub async fn submit(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let actor = &page.actor;
    let action = f.text("action");
    // Refuse a follow-up the user may not do before anything is recorded.
    let follow_up = if action.starts_with("answer:") {
        Some(Action::Answer)
    } else if action.starts_with("merge:") {
        Some(Action::Merge)
    } else if action == "dispatch" {
        Some(Action::Dispatch)
    } else {
        None
    };
    if follow_up.is_some_and(|a| !actor.may(a)) {
        return Err(UiError(AppError::Forbidden("this follow-up at intake")));
    }
    // 记为催办 (issue 23): the call is a reminder on the caller's open request, not a new one.
    if let Some(open) = action.strip_prefix("remind:") {
        let channel = Channel::parse(&f.text("channel")).unwrap_or(Channel::Phone);
        let note = f.text("text");
        let input = crate::services::callers::ReminderInput { note, channel };
        let r = crate::services::callers::remind(&s, actor, open, input).await?;
        return Ok(done(&format!("/ui/requests/{}", r.request_id), "reminded"));
    }
    let dispatch = match action.as_str() {
        "dispatch" => Some(super::forms::dispatch_input(&f)?),
        _ => None,
    };
    // The answer is checked before anything is recorded: an entry withdrawn meanwhile is a
    // 422, not a request left unanswered.
    let answer = match action.strip_prefix("answer:") {
        Some(kb_id) => {
            let entry = kb::get(&s, kb_id).await?;
            if !kb::offered(&entry, s.clock.now()) {
                return Err(UiError(AppError::invalid(
                    "kb_entry_id",
                    "err.intake.no_such_knowledge_base_entry",
                )));
            }
            Some(entry)
        }
        None => None,
    };
    let made = intake::create_once(&s, actor, new_request(&f)?).await?;
    let detail = format!("/ui/requests/{}", made.row.id);
    // The same form sent twice (a double click, a resend after a lost answer) made the
    // request once. Its follow-up is done where the request still waits for it (the first
    // send's failed or was cut off); where it has moved on, its page says how.
    if made.replayed && made.row.status != RequestStatus::Received {
        return Ok(done(&detail, "created"));
    }
    let id = made.row.id;
    let followed = do_follow_up(&s, actor, &id, &action, answer, dispatch).await;
    match followed {
        Ok(what) => Ok(done(&detail, what)),
        // The first send's follow-up got there meanwhile.
        Err(AppError::Conflict(_)) if made.replayed => Ok(done(&detail, "created")),
        Err(e) => Err(e.into()),
    }
}

/// The desk's follow-up on a request just recorded: answered from an entry, merged, or
/// dispatched; which it was (for the page's notice).
async fn do_follow_up(
    s: &AppState,
    actor: &Actor,
    id: &str,
    action: &str,
    answer: Option<crate::services::kb::KbEntry>,
    dispatch: Option<handling::DispatchInput>,
) -> Result<&'static str, AppError> {
    if let Some(entry) = answer {
        intake::answer(s, actor, id, &entry.answer, Some(&entry.id)).await?;
        return Ok("answered");
    }
    if let Some(into) = action.strip_prefix("merge:") {
        intake::merge(s, actor, id, into).await?;
        return Ok("merged");
    }
    if let Some(input) = dispatch {
        handling::dispatch(s, actor, id, input).await?;
        return Ok("dispatched");
    }
    Ok("created")
}
