//! The use cases, one module each; every write use case owns its transaction, asks
//! `jiesu_core` whether the change is allowed, and records the events of what it changed.

pub mod accounts;
pub mod alerts;
pub mod appeals;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod callback;
pub mod callers;
pub mod catalogue;
pub mod categories;
pub mod city;
pub mod community;
pub mod directory;
pub mod export;
pub mod gauges;
pub mod handling;
pub mod hotspots;
pub mod imports;
pub mod intake;
pub mod kb;
pub mod kb_import;
pub mod kb_search;
pub mod kpi;
pub mod learned;
pub mod learning;
pub mod limits;
pub mod maps;
pub mod models;
pub mod open311;
pub mod portal;
pub mod privacy;
pub mod queues;
pub mod reply_reviews;
pub mod report;
pub mod returns;
pub mod search;
pub mod sms;
pub mod sms_changes;
pub mod sms_followups;
pub mod sms_texts;
pub mod sms_units;
pub mod subwork;
pub mod subwork_hooks;
pub mod subwork_lists;
pub mod subwork_time;
pub mod suggest;
pub mod supervision;
pub mod tables;
pub mod tasks;
pub mod topics;
pub mod unit_quiet;
pub mod unit_schedule;
pub mod units;
pub mod user_import;
pub mod views;
pub mod whistles;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::AppError;
use crate::store::outbox::Sender;
use crate::store::{requests, NewEvent, Store, Tx};
use jiesu_core::Actor;
use std::sync::Arc;

pub use crate::store::standby::Staleness;

/// Everything a request handler or job needs.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Configuration.
    pub config: Arc<Config>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Delivers outbox messages.
    pub sender: Arc<dyn Sender>,
    /// The text models (classifier, gazetteer, keywords, duplicate index) and caches.
    pub models: Arc<models::Models>,
    /// The live hotspot index (热点), fed at intake.
    pub hotspots: Arc<hotspots::live::Live>,
    /// The full-text index, opened by the server and `jiesu reindex` only (one writer per
    /// data folder).
    pub search: Option<Arc<search::SearchIndex>>,
    /// Serialises index catch-ups.
    pub search_lock: Arc<tokio::sync::Mutex<()>>,
    /// Live sessions seen in the last seconds, so a bearer token is not looked up per call.
    pub sessions: Arc<auth::SessionCache>,
    /// The bound on password checks and the anonymous CSRF key (issue 16).
    pub logins: Arc<auth::LoginGate>,
}

impl AppState {
    /// The state for a report (ranking, dashboard, maps): reading from the standby when one
    /// is configured and answering (issue 21), with its lag; else this state.
    pub fn for_reports(&self) -> (AppState, Option<Staleness>) {
        let (store, staleness) = self.store.for_reports();
        (
            AppState {
                store,
                ..self.clone()
            },
            staleness,
        )
    }

    /// An event by `actor` on a request, stamped now.
    pub fn event(
        &self,
        actor: &Actor,
        request_id: &str,
        assignment_id: Option<&str>,
        action: &str,
    ) -> EventBuilder {
        EventBuilder(NewEvent {
            jurisdiction: self.config.jurisdiction.clone(),
            request_id: Some(request_id.to_string()),
            assignment_id: assignment_id.map(str::to_string),
            actor_id: actor.user_id.clone(),
            actor_role: actor.role.as_str().to_string(),
            action: action.to_string(),
            before: None,
            after: None,
            payload: serde_json::json!({}),
            at: self.clock.now(),
        })
    }

    /// An event not about one request (users, knowledge base, catalogue), stamped now.
    pub fn audit_event(
        &self,
        actor_id: &str,
        actor_role: &str,
        action: &str,
        payload: serde_json::Value,
    ) -> NewEvent {
        NewEvent {
            jurisdiction: self.config.jurisdiction.clone(),
            request_id: None,
            assignment_id: None,
            actor_id: actor_id.to_string(),
            actor_role: actor_role.to_string(),
            action: action.to_string(),
            before: None,
            after: None,
            payload,
            at: self.clock.now(),
        }
    }

    /// Starts a write transaction and locks the request, or 404.
    pub(crate) async fn lock_request(
        &self,
        id: &str,
    ) -> Result<(Tx, requests::RequestRow), AppError> {
        let mut tx = self.store.begin().await?;
        let row = requests::lock(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound("request"))?;
        Ok((tx, row))
    }
}

/// Whether `key` may be a client's key for a request (`Idempotency-Key`, and the desk's call
/// key its verdicts carry): 1–255 visible ASCII characters.
pub(crate) fn is_client_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
}

/// Refuses an actor whose role may not do `action`, before anything is read: a refusal must
/// not depend on whether the id named exists (unit staff would learn which numbers exist).
pub(crate) fn require(
    actor: &jiesu_core::Actor,
    action: jiesu_core::access::Action,
) -> Result<(), AppError> {
    if actor.may(action) {
        Ok(())
    } else {
        Err(AppError::Forbidden("your role may not do this"))
    }
}

/// Builds an event before it is handed to a transaction.
pub struct EventBuilder(NewEvent);

impl EventBuilder {
    /// Sets the status change.
    pub fn change(mut self, before: &str, after: &str) -> Self {
        self.0.before = Some(before.to_string());
        self.0.after = Some(after.to_string());
        self
    }

    /// Stamps it at `at` instead of now: the time of the row it records, where the write
    /// may wait (a new request queued for its batch through a failover).
    pub fn at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.0.at = at;
        self
    }

    /// Sets the details.
    pub fn payload(mut self, payload: serde_json::Value) -> Self {
        self.0.payload = payload;
        self
    }

    /// Hands the event to the transaction.
    pub fn record(self, tx: &mut Tx) {
        tx.event(self.0);
    }

    /// The event, to append with a write outside a [`Tx`] (see `requests::create`).
    pub fn build(self) -> NewEvent {
        self.0
    }
}
