//! Replay and compare: rebuilds the state of requests, orders (assignments), extension
//! requests, callbacks, return reviews (退单审核), assessment appeals (考核申诉), reply checks
//! (办结审核), child orders (下派), their sign-offs (签批) and requests for more time, and the
//! whistle reports (吹哨报到) from their events alone, then compares it field by field with the
//! tables. The hash chain proves the events were not edited; this proves the tables still say
//! what the events say, so a hand edit of `requests.status`, an order's reply or a callback's
//! satisfaction is named (table, row, field).
//!
//! Which fields each event sets is listed in [`apply`]. A field an older event does not carry
//! (written before the event carried it) is left unchecked for that row; times are compared to
//! within [`TIME_SLACK_MS`], since a service may stamp its row and its event a moment apart.

use super::StoreError;
use sqlx::{AnyPool, Row};
use std::collections::{BTreeMap, BTreeSet};

#[path = "replay_levels.rs"]
mod levels;

/// How far apart a row's time and its event's time may be (ms).
pub const TIME_SLACK_MS: i64 = 1_000;

/// A value of one field, as the events say it should be or as the table holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum V {
    Text(Option<String>),
    Int(Option<i64>),
    /// Milliseconds since the epoch.
    Time(Option<i64>),
    /// Expected only: some non-empty text (a requester's phone before any redaction).
    Present,
}

impl V {
    fn show(&self) -> String {
        match self {
            V::Text(Some(s)) => format!("{s:?}"),
            V::Int(Some(n)) => n.to_string(),
            V::Time(Some(t)) => super::from_millis(*t).to_rfc3339(),
            V::Text(None) | V::Int(None) | V::Time(None) => "NULL".into(),
            V::Present => "a value".into(),
        }
    }

    /// Whether `stored` agrees with this expected value.
    fn accepts(&self, stored: &V) -> bool {
        match (self, stored) {
            (V::Time(Some(a)), V::Time(Some(b))) => (a - b).abs() <= TIME_SLACK_MS,
            (V::Present, V::Text(Some(s))) => !s.is_empty(),
            (V::Present, _) => false,
            (a, b) => a == b,
        }
    }
}

/// One field where a table and its events disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `requests`, `assignments`, `extensions`, `callbacks`, `return_reviews`, `appeals`,
    /// `reply_reviews`, `sub_orders`, `signoffs`, `sub_extensions` or `whistle_reports`.
    pub table: &'static str,
    /// The row's id.
    pub row: String,
    /// The column, or `(row)` when the row itself is missing or has no event.
    pub field: String,
    /// What the events say.
    pub events: String,
    /// What the table holds.
    pub stored: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {}: the events say {}, the table has {}",
            self.table, self.row, self.field, self.events, self.stored
        )
    }
}

