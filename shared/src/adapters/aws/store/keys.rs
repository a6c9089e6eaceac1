//! The single-table key design (docs/dynamodb-keys.md explains it): how each item's keys and
//! index attributes are spelled. `provision::create_table` makes a table with exactly these.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use crate::domain::apikey::KeyHash;
use crate::domain::message::RETENTION;
use crate::domain::{InvoiceId, KeyId, MessageId, Month, OrgId, PhoneNumber};

pub const PK: &str = "PK";
pub const SK: &str = "SK";

/// A global secondary index: its name and key attributes (all strings).
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// The owner index: a practice's messages by id (= time), a practice's API keys, all practices.
pub const GSI1: Index = Index {
    name: "GSI1",
    pk: "GSI1PK",
    sk: "GSI1SK",
};
/// Sparse: work still owed, one partition per kind: messages the dispatcher owes (`pending`,
/// `queued`) by id, replies not yet forwarded by id, parts of long SMS not yet assembled by
/// the time they came.
pub const GSI2: Index = Index {
    name: "GSI2",
    pk: "GSI2PK",
    sk: "GSI2SK",
};
/// Sparse: messages waiting for a final report (`sent`, `buffered`), by the time they were sent.
pub const GSI3: Index = Index {
    name: "GSI3",
    pk: "GSI3PK",
    sk: "GSI3SK",
};

/// The TTL attribute, epoch seconds, on every item that holds personal data past retention
/// (opt-outs carry none: they stand until lifted).
pub const EXPIRES_AT: &str = "expires_at";

/// The one value of `GSI2PK` and `GSI3PK`. A single partition per index is fine at the volume
/// of a dental-practice gateway (well below 1000 writes/s); shard the value if that changes.
pub const OPEN: &str = "OPEN";
/// `GSI2PK` of replies not yet forwarded to their practice; `GSI2SK` is the reply id.
pub const UNFORWARDED: &str = "UNFORWARDED";
/// `GSI2PK` of reply parts not yet assembled; `GSI2SK` is when the part came.
pub const OPEN_PARTS: &str = "PARTS";
pub const AWAITING_REPORT: &str = "SENT";
/// `GSI1PK` of every practice item, so `list_orgs` is a query rather than a scan.
pub const ALL_ORGS: &str = "ORGS";

pub const SK_ORG: &str = "ORG";
pub const SK_KEY: &str = "KEY";
pub const SK_KEY_ID: &str = "KEYID";
pub const SK_IDEMPOTENCY: &str = "IDEM";
pub const SK_MESSAGE: &str = "MSG";
pub const SK_CARRIER_REF: &str = "CREF";
pub const SK_REPLY_NUMBER: &str = "REPLYNUM";
pub const SK_REPLY: &str = "REPLY";
pub const SK_LATEST_SENT: &str = "LAST";
/// Reply parts share their SMS's partition; the sort key is this prefix and the part's id.
pub const SK_PART_PREFIX: &str = "PART#";

pub fn org_pk(id: OrgId) -> String {
    format!("ORG#{id}")
}

pub fn key_pk(hash: &KeyHash) -> String {
    format!("KEY#{}", hash.as_str())
}

/// The pointer from a key's id to its hash, which is what revoking by id needs.
pub fn key_id_pk(id: KeyId) -> String {
    format!("KEYID#{id}")
}

/// `GSI1PK` of a practice's API keys.
pub fn org_keys(org: OrgId) -> String {
    format!("KEYS#{org}")
}

/// The org id is a fixed-length ULID, so whatever the client's key contains, the split is
/// unambiguous.
pub fn idempotency_pk(org: OrgId, key: &str) -> String {
    format!("IDEM#{org}#{key}")
}

pub fn message_pk(id: MessageId) -> String {
    format!("MSG#{id}")
}

/// The message id in a message item's `PK` (what a keys-only index entry carries).
pub fn message_id_in_pk(pk: &str) -> Option<MessageId> {
    MessageId::parse(pk.strip_prefix("MSG#")?).ok()
}

/// `GSI1PK` of a practice's messages; `GSI1SK` is the message id.
pub fn org_messages(org: OrgId) -> String {
    format!("ORG#{org}")
}

