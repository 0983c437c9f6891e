//! The model folder: `model.bin` (weights in a small versioned, checksummed binary format)
//! and `metrics.json` (facts, CV results, reasons), with `Model::save` / `Model::load`.
//!
//! `model.bin`, little-endian: magic `JIESUCLF`, `u32` format version, `u64` payload
//! length, payload, `u64` FNV-1a hash of the payload. Payload: options JSON (string),
//! labels (`u32` count + strings), `f64` temperature, `u32` features, `u32` end of each
//! of the 3 feature blocks, terms (strings), IDF (`f32` each), biases (`f32` per label),
//! then the weights feature-major (`f32` per feature per label). A string is a `u32` byte length and UTF-8 bytes.

use std::path::{Path, PathBuf};

use super::features::BLOCKS;
use super::model::{Model, ModelMetrics};
use super::options::TrainOptions;
use super::vocab::Vocabulary;
use super::ClassifyError;
use crate::seeded::fnv1a;

/// Version of the `model.bin` layout; `load` refuses any other.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"JIESUCLF";
const WEIGHTS: &str = "model.bin";
const METRICS: &str = "metrics.json";

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Bounds-checked reader over the payload.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| format!("truncated payload at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn string(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let at = self.pos;
        std::str::from_utf8(self.take(n)?)
            .map(str::to_string)
            .map_err(|_| format!("invalid UTF-8 at byte {at}"))
    }
    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, String> {
        let bytes = self.take(n.checked_mul(4).ok_or("length overflow")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }
}

impl Model {
    fn payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        put_str(
            &mut p,
            &serde_json::to_string(&self.metrics.options).expect("options serialise"),
        );
        p.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        self.labels.iter().for_each(|l| put_str(&mut p, l));
        p.extend_from_slice(&self.metrics.temperature.to_le_bytes());
        p.extend_from_slice(&(self.vocab.len() as u32).to_le_bytes());
        for end in self.vocab.block_end {
            p.extend_from_slice(&(end as u32).to_le_bytes());
        }
        self.vocab.terms.iter().for_each(|t| put_str(&mut p, t));
        self.vocab
            .idf
            .iter()
            .for_each(|v| p.extend_from_slice(&v.to_le_bytes()));
        self.bias
            .iter()
            .chain(&self.weights)
            .for_each(|v| p.extend_from_slice(&v.to_le_bytes()));
        p
    }

    /// The two files of the model folder as bytes: `model.bin` and `metrics.json` (for a
    /// model kept elsewhere than in a folder, e.g. in a database).
    pub fn to_files(&self) -> (Vec<u8>, Vec<u8>) {
        let payload = self.payload();
        let hash = fnv1a(&payload);
        let mut bin = Vec::with_capacity(payload.len() + 28);
        bin.extend_from_slice(MAGIC);
        bin.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bin.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bin.extend_from_slice(&payload);
        bin.extend_from_slice(&hash.to_le_bytes());
        let mut metrics = self.metrics.clone();
        metrics.format_version = FORMAT_VERSION;
        metrics.weights_checksum = format!("{hash:016x}");
        let json = serde_json::to_vec_pretty(&metrics).expect("metrics serialise");
        (bin, json)
    }

    /// Writes `model.bin` and `metrics.json` into `dir` (created if missing). Each file is
    /// written to a temporary name first and then renamed.
    pub fn save(&self, dir: &Path) -> Result<(), ClassifyError> {
        let io = |path: PathBuf| move |source| ClassifyError::Io { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
        let (bin, json) = self.to_files();
        for (name, bytes) in [(WEIGHTS, &bin), (METRICS, &json)] {
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, bytes).map_err(io(tmp.clone()))?;
            std::fs::rename(&tmp, dir.join(name)).map_err(io(dir.join(name)))?;
        }
        Ok(())
    }

    /// Reads a folder written by [`Model::save`]. Fails with [`ClassifyError::BadModel`]
    /// if a file is missing, truncated, corrupt (checksum), of another format version, or
    /// if `metrics.json` belongs to different weights.
    pub fn load(dir: &Path) -> Result<Model, ClassifyError> {
        let (bin_path, json_path) = (dir.join(WEIGHTS), dir.join(METRICS));
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| ClassifyError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let bin = read(&bin_path)?;
        let json = read(&json_path)?;
        decode(&bin, &json, &bin_path, &json_path)
    }

    /// Reads the two files of [`Model::to_files`], with the same checks as [`Model::load`].
    pub fn from_files(bin: &[u8], json: &[u8]) -> Result<Model, ClassifyError> {
        decode(bin, json, Path::new(WEIGHTS), Path::new(METRICS))
    }
}

