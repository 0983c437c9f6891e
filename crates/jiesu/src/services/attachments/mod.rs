//! Attachments (附件, issue 20): photos, call recordings, video and PDF on a request (intake
//! at the desk, the portal, the API, a proactive task) or on a unit's order (a reply's
//! evidence). Who may add and fetch what is decided here; the type comes from the bytes, a
//! photo is stripped of its EXIF and given a thumbnail, an optional scan command may refuse
//! a file, and every upload and removal leaves an event. Bytes: `blobs`; types: `media`.

pub mod blobs;
pub mod media;

use super::portal::Proof;
use super::AppState;
use crate::config::AttachmentSettings;
use crate::error::{AppError, FieldError};
use crate::store::attachments::{self as store, AttachmentRow, BlobRow};
use crate::store::{assignments, requests};
use axum::body::Bytes;
use blobs::{ReceiveError, Source};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use jiesu_core::access::Action;
use jiesu_core::Actor;
use media::Kind;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The longest display name kept (characters).
const MAX_NAME: usize = 200;
/// Who uploaded a file at the portal.
pub const REQUESTER: &str = "requester";

/// Where a file is attached.
#[derive(Debug, Clone)]
pub enum Target {
    /// A request (the center: intake desk, API, proactive task).
    Request(String),
    /// A unit's order: evidence for its reply.
    Order(String),
    /// The requester's own request, proven by its number and query code or a grant
    /// (portal).
    Requester {
        /// The request's number.
        number: String,
        /// Its query code, or a grant the portal made.
        proof: Proof,
    },
}

/// What comes with the bytes.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    /// The file's name as the uploader had it (shown only; never a path).
    pub name: Option<String>,
    /// Show on the public tracking page (a unit's evidence; the requester's own always is).
    pub public: bool,
    /// The declared length, when the client sent one: refused at once when over the limit.
    pub content_length: Option<u64>,
}

/// An attachment as answered.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    pub name: String,
    /// `photo`, `audio`, `video` or `pdf`.
    pub kind: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub public: bool,
    /// `requester` for the portal, else the uploader's role.
    pub uploaded_by: String,
    pub created_at: DateTime<Utc>,
    /// The file's address.
    pub url: String,
    /// A photo's thumbnail (JPEG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
}

fn view(a: &AttachmentRow, base: &str) -> AttachmentView {
    AttachmentView {
        id: a.id.clone(),
        request_id: a.request_id.clone(),
        assignment_id: a.assignment_id.clone(),
        name: a.name.clone(),
        kind: a.kind.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        sha256: a.sha256.clone(),
        public: a.public,
        uploaded_by: a.uploader_role.clone(),
        created_at: a.created_at,
        url: format!("{base}/{}", a.id),
        thumbnail_url: a
            .thumb_sha256
            .as_ref()
            .map(|_| format!("{base}/{}/thumbnail", a.id)),
    }
}

/// The staff address of attachments.
pub const STAFF_BASE: &str = "/api/v1/attachments";

fn limit(s: &AttachmentSettings, k: Kind) -> u64 {
    match k {
        Kind::Photo => s.max_photo,
        Kind::Audio => s.max_audio,
        Kind::Video => s.max_video,
        Kind::Pdf => s.max_pdf,
    }
}

fn too_large(max: u64) -> AppError {
    AppError::FileTooLarge(vec![FieldError::with(
        "file",
        "err.attachments.too_large",
        &[("mb", (max / (1024 * 1024)).to_string())],
    )])
}

fn refused_type() -> AppError {
    AppError::Invalid(vec![FieldError::of("file", "err.attachments.type_refused")])
}

/// The request and order a file goes to, once the uploader may add it there; 404 when the
/// request or order is not theirs to see.
async fn resolve(
    state: &AppState,
    actor: &Actor,
    target: &Target,
) -> Result<(String, Option<String>), AppError> {
    let pool = state.store.reader();
    match target {
        Target::Request(id) => {
            if actor.role.is_unit_role() {
                // a unit's files are evidence of its order
                return Err(AppError::Forbidden("attach to your order instead"));
            }
            let r = requests::get(pool, id)
                .await?
                .ok_or(AppError::NotFound("request"))?;
            Ok((r.id, None))
        }
        Target::Order(id) => {
            super::require(actor, Action::Reply)?;
            let request_id = assignments::request_of_assignment(pool, id)
                .await?
                .ok_or(AppError::NotFound("assignment"))?;
            let order = assignments::assignments_of(pool, &request_id)
                .await?
                .into_iter()
                .find(|a| a.id == *id && actor.covers_unit(&a.unit_path))
                .ok_or(AppError::NotFound("assignment"))?;
            Ok((order.request_id, Some(order.id)))
        }
        Target::Requester { number, proof } => {
            let number = super::portal::proven(state, number, proof)
                .await?
                .ok_or(AppError::NotFound("request"))?;
            let r = requests::get(pool, &number)
                .await?
                .ok_or(AppError::NotFound("request"))?;
            Ok((r.id, None))
        }
    }
}