/// Carrier names are ours and never contain `#`; the item also holds both parts, and a lookup
/// compares them, so even a `#` could not make two references collide.
pub fn carrier_ref_pk(carrier: &str, carrier_ref: &str) -> String {
    format!("CREF#{carrier}#{carrier_ref}")
}

/// A practice's count of SMS accepted on one of its local days (`YYYY-MM-DD`).
pub fn daily_count_pk(org: OrgId, day: chrono::NaiveDate) -> String {
    format!("DAILY#{org}#{day}")
}

pub const SK_DAILY_COUNT: &str = "DAILY";

/// A practice's API requests in one minute (Unix minute), for the per-practice rate limit.
pub fn request_count_pk(org: OrgId, minute: i64) -> String {
    format!("RATE#{org}#{minute}")
}

pub const SK_REQUEST_COUNT: &str = "RATE";

/// A delivery report kept for a carrier reference not recorded yet; its sort key is the
/// reported status, so a resent report is one failed conditional put.
pub fn early_report_pk(carrier: &str, carrier_ref: &str) -> String {
    format!("EARLY#{carrier}#{carrier_ref}")
}

/// The pointer from a reply number (E.164) to the one practice that has it.
pub fn reply_number_pk(number: &PhoneNumber) -> String {
    format!("REPLYNUM#{}", number.as_str())
}

/// A reply is keyed by the carrier's id for it, so storing it is one conditional put that a
/// resent webhook fails. Carrier names never contain `#` (as for `CREF`).
pub fn reply_pk(carrier: &str, carrier_ref: &str) -> String {
    format!("REPLY#{carrier}#{carrier_ref}")
}

/// The partition of one long SMS's parts: what they share. Phones reuse a reference, so
/// closed parts of an older SMS may be there too; readers skip them.
pub fn reply_parts_pk(
    carrier: &str,
    from: &PhoneNumber,
    to: &PhoneNumber,
    reference: &str,
) -> String {
    format!(
        "RPART#{carrier}#{}#{}#{reference}",
        from.as_str(),
        to.as_str()
    )
}

/// `GSI1PK` of a practice's replies; `GSI1SK` is the reply id.
pub fn org_replies(org: OrgId) -> String {
    format!("REPLIES#{org}")
}

/// The partition of a practice's opt-outs; each item's `SK` is the number (E.164), so one
/// number is a `GetItem` and all of them one consistent `Query`.
pub fn opt_outs_pk(org: OrgId) -> String {
    format!("OPTOUT#{org}")
}

/// `GSI1PK` of a practice's opt-outs; `GSI1SK` is the opt-out id, so listing is newest first.
pub fn org_opt_outs(org: OrgId) -> String {
    format!("OPTOUTS#{org}")
}

/// The pointer to a practice's latest message handed to a carrier for one number.
pub fn latest_sent_pk(org: OrgId, to: &PhoneNumber) -> String {
    format!("LAST#{org}#{}", to.as_str())
}

/// A practice's usage of one day (UTC), in the practice's partition (`ORG#…`): the sort key
/// is this prefix and the date, so a month is a `BETWEEN` on the sort key.
pub const SK_USAGE_PREFIX: &str = "USAGE#";

pub fn usage_sk(day: NaiveDate) -> String {
    format!("{SK_USAGE_PREFIX}{day}")
}

/// A practice's invoice of one month, in the practice's partition: the key itself is the
/// rule "one invoice per practice and month".
pub const SK_INVOICE_PREFIX: &str = "INVOICE#";

pub fn invoice_sk(month: Month) -> String {
    format!("{SK_INVOICE_PREFIX}{month}")
}

/// The pointer from an invoice's id to its practice and month.
pub fn invoice_pk(id: InvoiceId) -> String {
    format!("INVOICE#{id}")
}

pub const SK_INVOICE: &str = "INVOICE";

/// The last invoice number of a year.
pub fn invoice_counter_pk(year: i32) -> String {
    format!("INVOICENO#{year}")
}

pub const SK_COUNTER: &str = "COUNTER";

/// Times are stored as RFC 3339 UTC with milliseconds: fixed width (for years 1000–9999), so
/// string order is time order and key conditions and `<` comparisons work on them.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// When DynamoDB's TTL may delete an item created at `created_at` (epoch seconds).
pub fn expires_at(created_at: DateTime<Utc>) -> i64 {
    (created_at + RETENTION).timestamp()
}
