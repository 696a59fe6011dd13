package cable

import (
	"context"
	"time"
)

// Record is a cable as the records hold it: the canonical text, its
// SHA-256, and everything appended beside it since.
type Record struct {
	// Cable is the cable as released. For a record read through
	// CableService, Received and Distribution are those of the reader's
	// station.
	Cable *Cable `json:"cable"`
	// Text is the canonical text form, byte for byte as released.
	Text []byte `json:"-"`
	// SHA256 is the hex SHA-256 of Text.
	SHA256 string `json:"sha256"`
	// Origin says how the record came in: released here, received over
	// the transport, or imported as a historical record.
	Origin Origin `json:"origin"`
	// StoredAt is when the record was first written at this node.
	StoredAt time.Time `json:"stored_at"`
	// Deliveries holds the receipt and distribution at each receiving
	// station whose receipt this node holds.
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// Transmissions is the state of each transmission from this node.
	Transmissions []TransmissionState `json:"transmissions,omitempty"`
	// AnsweredBy lists the identifiers of held cables that refer to this one.
	AnsweredBy []string `json:"answered_by,omitempty"`
}

// Origin says how a record came into the holding.
type Origin string

// Origins.
const (
	OriginReleased   Origin = "released"
	OriginReceived   Origin = "received"
	OriginHistorical Origin = "historical"
)

// Delivery is a cable's receipt and distribution at one station.
type Delivery struct {
	Station      string       `json:"station"`
	Receipt      Receipt      `json:"receipt"`
	Distribution Distribution `json:"distribution"`
}

// DeliveryFor returns the delivery at station, or nil.
func (r *Record) DeliveryFor(station string) *Delivery {
	for i := range r.Deliveries {
		if r.Deliveries[i].Station == station {
			return &r.Deliveries[i]
		}
	}
	return nil
}

// TransmissionState is the state of a cable's transmission to one station.
type TransmissionState struct {
	Destination string     `json:"destination"`
	State       string     `json:"state"` // queued, sent, received
	QueuedAt    time.Time  `json:"queued_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	ReceivedAt  *time.Time `json:"received_at,omitempty"`
	// Hop is the station that took custody from this node: the relay a
	// sent cable is in transit at, or the destination itself.
	Hop string `json:"hop,omitempty"`
	// ControlNumber is the destination's control number, from its receipt.
	ControlNumber string `json:"control_number,omitempty"`
	// OverdueAt is when the speed-of-service watch found the transmission
	// not received within its precedence's objective.
	OverdueAt *time.Time `json:"overdue_at,omitempty"`
}

// Overdue reports whether a transmission of precedence p not yet
// received has passed its speed-of-service objective at now.
func (s TransmissionState) Overdue(p Precedence, now time.Time) bool {
	return s.State != TransmissionReceived && (s.OverdueAt != nil || now.Sub(s.QueuedAt) > p.Objective())
}

// Describe says where the transmission is in the words of a sent list:
// "queued", "in transit at WAR", "received 1946-02-22 20:52Z, control
// 8963", "overdue, in transit at WAR".
func (s TransmissionState) Describe(p Precedence, now time.Time) string {
	var d string
	switch s.State {
	case TransmissionReceived:
		d = "received"
		if s.ReceivedAt != nil {
			d += " " + s.ReceivedAt.UTC().Format("2006-01-02 15:04Z")
		}
		if s.ControlNumber != "" {
			d += ", control " + s.ControlNumber
		}
		return d
	case TransmissionSent:
		switch s.Hop {
		case "": // in the originating station's own custody, no hop has it yet
			d = "queued"
		case s.Destination:
			d = "in transit to " + s.Hop
		default:
			d = "in transit at " + s.Hop
		}
	default:
		d = "queued"
	}
	if s.Overdue(p, now) {
		d = "overdue, " + d
	}
	return d
}

// Transmission states.
const (
	TransmissionQueued   = "queued"
	TransmissionSent     = "sent"
	TransmissionReceived = "received"
)

// Summary is a line of a cable list: enough to show precedence,
// classification and subject at a glance.
type Summary struct {
	ID             string         `json:"id"`
	Station        string         `json:"station"`
	Serial         int            `json:"serial"`
	DTG            time.Time      `json:"dtg"`
	Precedence     Precedence     `json:"precedence"`
	Classification Classification `json:"classification"`
	Captions       []Caption      `json:"captions,omitempty"`
	Handling       []Handling     `json:"handling,omitempty"`
	Tags           []string       `json:"tags,omitempty"`
	Subject        string         `json:"subject"`
	// Received and Distribution are those at the listing station, if any.
	Received     *Receipt      `json:"received,omitempty"`
	Distribution *Distribution `json:"distribution,omitempty"`
	// Role is the listing office's role (action or info) in an inbox.
	Role Role `json:"role,omitempty"`
	// Transmissions is filled in sent lists.
	Transmissions []TransmissionState `json:"transmissions,omitempty"`
	// Snippet is a highlighted extract for search hits.
	Snippet string `json:"snippet,omitempty"`
}

// CableFilter selects cables from the records. Every list is bounded by
// the reader's clearance and captions, so that a cable a person may not
// read is not in their lists or counts.
type CableFilter struct {
	// MaxClassification and CaptionMask bound what is listed: only cables
	// at or below the classification whose captions are all in the mask.
	MaxClassification Classification
	CaptionMask       int64

	// Station is the viewing station. With Office, the inbox of that
	// office: cables received at Station distributed to Office. With Sent,
	// the cables released by Station.
	Station string
	Office  string
	Sent    bool
	// Offices, when set instead of Office, lists cables sent by Station or
	// distributed at Station to any of these offices (search scope).
	Offices []string

	// Query is full-text search over subject and text.
	Query string
	// Precedence and Classification narrow the list when set.
	Precedence     Precedence
	Classification Classification
	Tag            string

	Offset, Limit int
}

// Event is an entry in the tamper-evident log: each event's hash covers
// the one before it.
type Event struct {
	Seq      int64          `json:"seq"`
	At       time.Time      `json:"at"`
	Kind     string         `json:"kind"`
	CableID  string         `json:"cable_id,omitempty"`
	Station  string         `json:"station,omitempty"`
	Actor    string         `json:"actor,omitempty"`
	Detail   map[string]any `json:"detail,omitempty"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash"`
}

