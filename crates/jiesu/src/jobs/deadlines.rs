//! The deadline sweep: marks orders not acknowledged in time, warned before their reply
//! deadline, and past it, each once, with a system event. Deadlines are data, so a restart or
//! a second node sweeping at once loses or doubles nothing.

use crate::services::sms_units::{self, UnitReminder};
use crate::services::AppState;
use crate::store::assignments::{self, AssignmentRow};
use crate::store::requests;
use crate::store::sub_orders::{self, SubOrderRow};
use crate::store::NewEvent;
use jiesu_core::workflow::AssignmentStatus;

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Orders newly marked not acknowledged in time.
    pub ack_overdue: usize,
    /// Orders newly warned before their reply deadline.
    pub reply_warned: usize,
    /// Orders newly marked past their reply deadline.
    pub reply_overdue: usize,
    /// Child orders (下派工单) newly marked past their reply limit.
    pub sub_overdue: usize,
    /// Orders newly escalated by SMS to their manager unit (督办).
    pub escalated: usize,
}

fn system_event(
    state: &AppState,
    a: &AssignmentRow,
    action: &str,
    payload: serde_json::Value,
) -> NewEvent {
    NewEvent {
        jurisdiction: a.jurisdiction.clone(),
        request_id: Some(a.request_id.clone()),
        assignment_id: Some(a.id.clone()),
        actor_id: "system".into(),
        actor_role: "system".into(),
        action: action.into(),
        before: None,
        after: None,
        payload,
        at: state.clock.now(),
    }
}

/// Marks deadlines that passed or are about to. Each order gets each mark once.
pub async fn sweep_deadlines(state: &AppState) -> anyhow::Result<SweepReport> {
    let now = state.clock.now();
    let pool = state.store.reader();
    let mut report = SweepReport::default();
    // How long past due the most belated deadline this sweep marked was.
    let mut lag = chrono::Duration::zero();
    for a in assignments::due_orders(
        pool,
        &[AssignmentStatus::Dispatched],
        "acknowledge_by",
        now,
        "ack_overdue_at",
        500,
    )
    .await?
    {
        let due = a.acknowledge_by;
        let marked = mark(
            state,
            a,
            "assignment.ack_overdue",
            |a| a.ack_overdue_at.is_some(),
            |a| a.ack_overdue_at = Some(now),
        )
        .await?;
        report.ack_overdue += marked as usize;
        if marked {
            lag = lag.max(now - due);
        }
    }
    for a in assignments::due_orders(
        pool,
        &[AssignmentStatus::Dispatched, AssignmentStatus::Acknowledged],
        "reply_warn_at",
        now,
        "reply_warned_at",
        500,
    )
    .await?
    {
        if a.reply_by > now {
            let due = a.reply_warn_at;
            let marked = mark(
                state,
                a,
                "assignment.reply_warning",
                |a| a.reply_warned_at.is_some(),
                |a| a.reply_warned_at = Some(now),
            )
            .await?;
            report.reply_warned += marked as usize;
            if marked {
                lag = lag.max(now - due);
            }
        }
    }
    for a in assignments::due_orders(
        pool,
        &[AssignmentStatus::Dispatched, AssignmentStatus::Acknowledged],
        "reply_by",
        now,
        "reply_overdue_at",
        500,
    )
    .await?
    {
        let due = a.reply_by;
        let marked = mark(
            state,
            a,
            "assignment.reply_overdue",
            |a| a.reply_overdue_at.is_some(),
            |a| a.reply_overdue_at = Some(now),
        )
        .await?;
        report.reply_overdue += marked as usize;
        if marked {
            lag = lag.max(now - due);
        }
    }
    report.escalated = escalate(state).await?;
    for s in sub_orders::due_unmarked(pool, now, 500).await? {
        if mark_sub(state, &s).await? {
            report.sub_overdue += 1;
            lag = lag.max(now - s.reply_by);
        }
    }
    metrics::gauge!(crate::telemetry::SWEEP_LAG).set(lag.num_milliseconds() as f64 / 1000.0);
    metrics::gauge!(crate::telemetry::SWEEP_LAST_RUN).set(now.timestamp_millis() as f64 / 1000.0);
    Ok(report)
}

/// Sets a mark inside a transaction that re-reads the order under the request's lock, so two
/// nodes sweeping at once mark it once. Returns whether this call marked it.
async fn mark(
    state: &AppState,
    seen: AssignmentRow,
    action: &str,
    is_set: fn(&AssignmentRow) -> bool,
    set: impl Fn(&mut AssignmentRow),
) -> anyhow::Result<bool> {
    let mut tx = state.store.begin().await?;
    requests::lock(&mut tx, &seen.request_id).await?;
    let current = assignments::assignments_of(tx.conn(), &seen.request_id)
        .await?
        .into_iter()
        .find(|a| a.id == seen.id);
    let Some(mut a) = current.filter(|a| !is_set(a) && a.status == seen.status) else {
        return Ok(false);
    };
    set(&mut a);
    assignments::save_assignment(&mut tx, &a).await?;
    // The mark's time is the sweep's (one for all its orders); the event says it, so that a
    // replay of the events rebuilds the order (`store/replay.rs`).
    let marked_at = [a.ack_overdue_at, a.reply_warned_at, a.reply_overdue_at]
        .into_iter()
        .flatten()
        .max();
    let payload = serde_json::json!({
        "unit_code": a.unit_code, "acknowledge_by": a.acknowledge_by, "reply_by": a.reply_by, "marked_at": marked_at,
    });
    tx.event(system_event(state, &a, action, payload));
    let reminder = match action {
        "assignment.reply_warning" => Some(UnitReminder::BeforeBreach),
        "assignment.reply_overdue" => Some(UnitReminder::Breach),
        _ => None,
    };
    if let Some(r) = reminder {
        sms_units::remind(state, &mut tx, &a, r).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Escalates (督办) open orders long past their deadline to the manager unit, once each;
/// how many this call escalated.
async fn escalate(state: &AppState) -> anyhow::Result<usize> {
    if !state.config.sms_texts {
        return Ok(0);
    }
    let mut n = 0;
    for seen in
        crate::store::sms::escalations_due(state.store.reader(), state.clock.now(), 500).await?
    {
        let mut tx = state.store.begin().await?;
        requests::lock(&mut tx, &seen.request_id).await?;
        n += sms_units::remind(state, &mut tx, &seen, UnitReminder::Escalation).await? as usize;
        tx.commit().await?;
    }
    Ok(n)
}

/// Marks a child order past its reply limit, once (re-checked in the update under the
/// request's lock), with a system event on the request; whether this call marked it.
async fn mark_sub(state: &AppState, s: &SubOrderRow) -> anyhow::Result<bool> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    requests::lock(&mut tx, &s.request_id).await?;
    if !sub_orders::mark_overdue(&mut tx, &s.id, now).await? {
        return Ok(false);
    }
    tx.event(NewEvent {
        jurisdiction: s.jurisdiction.clone(),
        request_id: Some(s.request_id.clone()),
        assignment_id: Some(s.assignment_id.clone()),
        actor_id: "system".into(),
        actor_role: "system".into(),
        action: "sub_order.overdue".into(),
        before: None,
        after: None,
        payload: serde_json::json!({
            "sub_order_id": s.id, "unit_code": s.unit_code, "from_unit_code": s.from_unit_code,
            "reply_by": s.reply_by, "marked_at": now,
        }),
        at: now,
    });
    tx.commit().await?;
    Ok(true)
}
