//! 小事不出社区: community (village) staff record a request they solved on the spot. It is a
//! request of channel `community`, created with an order to their own unit that is
//! acknowledged and replied in the same transaction, so the requester still gets the reply
//! and a callback (satisfaction counted), while the KPIs keep it out of the dispatched-order
//! rates and tally it on its own per community and street ([`tally`]).

use super::directory::unit_names;
use super::handling::{apply_unit_action, open_orders, settle_status};
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::community::{self as store, CommunityCounts};
use crate::store::requests::{self, RequestDraft, RequestRow};
use crate::store::{assignments, reference};
use jiesu_core::access::Action;
use jiesu_core::workflow::{self, AssignmentRole, AssignmentStatus, Outcome, UnitAction};
use jiesu_core::{Actor, Channel, PhoneNumber, RequestKind, RequestStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Unit levels whose staff record requests solved on the spot.
const COMMUNITY_LEVELS: [&str; 2] = ["community", "village"];

/// A request solved on the spot, as recorded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityInput {
    /// 诉求类型.
    pub kind: RequestKind,
    /// What the requester said.
    pub text: String,
    /// A short title; the text's first sentence when absent.
    pub title: Option<String>,
    /// Where.
    #[serde(default)]
    pub address: String,
    /// The category.
    pub category_code: Option<String>,
    /// Who.
    pub requester: CommunityRequester,
    /// The answer given to the requester (答复诉求人).
    pub to_requester: String,
    /// What was done, for the center (反馈中心).
    pub to_center: String,
    /// The outcome (default `resolved`).
    pub outcome: Option<Outcome>,
}

/// The requester.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityRequester {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Mobile or landline (for the callback).
    pub phone: String,
}

/// What was recorded.
#[derive(Debug, Serialize)]
pub struct Recorded {
    pub id: String,
    pub number: String,
    pub status: RequestStatus,
    pub assignment_id: String,
}

/// One unit's (or street's) requests solved on the spot in a month.
#[derive(Debug, Serialize)]
pub struct TallyLine {
    pub unit_code: String,
    pub unit_name: String,
    /// The street (parent) of a community; absent on a street line.
    pub street_code: Option<String>,
    pub recorded: u64,
    pub called_back: u64,
    pub resolved: u64,
    pub satisfied: u64,
    pub basic: u64,
}

fn check_len(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, required: bool) {
    if required && value.trim().is_empty() {
        errors.push(FieldError::of(field, "err.intake.must_not_be_empty"));
    } else if value.chars().count() > max {
        errors.push(FieldError::with(
            field,
            "err.intake.must_be_at_most_max_characters",
            &[("max", max.to_string())],
        ));
    }
}