// Event kinds.
const (
	EventReleased    = "released"
	EventTransmitted = "transmitted"
	EventReceived    = "received"
	EventDistributed = "distributed"
	EventRead        = "read"
	EventSecurity    = "security"
	EventUser        = "user"
	EventImported    = "imported"
	// EventDelivered records a receipt returned by a destination station.
	EventDelivered = "delivered"
	// EventOverdue is the speed-of-service alert: a transmission not
	// received within its precedence's objective.
	EventOverdue = "overdue"
	// EventAlert is an operator alert of the transport (back-pressure,
	// custody refused by a full relay).
	EventAlert = "alert"
)

// HistoricalRecord is a document written before the system existed,
// brought into the records from a scanned transcript or a documentary
// edition: a cable with its receipt and distribution as the paper shows
// them, or a record of another kind (memorandum, letter).
type HistoricalRecord struct {
	// Kind is telegram, memorandum, letter ...
	Kind string `json:"kind"`
	// Source says where it came from: "transcript" or "tei".
	Source string `json:"source"`
	// SourceID names the document in its source (a TEI xml:id).
	SourceID string `json:"source_id,omitempty"`
	// ID is the record's identifier: the cable identifier for telegrams,
	// "<volume>.<source id>" for other kinds.
	ID string `json:"id"`
	// Cable holds the fields read, with Received and Distribution when
	// the paper shows them.
	Cable *Cable `json:"cable"`
	// ReceivedAt names the receiving station of a telegram.
	ReceivedAt string `json:"received_at,omitempty"`
	// Details are what the source gives beside the cable's fields (route,
	// pages, declassification stamps, file code, footnotes), kept with the
	// record in the log.
	Details map[string]any `json:"details,omitempty"`
	// Warnings name what could not be read or was assumed.
	Warnings []string `json:"warnings,omitempty"`
}

// EventFilter selects events.
type EventFilter struct {
	CableID  string
	Kind     string
	AfterSeq int64
	Limit    int
}

// VerifyReport is the result of checking the records and the log.
type VerifyReport struct {
	Cables   int      `json:"cables"`
	Events   int      `json:"events"`
	Problems []string `json:"problems"`
}

// ReleaseRequest asks the records to release one cable. The store assigns
// the next serial of the cable's station for the year of its DTG, sets
// Serial and ID, renders the canonical text with Render and stores it with
// its hash, queues a transmission to every addressed station, and logs
// the release: all in one transaction, so a serial is never used twice nor
// skipped.
type ReleaseRequest struct {
	Cable  *Cable
	Render func(*Cable) ([]byte, error)
	Actor  string

	// Record is set by the store.
	Record *Record
}

// Arrival is a cable arriving at a receiving station.
type Arrival struct {
	// Station is the receiving station.
	Station string
	Cable   *Cable
	Text    []byte
	SHA256  string
	At      time.Time
	// Distribution is the routing rules' choice of offices.
	Distribution Distribution
	Origin       Origin
	// ControlNumber, when set, is the receipt's control number as the
	// record gives it (a historical telegram's "8963"); otherwise the store
	// allocates the station's next one.
	ControlNumber string

	// Receipt is set by the store: the new receipt, or the one held
	// already when Duplicate is true.
	Receipt   Receipt
	Duplicate bool
}

