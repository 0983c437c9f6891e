//! Attachments (issue 20): content-addressed blobs (their bytes in 256 KiB chunks here, or in
//! a folder that `services::attachments` owns), the attachment rows that name them on
//! requests and orders, and the categories' evidence rules. Not the sniffing, stripping or
//! streaming (services).

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, Row};

/// A stored content.
#[derive(Debug, Clone)]
pub struct BlobRow {
    pub sha256: String,
    pub size: i64,
    pub kind: String,
    pub content_type: String,
    /// `db` or `dir`.
    pub storage: String,
    pub created_at: DateTime<Utc>,
}

/// Stores a blob's row unless one with its hash is there; true when this one was stored
/// (its bytes are then to be written), false when the content is already kept.
pub async fn insert_blob(tx: &mut Tx, b: &BlobRow) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO attachment_blobs (sha256, size, kind, content_type, storage, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(&b.sha256)
    .bind(b.size)
    .bind(&b.kind)
    .bind(&b.content_type)
    .bind(&b.storage)
    .bind(millis(b.created_at))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores one chunk of a blob.
pub async fn insert_chunk(
    tx: &mut Tx,
    sha256: &str,
    seq: i64,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO attachment_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)")
        .bind(sha256)
        .bind(seq)
        .bind(bytes)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The blob with this hash.
pub async fn blob(pool: &AnyPool, sha256: &str) -> Result<Option<BlobRow>, StoreError> {
    let row = sqlx::query(
        "SELECT sha256, size, kind, content_type, storage, created_at FROM attachment_blobs \
         WHERE sha256 = $1",
    )
    .bind(sha256)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(BlobRow {
            sha256: r.try_get("sha256")?,
            size: r.try_get("size")?,
            kind: r.try_get("kind")?,
            content_type: r.try_get("content_type")?,
            storage: r.try_get("storage")?,
            created_at: from_millis(r.try_get("created_at")?),
        })
    })
    .transpose()
}

/// One chunk of a `db` blob, None past its end.
pub async fn chunk(pool: &AnyPool, sha256: &str, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
    let row = sqlx::query("SELECT bytes FROM attachment_chunks WHERE sha256 = $1 AND seq = $2")
        .bind(sha256)
        .bind(seq)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("bytes")).transpose()?)
}

/// An attachment on a request.
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    pub id: String,
    pub request_id: String,
    /// The order it is evidence of (a unit's reply), if any.
    pub assignment_id: Option<String>,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
    pub original_sha256: Option<String>,
    /// The name it was uploaded with: shown and sent back, never used as a path.
    pub name: String,
    /// `photo`, `audio`, `video` or `pdf`.
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    /// A user id, or `requester` (the portal).
    pub uploaded_by: String,
    pub uploader_role: String,
    /// Shown on the public tracking page.
    pub public: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, request_id, assignment_id, sha256, thumb_sha256, original_sha256, \
    name, kind, content_type, size, uploaded_by, uploader_role, public, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<AttachmentRow, StoreError> {
    Ok(AttachmentRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        assignment_id: r.try_get("assignment_id")?,
        sha256: r.try_get("sha256")?,
        thumb_sha256: r.try_get("thumb_sha256")?,
        original_sha256: r.try_get("original_sha256")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploader_role: r.try_get("uploader_role")?,
        public: r.try_get::<i64, _>("public")? != 0,
        created_at: from_millis(r.try_get("created_at")?),
    })
}

/// Stores an attachment row (its blobs stored first).
pub async fn insert(tx: &mut Tx, a: &AttachmentRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO attachments ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&a.id)
    .bind(&a.request_id)
    .bind(&a.assignment_id)
    .bind(&a.sha256)
    .bind(&a.thumb_sha256)
    .bind(&a.original_sha256)
    .bind(&a.name)
    .bind(&a.kind)
    .bind(&a.content_type)
    .bind(a.size)
    .bind(&a.uploaded_by)
    .bind(&a.uploader_role)
    .bind(i64::from(a.public))
    .bind(millis(a.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The attachment with this id, unless removed.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<AttachmentRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE id = $1 AND removed_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A request's attachments, oldest first, removed ones left out.
pub async fn of_request<'c, E>(conn: E, request_id: &str) -> Result<Vec<AttachmentRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM attachments WHERE request_id = $1 AND removed_at IS NULL \
         ORDER BY created_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Marks an attachment removed; false when it already was.
pub async fn remove(
    tx: &mut Tx,
    id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE attachments SET removed_by = $2, removed_at = $3 WHERE id = $1 AND removed_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .bind(millis(at))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an order carries a photo (the evidence a reply may need).
pub async fn order_has_photo(
    conn: &mut AnyConnection,
    assignment_id: &str,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM attachments WHERE assignment_id = $1 AND kind = 'photo' \
         AND removed_at IS NULL",
    )
    .bind(assignment_id)
    .fetch_one(conn)
    .await?
    .try_get("n")?;
    Ok(n > 0)
}

/// Whether a category's replies need a photo (办结需附照片); false when never set.
pub async fn reply_requires_photo(
    conn: &mut AnyConnection,
    category_code: &str,
) -> Result<bool, StoreError> {
    let row =
        sqlx::query("SELECT reply_requires_photo FROM category_evidence WHERE category_code = $1")
            .bind(category_code)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("reply_requires_photo")? != 0,
        None => false,
    })
}

/// Every category whose replies need a photo.
pub async fn photo_categories(pool: &AnyPool) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT category_code FROM category_evidence WHERE reply_requires_photo = 1 \
         ORDER BY category_code",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get("category_code")?))
        .collect()
}

/// Sets a category's evidence rule.
pub async fn set_reply_requires_photo(
    tx: &mut Tx,
    category_code: &str,
    required: bool,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO category_evidence (category_code, reply_requires_photo, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (category_code) DO UPDATE SET \
         reply_requires_photo = excluded.reply_requires_photo, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(category_code)
    .bind(i64::from(required))
    .bind(by)
    .bind(millis(at))
    .execute(tx.conn())
    .await?;
    Ok(())
}
