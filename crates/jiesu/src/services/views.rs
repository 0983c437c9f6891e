//! What a user is shown of a request: everything for the center, the unit's part for unit
//! staff, the requester's number masked unless the user must call them, and no requester at
//! all on a confidential request seen by a unit.

use super::returns::ReturnReviewView;
use super::AppState;
use crate::error::AppError;
use crate::store::assignments::{self, AssignmentRow};
use crate::store::callbacks::{self, CallbackRow};
use crate::store::events::{self, Event};
use crate::store::extensions::{self, ExtensionRow};
use crate::store::requests::{self, ListFilter, RequestRow};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus, ExtensionStatus, Outcome};
use jiesu_core::{Actor, Channel, PhoneNumber, RequestKind, RequestStatus};
use serde::Serialize;
use std::collections::HashMap;

/// The requester as this user may see them.
#[derive(Debug, Clone, Serialize)]
pub struct RequesterView {
    /// Name.
    pub name: String,
    /// Phone: full for callback agents, else masked (`138****5678`).
    pub phone: String,
    /// Enterprise name, for enterprise requesters.
    pub enterprise_name: Option<String>,
    /// Unified social credit code.
    pub credit_code: Option<String>,
}

/// One order as shown.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub id: String,
    pub request_id: String,
    pub unit_code: String,
    pub role: AssignmentRole,
    pub round: i64,
    pub status: AssignmentStatus,
    pub time_limit_class: String,
    pub dispatched_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub reply_by: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub reply_to_requester: Option<String>,
    pub reply_to_center: Option<String>,
    pub ack_overdue: bool,
    pub reply_warned: bool,
    pub reply_overdue: bool,
}

impl From<&AssignmentRow> for OrderView {
    fn from(a: &AssignmentRow) -> Self {
        OrderView {
            id: a.id.clone(),
            request_id: a.request_id.clone(),
            unit_code: a.unit_code.clone(),
            role: a.role,
            round: a.round,
            status: a.status,
            time_limit_class: a.time_limit_class.clone(),
            dispatched_at: a.dispatched_at,
            acknowledge_by: a.acknowledge_by,
            reply_by: a.reply_by,
            acknowledged_at: a.acknowledged_at,
            replied_at: a.replied_at,
            returned_at: a.returned_at,
            return_reason: a.return_reason.clone(),
            outcome: a.outcome,
            reply_to_requester: a.reply_to_requester.clone(),
            reply_to_center: a.reply_to_center.clone(),
            ack_overdue: a.ack_overdue_at.is_some(),
            reply_warned: a.reply_warned_at.is_some(),
            reply_overdue: a.reply_overdue_at.is_some(),
        }
    }
}

/// An extension request as shown.
#[derive(Debug, Serialize)]
pub struct ExtensionView {
    pub id: String,
    pub assignment_id: String,
    pub hours: i64,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub new_reply_by: Option<DateTime<Utc>>,
}

impl From<&ExtensionRow> for ExtensionView {
    fn from(e: &ExtensionRow) -> Self {
        ExtensionView {
            id: e.id.clone(),
            assignment_id: e.assignment_id.clone(),
            hours: e.hours,
            reason: e.reason.clone(),
            status: e.status,
            requested_at: e.requested_at,
            decided_at: e.decided_at,
            new_reply_by: e.new_reply_by,
        }
    }
}

/// A request as shown; the detail fields are empty in lists.
#[derive(Debug, Serialize)]
pub struct RequestView {
    pub id: String,
    pub number: String,
    pub kind: RequestKind,
    pub channel: Channel,
    pub merged_line: Option<String>,
    pub status: RequestStatus,
    pub title: String,
    pub text: String,
    pub address: String,
    pub category_code: Option<String>,
    pub time_limit_class: Option<String>,
    pub confidential: bool,
    /// Absent when hidden from this user.
    pub requester: Option<RequesterView>,
    pub round: i64,
    pub primary_id: Option<String>,
    pub answer: Option<String>,
    pub close_reason: Option<String>,
    pub callback_attempts: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub assignments: Vec<OrderView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Vec<ExtensionView>>,
    /// Returns of its orders and the dispatcher's decisions (退单审核).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_reviews: Option<Vec<ReturnReviewView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callbacks: Option<Vec<CallbackRow>>,
    /// Child orders passed down (下派), as far as this user sees them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_orders: Option<Vec<super::subwork_lists::SubOrderView>>,
    /// Replies waiting for, or past, their sign-off (签批).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signoffs: Option<Vec<super::subwork_lists::SignoffView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_requests: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<Event>>,
    /// Follow-up calls recorded on it as reminders (催办): on one request, never in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminders: Option<i64>,
    /// The query code (查询码) the requester tracks the request with: for the center's roles
    /// on one request (to read out at intake or to a caller), never for units, never in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_code: Option<String>,
}

