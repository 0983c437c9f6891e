//! The audit trail's seals and its full verification.
//!
//! * The key: `JIESU_AUDIT_KEY`, else the file `JIESU_AUDIT_KEY_FILE`, else
//!   `<data dir>/audit.key` (created 0600 with 32 random bytes at the server's first start).
//!   It never enters the database.
//! * Checkpoints: the chain's head (seq, hash) and the time, sealed with HMAC-SHA256 under the
//!   key, written by a job (`JIESU_AUDIT_CHECKPOINT_SECONDS`), at shutdown and by
//!   `jiesu audit checkpoint`; the last one this node wrote is also kept in
//!   `<data dir>/audit-checkpoint.json`, outside the database.
//! * [`verify`]: the hash chain, every checkpoint against the chain and the key, the node's
//!   own last checkpoint, and the tables replayed from the events (`store/replay.rs`).

use super::AppState;
use crate::config::Config;
use crate::store::audit::{self, Checkpoint};
use crate::store::events::{self, BrokenLink};
use crate::store::replay::{self, Mismatch};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use std::path::{Path, PathBuf};

/// The default key file's name in the data folder.
pub const KEY_FILE: &str = "audit.key";
/// The node's last checkpoint, in the data folder.
pub const LAST_CHECKPOINT_FILE: &str = "audit-checkpoint.json";
/// The shortest key accepted (bytes).
const MIN_KEY: usize = 32;

/// The key that seals checkpoints.
pub struct AuditKey {
    key: Vec<u8>,
    /// The start of a SHA-256 of the key: names it without revealing it.
    pub id: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.id)
    }
}

impl AuditKey {
    /// A key from its bytes.
    pub fn new(key: &[u8]) -> anyhow::Result<AuditKey> {
        if key.len() < MIN_KEY {
            anyhow::bail!("the audit key must be at least {MIN_KEY} characters");
        }
        let mut h = Sha256::new();
        h.update(b"jiesu audit key id\x1f");
        h.update(key);
        Ok(AuditKey {
            key: key.to_vec(),
            id: hex::encode(&h.finalize()[..8]),
        })
    }

