//! What is shown of 下派 and 签批: child orders and sign-offs as a request shows them (scoped
//! like its orders), a sub-unit's queue of child orders (its own unit only), the sign-offs a
//! unit must decide, and the sub-unit tallies (下属单位办理情况) beside the KPIs.

use super::directory::unit_names;
use super::AppState;
use crate::error::AppError;
use crate::store::assignments::AssignmentRow;
use crate::store::queues;
use crate::store::sub_extensions::{self, SubExtensionRow};
use crate::store::sub_orders::{self as store, SignoffRow, SubOrderRow};
use chrono::{DateTime, Utc};
use jiesu_core::kpi::Month;
use jiesu_core::subwork::{SignoffStatus, SubOrderStatus};
use jiesu_core::workflow::Outcome;
use jiesu_core::Actor;
use serde::Serialize;

/// A child order (下派工单) as shown.
#[derive(Debug, Clone, Serialize)]
pub struct SubOrderView {
    pub id: String,
    pub request_id: String,
    /// The center's order it belongs to.
    pub assignment_id: String,
    /// The child order it was passed down from, if any.
    pub parent_id: Option<String>,
    pub from_unit_code: String,
    pub unit_code: String,
    pub status: SubOrderStatus,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub reply_by: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub reply_to_requester: Option<String>,
    pub reply_to_center: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Why its latest reply was sent back, while it is being handled again.
    pub sent_back_reason: Option<String>,
    /// When the deadline sweep marked it past its reply limit (超期), if it did.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Why its unit returned it to the unit above (退回上级).
    pub return_reason: Option<String>,
    /// Its requests for more time (延期申请), oldest first.
    pub extensions: Vec<SubExtensionRow>,
}

impl SubOrderView {
    /// The view of a row, with the reason of its latest sent-back sign-off among `signoffs`
    /// and its requests for more time among `exts`.
    pub fn of(s: &SubOrderRow, signoffs: &[SignoffRow], exts: &[SubExtensionRow]) -> SubOrderView {
        let sent_back_reason = signoffs
            .iter()
            .rfind(|g| g.sub_order_id.as_deref() == Some(&s.id))
            .filter(|g| {
                g.status == SignoffStatus::SentBack && s.status == SubOrderStatus::Acknowledged
            })
            .and_then(|g| g.reason.clone());
        SubOrderView {
            id: s.id.clone(),
            request_id: s.request_id.clone(),
            assignment_id: s.assignment_id.clone(),
            parent_id: s.parent_id.clone(),
            from_unit_code: s.from_unit_code.clone(),
            unit_code: s.unit_code.clone(),
            status: s.status,
            note: s.note.clone(),
            created_at: s.created_at,
            acknowledge_by: s.acknowledge_by,
            reply_by: s.reply_by,
            acknowledged_at: s.acknowledged_at,
            replied_at: s.replied_at,
            outcome: s.outcome,
            reply_to_requester: s.reply_to_requester.clone(),
            reply_to_center: s.reply_to_center.clone(),
            closed_at: s.closed_at,
            sent_back_reason,
            overdue_at: s.overdue_at,
            return_reason: s.return_reason.clone(),
            extensions: exts
                .iter()
                .filter(|x| x.sub_order_id == s.id)
                .cloned()
                .collect(),
        }
    }
}

/// A sign-off (签批) as shown.
#[derive(Debug, Clone, Serialize)]
pub struct SignoffView {
    pub id: String,
    pub assignment_id: String,
    /// The child order whose reply it is; absent for a handler's reply held for the manager.
    pub sub_order_id: Option<String>,
    /// The unit that decides.
    pub unit_code: String,
    pub outcome: Outcome,
    pub to_requester: String,
    pub to_center: String,
    pub submitted_at: DateTime<Utc>,
    pub status: SignoffStatus,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was sent back.
    pub reason: Option<String>,
}

impl From<&SignoffRow> for SignoffView {
    fn from(g: &SignoffRow) -> Self {
        SignoffView {
            id: g.id.clone(),
            assignment_id: g.assignment_id.clone(),
            sub_order_id: g.sub_order_id.clone(),
            unit_code: g.unit_code.clone(),
            outcome: g.outcome,
            to_requester: g.to_requester.clone(),
            to_center: g.to_center.clone(),
            submitted_at: g.submitted_at,
            status: g.status,
            decided_at: g.decided_at,
            reason: g.reason.clone(),
        }
    }
}

