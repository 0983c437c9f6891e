//! Request-category classifier for 12345 hotline messages: reading labelled CSV data,
//! training (TF-IDF over jieba words + character 1-3-grams + title character 1-2-grams,
//! one-vs-rest linear SVM, temperature-calibrated softmax), prediction with explanations,
//! evaluation and cross-validation, and the on-disk model folder.
//!
//! ```no_run
//! use jiesu_text::classify::{read_csv, train, TrainOptions};
//! let examples = read_csv("classify_train.csv".as_ref())?;
//! let model = train(&examples, &TrainOptions::default())?;
//! for p in model.predict("小区物业无故停水三天") {
//!     println!("{} {:.2} {:?}", p.label, p.score, p.terms);
//! }
//! # Ok::<(), jiesu_text::classify::ClassifyError>(())
//! ```

mod calibrate;
mod cv;
mod eval;
mod features;
mod io;
mod model;
mod nested;
mod options;
mod reliability;
mod svm;
mod term_index;
mod vocab;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use cv::{cross_validate, cross_validate_plan, group_folds, CvPlan, CvReport};
pub use eval::{evaluate, Evaluation, LabelScores};
pub use features::{FeatureOptions, MAX_CHARS};
pub use io::FORMAT_VERSION;
pub use model::{train, train_semi, Model, ModelMetrics};
pub use nested::{nested_cross_validate, NestedReport};
pub use options::{SelfTraining, TrainOptions};
pub use reliability::{ece, reliability, threshold_for, ReliabilityBin, BINS};
pub use svm::{SvmLoss, SvmOptions};

/// Everything that can go wrong reading data, training, saving or loading.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV row is malformed.
    #[error("{path}: line {line}, column {column}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number where the record starts.
        line: u64,
        /// Column name (or `-` when the problem is the whole row).
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The training examples cannot produce a model.
    #[error("cannot train: {0}")]
    BadTrainingData(String),
    /// The options are out of range.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// A model folder is missing files, corrupt, of another format version, or its files
    /// do not belong together.
    #[error("model {path}: {message}")]
    BadModel {
        /// The offending file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingExample {
    /// Source identifier (free text, only used in messages).
    pub id: String,
    /// The message: title and body.
    pub text: String,
    /// Gold category.
    pub label: String,
}

/// One ranked category from [`Model::predict`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Category.
    pub label: String,
    /// Calibrated probability in `[0, 1]`; the scores of all labels sum to 1.
    pub score: f64,
    /// Up to five distinct features of at least two characters (jieba words, character
    /// n-grams of the text or of its title) among the twenty with the largest positive
    /// contribution to this label's decision value, strongest first. Empty when nothing
    /// in the text pushes the label up.
    pub terms: Vec<String>,
}

/// Reads a UTF-8 CSV with the header `id,text,label` (a UTF-8 BOM is accepted). Every
/// row needs exactly three fields and a non-empty `text` and `label`; the error names the
/// line and column of the first bad row.
pub fn read_csv(path: &Path) -> Result<Vec<TrainingExample>, ClassifyError> {
    let io_err = |source| ClassifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let bad = |line: u64, column: &str, message: String| ClassifyError::Csv {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| bad(1, "-", e.to_string()))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    if names != ["id", "text", "label"] {
        return Err(bad(
            1,
            "-",
            format!(
                "header must be `id,text,label`, found `{}`",
                names.join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("expected 3 fields, found {len}")
                    }
                    csv::ErrorKind::Io(_) => {
                        return Err(io_err(std::io::Error::other(e.to_string())))
                    }
                    _ => e.to_string(),
                };
                return Err(bad(line, "-", message));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut fields = Vec::with_capacity(3);
        for (bytes, column) in record.iter().zip(["id", "text", "label"]) {
            let s = std::str::from_utf8(bytes).map_err(|e| {
                bad(
                    line,
                    column,
                    format!("not valid UTF-8 at byte {}", e.valid_up_to()),
                )
            })?;
            fields.push(s.to_string());
        }
        let [id, text, label]: [String; 3] = fields
            .try_into()
            .map_err(|_| bad(line, "-", "expected 3 fields".into()))?;
        if text.trim().is_empty() {
            return Err(bad(line, "text", "empty text".into()));
        }
        let label = label.trim().to_string();
        if label.is_empty() {
            return Err(bad(line, "label", "empty label".into()));
        }
        out.push(TrainingExample { id, text, label });
    }
    Ok(out)
}

/// Reads unlabelled message texts from a UTF-8 CSV for self-training: the columns
/// `title` + `text` (Jiesu's request exports), `留言主题` + `留言详情` (the TipDM files), or
/// just `text`; title and body are joined with a space as in the labelled data. Rows whose
/// text is empty are skipped.
pub fn read_texts(path: &Path) -> Result<Vec<String>, ClassifyError> {
    let bad = |line: u64, message: String| ClassifyError::Csv {
        path: path.to_path_buf(),
        line,
        column: "-".into(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|source| ClassifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(1, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (title, body) = match (col("title"), col("text"), col("留言主题"), col("留言详情"))
    {
        (t, Some(b), _, _) => (t, b),
        (_, None, t, Some(b)) => (t, b),
        _ => {
            return Err(bad(
                1,
                format!(
                    "need a `text` (or `留言详情`) column, found `{}`",
                    header.join(",")
                ),
            ))
        }
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| bad(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let body = record.get(body).unwrap_or("").trim();
        let title = title.and_then(|t| record.get(t)).unwrap_or("").trim();
        let text = match (title.is_empty(), body.is_empty()) {
            (true, true) => continue,
            (false, false) => format!("{title} {body}"),
            _ => format!("{title}{body}"),
        };
        out.push(text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