// Records is the records store. A released cable never changes; every
// later change is an event appended beside it.
type Records interface {
	// Release stores new cables, each with its next serial; see ReleaseRequest.
	Release(ctx context.Context, reqs []*ReleaseRequest) error
	// Receive stores arrivals: a receipt with the station's next control
	// number and the distribution, and the cable's text if this node does
	// not hold it. A cable already received at a station, or arriving
	// there earlier in the same batch, is stored once: the arrival is
	// marked Duplicate with the receipt held and nothing is written.
	Receive(ctx context.Context, arrivals []*Arrival) error
	// Cable returns the record with the identifier, or ENOTFOUND.
	Cable(ctx context.Context, id string) (*Record, error)
	// FindCables lists cables and counts all that match.
	FindCables(ctx context.Context, f CableFilter) ([]*Summary, int, error)
	// PendingTransmissions returns queued transmissions, most urgent first.
	PendingTransmissions(ctx context.Context, limit int) ([]*Transmission, error)
	// MarkTransmitted records that the transport has custody: a queued
	// transmission becomes sent, with the hop (Transmission.Hop) that took
	// it. The events (nil for none) are appended to the log in the same
	// transaction, so that the state and its record are written together
	// or not at all.
	MarkTransmitted(ctx context.Context, ts []*Transmission, at time.Time, events []*Event) error
	// RecordHops records where each transmission's cable has gone
	// (Transmission.Hop, when set), as a forwarder reports it: the hop of
	// a transmission not yet received is set, its state left as it is.
	// A forwarder may report one section of a cable whose others the
	// transport has not yet taken: such a transmission stays queued, to be
	// sent whole. One this node never queued is ENOTFOUND, and then
	// nothing of the batch is written.
	RecordHops(ctx context.Context, ts []*Transmission) error
	// MarkDelivered records receipts returned by destination stations: the
	// transmission of the receipt's cable to its station becomes received,
	// with the receipt's time and control number. A receipt already
	// recorded changes nothing; one for a transmission this node never
	// queued is ENOTFOUND. Events is nil or holds one event for each
	// receipt, in order (else EINVALID); the event of a receipt that
	// changes something is appended in the same transaction, that of a
	// receipt already recorded is not, so that a receipt sent again is
	// logged once.
	MarkDelivered(ctx context.Context, rs []*DeliveryReceipt, events []*Event) error
	// OverdueTransmissions returns up to limit transmissions not received
	// whose precedence's objective (Precedence.Objective) has passed by now
	// since they were queued, and not yet marked overdue, oldest first.
	OverdueTransmissions(ctx context.Context, now time.Time, limit int) ([]*Transmission, error)
	// MarkOverdue records that the speed-of-service watch raised its alert
	// for each transmission, at at. The events (the alerts) are appended in
	// the same transaction.
	MarkOverdue(ctx context.Context, ts []*Transmission, at time.Time, events []*Event) error

	// AppendEvents adds events to the log, setting Seq and hashes.
	AppendEvents(ctx context.Context, events []*Event) error
	// Events lists events in log order.
	Events(ctx context.Context, f EventFilter) ([]*Event, error)
	// Verify rehashes every record and the whole log.
	Verify(ctx context.Context) (*VerifyReport, error)

	// CreateUser adds a user with a password hash; ECONFLICT if the name is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UserByName returns the user and their password hash, or ENOTFOUND.
	UserByName(ctx context.Context, name string) (*User, string, error)
	// Users lists every user.
	Users(ctx context.Context) ([]*User, error)
	// CreateToken stores the hash of a bearer or session token.
	CreateToken(ctx context.Context, t *Token) error
	// UserByToken returns the user holding an unexpired token, or ENOTFOUND.
	UserByToken(ctx context.Context, hash string, now time.Time) (*User, *Token, error)
	// DeleteToken removes a token.
	DeleteToken(ctx context.Context, hash string) error

	// Close releases the store.
	Close() error
}

// Token is a bearer token or web session, stored by hash only.
type Token struct {
	Hash      string
	UserID    int64
	Kind      string // "api" or "session"
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	// CSRF is the session's anti-forgery token.
	CSRF string
}

// Token kinds.
const (
	TokenAPI     = "api"
	TokenSession = "session"
)

