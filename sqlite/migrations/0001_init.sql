-- Counters hand out gapless numbers: serials per (station, year of DTG)
-- and control numbers per (receiving station, year of receipt).
CREATE TABLE counters (
	kind    TEXT    NOT NULL,
	station TEXT    NOT NULL,
	year    INTEGER NOT NULL,
	value   INTEGER NOT NULL,
	PRIMARY KEY (kind, station, year)
) WITHOUT ROWID;

-- A cable row is written once and never updated. Times are Unix
-- microseconds in UTC.
CREATE TABLE cables (
	n              INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL UNIQUE,
	station        TEXT    NOT NULL,
	year           INTEGER NOT NULL,
	serial         INTEGER NOT NULL,
	dtg            INTEGER NOT NULL,
	precedence     INTEGER NOT NULL,
	classification INTEGER NOT NULL,
	caption_mask   INTEGER NOT NULL,
	captions       TEXT    NOT NULL,
	handling       TEXT    NOT NULL,
	tags           TEXT    NOT NULL,
	subject        TEXT    NOT NULL,
	body           BLOB    NOT NULL,
	sha256         TEXT    NOT NULL,
	cable_json     TEXT    NOT NULL,
	origin         TEXT    NOT NULL,
	stored_at      INTEGER NOT NULL,
	CHECK (serial >= 0)
);
-- Serials are unique per station and year; historical records of kinds
-- without a serial (memoranda of an edition) are filed under serial 0.
CREATE UNIQUE INDEX cables_serial ON cables (station, year, serial) WHERE serial > 0;
CREATE INDEX cables_station_dtg ON cables (station, dtg);
CREATE INDEX cables_dtg ON cables (dtg);

CREATE TABLE cable_tags (
	cable_id TEXT NOT NULL REFERENCES cables (id),
	tag      TEXT NOT NULL,
	PRIMARY KEY (tag, cable_id)
) WITHOUT ROWID;

-- References keep the identifiers they may resolve to, most likely first;
-- the first one held wins when the record is read.
CREATE TABLE cable_refs (
	cable_id TEXT    NOT NULL REFERENCES cables (id),
	ord      INTEGER NOT NULL,
	text     TEXT    NOT NULL,
	cand1    TEXT,
	cand2    TEXT,
	PRIMARY KEY (cable_id, ord)
) WITHOUT ROWID;
CREATE INDEX cable_refs_cand1 ON cable_refs (cand1);
CREATE INDEX cable_refs_cand2 ON cable_refs (cand2);

CREATE TABLE transmissions (
	cable_id    TEXT    NOT NULL REFERENCES cables (id),
	destination TEXT    NOT NULL,
	ord         INTEGER NOT NULL,
	state       TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'received')),
	queued_at   INTEGER NOT NULL,
	sent_at     INTEGER,
	received_at INTEGER,
	PRIMARY KEY (cable_id, destination)
) WITHOUT ROWID;
CREATE INDEX transmissions_queued ON transmissions (queued_at) WHERE state = 'queued';

CREATE TABLE receipts (
	cable_id       TEXT    NOT NULL REFERENCES cables (id),
	station        TEXT    NOT NULL,
	at             INTEGER NOT NULL,
	year           INTEGER NOT NULL,
	control_number TEXT    NOT NULL,
	action         TEXT    NOT NULL,
	info           TEXT    NOT NULL,
	PRIMARY KEY (cable_id, station),
	UNIQUE (station, year, control_number)
) WITHOUT ROWID;
CREATE INDEX receipts_station_at ON receipts (station, at);

-- The offices of each distribution, so that an inbox is an indexed query.
CREATE TABLE distribution_offices (
	cable_id TEXT NOT NULL,
	station  TEXT NOT NULL,
	office   TEXT NOT NULL,
	role     TEXT NOT NULL CHECK (role IN ('action', 'info')),
	PRIMARY KEY (station, office, cable_id),
	FOREIGN KEY (cable_id, station) REFERENCES receipts (cable_id, station)
) WITHOUT ROWID;
CREATE INDEX distribution_offices_cable ON distribution_offices (cable_id, station);

-- Full-text index over subject and text, its content read from cables.
CREATE VIRTUAL TABLE cables_fts USING fts5 (
	subject, body,
	content = 'cables', content_rowid = 'n',
	tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TABLE events (
	seq       INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	kind      TEXT    NOT NULL,
	cable_id  TEXT    NOT NULL,
	station   TEXT    NOT NULL,
	actor     TEXT    NOT NULL,
	detail    TEXT,
	prev_hash TEXT    NOT NULL,
	hash      TEXT    NOT NULL
);
CREATE INDEX events_cable ON events (cable_id, seq);
CREATE INDEX events_kind ON events (kind, seq);

-- The head of the event chain, so that a log cut short is detected too.
CREATE TABLE chain_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT    NOT NULL
);
INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	name          TEXT    NOT NULL UNIQUE,
	station       TEXT    NOT NULL,
	offices       TEXT    NOT NULL,
	clearance     INTEGER NOT NULL,
	captions      TEXT    NOT NULL,
	roles         TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
	hash       TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	csrf       TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens (user_id);
