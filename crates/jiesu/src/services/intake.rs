//! Intake (受理): a request enters from any channel, is validated and numbered, and is
//! committed before the caller hears back. Consultations can be answered on the spot;
//! duplicates can be merged into a primary request.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::creates;
use crate::store::request_keys::{self, RequestKey};
use crate::store::requests::{self, RequestDraft, RequestRow};
use crate::store::Event;
use jiesu_core::access::Action;
use jiesu_core::workflow::{check_answer, check_merge};
use jiesu_core::{Actor, Channel, CreditCode, PhoneNumber, RequestKind, RequestStatus};
use serde::{Deserialize, Serialize};

/// A new request as submitted.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// 诉求类型.
    pub kind: RequestKind,
    /// 渠道 (default phone).
    #[serde(default = "default_channel")]
    pub channel: Channel,
    /// For a merged line: which (12315, 12396, …).
    pub merged_line: Option<String>,
    /// A short title; derived from the text when absent.
    pub title: Option<String>,
    /// What the requester said.
    pub text: String,
    /// Where.
    #[serde(default)]
    pub address: String,
    /// The category, if the operator chose one.
    pub category_code: Option<String>,
    /// Who.
    pub requester: NewRequester,
    /// The suggestion shown while it was typed (`POST /requests/suggest`).
    pub suggestion_id: Option<String>,
    /// Where, on a map (map pin, GPS, Open311 `lat`/`long`): stored as WGS-84; a known
    /// district boundary around it names its district.
    #[serde(default)]
    pub location: Option<super::maps::LocationInput>,
    /// The client's key for this request (header `Idempotency-Key`, or the hidden field of
    /// the desk's and the portal's forms): sent again with the same request, it answers with
    /// the request already made instead of making a second one. Not part of the body.
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

fn default_channel() -> Channel {
    Channel::Phone
}

/// The requester (诉求人).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequester {
    /// Name (may be a surname and title, 王女士).
    #[serde(default)]
    pub name: String,
    /// Mobile or landline.
    pub phone: String,
    /// For an enterprise requester (便企纾困).
    pub enterprise: Option<NewEnterprise>,
    /// 保密: hide the requester from units.
    #[serde(default)]
    pub confidential: bool,
}

/// An enterprise requester.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewEnterprise {
    /// Registered name.
    pub name: String,
    /// 统一社会信用代码.
    pub credit_code: String,
}

const MAX_TEXT: usize = 20_000;

fn validate(input: &NewRequest) -> Result<(Option<PhoneNumber>, Option<CreditCode>), AppError> {
    let mut errors = Vec::new();
    let mut check_len = |field: &str, value: &str, max: usize, required: bool| {
        if required && value.trim().is_empty() {
            errors.push(FieldError::of(field, "err.intake.must_not_be_empty"));
        } else if value.chars().count() > max {
            errors.push(FieldError::with(
                field,
                "err.intake.must_be_at_most_max_characters",
                &[("max", max.to_string())],
            ));
        }
    };
    check_len("text", &input.text, MAX_TEXT, true);
    check_len("title", input.title.as_deref().unwrap_or(""), 200, false);
    check_len("address", &input.address, 500, false);
    check_len("requester.name", &input.requester.name, 100, false);
    check_len(
        "merged_line",
        input.merged_line.as_deref().unwrap_or(""),
        50,
        false,
    );
    if input.channel == Channel::Enterprise && input.requester.enterprise.is_none() {
        errors.push(FieldError::of(
            "requester.enterprise",
            "err.intake.the_enterprise_channel_needs_requester_enterprise",
        ));
    }
    if input.channel == Channel::Proactive {
        errors.push(FieldError::of(
            "channel",
            "err.intake.proactive_tasks_are_opened_by_the",
        ));
    }
    if input.channel == Channel::Community {
        errors.push(FieldError::of(
            "channel",
            "err.intake.community_requests_are_recorded_by_community_staff",
        ));
    }
    if input.channel == Channel::MergedLine
        && input.merged_line.as_deref().unwrap_or("").trim().is_empty()
    {
        errors.push(FieldError::of(
            "merged_line",
            "err.intake.the_merged_line_channel_needs_merged",
        ));
    }
    // Open311 clients often send no phone: their requester is reached through the client.
    let phone = if input.channel == Channel::Open311 && input.requester.phone.trim().is_empty() {
        Ok(None)
    } else {
        PhoneNumber::parse(&input.requester.phone).map(Some)
    };
    if phone.is_err() {
        errors.push(FieldError::of(
            "requester.phone",
            "err.intake.not_a_valid_chinese_mobile_or",
        ));
    }
    let mut credit = None;
    if let Some(e) = &input.requester.enterprise {
        if e.name.trim().is_empty() || e.name.chars().count() > 200 {
            errors.push(FieldError::of(
                "requester.enterprise.name",
                "err.intake.enterprise_name_must_be_1_200",
            ));
        }
        match CreditCode::parse(&e.credit_code) {
            Ok(c) => credit = Some(c),
            Err(err) => errors.push(FieldError::with(
                "requester.enterprise.credit_code",
                "err.intake.credit_code_invalid",
                &[("reason", err.to_string())],
            )),
        }
    }
    match (errors.is_empty(), phone) {
        (true, Ok(p)) => Ok((p, credit)),
        _ => Err(AppError::Invalid(errors)),
    }
}