/// Receives a file and attaches it. The body is streamed to a temporary file and cut off
/// as soon as it passes its kind's limit (413 `file`); a type that is not accepted is
/// refused from the first bytes (422 `file`).
pub async fn upload(
    state: &AppState,
    actor: &Actor,
    target: Target,
    meta: UploadMeta,
    body: impl Stream<Item = Result<Bytes, AppError>> + Unpin,
) -> Result<AttachmentView, AppError> {
    let (request_id, assignment_id) = resolve(state, actor, &target).await?;
    let settings = &state.config.attachments;
    let largest = [Kind::Photo, Kind::Audio, Kind::Video, Kind::Pdf]
        .into_iter()
        .map(|k| limit(settings, k))
        .max()
        .unwrap_or(0);
    if meta.content_length.is_some_and(|n| n > largest) {
        return Err(too_large(largest));
    }
    let name = display_name(meta.name.as_deref())?;
    let mut sniffed = None;
    let received = blobs::receive(
        &blobs::temp_dir(&state.config.data_dir),
        body,
        media::SNIFF_LEN,
        |head| {
            let s = media::sniff(head)?;
            sniffed = Some(s);
            Some(limit(settings, s.kind))
        },
    )
    .await;
    let received = match received {
        Ok(r) => r,
        Err(ReceiveError::Refused) => return Err(refused_type()),
        Err(ReceiveError::TooLarge) => {
            let kind = sniffed.map_or(Kind::Video, |s| s.kind);
            return Err(too_large(limit(settings, kind)));
        }
        Err(ReceiveError::Body(e)) => return Err(e),
        Err(ReceiveError::Io(e)) => return Err(AppError::Internal(e.into())),
    };
    let sniffed = sniffed.ok_or_else(refused_type)?;
    if let Err(why) = scan(settings, &received.file.path).await {
        let mut tx = state.store.begin().await?;
        state
            .event(actor, &request_id, assignment_id.as_deref(), "attachment.refused")
            .payload(serde_json::json!({ "name": name, "sha256": received.sha256, "size": received.size, "reason": why }))
            .record(&mut tx);
        tx.commit().await?;
        return Err(AppError::Invalid(vec![FieldError::of(
            "file",
            "err.attachments.scan_refused",
        )]));
    }
    let row = AttachmentRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id,
        assignment_id,
        sha256: received.sha256.clone(),
        thumb_sha256: None,
        original_sha256: None,
        name,
        kind: sniffed.kind.as_str().into(),
        content_type: sniffed.content_type.into(),
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        uploaded_by: actor.user_id.clone(),
        uploader_role: if matches!(target, Target::Requester { .. }) {
            REQUESTER.into()
        } else {
            actor.role.as_str().into()
        },
        public: meta.public || matches!(target, Target::Requester { .. }),
        created_at: state.clock.now(),
    };
    store_file(state, actor, row, sniffed, received).await
}

/// The name kept for display: the last path segment, controls removed, at most 200
/// characters; `file` when none is given.
fn display_name(raw: Option<&str>) -> Result<String, AppError> {
    let raw = raw.unwrap_or("").trim();
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if last.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("name", "err.no_control_characters"));
    }
    if last.chars().count() > MAX_NAME {
        return Err(AppError::invalid("name", "err.attachments.name_too_long"));
    }
    Ok(if last.is_empty() {
        "file".into()
    } else {
        last.into()
    })
}