/// What replay checks: per table, its columns and their kinds. Rows are keyed by `id`, except
/// where [`key_of`] says otherwise.
const TABLES: [(&str, &[(&str, Kind)]); 11] = [
    (
        "requests",
        &[
            ("number", Kind::Text),
            ("kind", Kind::Text),
            ("channel", Kind::Text),
            ("status", Kind::Text),
            ("category_code", Kind::Text),
            ("time_limit_class", Kind::Text),
            ("confidential", Kind::Int),
            ("round", Kind::Int),
            ("primary_id", Kind::Text),
            ("callback_attempts", Kind::Int),
            ("callback_done", Kind::Int),
            ("answer", Kind::Text),
            ("close_reason", Kind::Text),
            ("created_by", Kind::Text),
            ("created_at", Kind::Time),
            ("closed_at", Kind::Time),
            ("requester_name", Kind::Text),
            ("requester_phone", Kind::Text),
            ("redacted_at", Kind::Time),
        ],
    ),
    (
        "assignments",
        &[
            ("request_id", Kind::Text),
            ("unit_code", Kind::Text),
            ("role", Kind::Text),
            ("round", Kind::Int),
            ("status", Kind::Text),
            ("time_limit_class", Kind::Text),
            ("dispatched_at", Kind::Time),
            ("dispatched_by", Kind::Text),
            ("acknowledge_by", Kind::Time),
            ("reply_by", Kind::Time),
            ("reply_warn_at", Kind::Time),
            ("acknowledged_at", Kind::Time),
            ("replied_at", Kind::Time),
            ("returned_at", Kind::Time),
            ("return_reason", Kind::Text),
            ("outcome", Kind::Text),
            ("reply_to_requester", Kind::Text),
            ("reply_to_center", Kind::Text),
            ("ack_overdue_at", Kind::Time),
            ("reply_warned_at", Kind::Time),
            ("reply_overdue_at", Kind::Time),
        ],
    ),
    (
        "extensions",
        &[
            ("assignment_id", Kind::Text),
            ("request_id", Kind::Text),
            ("hours", Kind::Int),
            ("reason", Kind::Text),
            ("status", Kind::Text),
            ("requested_by", Kind::Text),
            ("requested_at", Kind::Time),
            ("old_reply_by", Kind::Time),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("new_reply_by", Kind::Time),
        ],
    ),
    (
        "callbacks",
        &[
            ("request_id", Kind::Text),
            ("round", Kind::Int),
            ("reached", Kind::Int),
            ("resolved", Kind::Int),
            ("satisfaction", Kind::Text),
            ("note", Kind::Text),
            ("outcome", Kind::Text),
            ("agent_id", Kind::Text),
            ("at", Kind::Time),
        ],
    ),
    (
        "return_reviews",
        &[
            ("assignment_id", Kind::Text),
            ("request_id", Kind::Text),
            ("unit_code", Kind::Text),
            ("reason", Kind::Text),
            ("status", Kind::Text),
            ("requested_by", Kind::Text),
            ("requested_at", Kind::Time),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("decision_reason", Kind::Text),
        ],
    ),
    (
        "appeals",
        &[
            ("assignment_id", Kind::Text),
            ("request_id", Kind::Text),
            ("part", Kind::Text),
            ("month", Kind::Text),
            ("reason", Kind::Text),
            ("evidence", Kind::Text),
            ("status", Kind::Text),
            ("filed_by", Kind::Text),
            ("filed_at", Kind::Time),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("decision_reason", Kind::Text),
        ],
    ),
    (
        "reply_reviews",
        &[
            ("assignment_id", Kind::Text),
            ("request_id", Kind::Text),
            ("unit_code", Kind::Text),
            ("status", Kind::Text),
            ("replied_at", Kind::Time),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("reason", Kind::Text),
        ],
    ),
    (
        "sub_orders",
        &[
            ("request_id", Kind::Text),
            ("assignment_id", Kind::Text),
            ("parent_id", Kind::Text),
            ("from_unit_code", Kind::Text),
            ("unit_code", Kind::Text),
            ("status", Kind::Text),
            ("note", Kind::Text),
            ("created_by", Kind::Text),
            ("created_at", Kind::Time),
            ("acknowledge_by", Kind::Time),
            ("reply_by", Kind::Time),
            ("acknowledged_at", Kind::Time),
            ("replied_at", Kind::Time),
            ("outcome", Kind::Text),
            ("reply_to_requester", Kind::Text),
            ("reply_to_center", Kind::Text),
            ("closed_at", Kind::Time),
            ("overdue_at", Kind::Time),
            ("return_reason", Kind::Text),
        ],
    ),
    (
        "signoffs",
        &[
            ("request_id", Kind::Text),
            ("assignment_id", Kind::Text),
            ("sub_order_id", Kind::Text),
            ("unit_code", Kind::Text),
            ("outcome", Kind::Text),
            ("to_requester", Kind::Text),
            ("to_center", Kind::Text),
            ("submitted_by", Kind::Text),
            ("submitted_at", Kind::Time),
            ("status", Kind::Text),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("reason", Kind::Text),
        ],
    ),
    (
        "sub_extensions",
        &[
            ("request_id", Kind::Text),
            ("sub_order_id", Kind::Text),
            ("unit_code", Kind::Text),
            ("from_unit_code", Kind::Text),
            ("old_reply_by", Kind::Time),
            ("asked_reply_by", Kind::Time),
            ("reason", Kind::Text),
            ("status", Kind::Text),
            ("requested_by", Kind::Text),
            ("requested_at", Kind::Time),
            ("decided_by", Kind::Text),
            ("decided_at", Kind::Time),
            ("new_reply_by", Kind::Time),
            ("decision_reason", Kind::Text),
        ],
    ),
    (
        "whistle_reports",
        &[
            ("task_id", Kind::Text),
            ("whistle_unit", Kind::Text),
            ("unit_code", Kind::Text),
            ("report_hours", Kind::Int),
            ("report_by", Kind::Time),
            ("reported_at", Kind::Time),
            ("reported_by", Kind::Text),
            ("person_in_charge", Kind::Text),
            ("person_contact", Kind::Text),
            ("late_marked_at", Kind::Time),
            ("created_at", Kind::Time),
        ],
    ),
];