// Transmission is a cable handed to the transport for one destination.
type Transmission struct {
	CableID     string     `json:"cable_id"`
	Origin      string     `json:"origin"`
	Destination string     `json:"destination"`
	Precedence  Precedence `json:"precedence"`
	Text        []byte     `json:"-"`
	SHA256      string     `json:"sha256"`
	QueuedAt    time.Time  `json:"queued_at"`
	// Refused is set by a transport that received a message failing its
	// envelope checks (malformed headers, text not matching its hash): the
	// receiving centre records it as a security event and never stores it.
	Refused string `json:"refused,omitempty"`

	// Kind is KindCable (also when empty) or KindReceipt.
	Kind string `json:"kind,omitempty"`
	// Section and Sections number a section of a cable cut to fit the
	// channel: section 2 of 5. Both are zero for a cable sent whole.
	Section  int `json:"section,omitempty"`
	Sections int `json:"sections,omitempty"`
	// Hop is set by the transport's Send: the station that took custody.
	Hop string `json:"hop,omitempty"`
	// Route lists the stations that have held the transmission, origin first.
	Route []string `json:"route,omitempty"`
	// Incomplete is set by a transport that held some sections of a cable
	// past its section timeout without the rest: Text is empty and the
	// receiver decides whether the cable is a duplicate or truncated.
	Incomplete bool `json:"incomplete,omitempty"`
	// Later is set by a Receive handler that returns nil for a batch but
	// cannot take this transmission yet (signed under a key generation
	// not trusted yet): the transport keeps it in custody and hands it
	// over again after a delay, and the rest of the batch is done with.
	Later bool `json:"-"`
}

// Transport carries cables between message centres.
type Transport interface {
	// Send returns once the transport has durable custody of every
	// transmission.
	Send(ctx context.Context, ts []*Transmission) error
	// Receive delivers transmissions addressed to station to h, most
	// urgent precedence first, in batches; a batch is acknowledged only
	// after h returns nil and is redelivered otherwise. It blocks until
	// ctx is done.
	Receive(ctx context.Context, station string, h func(context.Context, []*Transmission) error) error
	// Forwarder: a station also relays what is in its custody for others.
	Forwarder
}

// TextForm reads and writes the canonical text form.
type TextForm interface {
	// Parse reads a released cable or, with draft, a draft without serial
	// and date-time group. Every problem is reported.
	Parse(text []byte, draft bool) (*Cable, error)
	// Render writes the canonical text form.
	Render(c *Cable) ([]byte, error)
	// Cut renders a released cable in numbered sections of at most limit
	// bytes each ("SECTION 01 OF 05"), or whole when it fits.
	Cut(c *Cable, limit int) ([][]byte, error)
	// Join puts the sections Cut wrote back together into the whole
	// cable's text; every section must be there.
	Join(parts [][]byte) ([]byte, error)
}

// CableService is what people do with cables. Every method checks the
// access policy: a cable the user may not read is ENOTFOUND.
type CableService interface {
	// Check validates a draft for user and names every problem.
	Check(ctx context.Context, u *User, draft *Cable) error
	// Release validates the draft, releases it and hands it to the transport.
	Release(ctx context.Context, u *User, draft *Cable) (*Record, error)
	// Cable returns a cable the user may read, and records the read.
	Cable(ctx context.Context, u *User, id string) (*Record, error)
	// Inbox lists cables distributed to one of the user's offices.
	Inbox(ctx context.Context, u *User, office string, f CableFilter) ([]*Summary, int, error)
	// Sent lists cables released by the user's station.
	Sent(ctx context.Context, u *User, f CableFilter) ([]*Summary, int, error)
	// Search finds cables the user may read.
	Search(ctx context.Context, u *User, f CableFilter) ([]*Summary, int, error)
}

// UserService signs people in.
type UserService interface {
	// Authenticate checks a name and password; EUNAUTHORIZED otherwise.
	Authenticate(ctx context.Context, name, password string) (*User, error)
	// CreateSession starts a web session, returning its token and CSRF token.
	CreateSession(ctx context.Context, u *User) (token, csrf string, err error)
	// UserBySession returns the user of a session and its CSRF token.
	UserBySession(ctx context.Context, token string) (*User, string, error)
	// EndSession ends a session.
	EndSession(ctx context.Context, token string) error
	// UserByToken returns the user of an API bearer token.
	UserByToken(ctx context.Context, token string) (*User, error)
}

// Importers rebuild historical records from their sources.
type Importers interface {
	// Transcript rebuilds a telegram from the page-by-page transcript of
	// its scan.
	Transcript(src []byte) (*HistoricalRecord, error)
	// TEI reads every document of a documentary edition's TEI volume,
	// returning the records it could read and a problem for each document
	// it could not (Field names the document).
	TEI(src []byte) ([]*HistoricalRecord, []Problem, error)
}

// ArchiveService files historical records into the holding.
type ArchiveService interface {
	// FileHistorical files a record for an archivist; ECONFLICT if the
	// holding has it already.
	FileHistorical(ctx context.Context, u *User, r *HistoricalRecord) (*Record, error)
}