/// The query code as `actor` may see it.
fn query_code_for(actor: &Actor, r: &RequestRow) -> Option<String> {
    r.query_code.clone().filter(|_| actor.sees_all())
}

/// The requester as `actor` may see them, or None when hidden (a confidential request seen by a unit).
pub fn requester_view(actor: &Actor, r: &RequestRow) -> Option<RequesterView> {
    if !actor.sees_requester(r.confidential) {
        return None;
    }
    let phone = match PhoneNumber::parse(&r.requester_phone) {
        Ok(p) if actor.sees_full_phone() => p.as_str().to_string(),
        Ok(p) => p.masked(),
        Err(_) => "****".into(),
    };
    Some(RequesterView {
        name: r.requester_name.clone(),
        phone,
        enterprise_name: r.enterprise_name.clone(),
        credit_code: r.credit_code.clone(),
    })
}

fn summary(actor: &Actor, r: &RequestRow, orders: &[AssignmentRow]) -> RequestView {
    RequestView {
        id: r.id.clone(),
        number: r.number.clone(),
        kind: r.kind,
        channel: r.channel,
        merged_line: r.merged_line.clone(),
        status: r.status,
        title: r.title.clone(),
        text: r.body.clone(),
        address: r.address.clone(),
        category_code: r.category_code.clone(),
        time_limit_class: r.time_limit_class.clone(),
        confidential: r.confidential,
        requester: requester_view(actor, r),
        round: r.round,
        primary_id: r.primary_id.clone(),
        answer: r.answer.clone(),
        close_reason: r.close_reason.clone(),
        callback_attempts: r.callback_attempts,
        created_at: r.created_at,
        updated_at: r.updated_at,
        closed_at: r.closed_at,
        assignments: orders
            .iter()
            .map(|a| {
                let mut order = OrderView::from(a);
                if !actor.sees_all() && !actor.covers_unit(&a.unit_path) {
                    // Another unit's order: what it told the requester is public to the
                    // request's units; what it told the center is not.
                    order.reply_to_center = None;
                    order.return_reason = None;
                }
                order
            })
            .collect(),
        extensions: None,
        return_reviews: None,
        callbacks: None,
        sub_orders: None,
        signoffs: None,
        merged_requests: None,
        events: None,
        reminders: None,
        query_code: None,
    }
}

/// One request with its orders, extensions, callbacks and event timeline; 404 when it does
/// not exist and, the same, when this user may not see it (a unit that holds no order of it),
/// so an answer never tells a unit which numbers exist.
///
/// Unit staff see the request, their own orders (their unit's and the units' under it) and
/// what the requester was told; other units' center-only replies and return reasons, their
/// extensions, the callbacks and other orders' events stay with the center, and the payloads
/// of request-wide events (dispatch notes, arbitrations, callback answers) are left out.
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<RequestView, AppError> {
    // One snapshot for the whole page: read statement by statement on the pool, a write that
    // commits between two of them showed the request still in round 1 beside its round-2
    // events.
    state
        .store
        .in_snapshot(async |conn| get_in(conn, actor, id).await)
        .await
}

/// A request's page: the view ([`get`]), where it is on a map, its files and the orders the
/// actor may attach evidence to.
#[derive(Debug)]
pub struct RequestPage {
    /// As [`get`] answers it.
    pub view: RequestView,
    /// Its point on a map, when it has one.
    pub location: Option<crate::store::locations::Location>,
    /// The attachments the actor may see.
    pub files: Vec<super::attachments::AttachmentView>,
    /// The actor's orders open for evidence: (order id, unit code).
    pub evidence: Vec<(String, String)>,
}

/// [`get`] with the map point and files, all read in one snapshot: read one after another on
/// the pool, a file uploaded in between showed on the page without its event in the
/// timeline.
pub async fn page(state: &AppState, actor: &Actor, id: &str) -> Result<RequestPage, AppError> {
    state
        .store
        .in_snapshot(async |conn| page_in(conn, actor, id).await)
        .await
}

