//! The SQLite schema: one table per kind of record, practices as JSON documents, and the indexes
//! the store's queries need. `SqliteStore::open` creates whatever is missing.

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS orgs (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
-- Inbound SMS find their practice by its reply number, which only one practice may have.
CREATE UNIQUE INDEX IF NOT EXISTS orgs_by_reply_number
    ON orgs (json_extract(doc, '$.reply_number'))
    WHERE json_extract(doc, '$.reply_number') IS NOT NULL;
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    org_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    to_number TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    reference TEXT,
    encoding TEXT NOT NULL,
    segments INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    carrier TEXT,
    carrier_ref TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0,
    hold_until INTEGER NOT NULL DEFAULT 0,
    history TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_org ON messages (org_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_carrier_ref
    ON messages (carrier, carrier_ref) WHERE carrier_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS messages_open
    ON messages (status) WHERE status IN ('pending', 'queued', 'sent', 'buffered');
-- What a reply answers: a practice's latest message to the patient's number.
CREATE INDEX IF NOT EXISTS messages_by_recipient ON messages (org_id, to_number, id);
CREATE TABLE IF NOT EXISTS replies (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    carrier TEXT NOT NULL,
    carrier_ref TEXT NOT NULL,
    in_reply_to TEXT,
    forwarded_at INTEGER,
    forward_lease_until INTEGER NOT NULL DEFAULT 0,
    UNIQUE (carrier, carrier_ref)
);
CREATE INDEX IF NOT EXISTS replies_by_org ON replies (org_id, id);
-- The parts of long SMS, kept after assembly (closed) so that a resent part stays a duplicate.
CREATE TABLE IF NOT EXISTS reply_parts (
    carrier TEXT NOT NULL,
    carrier_ref TEXT NOT NULL,
    org_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    to_number TEXT NOT NULL,
    reference TEXT NOT NULL,
    part INTEGER NOT NULL,
    total INTEGER NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (carrier, carrier_ref)
);
CREATE INDEX IF NOT EXISTS reply_parts_open
    ON reply_parts (carrier, from_number, to_number, reference) WHERE closed = 0;
CREATE INDEX IF NOT EXISTS reply_parts_by_age ON reply_parts (received_at) WHERE closed = 0;
-- What practices used, per day (UTC); added to in the transaction that moves a message to
-- `sent`, kept for good (invoices are made from it; no personal data).
CREATE TABLE IF NOT EXISTS usage (
    org_id TEXT NOT NULL,
    day TEXT NOT NULL,
    parts INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (org_id, day)
);
-- The last invoice number of each year.
CREATE TABLE IF NOT EXISTS invoice_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);
-- Never purged and never rewritten (but for `delivered_at`): retention is ten years.
CREATE TABLE IF NOT EXISTS invoices (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    month TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    doc TEXT NOT NULL,
    delivered_at INTEGER,
    UNIQUE (org_id, month)
);
-- A number that opted out of one practice's SMS. No text, and no time limit: the purge of
-- data past 60 days leaves these alone.
CREATE TABLE IF NOT EXISTS opt_outs (
    org_id TEXT NOT NULL,
    number TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    since INTEGER NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (org_id, number)
);
CREATE INDEX IF NOT EXISTS opt_outs_by_org ON opt_outs (org_id, id);
-- SMS accepted per practice and local day, for the daily cap.
CREATE TABLE IF NOT EXISTS daily_counts (
    org_id TEXT NOT NULL,
    day TEXT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (org_id, day)
);
-- Delivery reports that came before the dispatcher recorded the carrier's reference; read by
-- the dispatcher after it writes `sent`, ignored after a few hours, purged with the rest.
CREATE TABLE IF NOT EXISTS early_reports (
    carrier TEXT NOT NULL,
    carrier_ref TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (carrier, carrier_ref, status)
);
"#;

/// What a database made before forwarding existed lacks. Its replies were never e-mailed and
/// are not now (a DynamoDB reply of that time is not in the unforwarded index either): they
/// count as forwarded when they were received.
pub(super) const FORWARDING_COLUMNS: &str = "
ALTER TABLE replies ADD COLUMN forwarded_at INTEGER;
ALTER TABLE replies ADD COLUMN forward_lease_until INTEGER NOT NULL DEFAULT 0;
UPDATE replies SET forwarded_at = received_at;
";

/// What a database made before the sweeper existed lacks: its hold on a message it enqueued
/// again (none held yet).
pub(super) const HOLD_COLUMN: &str =
    "ALTER TABLE messages ADD COLUMN hold_until INTEGER NOT NULL DEFAULT 0;";

/// Replies still to be e-mailed, for the sweep; created after the columns exist.
pub(super) const FORWARDING_INDEX: &str = "
CREATE INDEX IF NOT EXISTS replies_unforwarded ON replies (id) WHERE forwarded_at IS NULL;
";
