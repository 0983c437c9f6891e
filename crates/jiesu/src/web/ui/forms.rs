//! Form pieces several pages share: the dispatch fields (lead unit, co-handlers, time-limit
//! class) read into a `DispatchInput`, the select of the time-limit classes in force, and a
//! map pin (`lat`, `lon`, `coord_system`).

use super::i18n::Tr;
use super::FormData;
use crate::error::AppError;
use crate::services::handling::{DispatchInput, DispatchTarget};
use crate::services::maps::LocationInput;
use crate::services::{directory, AppState};
use jiesu_core::workflow::AssignmentRole;

/// The time-limit classes in force, with their names in the page's language, for a select.
pub async fn classes(s: &AppState, tr: Tr) -> Result<Vec<(String, String)>, AppError> {
    Ok(directory::limit_classes(s)
        .await?
        .into_iter()
        .map(|c| (c.class, if tr.is_en() { c.name_en } else { c.name_zh }))
        .collect())
}

/// The dispatch chosen in a form: `lead`, `co` (repeated) and `time_limit_class`.
pub fn dispatch_input(f: &FormData) -> Result<DispatchInput, AppError> {
    let lead = f
        .opt("lead")
        .ok_or_else(|| AppError::invalid("lead", "err.forms.choose_a_lead_unit"))?;
    let mut assignments = vec![DispatchTarget {
        unit_code: lead.clone(),
        role: AssignmentRole::Lead,
    }];
    for code in f
        .all("co")
        .iter()
        .flat_map(|c| c.split([',', '，', ' ', '\n']))
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != lead)
    {
        if !assignments.iter().any(|a| a.unit_code == code) {
            assignments.push(DispatchTarget {
                unit_code: code.to_string(),
                role: AssignmentRole::Co,
            });
        }
    }
    Ok(DispatchInput {
        assignments,
        time_limit_class: f.opt("time_limit_class"),
    })
}

/// The map pin of a form (`lat`, `lon`, `coord_system`), if one was set: both empty is none;
/// one without the other, or not a number, is a 422 naming the field.
pub fn location(f: &FormData) -> Result<Option<LocationInput>, AppError> {
    let (lat, lon) = (f.opt("lat"), f.opt("lon"));
    if lat.is_none() && lon.is_none() {
        return Ok(None);
    }
    let num = |field: &str, key: &str, v: Option<String>| {
        v.and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| AppError::invalid(format!("location.{field}"), key))
    };
    Ok(Some(LocationInput {
        lat: num("lat", "err.maps.lat", lat)?,
        lon: num("lon", "err.maps.lon", lon)?,
        coord_system: f.opt("coord_system"),
    }))
}

/// A fresh key for a form that records a request (see `intake::create_once`).
pub fn new_form_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
