//! User stories, each run on SQLite and PostgreSQL (the macro in `main.rs` names them from
//! here), one file per feature; `cast` holds the staff and moves they share.

mod access;
mod api_contract;
mod appeals;
mod audit;
mod calendar;
mod callbacks;
mod cast;
mod community;
mod conventions;
mod dispatch;
mod durability;
mod input;
mod intake;
mod knowledge;
mod lifecycle;
mod logins;
mod metrics;
mod open311;
mod outbox;
mod public_edge;
mod ranking;
mod reply_reviews;
mod returns;
mod rollups;
mod simulator;
mod visibility;
mod whistles;

pub use access::*;
pub use api_contract::*;
pub use appeals::*;
pub use audit::*;
pub use calendar::*;
pub use callbacks::*;
pub use community::*;
pub use conventions::*;
pub use dispatch::*;
pub use durability::*;
pub use input::*;
pub use intake::*;
pub use knowledge::*;
pub use lifecycle::*;
pub use logins::*;
pub use metrics::*;
pub use open311::*;
pub use outbox::*;
pub use public_edge::*;
pub use ranking::*;
pub use reply_reviews::*;
pub use returns::*;
pub use rollups::*;
pub use simulator::*;
pub use visibility::*;
pub use whistles::*;
// Proactive work (issue #7) has its own file; the macro in main.rs looks here.
pub use crate::proactive::*;