fn decode(
    bin: &[u8],
    json: &[u8],
    bin_path: &Path,
    json_path: &Path,
) -> Result<Model, ClassifyError> {
    let bad = |p: &Path, message: String| ClassifyError::BadModel {
        path: p.to_path_buf(),
        message,
    };
    if bin.len() < 28 || &bin[..8] != MAGIC {
        return Err(bad(
            bin_path,
            "not a Jiesu classifier weights file (bad magic)".into(),
        ));
    }
    let version = u32::from_le_bytes(bin[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(
            bin_path,
            format!("format version {version}, this build reads {FORMAT_VERSION}"),
        ));
    }
    let len = u64::from_le_bytes(bin[12..20].try_into().expect("8 bytes"));
    if len != (bin.len() - 28) as u64 {
        return Err(bad(
            bin_path,
            format!(
                "payload length {len} but file holds {} bytes",
                bin.len() - 28
            ),
        ));
    }
    let payload = &bin[20..bin.len() - 8];
    let hash = u64::from_le_bytes(bin[bin.len() - 8..].try_into().expect("8 bytes"));
    if fnv1a(payload) != hash {
        return Err(bad(
            bin_path,
            "checksum mismatch: the file is corrupt".into(),
        ));
    }
    let metrics: ModelMetrics = serde_json::from_slice(json)
        .map_err(|e| bad(json_path, format!("unreadable metrics: {e}")))?;
    if metrics.weights_checksum != format!("{hash:016x}") {
        return Err(bad(
            json_path,
            format!(
                "belongs to other weights (checksum {} ≠ model.bin {hash:016x})",
                metrics.weights_checksum
            ),
        ));
    }
    parse(payload, metrics).map_err(|m| bad(bin_path, m))
}

fn parse(payload: &[u8], mut metrics: ModelMetrics) -> Result<Model, String> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let options: TrainOptions =
        serde_json::from_str(&r.string()?).map_err(|e| format!("bad options: {e}"))?;
    let n_labels = r.u32()? as usize;
    let labels = (0..n_labels)
        .map(|_| r.string())
        .collect::<Result<Vec<_>, _>>()?;
    let temperature = r.f64()?;
    let n_features = r.u32()? as usize;
    let mut block_end = [0usize; BLOCKS];
    for end in &mut block_end {
        *end = r.u32()? as usize;
    }
    let ordered = block_end.windows(2).all(|w| w[0] <= w[1]);
    if !ordered || block_end[BLOCKS - 1] != n_features || n_features > payload.len() {
        return Err(format!(
            "inconsistent sizes: block ends {block_end:?} for {n_features} features"
        ));
    }
    let terms = (0..n_features)
        .map(|_| r.string())
        .collect::<Result<Vec<_>, _>>()?;
    let idf = r.f32s(n_features)?;
    let bias = r.f32s(n_labels)?;
    let weights = r.f32s(n_features.checked_mul(n_labels).ok_or("size overflow")?)?;
    if r.pos != payload.len() {
        return Err(format!(
            "{} unexpected trailing bytes",
            payload.len() - r.pos
        ));
    }
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(format!("invalid temperature {temperature}"));
    }
    if !idf
        .iter()
        .chain(&bias)
        .chain(&weights)
        .all(|v| v.is_finite())
    {
        return Err("non-finite weight or IDF value".into());
    }
    // JSON may round the temperature by an ulp; the binary copy is authoritative.
    let same_t = (temperature - metrics.temperature).abs() <= 1e-9 * temperature;
    if options != metrics.options
        || !same_t
        || n_features != metrics.n_features
        || n_labels != metrics.label_counts.len()
    {
        return Err(
            "metrics.json disagrees with the weights (options, temperature, labels or size)".into(),
        );
    }
    metrics.temperature = temperature;
    let vocab = Vocabulary::from_parts(options.features.clone(), terms, block_end, idf);
    Ok(Model {
        labels,
        vocab,
        weights,
        bias,
        metrics,
    })
}