/// The column that keys a table's rows: a whistle report is its summoned unit's order.
fn key_of(table: &str) -> &'static str {
    match table {
        "whistle_reports" => "assignment_id",
        _ => "id",
    }
}

/// The fields replay checks, per table (for the report).
pub fn checked_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    TABLES
        .iter()
        .map(|(t, cols)| (*t, cols.iter().map(|c| c.0).collect()))
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Int,
    Time,
}

/// The expected rows of one table: id → field → value.
type Rows = BTreeMap<String, BTreeMap<&'static str, V>>;

/// The state the events describe.
#[derive(Default)]
struct Replayed {
    requests: Rows,
    assignments: Rows,
    extensions: Rows,
    callbacks: Rows,
    return_reviews: Rows,
    appeals: Rows,
    reply_reviews: Rows,
    sub_orders: Rows,
    signoffs: Rows,
    sub_extensions: Rows,
    whistle_reports: Rows,
    /// Rows the events change but never create (named once each).
    orphans: BTreeSet<(&'static str, String)>,
}

/// One event, as replay reads it.
struct Ev {
    request_id: Option<String>,
    assignment_id: Option<String>,
    actor_id: String,
    action: String,
    after: Option<String>,
    payload: serde_json::Value,
    at: i64,
}

impl Ev {
    fn text(&self, key: &str) -> Option<V> {
        self.payload
            .get(key)
            .map(|v| V::Text(v.as_str().map(str::to_string)))
    }
    fn int(&self, key: &str) -> Option<V> {
        self.payload
            .get(key)
            .map(|v| V::Int(v.as_i64().or_else(|| v.as_bool().map(i64::from))))
    }
    /// A time the payload carries (RFC 3339, as chrono serialises it, or ms).
    fn time(&self, key: &str) -> Option<V> {
        self.payload.get(key).map(|v| {
            V::Time(v.as_i64().or_else(|| {
                v.as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp_millis())
            }))
        })
    }
    fn after(&self) -> V {
        V::Text(self.after.clone())
    }
    fn at(&self) -> V {
        V::Time(Some(self.at))
    }
    fn actor(&self) -> V {
        V::Text(Some(self.actor_id.clone()))
    }
}

fn text(s: &str) -> V {
    V::Text(Some(s.to_string()))
}

/// Sets `field` where `value` is known, else forgets it (an older event that does not carry
/// it: the field is then not checked).
fn put(row: &mut BTreeMap<&'static str, V>, field: &'static str, value: Option<V>) {
    match value {
        Some(v) => {
            row.insert(field, v);
        }
        None => {
            row.remove(field);
        }
    }
}

/// A row of a review-like table (a return review, an appeal) as the event that opens it says:
/// its order and request, `status`, who opened it and when (`by_at` columns), not decided yet.
fn opened(e: &Ev, status: &str, by_at: (&'static str, &'static str)) -> BTreeMap<&'static str, V> {
    let mut r = BTreeMap::new();
    r.insert("assignment_id", V::Text(e.assignment_id.clone()));
    r.insert("request_id", V::Text(e.request_id.clone()));
    r.insert("status", text(status));
    r.insert(by_at.0, e.actor());
    r.insert(by_at.1, e.at());
    r.insert("decided_by", V::Text(None));
    r.insert("decided_at", V::Time(None));
    r.insert("decision_reason", V::Text(None));
    r
}

