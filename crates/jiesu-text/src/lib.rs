//! Jiesu Chinese text intelligence: the request-category classifier (`classify`), place
//! resolution against the Beijing gazetteer (`place`), near-duplicates (`dupes`), hotspot
//! mining (`hotspots`), burst detection (`bursts`) and catalogue keyword matching
//! (`keywords`), knowledge-base search by bigrams (`kb_index`), over one shared text normaliser; and the seeded generator and hashes
//! (`seeded`) that they and the app's simulator share.

/// Bursts of requests per place and category (未诉先办).
pub mod bursts;
/// Request-category classifier (see the module documentation).
pub mod classify;
pub mod dupes;
/// Hot problems mined from requests (热点, 举一反三).
pub mod hotspots;
pub mod kb_index;
pub mod keywords;
mod normalize;
pub mod place;
pub mod seeded;