/// Records a request the actor's community solved on the spot; returns it, replied.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    input: CommunityInput,
) -> Result<Recorded, AppError> {
    let scope = match &actor.unit {
        Some(u) if actor.may(Action::Reply) => u,
        _ => return Err(AppError::Forbidden("recording requests solved on the spot")),
    };
    let unit = reference::unit(state.store.reader(), &scope.code)
        .await?
        .ok_or(AppError::Forbidden("recording requests solved on the spot"))?;
    if !COMMUNITY_LEVELS.contains(&unit.level.as_str()) {
        return Err(AppError::Forbidden(
            "recording requests solved on the spot: community or village staff only",
        ));
    }
    let mut errors = Vec::new();
    check_len(&mut errors, "text", &input.text, 20_000, true);
    check_len(
        &mut errors,
        "title",
        input.title.as_deref().unwrap_or(""),
        200,
        false,
    );
    check_len(&mut errors, "address", &input.address, 500, false);
    check_len(
        &mut errors,
        "requester.name",
        &input.requester.name,
        100,
        false,
    );
    check_len(&mut errors, "to_requester", &input.to_requester, 5000, true);
    check_len(&mut errors, "to_center", &input.to_center, 5000, true);
    let phone = PhoneNumber::parse(&input.requester.phone);
    if phone.is_err() {
        errors.push(FieldError::of(
            "requester.phone",
            "err.intake.not_a_valid_chinese_mobile_or",
        ));
    }
    let class = match &input.category_code {
        // Unknown or inactive: named with the other fields.
        Some(code) => match super::categories::usable(state, "category_code", code).await {
            Ok(c) => Some(c.time_limit_class),
            Err(AppError::Invalid(e)) => {
                errors.extend(e);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let phone = phone.map_err(|_| {
        AppError::invalid(
            "requester.phone",
            "err.intake.not_a_valid_chinese_mobile_or",
        )
    })?;
    let now = state.clock.now();
    let day = now
        .with_timezone(&state.config.offset())
        .format("%Y%m%d")
        .to_string();
    let title = input
        .title
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| {
            let first = input
                .text
                .trim()
                .split(['\n', '。', '！', '？'])
                .next()
                .unwrap_or("")
                .trim();
            first.chars().take(40).collect()
        });
    let mut tx = state.store.begin().await?;
    let mut req = RequestRow::new(RequestDraft {
        number: requests::next_number(&mut tx, &day).await?,
        jurisdiction: state.config.jurisdiction.clone(),
        kind: input.kind,
        channel: Channel::Community,
        merged_line: None,
        title,
        body: input.text.clone(),
        address: input.address.clone(),
        category_code: input.category_code.clone(),
        time_limit_class: class.clone(),
        requester_name: input.requester.name.clone(),
        requester_phone: phone.as_str().to_string(),
        enterprise_name: None,
        credit_code: None,
        confidential: false,
        created_by: actor.user_id.clone(),
        created_at: now,
    });
    requests::insert(&mut tx, &req).await?;
    state
        .event(actor, &req.id, None, "request.created")
        .change("", RequestStatus::Received.as_str())
        .payload(serde_json::json!({
            "number": req.number, "kind": req.kind, "channel": req.channel, "category_code": req.category_code,
            "enterprise": false, "confidential": false, "time_limit_class": req.time_limit_class,
            "solved_by": unit.code,
        }))
        .record(&mut tx);
    let class = class.unwrap_or_else(|| "general".into());
    req.time_limit_class = Some(class.clone());
    let mut orders = open_orders(
        state,
        &mut tx,
        actor,
        &req,
        &[(unit.clone(), AssignmentRole::Lead)],
        &class,
    )
    .await?;
    // Acknowledged and replied on the spot, each step as a unit takes it.
    let reply = UnitAction::Reply {
        to_requester: input.to_requester.trim().to_string(),
        to_center: input.to_center.trim().to_string(),
    };
    for action in [UnitAction::Acknowledge, reply] {
        let order = &orders[0];
        let next = workflow::unit_action(
            req.status,
            req.round,
            &workflow::Assignment::from(order),
            &action,
            actor,
        )?;
        let mut order = order.clone();
        let before = order.status;
        order.status = next;
        let (event, payload) = apply_unit_action(
            state,
            &mut tx,
            actor,
            &req,
            &mut order,
            &action,
            Some(input.outcome.unwrap_or(Outcome::Resolved)),
            now,
            false,
        )
        .await?;
        assignments::save_assignment(&mut tx, &order).await?;
        state
            .event(actor, &req.id, Some(&order.id), event)
            .change(before.as_str(), order.status.as_str())
            .payload(payload)
            .record(&mut tx);
        orders[0] = order;
    }
    debug_assert_eq!(orders[0].status, AssignmentStatus::Replied);
    settle_status(state, &mut tx, actor, &mut req, &orders).await?;
    tx.commit().await?;
    metrics::counter!(crate::telemetry::INTAKES, "channel" => req.channel.as_str()).increment(1);
    Ok(Recorded {
        id: req.id,
        number: req.number,
        status: req.status,
        assignment_id: orders[0].id.clone(),
    })
}

/// Requests solved on the spot in `month`, per community and per street: the center sees
/// all, unit staff those of their unit and the units under it.
pub async fn tally(
    state: &AppState,
    actor: &Actor,
    month: &str,
) -> Result<(Vec<TallyLine>, Vec<TallyLine>), AppError> {
    let path = if actor.may(Action::Supervise) {
        None
    } else if actor.role.is_unit_role() {
        Some(
            actor
                .unit
                .as_ref()
                .ok_or(AppError::Forbidden("community tallies"))?
                .path
                .clone(),
        )
    } else {
        return Err(AppError::Forbidden("community tallies"));
    };
    let m = super::topics::parse_month(month)?;
    let from = state.config.local_midnight(m.first_day());
    let to = state.config.local_midnight(m.next().first_day());
    let rows = store::tally(state.store.reader(), from, to, path.as_deref()).await?;
    let mut parents = BTreeMap::new();
    for (code, _) in &rows {
        if let Some(u) = reference::unit(state.store.reader(), code).await? {
            parents.insert(code.clone(), u.parent_code);
        }
    }
    let names = unit_names(
        state,
        rows.iter()
            .map(|(c, _)| c.clone())
            .chain(parents.values().flatten().cloned()),
    )
    .await?;
    let mut streets: BTreeMap<String, CommunityCounts> = BTreeMap::new();
    let mut units = Vec::new();
    for (code, c) in rows {
        let street = parents.get(&code).cloned().flatten();
        if let Some(s) = &street {
            let t = streets.entry(s.clone()).or_default();
            t.recorded += c.recorded;
            t.called_back += c.called_back;
            t.resolved += c.resolved;
            t.satisfied += c.satisfied;
            t.basic += c.basic;
        }
        units.push(line(&names, code, street, c));
    }
    let streets = streets
        .into_iter()
        .map(|(code, c)| line(&names, code, None, c))
        .collect();
    Ok((units, streets))
}

fn line(
    names: &super::directory::UnitNames,
    code: String,
    street_code: Option<String>,
    c: CommunityCounts,
) -> TallyLine {
    TallyLine {
        unit_name: names.of(&code),
        unit_code: code,
        street_code,
        recorded: c.recorded,
        called_back: c.called_back,
        resolved: c.resolved,
        satisfied: c.satisfied,
        basic: c.basic,
    }
}