/// [`page`] on an open snapshot (`Store::read_snapshot`): every read goes through `conn`.
pub async fn page_in(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<RequestPage, AppError> {
    let view = get_in(&mut *conn, actor, id).await?;
    let location = crate::store::locations::get(&mut *conn, &view.id).await?;
    let files = super::attachments::list_in(&mut *conn, actor, &view.id).await?;
    let evidence = super::attachments::evidence_orders_in(&mut *conn, actor, &view.id).await?;
    Ok(RequestPage {
        view,
        location,
        files,
        evidence,
    })
}

/// [`get`] on an open snapshot (`Store::read_snapshot`): every read goes through `conn`.
pub async fn get_in(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: &str,
) -> Result<RequestView, AppError> {
    let req = requests::get(&mut *conn, id)
        .await?
        .ok_or(AppError::NotFound("request"))?;
    let orders = assignments::assignments_of(&mut *conn, &req.id).await?;
    let subs = crate::store::sub_orders::of_request(&mut *conn, &req.id).await?;
    // A sub-unit sees the request of a child order passed down to it (下派).
    if !actor.may_view(
        orders
            .iter()
            .map(|a| a.unit_path.as_str())
            .chain(subs.iter().map(|s| s.unit_path.as_str())),
    ) {
        return Err(AppError::NotFound("request"));
    }
    let mut view = summary(actor, &req, &orders);
    view.reminders = Some(
        crate::store::callers::reminders_of(&mut *conn, &req.id)
            .await?
            .len() as i64,
    );
    let signoffs = crate::store::sub_orders::signoffs_of(&mut *conn, &req.id).await?;
    let exts = crate::store::sub_extensions::of_request(&mut *conn, &req.id).await?;
    let (subs_shown, signoffs_shown) =
        super::subwork_lists::visible(actor, &orders, &subs, &signoffs, &exts);
    view.sub_orders = Some(subs_shown);
    view.signoffs = Some(signoffs_shown);
    let extensions = extensions::extensions_of(&mut *conn, &req.id).await?;
    let reviews = crate::store::returns::reviews_of(&mut *conn, &req.id).await?;
    let events = events::for_request(&mut *conn, &req.id).await?;
    if actor.sees_all() {
        view.extensions = Some(extensions.iter().map(ExtensionView::from).collect());
        view.return_reviews = Some(reviews.iter().map(ReturnReviewView::from).collect());
        view.callbacks = Some(callbacks::callbacks_of(&mut *conn, &req.id).await?);
        view.events = Some(events);
    } else {
        let own: std::collections::HashSet<&str> = orders
            .iter()
            .filter(|a| actor.covers_unit(&a.unit_path))
            .map(|a| a.id.as_str())
            .collect();
        let is_own = |order: &str| own.contains(order);
        let own_subs = super::subwork_lists::own_sub_ids(actor, &subs);
        let is_own_sub = |e: &Event| {
            e.payload
                .get("sub_order_id")
                .and_then(|v| v.as_str())
                .is_some_and(|id| own_subs.iter().any(|s| s == id))
        };
        view.extensions = Some(
            extensions
                .iter()
                .filter(|e| is_own(&e.assignment_id))
                .map(ExtensionView::from)
                .collect(),
        );
        view.return_reviews = Some(
            reviews
                .iter()
                .filter(|r| is_own(&r.assignment_id))
                .map(ReturnReviewView::from)
                .collect(),
        );
        view.callbacks = Some(Vec::new());
        view.events = Some(
            events
                .into_iter()
                .filter_map(|mut e| match e.assignment_id.as_deref() {
                    Some(order) if is_own(order) => Some(e),
                    Some(_) if is_own_sub(&e) => Some(e),
                    Some(_) => None,
                    None => {
                        e.payload = serde_json::json!({});
                        Some(e)
                    }
                })
                .collect(),
        );
    }
    view.merged_requests = Some(requests::merged_into(&mut *conn, &req.id).await?);
    view.query_code = query_code_for(actor, &req);
    Ok(view)
}

/// The view of a request its creator has just recorded, from the row and the events its
/// transaction appended: a new request has no orders, extensions, callbacks or merged requests
/// yet, so nothing is read (where [`get`] runs six queries; it is what every intake answers
/// with).
pub fn of_new(actor: &Actor, req: &RequestRow, events: Vec<events::Event>) -> RequestView {
    let mut view = summary(actor, req, &[]);
    view.extensions = Some(Vec::new());
    view.return_reviews = Some(Vec::new());
    view.callbacks = Some(Vec::new());
    view.sub_orders = Some(Vec::new());
    view.signoffs = Some(Vec::new());
    view.merged_requests = Some(Vec::new());
    view.reminders = Some(0);
    view.events = Some(events);
    view.query_code = query_code_for(actor, req);
    view
}

/// A page of requests.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The requests, newest first.
    pub items: Vec<RequestView>,
    /// Page number, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
    /// Matching requests in all.
    pub total: i64,
}

