-- Counters hand out gapless numbers: serials per (station, year of DTG)
-- and control numbers per (receiving station, year of receipt).
CREATE TABLE counters (
	kind    text    NOT NULL,
	station text    NOT NULL,
	year    integer NOT NULL,
	value   bigint  NOT NULL,
	PRIMARY KEY (kind, station, year)
);

-- A cable row is written once and never updated. search_text is the text
-- as valid UTF-8 without NUL, for the full-text index and headlines.
CREATE TABLE cables (
	n              bigserial   NOT NULL UNIQUE,
	id             text        PRIMARY KEY,
	station        text        NOT NULL,
	year           integer     NOT NULL,
	serial         integer     NOT NULL,
	dtg            timestamptz NOT NULL,
	precedence     smallint    NOT NULL,
	classification smallint    NOT NULL,
	caption_mask   bigint      NOT NULL,
	captions       text        NOT NULL,
	handling       text        NOT NULL,
	tags           text        NOT NULL,
	subject        text        NOT NULL,
	body           bytea       NOT NULL,
	sha256         text        NOT NULL,
	cable_json     text        NOT NULL,
	origin         text        NOT NULL,
	stored_at      timestamptz NOT NULL,
	search_text    text        NOT NULL,
	tsv            tsvector    GENERATED ALWAYS AS (
		setweight(to_tsvector('english'::regconfig, subject), 'A') ||
		setweight(to_tsvector('english'::regconfig, search_text), 'B')) STORED,
	CHECK (serial >= 0)
);
-- Serials are unique per station and year; historical records of kinds
-- without a serial (memoranda of an edition) are filed under serial 0.
CREATE UNIQUE INDEX cables_serial ON cables (station, year, serial) WHERE serial > 0;
CREATE INDEX cables_station_dtg ON cables (station, dtg);
CREATE INDEX cables_dtg ON cables (dtg);
CREATE INDEX cables_tsv ON cables USING gin (tsv);

CREATE TABLE cable_tags (
	cable_id text NOT NULL REFERENCES cables (id),
	tag      text NOT NULL,
	PRIMARY KEY (tag, cable_id)
);

-- References keep the identifiers they may resolve to, most likely first;
-- the first one held wins when the record is read.
CREATE TABLE cable_refs (
	cable_id text    NOT NULL REFERENCES cables (id),
	ord      integer NOT NULL,
	text     text    NOT NULL,
	cand1    text,
	cand2    text,
	PRIMARY KEY (cable_id, ord)
);
CREATE INDEX cable_refs_cand1 ON cable_refs (cand1);
CREATE INDEX cable_refs_cand2 ON cable_refs (cand2);

CREATE TABLE transmissions (
	cable_id    text        NOT NULL REFERENCES cables (id),
	destination text        NOT NULL,
	ord         integer     NOT NULL,
	state       text        NOT NULL CHECK (state IN ('queued', 'sent', 'received')),
	queued_at   timestamptz NOT NULL,
	sent_at     timestamptz,
	received_at timestamptz,
	PRIMARY KEY (cable_id, destination)
);
CREATE INDEX transmissions_queued ON transmissions (queued_at) WHERE state = 'queued';

CREATE TABLE receipts (
	cable_id       text        NOT NULL REFERENCES cables (id),
	station        text        NOT NULL,
	at             timestamptz NOT NULL,
	year           integer     NOT NULL,
	control_number text        NOT NULL,
	action         text        NOT NULL,
	info           text        NOT NULL,
	PRIMARY KEY (cable_id, station),
	UNIQUE (station, year, control_number)
);
CREATE INDEX receipts_station_at ON receipts (station, at);

-- The offices of each distribution, so that an inbox is an indexed query.
CREATE TABLE distribution_offices (
	cable_id text NOT NULL,
	station  text NOT NULL,
	office   text NOT NULL,
	role     text NOT NULL CHECK (role IN ('action', 'info')),
	PRIMARY KEY (station, office, cable_id),
	FOREIGN KEY (cable_id, station) REFERENCES receipts (cable_id, station)
);
CREATE INDEX distribution_offices_cable ON distribution_offices (cable_id, station);

CREATE TABLE events (
	seq       bigint      PRIMARY KEY,
	at        timestamptz NOT NULL,
	kind      text        NOT NULL,
	cable_id  text        NOT NULL,
	station   text        NOT NULL,
	actor     text        NOT NULL,
	detail    text,
	prev_hash text        NOT NULL,
	hash      text        NOT NULL
);
CREATE INDEX events_cable ON events (cable_id, seq);
CREATE INDEX events_kind ON events (kind, seq);

-- The head of the event chain: appends lock this row, so the chain never
-- forks, and a log cut short is detected.
CREATE TABLE chain_head (
	id   integer PRIMARY KEY CHECK (id = 1),
	seq  bigint  NOT NULL,
	hash text    NOT NULL
);
INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE users (
	id            bigserial   PRIMARY KEY,
	name          text        NOT NULL UNIQUE,
	station       text        NOT NULL,
	offices       text        NOT NULL,
	clearance     smallint    NOT NULL,
	captions      text        NOT NULL,
	roles         text        NOT NULL,
	password_hash text        NOT NULL,
	created_at    timestamptz NOT NULL
);

CREATE TABLE tokens (
	hash       text        PRIMARY KEY,
	user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind       text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz,
	csrf       text        NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id);
