//! Jiesu Chinese text intelligence. Today this holds the request-category classifier
//! (`classify`): TF-IDF over jieba words and character n-grams, a one-vs-rest linear SVM
//! and calibrated probabilities. Tokenising helpers, places and duplicate detection will
//! live next to it.

/// Request-category classifier (see the module documentation).
pub mod classify;
pub mod dupes;
pub mod place;
