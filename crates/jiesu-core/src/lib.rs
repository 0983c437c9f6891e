//! Jiesu's domain: the types and rules of 接诉即办, with no I/O and no async.
//! Validated values (`values`), requests and their kinds (`request`), the assignment and
//! request state machines (`workflow`), time limits and calendars (`time_limit`) and the
//! permission rules (`access`), the knowledge base's workflow (`kb`), WGS-84/GCJ-02/BD-09 coordinates (`geo`) and district boundaries (`boundary`), dates taken from input, bounded (`dates`), and the KPIs: rates, rankings, months and tallies rolled up
//! the unit tree (`kpi`). The application crate owns storage, HTTP and clocks.

pub mod access;
pub mod boundary;
pub mod dates;
pub mod dispatch;
pub mod geo;
pub mod kb;
pub mod kpi;
pub mod query_code;
pub mod request;
pub mod subwork;
pub mod time_limit;
pub mod values;
pub mod workflow;

pub use access::{Actor, Role};
pub use query_code::QueryCode;
pub use request::{CallbackInput, Channel, RequestKind, RequestStatus, Satisfaction, TaskOrigin};
pub use values::{CreditCode, PhoneNumber, UnitCode, ValueError};
