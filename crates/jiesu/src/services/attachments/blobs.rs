//! The bytes of attachments: a body received into a temporary file (hashed, counted and cut
//! off at its limit as it streams in, never whole in memory), kept as 256 KiB chunks in the
//! database or as a file named by its hash in `JIESU_ATTACHMENTS_DIR`, and read back as a
//! stream of one chunk at a time, from any byte offset.

use crate::error::AppError;
use crate::store::attachments::{self as store, BlobRow};
use crate::store::{Store, Tx};
use axum::body::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The size of a stored chunk.
pub const CHUNK: usize = 256 * 1024;

/// A temporary file, removed when dropped.
pub struct TempFile {
    pub path: PathBuf,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A body as received.
pub struct Received {
    pub file: TempFile,
    pub size: u64,
    pub sha256: String,
    /// Its first bytes (for sniffing).
    pub head: Vec<u8>,
}

/// Why a body was not received.
pub enum ReceiveError {
    /// Over `limit` bytes (the rest was not read).
    TooLarge,
    /// The type from the first bytes is refused.
    Refused,
    /// The body failed (the client went away, or stalled).
    Body(AppError),
    /// The disk failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for ReceiveError {
    fn from(e: std::io::Error) -> Self {
        ReceiveError::Io(e)
    }
}

/// The folder for bodies being received.
pub fn temp_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments-tmp")
}

/// Streams `body` into a temporary file under `dir`. `limit_of` sees the first `head_len`
/// bytes (or all, when shorter) and answers the limit for that type, or None to refuse it;
/// reading stops as soon as the limit is passed.
pub async fn receive<S>(
    dir: &Path,
    mut body: S,
    head_len: usize,
    limit_of: impl FnOnce(&[u8]) -> Option<u64>,
) -> Result<Received, ReceiveError>
where
    S: Stream<Item = Result<Bytes, AppError>> + Unpin,
{
    tokio::fs::create_dir_all(dir).await?;
    let file = TempFile {
        path: dir.join(uuid::Uuid::now_v7().to_string()),
    };
    let mut out = tokio::fs::File::create(&file.path).await?;
    let mut hasher = Sha256::new();
    let (mut size, mut head, mut limit) = (0u64, Vec::new(), None);
    let mut limit_of = Some(limit_of);
    loop {
        let piece = match body.next().await {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => return Err(ReceiveError::Body(e)),
            None => None,
        };
        let done = piece.is_none();
        let piece = piece.unwrap_or_default();
        if head.len() < head_len {
            let take = (head_len - head.len()).min(piece.len());
            head.extend_from_slice(&piece[..take]);
        }
        if limit.is_none() && (head.len() >= head_len || done) {
            let decide = limit_of.take().expect("decided once");
            limit = Some(decide(&head).ok_or(ReceiveError::Refused)?);
        }
        size += piece.len() as u64;
        if limit.is_some_and(|l| size > l) {
            return Err(ReceiveError::TooLarge);
        }
        hasher.update(&piece);
        out.write_all(&piece).await?;
        if done {
            break;
        }
    }
    out.flush().await?;
    Ok(Received {
        file,
        size,
        sha256: hex::encode(hasher.finalize()),
        head,
    })
}

/// Where a blob's file lies in the folder: `ab/abcdef…`, from the hash alone.
fn dir_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(&sha256[..2]).join(sha256)
}

/// Where a blob's bytes come from when stored.
pub enum Source<'a> {
    /// A file on disk (a received body).
    File(&'a Path),
    /// Bytes in memory (a stripped photo, a thumbnail).
    Memory(&'a [u8]),
}

/// Stores a blob unless its hash is already kept. In the folder, the file is written
/// (through a temporary name and a rename) before the row; in the database, its chunks go
/// in the caller's transaction.
pub async fn put(
    tx: &mut Tx,
    folder: Option<&Path>,
    row: &BlobRow,
    source: Source<'_>,
) -> Result<(), AppError> {
    if !store::insert_blob(tx, row).await? {
        return Ok(());
    }
    match folder {
        Some(root) => {
            let path = dir_path(root, &row.sha256);
            if tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Ok(());
            }
            let parent = path.parent().expect("a parent");
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
            let tmp = parent.join(format!(".{}.part", uuid::Uuid::now_v7()));
            match source {
                Source::File(p) => tokio::fs::copy(p, &tmp).await.map(|_| ()),
                Source::Memory(b) => tokio::fs::write(&tmp, b).await,
            }
            .map_err(io)?;
            tokio::fs::rename(&tmp, &path).await.map_err(io)?;
        }
        None => match source {
            Source::Memory(b) => {
                for (seq, piece) in b.chunks(CHUNK).enumerate() {
                    store::insert_chunk(tx, &row.sha256, seq as i64, piece.to_vec()).await?;
                }
            }
            Source::File(p) => {
                let mut f = tokio::fs::File::open(p).await.map_err(io)?;
                let mut seq = 0i64;
                loop {
                    let mut buf = Vec::with_capacity(CHUNK);
                    let n = (&mut f)
                        .take(CHUNK as u64)
                        .read_to_end(&mut buf)
                        .await
                        .map_err(io)?;
                    if n == 0 {
                        break;
                    }
                    store::insert_chunk(tx, &row.sha256, seq, buf).await?;
                    seq += 1;
                }
            }
        },
    }
    Ok(())
}

fn io(e: std::io::Error) -> AppError {
    AppError::Internal(e.into())
}

/// Bytes `[start, end)` of a blob as a stream of pieces of at most one chunk.
pub fn read(
    store: Store,
    folder: Option<PathBuf>,
    blob: BlobRow,
    start: u64,
    end: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let in_dir = blob.storage == "dir";
    let state = (store, folder, blob, start, None::<tokio::fs::File>);
    futures_util::stream::try_unfold(state, move |(db, folder, blob, pos, file)| async move {
        if pos >= end {
            return Ok(None);
        }
        let want = (end - pos).min(CHUNK as u64);
        if in_dir {
            let mut f = match file {
                Some(f) => f,
                None => {
                    let root = folder.clone().ok_or_else(|| {
                        std::io::Error::other("JIESU_ATTACHMENTS_DIR is not set on this node")
                    })?;
                    let mut f = tokio::fs::File::open(dir_path(&root, &blob.sha256)).await?;
                    f.seek(std::io::SeekFrom::Start(pos)).await?;
                    f
                }
            };
            let mut buf = vec![0u8; usize::try_from(want).unwrap_or(CHUNK)];
            f.read_exact(&mut buf).await?;
            let next = pos + want;
            Ok(Some((Bytes::from(buf), (db, folder, blob, next, Some(f)))))
        } else {
            let seq = pos / CHUNK as u64;
            let bytes = store::chunk(db.reader(), &blob.sha256, seq as i64)
                .await
                .map_err(std::io::Error::other)?
                .ok_or_else(|| std::io::Error::other("a chunk is missing"))?;
            let from = usize::try_from(pos - seq * CHUNK as u64).unwrap_or(0);
            let to = (from + usize::try_from(want).unwrap_or(CHUNK)).min(bytes.len());
            if from >= to {
                return Err(std::io::Error::other("a chunk is short"));
            }
            let piece = Bytes::copy_from_slice(&bytes[from..to]);
            let next = pos + piece.len() as u64;
            Ok(Some((piece, (db, folder, blob, next, None))))
        }
    })
}
