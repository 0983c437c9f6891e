-- Places on a map (issue #20): where a request is, in WGS-84, whatever datum it came in
-- (GCJ-02 and BD-09 are converted at intake), and the district the embedded boundaries put
-- it in. Mirrors ../postgres/0027_request_locations.sql.

-- One row per located request, written right after the request with a `request.located`
-- event. `datum` is what the sender used (wgs84, gcj02, bd09), `source` who sent it
-- (operator, portal, open311, api), `district_code` the district unit found by
-- point-in-polygon (NULL outside every known boundary: the address decides as before).
CREATE TABLE request_locations (
    request_id     TEXT PRIMARY KEY REFERENCES requests (id),
    lat            REAL NOT NULL,
    lon            REAL NOT NULL,
    datum          TEXT NOT NULL,
    source         TEXT NOT NULL,
    district_code  TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX request_locations_district ON request_locations (district_code);
CREATE INDEX request_locations_created ON request_locations (created_at);