fn derive_title(text: &str) -> String {
    let first = text
        .trim()
        .split(['\n', '。', '！', '？'])
        .next()
        .unwrap_or("")
        .trim();
    first.chars().take(40).collect()
}

/// Records a new request and returns its id. The request and its first event are committed
/// before this returns.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: NewRequest,
) -> Result<String, AppError> {
    Ok(create_row(state, actor, input).await?.0.id)
}

/// [`create`], returning the stored row and its events (as stored, in order; on a
/// [`Created::replayed`] key, the events the request has now).
pub async fn create_row(
    state: &AppState,
    actor: &Actor,
    input: NewRequest,
) -> Result<(RequestRow, Vec<Event>), AppError> {
    let made = create_keyed(state, actor, input).await?;
    Ok((made.row, made.events))
}

/// What an intake made.
#[derive(Debug)]
pub struct Created {
    /// The request.
    pub row: RequestRow,
    /// Its events.
    pub events: Vec<Event>,
    /// The client's key had made this request already: nothing new was written.
    pub replayed: bool,
}

/// The client's key checked (1–255 visible ASCII characters; field `Idempotency-Key`), with
/// the fingerprint of the request it came with.
fn client_key(
    state: &AppState,
    actor: &Actor,
    input: &NewRequest,
) -> Result<Option<RequestKey>, AppError> {
    let Some(key) = &input.idempotency_key else {
        return Ok(None);
    };
    if !super::is_client_key(key) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "err.intake.idempotency_key_bad",
        ));
    }
    use sha2::Digest;
    let body = serde_json::to_vec(input).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(RequestKey {
        actor_id: actor.user_id.clone(),
        key: key.clone(),
        fingerprint: hex::encode(sha2::Sha256::digest(&body)),
        created_at: state.clock.now(),
    }))
}

/// The request `key` made already, if any: 422 naming `Idempotency-Key` where it made
/// another request than this one.
async fn made_with(state: &AppState, key: &RequestKey) -> Result<Option<Created>, AppError> {
    let Some((id, fingerprint)) =
        request_keys::find(state.store.reader(), &key.actor_id, &key.key).await?
    else {
        return Ok(None);
    };
    if fingerprint != key.fingerprint {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "err.intake.idempotency_key_reused",
        ));
    }
    let row = requests::get(state.store.reader(), &id)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("request {id} of a client key is gone"))
        })?;
    let events = crate::store::events::for_request(state.store.reader(), &id).await?;
    // The first send may still wait for its commit to be durable (PostgreSQL's early lock
    // release): the resend is not told of the request before it is.
    state.store.settled().await?;
    Ok(Some(Created {
        row,
        events,
        replayed: true,
    }))
}