/// The child orders and sign-offs of a request that `actor` sees: all for the center; for a
/// unit, those of units it covers (its own and those under it), and the sign-offs of its
/// orders.
pub fn visible(
    actor: &Actor,
    orders: &[AssignmentRow],
    subs: &[SubOrderRow],
    signoffs: &[SignoffRow],
    exts: &[SubExtensionRow],
) -> (Vec<SubOrderView>, Vec<SignoffView>) {
    let sees_sub = |s: &SubOrderRow| actor.sees_all() || actor.covers_unit(&s.unit_path);
    let subs_shown: Vec<SubOrderView> = subs
        .iter()
        .filter(|s| sees_sub(s))
        .map(|s| SubOrderView::of(s, signoffs, exts))
        .collect();
    let signoffs_shown = signoffs
        .iter()
        .filter(|g| match &g.sub_order_id {
            _ if actor.sees_all() => true,
            Some(sid) => subs_shown.iter().any(|s| &s.id == sid),
            None => orders
                .iter()
                .any(|a| a.id == g.assignment_id && actor.covers_unit(&a.unit_path)),
        })
        .map(SignoffView::from)
        .collect();
    (subs_shown, signoffs_shown)
}

/// The ids of the child orders of a request whose events `actor` sees (their units it
/// covers).
pub fn own_sub_ids(actor: &Actor, subs: &[SubOrderRow]) -> Vec<String> {
    subs.iter()
        .filter(|s| actor.covers_unit(&s.unit_path))
        .map(|s| s.id.clone())
        .collect()
}

/// A child order in a unit's queue, with its request and the unit that passed it down.
#[derive(Debug, Clone, Serialize)]
pub struct SubOrderItem {
    /// The child order.
    #[serde(flatten)]
    pub sub_order: SubOrderView,
    /// The request's number.
    pub number: String,
    /// The request's title.
    pub title: String,
    /// The name of the unit that passed it down.
    pub from_unit_name: String,
}

/// The actor's unit's own child orders (not those of units under it) in `statuses` (open
/// ones: dispatched, acknowledged, replied), soonest reply limit first; unit staff only.
pub async fn queue(
    state: &AppState,
    actor: &Actor,
    statuses: Option<Vec<SubOrderStatus>>,
    limit: i64,
) -> Result<Vec<SubOrderItem>, AppError> {
    let unit = match (&actor.unit, actor.role.is_unit_role()) {
        (Some(u), true) => u.code.clone(),
        _ => return Err(AppError::Forbidden("a unit's child orders")),
    };
    let statuses = statuses.unwrap_or_else(|| {
        vec![
            SubOrderStatus::Dispatched,
            SubOrderStatus::Acknowledged,
            SubOrderStatus::Replied,
        ]
    });
    let pool = state.store.reader();
    let rows = store::of_unit(pool, &unit, &statuses, limit.clamp(1, 1000)).await?;
    let ids: Vec<String> = rows.iter().map(|s| s.request_id.clone()).collect();
    let titles = queues::request_titles(pool, &ids).await?;
    let names = unit_names(state, rows.iter().map(|s| &s.from_unit_code)).await?;
    let mut out = Vec::new();
    for s in rows {
        let signoffs = store::signoffs_of(pool, &s.request_id).await?;
        let exts = sub_extensions::of_request(pool, &s.request_id).await?;
        let (number, title) = titles.get(&s.request_id).cloned().unwrap_or_default();
        out.push(SubOrderItem {
            from_unit_name: names.of(&s.from_unit_code),
            sub_order: SubOrderView::of(&s, &signoffs, &exts),
            number,
            title,
        });
    }
    Ok(out)
}

/// A sign-off waiting for the actor's unit, with its request and the replying unit.
#[derive(Debug, Clone, Serialize)]
pub struct SignoffItem {
    /// The sign-off.
    #[serde(flatten)]
    pub signoff: SignoffView,
    /// The request's id.
    pub request_id: String,
    /// The request's number.
    pub number: String,
    /// The request's title.
    pub title: String,
    /// The unit whose reply it is (the child's unit, or the unit itself).
    pub from_unit_code: String,
    /// Its name.
    pub from_unit_name: String,
    /// Whether only a manager may decide it (a handler's reply held for the manager).
    pub manager_only: bool,
}