/// Runs the configured scan command on a received file; Err with what it said when it
/// refuses (a non-zero exit) or cannot run.
async fn scan(s: &AttachmentSettings, path: &std::path::Path) -> Result<(), String> {
    let Some(cmd) = &s.scan_command else {
        return Ok(());
    };
    let stdin = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .arg("jiesu-scan")
        .arg(path)
        .stdin(stdin)
        .output()
        .await
        .map_err(|e| format!("the scan command did not run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stdout);
        let said: String = said.trim().chars().take(200).collect();
        Err(format!("{} {said}", out.status).trim().to_string())
    }
}

/// HEIC photos decoded at once on this node: one, since each may hold a core and about
/// 0.7 GB while it is decoded (`media::HEIC_MAX_PIXELS`).
pub static HEIC_DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Strips a photo and draws its thumbnail, then stores the blobs and the row with its event.
async fn store_file(
    state: &AppState,
    actor: &Actor,
    mut row: AttachmentRow,
    sniffed: media::Sniffed,
    received: blobs::Received,
) -> Result<AttachmentView, AppError> {
    let settings = &state.config.attachments;
    let folder = settings.dir.as_deref();
    let storage = if folder.is_some() { "dir" } else { "db" };
    let now = row.created_at;
    let blob = |sha256: &str, size: usize, content_type: &str| BlobRow {
        sha256: sha256.into(),
        size: i64::try_from(size).unwrap_or(i64::MAX),
        kind: row.kind.clone(),
        content_type: content_type.into(),
        storage: storage.into(),
        created_at: now,
    };
    let photo = if sniffed.kind == Kind::Photo {
        let raw = tokio::fs::read(&received.file.path)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let ct = sniffed.content_type;
        // One HEIC decode at a time on this node; the other uploads wait their turn.
        let _turn = match ct {
            "image/heic" => Some(
                HEIC_DECODES
                    .acquire()
                    .await
                    .map_err(|e| AppError::Internal(e.into()))?,
            ),
            _ => None,
        };
        let done = tokio::task::spawn_blocking(move || {
            let mut s = media::strip(ct, &raw)?;
            let thumb = s
                .thumbnail
                .take()
                .or_else(|| media::thumbnail(&s.bytes, s.orientation));
            Some((s, thumb, raw))
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        Some(done.ok_or_else(|| {
            AppError::Invalid(vec![FieldError::of("file", "err.attachments.bad_photo")])
        })?)
    } else {
        None
    };
    let mut tx = state.store.begin().await?;
    match &photo {
        Some((stripped, thumb, raw)) => {
            let sha = hex::encode(Sha256::digest(&stripped.bytes));
            let b = blob(&sha, stripped.bytes.len(), stripped.content_type);
            blobs::put(&mut tx, folder, &b, Source::Memory(&stripped.bytes)).await?;
            row.sha256 = sha;
            row.size = b.size;
            if stripped.content_type != sniffed.content_type {
                // A HEIC photo kept as a JPEG: named as what it now is.
                row.content_type = stripped.content_type.into();
                row.name = renamed_jpeg(&row.name);
            }
            if let Some(t) = thumb {
                let tsha = hex::encode(Sha256::digest(t));
                let tb = blob(&tsha, t.len(), "image/jpeg");
                blobs::put(&mut tx, folder, &tb, Source::Memory(t)).await?;
                row.thumb_sha256 = Some(tsha);
            }
            if settings.keep_original {
                let ob = blob(&received.sha256, raw.len(), sniffed.content_type);
                blobs::put(&mut tx, folder, &ob, Source::Memory(raw)).await?;
                row.original_sha256 = Some(received.sha256.clone());
            }
        }
        None => {
            let b = blob(
                &received.sha256,
                usize::try_from(received.size).unwrap_or(usize::MAX),
                sniffed.content_type,
            );
            blobs::put(&mut tx, folder, &b, Source::File(&received.file.path)).await?;
        }
    }
    store::insert(&mut tx, &row).await?;
    state
        .event(
            actor,
            &row.request_id,
            row.assignment_id.as_deref(),
            "attachment.added",
        )
        .payload(serde_json::json!({
            "attachment_id": row.id, "name": row.name, "kind": row.kind,
            "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
            "public": row.public, "by": row.uploader_role,
            "exif_stripped": photo.is_some(),
            "converted_from": (row.content_type != sniffed.content_type).then_some(sniffed.content_type),
        }))
        .record(&mut tx);
    tx.commit().await?;
    drop(received);
    Ok(view(&row, STAFF_BASE))
}

/// A converted photo's name: its extension (`.heic`, `.HEIF`…) becomes `.jpg`, or `.jpg` is
/// added where it had none.
fn renamed_jpeg(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 5 => stem,
        _ => name,
    };
    format!("{stem}.jpg")
}

/// Whether the actor may see this attachment: its request is theirs to see, and a unit sees
/// only the request's own files and its own orders' evidence.
async fn visible(state: &AppState, actor: &Actor, a: &AttachmentRow) -> Result<bool, AppError> {
    if actor.sees_all() {
        return Ok(true);
    }
    let orders = assignments::assignments_of(state.store.reader(), &a.request_id).await?;
    let subs = crate::store::sub_orders::of_request(state.store.reader(), &a.request_id).await?;
    Ok(visible_among(actor, a, &orders, &subs))
}

/// [`visible`] with the request's orders and child orders already read.
fn visible_among(
    actor: &Actor,
    a: &AttachmentRow,
    orders: &[assignments::AssignmentRow],
    subs: &[crate::store::sub_orders::SubOrderRow],
) -> bool {
    if actor.sees_all() {
        return true;
    }
    if !actor.may_view(
        orders
            .iter()
            .map(|o| o.unit_path.as_str())
            .chain(subs.iter().map(|s| s.unit_path.as_str())),
    ) {
        return false;
    }
    match &a.assignment_id {
        None => true,
        Some(order) => orders
            .iter()
            .any(|o| &o.id == order && actor.covers_unit(&o.unit_path)),
    }
}

/// A request's attachments that the actor may see; 404 when the request is not theirs.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    request_id: &str,
) -> Result<Vec<AttachmentView>, AppError> {
    state
        .store
        .in_snapshot(async |conn| list_in(conn, actor, request_id).await)
        .await
}

/// [`list`] on an open snapshot (`Store::read_snapshot`): the request, its orders and its
/// files are read once each, through `conn`.
pub async fn list_in(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    request_id: &str,
) -> Result<Vec<AttachmentView>, AppError> {
    let r = requests::get(&mut *conn, request_id)
        .await?
        .ok_or(AppError::NotFound("request"))?;
    let rows = store::of_request(&mut *conn, &r.id).await?;
    let orders = assignments::assignments_of(&mut *conn, &r.id).await?;
    let subs = crate::store::sub_orders::of_request(&mut *conn, &r.id).await?;
    if !actor.may_view(
        orders
            .iter()
            .map(|o| o.unit_path.as_str())
            .chain(subs.iter().map(|s| s.unit_path.as_str())),
    ) {
        return Err(AppError::NotFound("request"));
    }
    Ok(rows
        .iter()
        .filter(|a| visible_among(actor, a, &orders, &subs))
        .map(|a| view(a, STAFF_BASE))
        .collect())
}

/// The orders of a request that a unit user may attach evidence to (theirs, not yet
/// replied or returned): (order id, unit code). Read through `conn`, so a page reads them
/// in its own snapshot.
pub async fn evidence_orders_in(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    request_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    if !actor.may(Action::Reply) {
        return Ok(Vec::new());
    }
    Ok(assignments::assignments_of(&mut *conn, request_id)
        .await?
        .into_iter()
        .filter(|a| {
            actor.covers_unit(&a.unit_path)
                && matches!(
                    a.status,
                    jiesu_core::workflow::AssignmentStatus::Dispatched
                        | jiesu_core::workflow::AssignmentStatus::Acknowledged
                )
        })
        .map(|a| (a.id, a.unit_code))
        .collect())
}

/// What to send for a download.
pub struct Download {
    pub name: String,
    pub content_type: String,
    pub blob: BlobRow,
    pub kind: Kind,
}

/// Which bytes of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// As stored (a photo without its EXIF).
    Stored,
    /// A photo's thumbnail.
    Thumbnail,
    /// A photo as uploaded, where kept (the center only).
    Original,
}