/// [`create_row`], saying whether the client's key had made the request already. With a key,
/// the request and the key are one transaction: a request sent again after its answer was
/// lost (a failover cut the commit off) is made at most once.
pub async fn create_keyed(
    state: &AppState,
    actor: &Actor,
    input: NewRequest,
) -> Result<Created, AppError> {
    if !actor.may(Action::CreateRequest) {
        return Err(AppError::Forbidden("recording requests"));
    }
    let key = client_key(state, actor, &input)?;
    if let Some(key) = &key {
        if let Some(made) = made_with(state, key).await? {
            return Ok(made);
        }
    }
    let e = match create_new(state, actor, input, key.clone()).await {
        Ok(made) => {
            if let Some(key) = &key {
                link_call_verdicts(state, actor, &key.key, &made.row.id).await;
            }
            return Ok(made);
        }
        Err(e) => e,
    };
    let Some(key) = key else {
        return Err(e);
    };
    // The same key sent twice at once: the key's row refused the later one, and the first
    // makes it. Its commit may still be on its way (SQLite's group commit writes it a few
    // milliseconds on): where a key refused it, look for a moment before giving the error.
    let waits = match &e {
        AppError::Internal(cause) if crate::store::StoreError::is_unique_violation_in(cause) => {
            KEY_WAITS
        }
        _ => 1,
    };
    for n in 0..waits {
        if let Some(made) = made_with(state, &key).await? {
            return Ok(made);
        }
        if n + 1 < waits {
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }
    Err(e)
}

/// The verdicts (有用/没用) the operator gave at the desk during the call whose form key is
/// `call` go with the request that call made. A second fact after the committed request: a
/// failure is logged, and the verdicts stay counted without it.
async fn link_call_verdicts(state: &AppState, actor: &Actor, call: &str, request_id: &str) {
    let linked = async {
        let mut tx = state.store.begin().await?;
        let n =
            crate::store::kb::link_call_verdicts(&mut tx, &actor.user_id, call, request_id).await?;
        tx.commit().await?;
        Ok::<u64, crate::store::StoreError>(n)
    };
    if let Err(e) = linked.await {
        tracing::error!(error = %e, request = %request_id, "linking the desk's verdicts failed");
    }
}

/// Looks for a key's request after a write its key refused: 40 × 25 ms, one second.
const KEY_WAITS: usize = 40;

/// [`create_keyed`] for a form that carries a key made when it was drawn: sent twice, it
/// makes one request. A key coming back with other fields (the form reused after Back and
/// edited) makes a new request without it: a person at a form means a new request by a
/// changed one, where an API client that did so has erred (422).
pub async fn create_once(
    state: &AppState,
    actor: &Actor,
    input: NewRequest,
) -> Result<Created, AppError> {
    let unkeyed = input.idempotency_key.is_some().then(|| NewRequest {
        idempotency_key: None,
        ..input.clone()
    });
    match (create_keyed(state, actor, input).await, unkeyed) {
        (Err(AppError::Invalid(errors)), Some(unkeyed))
            if errors.iter().any(|e| e.field == "Idempotency-Key") =>
        {
            create_keyed(state, actor, unkeyed).await
        }
        (made, _) => made,
    }
}

async fn create_new(
    state: &AppState,
    actor: &Actor,
    input: NewRequest,
    key: Option<RequestKey>,
) -> Result<Created, AppError> {
    let (phone, credit) = validate(&input)?;
    let point = match &input.location {
        Some(l) => Some(super::maps::check("location", l)?),
        None => None,
    };
    // An inactive category takes no new requests (422 `category_code`); old ones keep it.
    let class = match &input.category_code {
        Some(code) => Some(
            super::categories::usable(state, "category_code", code)
                .await?
                .time_limit_class,
        ),
        None => None,
    };
    let now = state.clock.now();
    let day = now
        .with_timezone(&state.config.offset())
        .format("%Y%m%d")
        .to_string();
    let title = input
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| derive_title(&input.text));
    let row = RequestRow::new(RequestDraft {
        number: String::new(), // given by `creates::create`
        jurisdiction: state.config.jurisdiction.clone(),
        kind: input.kind,
        channel: input.channel,
        merged_line: input.merged_line.clone(),
        title,
        body: input.text.clone(),
        address: input.address.clone(),
        category_code: input.category_code.clone(),
        time_limit_class: class,
        requester_name: input.requester.name.clone(),
        requester_phone: phone.map(|p| p.as_str().to_string()).unwrap_or_default(),
        enterprise_name: input.requester.enterprise.as_ref().map(|e| e.name.clone()),
        credit_code: credit.map(|c| c.as_str().to_string()),
        confidential: input.requester.confidential,
        created_by: actor.user_id.clone(),
        created_at: now,
    });
    let located = match point {
        Some(point) => Some(super::maps::place(state, point, row.channel.as_str()).await?),
        None => None,
    };
    let located_payload = located.as_ref().map(super::maps::located_payload);
    let (numbering, by) = (state.clone(), actor.clone());
    let make = move |number: String| {
        let row = RequestRow { number, ..row };
        let created = numbering
            .event(&by, &row.id, None, "request.created")
            // The row's time: numbering may come seconds later (a batch waiting out a
            // failover), and the audit replay checks the two agree.
            .at(row.created_at)
            .change("", RequestStatus::Received.as_str())
            .payload(serde_json::json!({
                "number": row.number, "kind": row.kind, "channel": row.channel, "category_code": row.category_code,
                "enterprise": row.credit_code.is_some(), "confidential": row.confidential,
                "time_limit_class": row.time_limit_class,
            }))
            .build();
        let mut events = vec![created];
        if let Some(payload) = located_payload {
            // The place goes in the request's own transaction (issue 20): never a committed
            // request whose place was lost.
            events.push(
                numbering
                    .event(&by, &row.id, None, "request.located")
                    .at(row.created_at)
                    .payload(payload)
                    .build(),
            );
        }
        (row, events)
    };
    let suggestion = input.suggestion_id.as_deref();
    let extras = creates::Extras { located, key };
    let Some((row, events)) = creates::create(&state.store, &day, suggestion, extras, make).await?
    else {
        return Err(AppError::invalid(
            "suggestion_id",
            "err.intake.no_such_unused_suggestion",
        ));
    };
    metrics::counter!(crate::telemetry::INTAKES, "channel" => row.channel.as_str()).increment(1);
    // issue 19: the receipt (受理短信). A failure to write it does not undo the intake, which
    // is committed: it is logged, and the request goes on without one.
    if let Err(e) = super::sms_texts::send_receipt(state, &row).await {
        tracing::error!(error = %e, request = %row.id, "writing the SMS receipt failed");
    }
    let started = std::time::Instant::now();
    if let Some(joined) =
        super::hotspots::live::index_new(state, super::hotspots::live::mined_row(&row))
    {
        tracing::debug!(
            problem = joined.problem,
            created = joined.created,
            micros = started.elapsed().as_micros() as u64,
            "hotspot index"
        );
    }
    Ok(Created {
        row,
        events,
        replayed: false,
    })
}