    /// The configured key: `JIESU_AUDIT_KEY`, the file `JIESU_AUDIT_KEY_FILE`, or
    /// `<data dir>/audit.key`; with `create`, that last file is made (0600) when it is absent.
    /// None when there is no key (and `create` is false).
    pub fn load(config: &Config, create: bool) -> anyhow::Result<Option<AuditKey>> {
        if let Some(k) = &config.audit_key {
            return AuditKey::new(k.expose_secret().trim().as_bytes())
                .map(Some)
                .map_err(|e| anyhow::anyhow!("JIESU_AUDIT_KEY: {e}"));
        }
        let (path, default) = match &config.audit_key_file {
            Some(p) => (p.clone(), false),
            None => (config.data_dir.join(KEY_FILE), true),
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => AuditKey::new(text.trim().as_bytes())
                .map(Some)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && default && create => {
                create_key_file(&path)?;
                AuditKey::load(config, false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && default => Ok(None),
            Err(e) => Err(anyhow::anyhow!(
                "cannot read the audit key {}: {e}",
                path.display()
            )),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    fn message(seq: i64, hash: &str, at: i64) -> String {
        format!("jiesu audit checkpoint v1\x1f{seq}\x1f{hash}\x1f{at}")
    }

    /// The seal of (seq, hash, at), hex.
    pub fn seal(&self, seq: i64, hash: &str, at: i64) -> String {
        let mut m = self.mac();
        m.update(Self::message(seq, hash, at).as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    /// Whether a checkpoint's seal is this key's (in constant time).
    pub fn checks(&self, c: &Checkpoint) -> bool {
        let Ok(given) = hex::decode(&c.mac) else {
            return false;
        };
        let mut m = self.mac();
        m.update(Self::message(c.seq, &c.hash, c.at).as_bytes());
        m.verify_slice(&given).is_ok()
    }
}

/// Writes a new random key file, readable by its owner only.
fn create_key_file(path: &Path) -> anyhow::Result<()> {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    write_private(path, format!("{}\n", hex::encode(key)).as_bytes(), true)?;
    tracing::info!(file = %path.display(), "created the audit key");
    Ok(())
}

/// Writes a file readable by its owner only (0600 on Unix); with `new`, fails if it exists.
fn write_private(path: &Path, bytes: &[u8], new: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn last_checkpoint_file(config: &Config) -> PathBuf {
    config.data_dir.join(LAST_CHECKPOINT_FILE)
}

/// Seals the chain's head when it moved since the last checkpoint (making the default key
/// file if there is none yet); returns the new checkpoint (None when there was nothing new to
/// seal, or another node sealed it first).
pub async fn checkpoint(state: &AppState) -> anyhow::Result<Option<Checkpoint>> {
    let Some(key) = AuditKey::load(&state.config, true)? else {
        tracing::warn!("no audit key: the event chain is not sealed");
        return Ok(None);
    };
    let pool = state.store.reader();
    let (seq, hash) = audit::head(pool).await?;
    if seq == 0 || seq <= audit::last_sealed(pool).await? {
        return Ok(None);
    }
    let at = crate::store::millis(state.clock.now());
    let c = Checkpoint {
        seq,
        mac: key.seal(seq, &hash, at),
        hash,
        at,
        key_id: key.id.clone(),
    };
    if !audit::insert(&state.store, &c).await? {
        return Ok(None); // another node sealed this head first
    }
    // Beside the database, so a rewrite that also drops checkpoint rows is still caught.
    let file = last_checkpoint_file(&state.config);
    let tmp = file.with_extension("json.tmp");
    write_private(&tmp, serde_json::to_string(&c)?.as_bytes(), false)?;
    std::fs::rename(&tmp, &file)?;
    tracing::info!(seq = c.seq, hash = %c.hash, mac = %c.mac, "audit checkpoint");
    Ok(Some(c))
}

/// What `jiesu audit verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Events in the chain (as far as it verifies).
    pub events: i64,
    /// The first broken link of the hash chain, if any.
    pub broken: Option<BrokenLink>,
    /// Checkpoints found.
    pub checkpoints: usize,
    /// Events after the last checkpoint (not sealed yet).
    pub unsealed: i64,
    /// What is wrong with the checkpoints.
    pub seal_problems: Vec<String>,
    /// Where the tables disagree with their events.
    pub mismatches: Vec<Mismatch>,
}

impl VerifyReport {
    /// Whether everything verified.
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.seal_problems.is_empty() && self.mismatches.is_empty()
    }
}

/// Verifies the hash chain, the checkpoints (with the configured key) and the tables against
/// their events.
pub async fn verify(pool: &AnyPool, config: &Config) -> anyhow::Result<VerifyReport> {
    let mut report = VerifyReport::default();
    match events::verify(pool).await? {
        Ok(n) => report.events = n,
        Err(b) => {
            report.events = b.seq - 1;
            report.broken = Some(b);
        }
    }
    let checkpoints = audit::checkpoints(pool).await?;
    report.checkpoints = checkpoints.len();
    let key = AuditKey::load(config, false)?;
    let problems = &mut report.seal_problems;
    if key.is_none() && !checkpoints.is_empty() {
        problems.push(format!(
            "{} checkpoints cannot be checked: no audit key (JIESU_AUDIT_KEY, JIESU_AUDIT_KEY_FILE or {})",
            checkpoints.len(),
            config.data_dir.join(KEY_FILE).display()
        ));
    }
    for c in &checkpoints {
        check_checkpoint(pool, key.as_ref(), c, problems).await?;
    }
    let file = last_checkpoint_file(config);
    if let Ok(text) = std::fs::read_to_string(&file) {
        match serde_json::from_str::<Checkpoint>(&text) {
            Ok(mine) => {
                if !checkpoints.contains(&mine) {
                    problems.push(format!(
                        "the checkpoint of event {} kept in {} is missing from the database \
                         (checkpoints were removed or replaced)",
                        mine.seq,
                        file.display()
                    ));
                    check_checkpoint(pool, key.as_ref(), &mine, problems).await?;
                }
            }
            Err(e) => problems.push(format!("{} is unreadable: {e}", file.display())),
        }
    }
    let (head, _) = audit::head(pool).await?;
    report.unsealed = head - checkpoints.last().map(|c| c.seq).unwrap_or(0);
    report.mismatches = replay::compare(pool).await?;
    Ok(report)
}

async fn check_checkpoint(
    pool: &AnyPool,
    key: Option<&AuditKey>,
    c: &Checkpoint,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    let seq = c.seq;
    match key {
        Some(k) if c.key_id != k.id => problems.push(format!(
            "checkpoint of event {seq}: sealed with another key (key id {}, this key is {})",
            c.key_id, k.id
        )),
        Some(k) if !k.checks(c) => problems.push(format!(
            "checkpoint of event {seq}: its seal does not match (the checkpoint was altered or forged)"
        )),
        _ => {}
    }
    match audit::hash_at(pool, seq).await? {
        None => problems.push(format!(
            "checkpoint of event {seq}: the chain has no event {seq} (events were removed)"
        )),
        Some(h) if h != c.hash => problems.push(format!(
            "checkpoint of event {seq}: the chain was rewritten up to it (sealed hash {}, now {})",
            &c.hash[..c.hash.len().min(12)],
            &h[..h.len().min(12)]
        )),
        Some(_) => {}
    }
    Ok(())
}