/// An attachment the actor may fetch; 404 when it is missing or not theirs to see.
pub async fn fetch(
    state: &AppState,
    actor: &Actor,
    id: &str,
    variant: Variant,
) -> Result<Download, AppError> {
    let a = store::get(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    if !visible(state, actor, &a).await? {
        return Err(AppError::NotFound("attachment"));
    }
    if variant == Variant::Original && !actor.sees_all() {
        return Err(AppError::NotFound("attachment"));
    }
    download(state, &a, variant).await
}

async fn download(
    state: &AppState,
    a: &AttachmentRow,
    variant: Variant,
) -> Result<Download, AppError> {
    let (sha, name) = match variant {
        Variant::Stored => (Some(&a.sha256), a.name.clone()),
        Variant::Thumbnail => (a.thumb_sha256.as_ref(), format!("thumb-{}.jpg", a.id)),
        Variant::Original => (a.original_sha256.as_ref(), a.name.clone()),
    };
    let sha = sha.ok_or(AppError::NotFound("attachment"))?;
    let blob = store::blob(state.store.reader(), sha)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    // A HEIC photo's original under its own extension (the photo is kept as a JPEG).
    let name = match (variant, blob.content_type.as_str()) {
        (Variant::Original, "image/heic") => {
            format!("{}.heic", name.strip_suffix(".jpg").unwrap_or(&name))
        }
        _ => name,
    };
    Ok(Download {
        name,
        content_type: blob.content_type.clone(),
        kind: Kind::parse(&a.kind).unwrap_or(Kind::Pdf),
        blob,
    })
}

/// The bytes `[start, end)` of a download, streamed one chunk at a time.
pub fn bytes_of(
    state: &AppState,
    d: &Download,
    start: u64,
    end: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    blobs::read(
        state.store.clone(),
        state.config.attachments.dir.clone(),
        d.blob.clone(),
        start,
        end,
    )
}

/// The files of a request the public tracking page shows: the requester's own and the
/// units' evidence marked public. `number` as on the tracking form, with its code or a grant.
pub async fn public_list(
    state: &AppState,
    number: &str,
    proof: &Proof,
) -> Result<Vec<AttachmentView>, AppError> {
    let number = super::portal::proven(state, number, proof)
        .await?
        .ok_or(AppError::NotFound("request"))?;
    public_of(state, &number).await
}

/// The public files of the request with this number (its requester proven by the caller).
pub async fn public_of(state: &AppState, number: &str) -> Result<Vec<AttachmentView>, AppError> {
    let pool = state.store.reader();
    let r = requests::get(pool, number)
        .await?
        .ok_or(AppError::NotFound("request"))?;
    Ok(store::of_request(pool, &r.id)
        .await?
        .iter()
        .filter(|a| a.public)
        .map(|a| view(a, "/api/v1/public/attachments"))
        .collect())
}

/// A public file of the requester's request; 404 for any other.
pub async fn public_fetch(
    state: &AppState,
    number: &str,
    proof: &Proof,
    id: &str,
    variant: Variant,
) -> Result<Download, AppError> {
    let number = super::portal::proven(state, number, proof)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    let pool = state.store.reader();
    let r = requests::get(pool, &number)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    let a = store::get(pool, id)
        .await?
        .filter(|a| a.request_id == r.id && a.public && variant != Variant::Original)
        .ok_or(AppError::NotFound("attachment"))?;
    download(state, &a, variant).await
}

/// Removes an attachment (its uploader, or the center); the bytes stay while another
/// attachment names them.
pub async fn remove(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let a = store::get(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("attachment"))?;
    if !visible(state, actor, &a).await? {
        return Err(AppError::NotFound("attachment"));
    }
    if !actor.sees_all() && a.uploaded_by != actor.user_id {
        return Err(AppError::Forbidden("only its uploader or the center"));
    }
    let mut tx = state.store.begin().await?;
    if !store::remove(&mut tx, id, &actor.user_id, state.clock.now()).await? {
        return Err(AppError::NotFound("attachment"));
    }
    state
        .event(
            actor,
            &a.request_id,
            a.assignment_id.as_deref(),
            "attachment.removed",
        )
        .payload(serde_json::json!({ "attachment_id": a.id, "name": a.name, "kind": a.kind }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(())
}

/// Refuses a reply without a photo on an order whose category needs one (办结需附照片):
/// 422 naming `attachments`.
pub async fn check_reply_evidence(
    tx: &mut crate::store::Tx,
    category_code: Option<&str>,
    assignment_id: &str,
) -> Result<(), AppError> {
    let Some(code) = category_code else {
        return Ok(());
    };
    if store::reply_requires_photo(tx.conn(), code).await?
        && !store::order_has_photo(tx.conn(), assignment_id).await?
    {
        return Err(AppError::invalid(
            "attachments",
            "err.attachments.reply_needs_photo",
        ));
    }
    Ok(())
}

/// A category's evidence rule.
#[derive(Debug, Serialize)]
pub struct EvidenceRule {
    pub category_code: String,
    pub reply_requires_photo: bool,
}

/// Sets whether a category's replies need a photo (admin).
pub async fn set_evidence_rule(
    state: &AppState,
    actor: &Actor,
    category_code: &str,
    required: bool,
) -> Result<EvidenceRule, AppError> {
    super::require(actor, Action::Administer)?;
    let known = crate::store::categories::get(state.store.reader(), category_code)
        .await?
        .is_some();
    if !known {
        return Err(AppError::NotFound("category"));
    }
    let mut tx = state.store.begin().await?;
    store::set_reply_requires_photo(
        &mut tx,
        category_code,
        required,
        &actor.user_id,
        state.clock.now(),
    )
    .await?;
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "category.evidence_set",
        serde_json::json!({ "category_code": category_code, "reply_requires_photo": required }),
    ));
    tx.commit().await?;
    Ok(EvidenceRule {
        category_code: category_code.into(),
        reply_requires_photo: required,
    })
}

/// The categories whose replies need a photo.
pub async fn photo_categories(state: &AppState) -> Result<Vec<String>, AppError> {
    Ok(store::photo_categories(state.store.reader()).await?)
}
