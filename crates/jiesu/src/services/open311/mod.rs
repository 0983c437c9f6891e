//! Open311 GeoReport v2 (the interchange standard for citizen requests): client keys
//! (`keys`), the services offered (public, non-enterprise leaf categories, with a per-category
//! offer an administrator can change) and their definitions, and requests (`requests`):
//! created through the same intake as an operator's, listed publicly without any requester's
//! name, phone, email or confidential request. Rendering (XML, JSON) is the web edge's.

pub mod keys;
pub mod requests;

use super::AppState;
use crate::error::AppError;
use crate::messages::Lang;
use crate::store::{open311 as store, reference};
use std::collections::{HashMap, HashSet};

/// One service (a category offered to Open311 clients).
#[derive(Debug, Clone)]
pub struct Service {
    /// `service_code`: the category code.
    pub code: String,
    /// The category's name.
    pub name: String,
    /// Its place in the taxonomy (top / middle / leaf names).
    pub description: String,
    /// The category's keywords, comma-separated.
    pub keywords: String,
    /// The top-level category's name.
    pub group: String,
}

/// One attribute of a service definition.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// `code`.
    pub code: &'static str,
    /// `string`, `singlevaluelist`, ...
    pub datatype: &'static str,
    /// Whether a request must give it.
    pub required: bool,
    /// What it is for.
    pub description: String,
    /// From 1.
    pub order: i64,
    /// (key, name) for lists.
    pub values: Vec<(String, String)>,
}

/// Whether a category is offered when no administrator changed it: a leaf of the taxonomy
/// that is not an enterprise category (`qyfw.`, those go through the enterprise portal).
fn offered_by_default(code: &str, parents: &HashSet<String>) -> bool {
    !code.starts_with("qyfw") && !parents.contains(code)
}

/// The services offered, by code.
pub async fn services(state: &AppState, lang: Lang) -> Result<Vec<Service>, AppError> {
    let pool = state.store.reader();
    let cats = reference::categories(pool).await?;
    let keywords: HashMap<String, String> = reference::category_keywords(pool)
        .await?
        .into_iter()
        .map(|(code, _, k)| (code, k))
        .collect();
    let flags: HashMap<String, bool> = store::service_flags(pool).await?.into_iter().collect();
    let parents: HashSet<String> = cats.iter().filter_map(|c| c.parent_code.clone()).collect();
    let by_code: HashMap<&str, &reference::Category> =
        cats.iter().map(|c| (c.code.as_str(), c)).collect();
    let name = |c: &reference::Category| lang.pick(&c.name, &c.name_en).to_string();
    let mut out = Vec::new();
    // An inactive category takes no new requests: it is not offered.
    for c in cats.iter().filter(|c| c.active) {
        let offered = flags
            .get(&c.code)
            .copied()
            .unwrap_or_else(|| offered_by_default(&c.code, &parents));
        if !offered || parents.contains(&c.code) {
            continue;
        }
        let mut path = vec![name(c)];
        let mut cur = c;
        while let Some(p) = cur.parent_code.as_deref().and_then(|p| by_code.get(p)) {
            path.insert(0, name(p));
            cur = p;
        }
        out.push(Service {
            code: c.code.clone(),
            name: name(c),
            description: path.join(" / "),
            keywords: keywords
                .get(&c.code)
                .map(|k| {
                    k.split('|')
                        .filter(|w| !w.is_empty())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default(),
            group: path.first().cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The service with this code, if offered.
pub async fn service(state: &AppState, code: &str, lang: Lang) -> Result<Service, AppError> {
    services(state, lang)
        .await?
        .into_iter()
        .find(|s| s.code == code)
        .ok_or(AppError::NotFound("service"))
}

/// The attributes every service takes (the same intake fields for every category).
pub fn attributes(lang: Lang) -> Vec<Attribute> {
    let t = |key: &str| {
        let (zh, en) = crate::messages::pair(key, &[]);
        lang.pick(&zh, &en).to_string()
    };
    let kinds = jiesu_core::RequestKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), t(&format!("kind.{}", k.as_str()))))
        .collect();
    vec![
        Attribute {
            code: "kind",
            datatype: "singlevaluelist",
            required: false,
            description: t("open311.attr.kind"),
            order: 1,
            values: kinds,
        },
        Attribute {
            code: "confidential",
            datatype: "singlevaluelist",
            required: false,
            description: t("open311.attr.confidential"),
            order: 2,
            values: vec![
                ("false".into(), t("open311.attr.no")),
                ("true".into(), t("open311.attr.yes")),
            ],
        },
        Attribute {
            code: "title",
            datatype: "string",
            required: false,
            description: t("open311.attr.title"),
            order: 3,
            values: Vec::new(),
        },
    ]
}

/// Offers (`Some(true)`), withdraws (`Some(false)`) or resets (`None`) a category as an
/// Open311 service, with an event naming who did it.
pub async fn set_offer(
    state: &AppState,
    by: &str,
    code: &str,
    offered: Option<bool>,
) -> Result<(), AppError> {
    let cats = reference::categories(state.store.reader()).await?;
    if !cats.iter().any(|c| c.code == code) {
        return Err(AppError::invalid("code", "err.no_such_category"));
    }
    let mut tx = state.store.begin().await?;
    store::set_service_flag(&mut tx, code, offered, state.clock.now()).await?;
    tx.event(state.audit_event(
        by,
        "admin",
        "open311.service_changed",
        serde_json::json!({ "category_code": code, "offered": offered }),
    ));
    tx.commit().await?;
    Ok(())
}