/// The pending sign-offs the actor's unit decides, oldest first; unit staff only.
pub async fn pending_signoffs(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<SignoffItem>, AppError> {
    let unit = match (&actor.unit, actor.role.is_unit_role()) {
        (Some(u), true) => u.code.clone(),
        _ => return Err(AppError::Forbidden("a unit's sign-offs")),
    };
    let pool = state.store.reader();
    let rows = store::pending_for_unit(pool, &unit, limit.clamp(1, 1000)).await?;
    let ids: Vec<String> = rows.iter().map(|g| g.request_id.clone()).collect();
    let titles = queues::request_titles(pool, &ids).await?;
    let mut from = Vec::new();
    for g in &rows {
        let code = match &g.sub_order_id {
            Some(sid) => store::of_request(pool, &g.request_id)
                .await?
                .into_iter()
                .find(|s| &s.id == sid)
                .map(|s| s.unit_code)
                .unwrap_or_default(),
            None => g.unit_code.clone(),
        };
        from.push(code);
    }
    let names = unit_names(state, from.iter()).await?;
    Ok(rows
        .iter()
        .zip(from)
        .map(|(g, code)| {
            let (number, title) = titles.get(&g.request_id).cloned().unwrap_or_default();
            SignoffItem {
                signoff: SignoffView::from(g),
                request_id: g.request_id.clone(),
                number,
                title,
                from_unit_name: names.of(&code),
                from_unit_code: code,
                manager_only: g.sub_order_id.is_none(),
            }
        })
        .collect())
}

/// One sub-unit's tally, with its name.
#[derive(Debug, Clone, Serialize)]
pub struct TallyRow {
    /// The counts.
    #[serde(flatten)]
    pub tally: store::Tally,
    /// The sub-unit's name.
    pub unit_name: String,
}

/// The sub-unit tallies of a unit for a month.
#[derive(Debug, Clone, Serialize)]
pub struct Tallies {
    /// The unit whose sub-units are counted.
    pub unit_code: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Per sub-unit, most child orders first.
    pub units: Vec<TallyRow>,
}

/// The tallies of the child orders the units under `unit` received in `month` (by the day
/// they were passed down): received, approved on time, sent back, approved, late (marked past
/// their limit by the sweep) and returned. Unit staff see
/// their own unit's and those under it (default: their own); the center any unit's.
pub async fn tallies(
    state: &AppState,
    actor: &Actor,
    unit: Option<&str>,
    month: Option<&str>,
) -> Result<Tallies, AppError> {
    let offset = state.config.offset();
    let month = match month.filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m)?,
        None => Month::parse(
            &state
                .clock
                .now()
                .with_timezone(&offset)
                .format("%Y-%m")
                .to_string(),
        )?,
    };
    let code = match (unit.filter(|u| !u.is_empty()), &actor.unit) {
        (Some(u), _) => u.to_string(),
        (None, Some(own)) if actor.role.is_unit_role() => own.code.clone(),
        (None, _) => return Err(AppError::invalid("unit", "err.subwork.name_the_unit")),
    };
    let u = crate::store::reference::unit(state.store.reader(), &code)
        .await?
        .ok_or_else(|| AppError::invalid("unit", "err.no_such_unit"))?;
    if !actor.sees_all() && !actor.covers_unit(&u.path) {
        return Err(AppError::Forbidden("another unit's sub-units"));
    }
    let start = |m: Month| {
        m.first_day()
            .and_hms_opt(0, 0, 0)
            .and_then(|d| d.and_local_timezone(offset).single())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| AppError::invalid("month", "err.month_out_of_range"))
    };
    let rows = store::tallies(
        state.store.reader(),
        &u.path,
        start(month)?,
        start(month.next())?,
    )
    .await?;
    let names = unit_names(state, rows.iter().map(|t| &t.unit_code)).await?;
    Ok(Tallies {
        unit_code: u.code,
        month: month.label(),
        units: rows
            .into_iter()
            .map(|t| TallyRow {
                unit_name: names.of(&t.unit_code),
                tally: t,
            })
            .collect(),
    })
}

/// The units under a unit that may receive its child orders (for the pass-down form): its
/// sub-units and the companies registered under it, by path.
pub async fn units_under(
    state: &AppState,
    unit_path: &str,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(store::units_under(state.store.reader(), unit_path, 2000).await?)
}

/// The request of an order or a child order, or 404.
pub async fn request_of(
    state: &AppState,
    from: super::subwork::PassFrom<'_>,
) -> Result<String, AppError> {
    use super::subwork::PassFrom;
    let pool = state.store.reader();
    match from {
        PassFrom::Order(id) => crate::store::assignments::request_of_assignment(pool, id).await?,
        PassFrom::SubOrder(id) => store::request_of(pool, id).await?,
    }
    .ok_or(AppError::NotFound("order"))
}