/// The decision on such a row: its new `status`, the decider, the time and the reason.
fn decided(r: &mut BTreeMap<&'static str, V>, e: &Ev, status: &str) {
    r.insert("status", text(status));
    r.insert("decided_by", e.actor());
    r.insert("decided_at", e.at());
    put(r, "decision_reason", e.text("reason"));
}

impl Replayed {
    fn row<'a>(
        rows: &'a mut Rows,
        orphans: &mut BTreeSet<(&'static str, String)>,
        table: &'static str,
        id: Option<&str>,
    ) -> Option<&'a mut BTreeMap<&'static str, V>> {
        let id = id?;
        if !rows.contains_key(id) {
            orphans.insert((table, id.to_string()));
            return None;
        }
        rows.get_mut(id)
    }

    /// Applies one event: what each action sets.
    fn apply(&mut self, e: &Ev) {
        let rid = e.request_id.as_deref();
        let aid = e.assignment_id.as_deref();
        let payload_id = |k: &str| {
            e.payload
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match e.action.as_str() {
            "request.created" => {
                let Some(id) = rid else { return };
                let mut r = BTreeMap::new();
                r.insert("status", e.after());
                put(&mut r, "number", e.text("number"));
                put(&mut r, "kind", e.text("kind"));
                put(&mut r, "channel", e.text("channel"));
                put(&mut r, "category_code", e.text("category_code"));
                put(&mut r, "time_limit_class", e.text("time_limit_class"));
                put(&mut r, "confidential", e.int("confidential"));
                r.insert("round", V::Int(Some(1)));
                r.insert("primary_id", V::Text(None));
                r.insert("callback_attempts", V::Int(Some(0)));
                r.insert("callback_done", V::Int(Some(0)));
                r.insert("answer", V::Text(None));
                r.insert("close_reason", V::Text(None));
                r.insert("created_by", e.actor());
                r.insert("created_at", e.at());
                r.insert("closed_at", V::Time(None));
                r.insert("redacted_at", V::Time(None));
                // An Open311 requester may give no phone (services::open311): not checked.
                if e.payload.get("channel").and_then(|c| c.as_str()) != Some("open311") {
                    r.insert("requester_phone", V::Present);
                }
                self.requests.insert(id.to_string(), r);
            }
            "request.status"
            | "request.answered"
            | "request.merged"
            | "callback.closed"
            | "callback.recorded"
            | "callback.unreachable"
            | "callback.rework"
            | "privacy.redacted" => {
                let Some(r) = Self::row(&mut self.requests, &mut self.orphans, "requests", rid)
                else {
                    return;
                };
                match e.action.as_str() {
                    "request.status" => {
                        r.insert("status", e.after());
                    }
                    "request.answered" => {
                        r.insert("status", e.after());
                        put(r, "answer", e.text("answer"));
                        r.insert("closed_at", e.at());
                    }
                    "request.merged" => {
                        r.insert("status", e.after());
                        put(r, "primary_id", e.text("into"));
                    }
                    "privacy.redacted" => {
                        r.insert("redacted_at", e.at());
                        put(r, "requester_name", e.text("requester_name"));
                        put(r, "requester_phone", e.text("requester_phone"));
                    }
                    action => {
                        // Every callback attempt that did not reach the requester counts.
                        if e.payload.get("reached").and_then(|v| v.as_bool()) == Some(false) {
                            if let Some(V::Int(Some(n))) = r.get("callback_attempts").cloned() {
                                r.insert("callback_attempts", V::Int(Some(n + 1)));
                            }
                        }
                        match action {
                            "callback.recorded" => {
                                r.insert("callback_done", V::Int(Some(1)));
                            }
                            "callback.closed" => {
                                r.insert("status", e.after());
                                r.insert("callback_done", V::Int(Some(1)));
                                r.insert("closed_at", e.at());
                                let reason = match e.payload.get("outcome").and_then(|v| v.as_str())
                                {
                                    Some("closed") => Some(text("resolved")),
                                    Some(_) => Some(text("unreachable")),
                                    None => None,
                                };
                                put(r, "close_reason", reason);
                            }
                            "callback.rework" => {
                                if let Some(V::Int(Some(n))) = r.get("round").cloned() {
                                    r.insert("round", V::Int(Some(n + 1)));
                                }
                                r.insert("callback_attempts", V::Int(Some(0)));
                            }
                            _ => {}
                        }
                    }
                }
                if e.action.starts_with("callback.") {
                    self.callback(e, payload_id("callback_id"));
                }
            }
            "assignment.dispatched" => {
                if let Some(r) = Self::row(&mut self.requests, &mut self.orphans, "requests", rid) {
                    put(r, "time_limit_class", e.text("time_limit_class"));
                }
                let (Some(id), Some(request)) = (aid, rid) else {
                    return;
                };
                let mut a = BTreeMap::new();
                a.insert("request_id", text(request));
                put(&mut a, "unit_code", e.text("unit_code"));
                put(&mut a, "role", e.text("role"));
                put(&mut a, "round", e.int("round"));
                a.insert("status", e.after());
                put(&mut a, "time_limit_class", e.text("time_limit_class"));
                a.insert("dispatched_at", e.at());
                a.insert("dispatched_by", e.actor());
                put(&mut a, "acknowledge_by", e.time("acknowledge_by"));
                put(&mut a, "reply_by", e.time("reply_by"));
                put(&mut a, "reply_warn_at", e.time("reply_warn_at"));
                for f in [
                    "acknowledged_at",
                    "replied_at",
                    "returned_at",
                    "ack_overdue_at",
                    "reply_warned_at",
                    "reply_overdue_at",
                ] {
                    a.insert(f, V::Time(None));
                }
                for f in [
                    "return_reason",
                    "outcome",
                    "reply_to_requester",
                    "reply_to_center",
                ] {
                    a.insert(f, V::Text(None));
                }
                self.assignments.insert(id.to_string(), a);
            }
            "assignment.acknowledged"
            | "assignment.returned"
            | "assignment.return_requested"
            | "assignment.return_accepted"
            | "assignment.return_rejected"
            | "assignment.replied"
            | "assignment.reply_sent_back"
            | "extension.requested"
            | "extension.approved"
            | "extension.refused"
            | "assignment.ack_overdue"
            | "assignment.reply_warning"
            | "assignment.reply_overdue" => {
                if let Some(a) =
                    Self::row(&mut self.assignments, &mut self.orphans, "assignments", aid)
                {
                    match e.action.as_str() {
                        "assignment.acknowledged" => {
                            a.insert("status", e.after());
                            a.insert("acknowledged_at", e.at());
                        }
                        // Before 退单审核 a return took effect at once.
                        "assignment.returned" => {
                            a.insert("status", e.after());
                            a.insert("returned_at", e.at());
                            put(a, "return_reason", e.text("reason"));
                        }
                        "assignment.return_accepted" => {
                            a.insert("status", e.after());
                            a.insert("returned_at", e.at());
                            put(a, "return_reason", e.text("return_reason"));
                        }
                        // A return asked for or rejected: the order stays as it was.
                        "assignment.return_requested" | "assignment.return_rejected" => {
                            a.insert("status", e.after());
                        }
                        "assignment.replied" => {
                            a.insert("status", e.after());
                            a.insert("replied_at", e.at());
                            put(a, "outcome", e.text("outcome"));
                            put(a, "reply_to_requester", e.text("to_requester"));
                            put(a, "reply_to_center", e.text("to_center"));
                        }
                        // 办结审核 sent the reply back: the order is handled again.
                        "assignment.reply_sent_back" => {
                            a.insert("status", e.after());
                            a.insert("replied_at", V::Time(None));
                            for f in ["outcome", "reply_to_requester", "reply_to_center"] {
                                a.insert(f, V::Text(None));
                            }
                        }
                        // A unit's request for time: the order's status as the unit action
                        // left it.
                        "extension.requested" => {
                            a.insert("status", e.after());
                        }
                        "extension.approved" => {
                            put(a, "reply_by", e.time("reply_by"));
                            put(a, "reply_warn_at", e.time("reply_warn_at"));
                            a.insert("reply_warned_at", V::Time(None));
                            a.insert("reply_overdue_at", V::Time(None));
                        }
                        // The sweep's time, which newer events carry; else the event's.
                        "assignment.ack_overdue" => {
                            a.insert("ack_overdue_at", e.time("marked_at").unwrap_or(e.at()));
                        }
                        "assignment.reply_warning" => {
                            a.insert("reply_warned_at", e.time("marked_at").unwrap_or(e.at()));
                        }
                        "assignment.reply_overdue" => {
                            a.insert("reply_overdue_at", e.time("marked_at").unwrap_or(e.at()));
                        }
                        _ => {}
                    }
                }
                if e.action.starts_with("extension.") {
                    self.extension(e, payload_id("extension_id"));
                }
                if e.action.starts_with("assignment.return_") {
                    self.return_review(e, payload_id("review_id"));
                }
                if e.action == "assignment.reply_sent_back" {
                    self.reply_review(e, payload_id("review_id"));
                }
            }
            "reply_review.requested" | "reply_review.approved" => {
                self.reply_review(e, payload_id("review_id"));
            }
            a if a.starts_with("sub_order.") => {
                self.sub_order(e, payload_id("sub_order_id"));
                self.signoff(e, payload_id("signoff_id"));
            }
            a if a.starts_with("signoff.") => self.signoff(e, payload_id("signoff_id")),
            a if a.starts_with("sub_extension.") => {
                self.sub_extension(e, payload_id("extension_id"));
                if a == "sub_extension.approved" {
                    let sid = payload_id("sub_order_id");
                    if let Some(r) = Self::row(
                        &mut self.sub_orders,
                        &mut self.orphans,
                        "sub_orders",
                        sid.as_deref(),
                    ) {
                        put(r, "reply_by", e.time("reply_by"));
                        put(r, "overdue_at", e.time("overdue_at"));
                    }
                }
            }
            "whistle.blown" | "whistle.reported" | "whistle.report_overdue" => self.whistle(e),
            "appeal.filed" | "appeal.granted" | "appeal.refused" => {
                self.appeal(e, payload_id("appeal_id"));
            }
            _ => {}
        }
    }

    fn extension(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "extension.requested" {
            let mut x = BTreeMap::new();
            x.insert("assignment_id", V::Text(e.assignment_id.clone()));
            x.insert("request_id", V::Text(e.request_id.clone()));
            put(&mut x, "hours", e.int("hours"));
            put(&mut x, "reason", e.text("reason"));
            x.insert("status", text("pending"));
            x.insert("requested_by", e.actor());
            x.insert("requested_at", e.at());
            put(&mut x, "old_reply_by", e.time("old_reply_by"));
            x.insert("decided_by", V::Text(None));
            x.insert("decided_at", V::Time(None));
            x.insert("new_reply_by", V::Time(None));
            self.extensions.insert(id, x);
            return;
        }
        let Some(x) = Self::row(
            &mut self.extensions,
            &mut self.orphans,
            "extensions",
            Some(&id),
        ) else {
            return;
        };
        x.insert("status", e.after());
        x.insert("decided_by", e.actor());
        x.insert("decided_at", e.at());
        let new = if e.action == "extension.approved" {
            e.time("reply_by")
        } else {
            Some(V::Time(None))
        };
        put(x, "new_reply_by", new);
    }

    /// 退单审核: a return asked for (a pending review), then accepted or rejected.
    fn return_review(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "assignment.return_requested" {
            let mut r = opened(e, "pending", ("requested_by", "requested_at"));
            put(&mut r, "unit_code", e.text("unit_code"));
            put(&mut r, "reason", e.text("reason"));
            self.return_reviews.insert(id, r);
            return;
        }
        let status = if e.action == "assignment.return_accepted" {
            "accepted"
        } else {
            "rejected"
        };
        if let Some(r) = Self::row(
            &mut self.return_reviews,
            &mut self.orphans,
            "return_reviews",
            Some(&id),
        ) {
            decided(r, e, status);
        }
    }

    /// 考核申诉: an appeal filed, then granted or refused.
    fn appeal(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "appeal.filed" {
            let mut p = opened(e, "open", ("filed_by", "filed_at"));
            for f in ["part", "month", "reason", "evidence"] {
                put(&mut p, f, e.text(f));
            }
            self.appeals.insert(id, p);
            return;
        }
        let status = if e.action == "appeal.granted" {
            "granted"
        } else {
            "refused"
        };
        if let Some(p) = Self::row(&mut self.appeals, &mut self.orphans, "appeals", Some(&id)) {
            decided(p, e, status);
        }
    }

    fn callback(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        let mut c = BTreeMap::new();
        c.insert("request_id", V::Text(e.request_id.clone()));
        put(&mut c, "round", e.int("round"));
        put(&mut c, "reached", e.int("reached"));
        put(&mut c, "resolved", e.int("resolved"));
        put(&mut c, "satisfaction", e.text("satisfaction"));
        put(&mut c, "note", e.text("note"));
        put(&mut c, "outcome", e.text("outcome"));
        c.insert("agent_id", e.actor());
        c.insert("at", e.at());
        self.callbacks.insert(id, c);
    }
}

/// Events read per round.
const PAGE: i64 = 5_000;

/// Replays every event and compares the eleven tables with the result; returns each
/// disagreement, in table and row order.
pub async fn compare(pool: &AnyPool) -> Result<Vec<Mismatch>, StoreError> {
    let mut replayed = Replayed::default();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, request_id, assignment_id, actor_id, action, after_state, payload, at \
             FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        for r in &rows {
            after = r.try_get("seq")?;
            let payload: String = r.try_get("payload")?;
            let e = Ev {
                request_id: r.try_get("request_id")?,
                assignment_id: r.try_get("assignment_id")?,
                actor_id: r.try_get("actor_id")?,
                action: r.try_get("action")?,
                after: r.try_get("after_state")?,
                payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                at: r.try_get("at")?,
            };
            replayed.apply(&e);
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    let mut out = Vec::new();
    for (table, id) in &replayed.orphans {
        out.push(Mismatch {
            table,
            row: id.clone(),
            field: "(row)".into(),
            events: "it is changed but never created".into(),
            stored: "-".into(),
        });
    }
    let Replayed {
        requests,
        assignments,
        extensions,
        callbacks,
        return_reviews,
        appeals,
        reply_reviews,
        sub_orders,
        signoffs,
        sub_extensions,
        whistle_reports,
        ..
    } = replayed;
    for ((table, columns), expected) in TABLES.iter().zip([
        requests,
        assignments,
        extensions,
        callbacks,
        return_reviews,
        appeals,
        reply_reviews,
        sub_orders,
        signoffs,
        sub_extensions,
        whistle_reports,
    ]) {
        compare_table(pool, table, columns, expected, &mut out).await?;
    }
    Ok(out)
}

async fn compare_table(
    pool: &AnyPool,
    table: &'static str,
    columns: &[(&'static str, Kind)],
    mut expected: Rows,
    out: &mut Vec<Mismatch>,
) -> Result<(), StoreError> {
    let list: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let key = key_of(table);
    let mut last = String::new();
    loop {
        let sql = format!(
            "SELECT {key} AS id, {} FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT $2",
            list.join(", ")
        );
        let rows = sqlx::query(&sql)
            .bind(&last)
            .bind(PAGE)
            .fetch_all(pool)
            .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            last = id.clone();
            let Some(want) = expected.remove(&id) else {
                out.push(Mismatch {
                    table,
                    row: id,
                    field: "(row)".into(),
                    events: "no such row (no event created it)".into(),
                    stored: "a row".into(),
                });
                continue;
            };
            for (col, kind) in columns {
                let Some(w) = want.get(col) else { continue };
                let got = match kind {
                    Kind::Text => V::Text(r.try_get(*col)?),
                    Kind::Int => V::Int(r.try_get(*col)?),
                    Kind::Time => V::Time(r.try_get(*col)?),
                };
                if !w.accepts(&got) {
                    out.push(Mismatch {
                        table,
                        row: id.clone(),
                        field: col.to_string(),
                        events: w.show(),
                        stored: got.show(),
                    });
                }
            }
        }
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    for id in expected.into_keys() {
        out.push(Mismatch {
            table,
            row: id,
            field: "(row)".into(),
            events: "a row".into(),
            stored: "no such row".into(),
        });
    }
    Ok(())
}
