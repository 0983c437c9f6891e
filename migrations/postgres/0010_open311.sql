-- Issue 17: Open311 GeoReport v2 (web/open311, services/open311, store/open311.rs).
-- Mirrors ../sqlite/0010_open311.sql column for column.

-- Client keys (api_key): only a SHA-256 of the key is kept; the key is shown once.
CREATE TABLE open311_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- What an Open311 client sent with a request beyond what intake keeps: the location
-- (WGS-84, converted from GCJ-02 when the client said so), the address as given, media,
-- attributes (JSON object code -> value or list) and the private contact fields (email,
-- device and account ids, removed with the requester's name and phone by the retention job).
CREATE TABLE open311_requests (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL UNIQUE REFERENCES requests (id),
    key_id         TEXT NOT NULL REFERENCES open311_keys (id),
    service_code   TEXT NOT NULL,
    lat            DOUBLE PRECISION,
    lon            DOUBLE PRECISION,
    datum          TEXT NOT NULL,
    address_string TEXT,
    address_id     TEXT,
    email          TEXT,
    device_id      TEXT,
    account_id     TEXT,
    media_url      TEXT,
    attributes     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Which categories are offered as Open311 services, where an administrator changed the
-- default (public, non-enterprise leaf categories are offered).
CREATE TABLE open311_services (
    category_code TEXT PRIMARY KEY REFERENCES categories (code),
    offered       BIGINT NOT NULL,
    changed_at    BIGINT NOT NULL
);
