//! Replay of the tables issue 18 added: reply checks (办结审核), child orders (下派), their
//! sign-offs (签批) and requests for more time, and whistle reports (吹哨报到). What each event
//! sets, as [`super::Replayed::apply`] dispatches it.

use super::{put, text, Ev, Replayed, V};
use std::collections::BTreeMap;

impl Replayed {
    /// 办结审核: a reply held for the center's check, then approved or sent back.
    pub(super) fn reply_review(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "reply_review.requested" {
            let mut r = BTreeMap::new();
            r.insert("assignment_id", V::Text(e.assignment_id.clone()));
            r.insert("request_id", V::Text(e.request_id.clone()));
            put(&mut r, "unit_code", e.text("unit_code"));
            r.insert("status", text("pending"));
            r.insert("replied_at", e.at());
            r.insert("decided_by", V::Text(None));
            r.insert("decided_at", V::Time(None));
            r.insert("reason", V::Text(None));
            self.reply_reviews.insert(id, r);
            return;
        }
        let status = if e.action == "reply_review.approved" {
            "approved"
        } else {
            "sent_back"
        };
        if let Some(r) = Self::row(
            &mut self.reply_reviews,
            &mut self.orphans,
            "reply_reviews",
            Some(&id),
        ) {
            r.insert("status", text(status));
            r.insert("decided_by", e.actor());
            r.insert("decided_at", e.at());
            put(r, "reason", e.text("reason"));
        }
    }

    /// 下派: a child order passed down, then acknowledged, replied, signed off or sent back,
    /// withdrawn, returned, marked overdue.
    pub(super) fn sub_order(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "sub_order.passed_down" {
            let mut r = BTreeMap::new();
            r.insert("request_id", V::Text(e.request_id.clone()));
            r.insert("assignment_id", V::Text(e.assignment_id.clone()));
            for f in ["parent_id", "from_unit_code", "unit_code", "note"] {
                put(&mut r, f, e.text(f));
            }
            r.insert("status", e.after());
            r.insert("created_by", e.actor());
            r.insert("created_at", e.at());
            put(&mut r, "acknowledge_by", e.time("acknowledge_by"));
            put(&mut r, "reply_by", e.time("reply_by"));
            for f in ["acknowledged_at", "replied_at", "closed_at", "overdue_at"] {
                r.insert(f, V::Time(None));
            }
            for f in [
                "outcome",
                "reply_to_requester",
                "reply_to_center",
                "return_reason",
            ] {
                r.insert(f, V::Text(None));
            }
            self.sub_orders.insert(id, r);
            return;
        }
        let Some(r) = Self::row(
            &mut self.sub_orders,
            &mut self.orphans,
            "sub_orders",
            Some(&id),
        ) else {
            return;
        };
        match e.action.as_str() {
            "sub_order.acknowledged" => {
                r.insert("status", e.after());
                r.insert("acknowledged_at", e.at());
            }
            "sub_order.replied" => {
                r.insert("status", e.after());
                r.insert("replied_at", e.at());
                put(r, "outcome", e.text("outcome"));
                put(r, "reply_to_requester", e.text("to_requester"));
                put(r, "reply_to_center", e.text("to_center"));
            }
            "sub_order.approved" | "sub_order.withdrawn" => {
                r.insert("status", e.after());
                r.insert("closed_at", e.at());
            }
            "sub_order.sent_back" => {
                r.insert("status", e.after());
                r.insert("closed_at", V::Time(None));
            }
            "sub_order.returned" => {
                r.insert("status", e.after());
                r.insert("closed_at", e.at());
                put(r, "return_reason", e.text("reason"));
            }
            "sub_order.overdue" => {
                r.insert("overdue_at", e.time("marked_at").unwrap_or(e.at()));
            }
            _ => {}
        }
    }