/// Lists requests visible to the user. `unit` narrows to a unit (and the units under it);
/// unit staff are always narrowed to their own unit.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: Option<String>,
    unit: Option<String>,
    page: i64,
    per_page: i64,
) -> Result<Page, AppError> {
    let filter = list_filter(
        state,
        actor,
        status,
        unit,
        page.max(1),
        per_page.clamp(1, 200),
    )
    .await?;
    let (items, total) = list_rows(state, actor, &filter, false).await?;
    Ok(Page {
        items,
        page: filter.page,
        per_page: filter.per_page,
        total,
    })
}

/// The first `cap` requests of the list with these filters (the same scoping as [`list`]),
/// newest first, every requester's phone masked whatever the role (a file travels), and
/// how many match in all.
pub async fn export_rows(
    state: &AppState,
    actor: &Actor,
    status: Option<String>,
    unit: Option<String>,
    cap: i64,
) -> Result<(Vec<RequestView>, i64), AppError> {
    let filter = list_filter(state, actor, status, unit, 1, cap).await?;
    list_rows(state, actor, &filter, true).await
}

/// The store's filter for a list: the unit narrowed to the actor's own for unit staff, the
/// status checked.
async fn list_filter(
    state: &AppState,
    actor: &Actor,
    status: Option<String>,
    unit: Option<String>,
    page: i64,
    per_page: i64,
) -> Result<ListFilter, AppError> {
    let pool = state.store.reader();
    let mut unit_path = match unit.filter(|u| !u.is_empty()) {
        Some(code) => Some(
            crate::store::reference::unit(pool, &code)
                .await?
                .ok_or_else(|| AppError::invalid("unit", "err.no_such_unit"))?
                .path,
        ),
        None => None,
    };
    if !actor.sees_all() {
        let own = actor
            .unit
            .as_ref()
            .map(|u| u.path.clone())
            .ok_or(AppError::Forbidden("no unit"))?;
        unit_path = match unit_path {
            Some(p) if p.starts_with(&own) => Some(p),
            Some(_) => return Err(AppError::Forbidden("another unit's requests")),
            None => Some(own),
        };
    }
    if let Some(s) = &status {
        if jiesu_core::RequestStatus::parse(s).is_none() {
            return Err(AppError::invalid("status", "err.views.no_such_status"));
        }
    }
    Ok(ListFilter {
        status,
        unit_path,
        page,
        per_page,
    })
}

/// The requests of one page of `filter` as `actor` sees them (phones masked for all when
/// `mask_phones`), and the count of all that match.
async fn list_rows(
    state: &AppState,
    actor: &Actor,
    filter: &ListFilter,
    mask_phones: bool,
) -> Result<(Vec<RequestView>, i64), AppError> {
    // The count, the page and its orders in one snapshot, so they agree.
    let mut snap = state.store.read_snapshot().await?;
    let (rows, total) = requests::list(&mut snap, filter).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut orders: HashMap<String, Vec<AssignmentRow>> = HashMap::new();
    for a in assignments::assignments_of_many(&mut *snap, &ids).await? {
        orders.entry(a.request_id.clone()).or_default().push(a);
    }
    // Read-only: a failed rollback loses nothing.
    let _ = snap.rollback().await;
    let items = rows
        .iter()
        .map(|r| {
            let mut view = summary(actor, r, orders.get(&r.id).map_or(&[][..], Vec::as_slice));
            if let Some(requester) = view.requester.as_mut().filter(|_| mask_phones) {
                requester.phone = PhoneNumber::parse(&r.requester_phone)
                    .map_or_else(|_| "****".into(), |p| p.masked());
            }
            view
        })
        .collect();
    Ok((items, total))
}

/// What a list shows of a request: no requester, no text.
#[derive(Debug, Clone)]
pub struct RequestBrief {
    pub id: String,
    pub number: String,
    pub title: String,
    pub address: String,
    pub status: RequestStatus,
    pub category_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<RequestRow> for RequestBrief {
    fn from(r: RequestRow) -> Self {
        RequestBrief {
            id: r.id,
            number: r.number,
            title: r.title,
            address: r.address,
            status: r.status,
            category_code: r.category_code,
            created_at: r.created_at,
        }
    }
}

/// The requests with these ids (those that exist), oldest first, in brief; center roles,
/// one query.
pub async fn briefs(
    state: &AppState,
    actor: &Actor,
    ids: &[String],
) -> Result<Vec<RequestBrief>, AppError> {
    if !actor.sees_all() {
        return Err(AppError::Forbidden("requests of other units"));
    }
    let mut rows = requests::get_many(state.store.reader(), ids).await?;
    rows.sort_by_key(|r| r.created_at);
    Ok(rows.into_iter().map(RequestBrief::from).collect())
}