/// Answers a consultation at intake (直接答复) and closes it as answered, recording the
/// knowledge-base entry used, if any.
pub async fn answer(
    state: &AppState,
    actor: &Actor,
    id: &str,
    answer: &str,
    kb_entry_id: Option<&str>,
) -> Result<(), AppError> {
    super::require(actor, jiesu_core::access::Action::Answer)?;
    if let Some(kb_id) = kb_entry_id {
        let now = state.clock.now();
        let live = crate::store::kb::get(state.store.reader(), kb_id)
            .await?
            .is_some_and(|e| super::kb::offered(&e, now));
        if !live {
            return Err(AppError::invalid(
                "kb_entry_id",
                "err.intake.no_such_knowledge_base_entry",
            ));
        }
    }
    let (mut tx, mut req) = state.lock_request(id).await?;
    let status = req.status;
    check_answer(status, req.kind, answer, actor)?;
    let now = state.clock.now();
    req.status = RequestStatus::Answered;
    req.answer = Some(answer.to_string());
    req.updated_at = now;
    req.closed_at = Some(now);
    requests::save(&mut tx, &req).await?;
    requests_outbox_answer(state, &mut tx, &req, answer).await?;
    if let Some(kb_id) = kb_entry_id {
        crate::store::suggestions::record_kb_use(&mut tx, &req.id, kb_id).await?;
        crate::store::kb::touch_used(&mut tx, kb_id, now).await?;
    }
    state
        .event(actor, &req.id, None, "request.answered")
        .change(status.as_str(), RequestStatus::Answered.as_str())
        .payload(serde_json::json!({ "answer": answer, "kb_entry_id": kb_entry_id }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(())
}

async fn requests_outbox_answer(
    state: &AppState,
    tx: &mut crate::store::Tx,
    req: &RequestRow,
    answer: &str,
) -> Result<(), AppError> {
    let payload = serde_json::json!({ "number": req.number, "kind": "answer", "text": answer });
    let vars = [("number", req.number.as_str()), ("text", answer)];
    super::sms_texts::enqueue(state, tx, req, "answer", payload, &vars, false).await?;
    Ok(())
}

/// Merges a request into a primary request (并单). The merged requester keeps a callback of
/// their own once the primary has replied.
///
/// Both rows are locked in one order (by id) inside the transaction and read there, so that
/// "merge A into B" and "merge B into A" sent together cannot both pass: the second sees the
/// first's result. A merge that would make a chain or a cycle is refused with 409: the
/// primary is itself merged, or requests are already merged into this one.
pub async fn merge(state: &AppState, actor: &Actor, id: &str, into: &str) -> Result<(), AppError> {
    super::require(actor, jiesu_core::access::Action::Merge)?;
    // Ids first (either may be given as a number); the rows are read again under the lock.
    let no_primary = || AppError::invalid("into", "err.intake.no_such_primary_request");
    let primary_id = requests::get(state.store.reader(), into)
        .await?
        .ok_or_else(no_primary)?
        .id;
    let source_id = requests::get(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("request"))?
        .id;
    let mut tx = state.store.begin().await?;
    let (req, primary) = requests::lock_pair(&mut tx, &source_id, &primary_id).await?;
    let mut req = req.ok_or(AppError::NotFound("request"))?;
    let primary = primary.ok_or_else(no_primary)?;
    let status = req.status;
    check_merge(&req.id, status, &primary.id, primary.status, actor)?;
    if primary.primary_id.is_some() {
        return Err(AppError::Conflict(
            "the primary request is itself merged into another request".into(),
        ));
    }
    if requests::has_merged(&mut tx, &req.id).await? {
        return Err(AppError::Conflict(
            "other requests are merged into this one: merge into it instead".into(),
        ));
    }
    req.status = RequestStatus::Merged;
    req.primary_id = Some(primary.id.clone());
    req.updated_at = state.clock.now();
    requests::save(&mut tx, &req).await?;
    state
        .event(actor, &req.id, None, "request.merged")
        .change(status.as_str(), RequestStatus::Merged.as_str())
        .payload(serde_json::json!({ "into": primary.id, "into_number": primary.number }))
        .record(&mut tx);
    state
        .event(actor, &primary.id, None, "request.duplicate_merged")
        .payload(serde_json::json!({ "merged": req.id, "merged_number": req.number }))
        .record(&mut tx);
    super::sms_changes::merged(state, &mut tx, &req, &primary).await?;
    tx.commit().await?;
    Ok(())
}