    /// 签批: a reply waiting for the unit above (opened by `sub_order.replied`) or for the
    /// unit's manager (`signoff.requested`), then approved, sent back or withdrawn.
    pub(super) fn signoff(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if matches!(e.action.as_str(), "sub_order.replied" | "signoff.requested") {
            let mut g = BTreeMap::new();
            g.insert("request_id", V::Text(e.request_id.clone()));
            g.insert("assignment_id", V::Text(e.assignment_id.clone()));
            let (unit, sub) = if e.action == "sub_order.replied" {
                (e.text("to_unit_code"), e.text("sub_order_id"))
            } else {
                (e.text("unit_code"), Some(V::Text(None)))
            };
            put(&mut g, "unit_code", unit);
            put(&mut g, "sub_order_id", sub);
            for f in ["outcome", "to_requester", "to_center"] {
                put(&mut g, f, e.text(f));
            }
            g.insert("submitted_by", e.actor());
            g.insert("submitted_at", e.at());
            g.insert("status", text("pending"));
            g.insert("decided_by", V::Text(None));
            g.insert("decided_at", V::Time(None));
            g.insert("reason", V::Text(None));
            self.signoffs.insert(id, g);
            return;
        }
        let status = match e.action.as_str() {
            "sub_order.approved" | "signoff.approved" => "approved",
            "sub_order.sent_back" | "signoff.sent_back" => "sent_back",
            "signoff.withdrawn" => "withdrawn",
            _ => return,
        };
        if let Some(g) = Self::row(&mut self.signoffs, &mut self.orphans, "signoffs", Some(&id)) {
            g.insert("status", text(status));
            g.insert("decided_by", e.actor());
            g.insert("decided_at", e.at());
            if status != "withdrawn" {
                put(g, "reason", e.text("reason"));
            }
        }
    }

    /// A child order's request for more time, then approved, refused or withdrawn.
    pub(super) fn sub_extension(&mut self, e: &Ev, id: Option<String>) {
        let Some(id) = id else { return };
        if e.action == "sub_extension.requested" {
            let mut x = BTreeMap::new();
            x.insert("request_id", V::Text(e.request_id.clone()));
            put(&mut x, "sub_order_id", e.text("sub_order_id"));
            put(&mut x, "unit_code", e.text("unit_code"));
            put(&mut x, "from_unit_code", e.text("to_unit_code"));
            put(&mut x, "old_reply_by", e.time("old_reply_by"));
            put(&mut x, "asked_reply_by", e.time("asked_reply_by"));
            put(&mut x, "reason", e.text("reason"));
            x.insert("status", text("pending"));
            x.insert("requested_by", e.actor());
            x.insert("requested_at", e.at());
            x.insert("decided_by", V::Text(None));
            x.insert("decided_at", V::Time(None));
            x.insert("new_reply_by", V::Time(None));
            x.insert("decision_reason", V::Text(None));
            self.sub_extensions.insert(id, x);
            return;
        }
        let Some(x) = Self::row(
            &mut self.sub_extensions,
            &mut self.orphans,
            "sub_extensions",
            Some(&id),
        ) else {
            return;
        };
        x.insert("status", e.after());
        x.insert("decided_by", e.actor());
        x.insert("decided_at", e.at());
        match e.action.as_str() {
            "sub_extension.approved" => put(x, "new_reply_by", e.time("reply_by")),
            "sub_extension.refused" => put(x, "decision_reason", e.text("reason")),
            _ => {}
        }
    }

    /// 吹哨报到: one report row per summoned unit's order when the whistle is blown, then the
    /// unit's report, or the sweep's late mark.
    pub(super) fn whistle(&mut self, e: &Ev) {
        if e.action == "whistle.blown" {
            let units = e.payload.get("units").and_then(|u| u.as_array());
            for u in units.into_iter().flatten() {
                let Some(aid) = u.get("assignment_id").and_then(|v| v.as_str()) else {
                    continue;
                };
                let mut w = BTreeMap::new();
                w.insert("task_id", V::Text(e.request_id.clone()));
                put(&mut w, "whistle_unit", e.text("whistle_unit"));
                w.insert(
                    "unit_code",
                    V::Text(
                        u.get("unit_code")
                            .and_then(|v| v.as_str())
                            .map(str::to_string),
                    ),
                );
                put(&mut w, "report_hours", e.int("report_within_hours"));
                put(&mut w, "report_by", e.time("report_by"));
                for f in ["reported_at", "late_marked_at"] {
                    w.insert(f, V::Time(None));
                }
                for f in ["reported_by", "person_in_charge", "person_contact"] {
                    w.insert(f, V::Text(None));
                }
                w.insert("created_at", e.at());
                self.whistle_reports.insert(aid.to_string(), w);
            }
            return;
        }
        let Some(w) = Self::row(
            &mut self.whistle_reports,
            &mut self.orphans,
            "whistle_reports",
            e.assignment_id.as_deref(),
        ) else {
            return;
        };
        if e.action == "whistle.reported" {
            w.insert("reported_at", e.at());
            w.insert("reported_by", e.actor());
            put(w, "person_in_charge", e.text("person_in_charge"));
            put(w, "person_contact", e.text("contact"));
        } else {
            w.insert("late_marked_at", e.time("marked_at").unwrap_or(e.at()));
        }
    }
}
