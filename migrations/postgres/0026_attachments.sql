-- Attachments (issue #20): photos, recordings, video and PDF on requests, replies and
-- proactive tasks. Mirrors ../sqlite/0026_attachments.sql.

-- One stored content, named by the SHA-256 of its bytes (as stored: a photo after its EXIF is
-- stripped), so the same file uploaded twice is kept once. `storage` is `db` (the bytes are
-- in attachment_chunks) or `dir` (a file named by the hash in JIESU_ATTACHMENTS_DIR).
CREATE TABLE attachment_blobs (
    sha256        TEXT PRIMARY KEY,
    size          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    storage       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- The bytes of a `db` blob in pieces of 256 KiB, read one at a time when served.
CREATE TABLE attachment_chunks (
    sha256  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    bytes   BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

-- A file attached to a request, to one unit's order (a reply's evidence) or to a proactive
-- task (itself a request). `uploaded_by` is the user id, or `requester` for the portal.
-- `public`: shown on the public tracking page (the requester's own uploads always are).
-- `original_sha256`: the photo as uploaded, kept only where JIESU_ATTACHMENTS_KEEP_ORIGINAL
-- says so. Removal marks the row; the blob stays while another row names it.
CREATE TABLE attachments (
    id               TEXT PRIMARY KEY,
    request_id       TEXT NOT NULL REFERENCES requests (id),
    assignment_id    TEXT,
    sha256           TEXT NOT NULL REFERENCES attachment_blobs (sha256),
    thumb_sha256     TEXT,
    original_sha256  TEXT,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    uploaded_by      TEXT NOT NULL,
    uploader_role    TEXT NOT NULL,
    public           BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    removed_by       TEXT,
    removed_at       BIGINT
);
CREATE INDEX attachments_request ON attachments (request_id);
CREATE INDEX attachments_assignment ON attachments (assignment_id);

-- Evidence rules: a category whose replies need at least one photo (办结需附照片).
CREATE TABLE category_evidence (
    category_code         TEXT PRIMARY KEY,
    reply_requires_photo  BIGINT NOT NULL,
    updated_by            TEXT NOT NULL,
    updated_at            BIGINT NOT NULL
);
