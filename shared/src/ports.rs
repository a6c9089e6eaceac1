//! The ports: what the handlers need from the outside world, as traits. Each has an AWS
//! implementation (production) and an embedded one (local stack), chosen at start-up.

use std::sync::Arc;
use std::time::Duration;

pub mod accounts;
pub use accounts::Accounts;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::apikey::{ApiKeyRecord, KeyHash};
use crate::domain::invoice::{DailyUsage, Invoice, NewInvoice};
use crate::domain::message::{EarlyReport, Message, Transition};
use crate::domain::optout::OptOut;
use crate::domain::org::{Org, OrgChanges};
use crate::domain::reply::{Reply, ReplyPart};
use crate::domain::{
    InvoiceId, KeyId, MessageId, Month, OptOutId, OrgId, PhoneNumber, Reason, ReplyId, SenderId,
    Status,
};

/// Failures of a backend. `Conflict` is a conditional write that lost (a normal outcome under
/// retries); `Unavailable` is worth retrying; `Corrupt` means stored data no longer parses.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type PortResult<T> = Result<T, PortError>;

/// An `Idempotency-Key` as first seen: later requests with the same key replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub org_id: OrgId,
    pub key: String,
    /// SHA-256 of the request body, so a reused key with another body is caught.
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new and is now recorded.
    Fresh,
    /// The key was seen before; this is the first record.
    Seen(IdempotencyRecord),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub status: Option<Status>,
    /// Inclusive lower bound on creation time; callers clamp it to the retention cutoff.
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    /// Continue after (older than) this id.
    pub after: Option<MessageId>,
    pub limit: usize,
}

/// A window of a practice's replies, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyQuery {
    /// Inclusive lower bound on the time received; callers clamp it to the retention cutoff.
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    /// Continue after (older than) this id.
    pub after: Option<ReplyId>,
    pub limit: usize,
}

/// A page of a practice's opt-outs, newest first. Opt-outs do not expire, so there is no
/// time window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptOutQuery {
    /// Continue after (older than) this one.
    pub after: Option<OptOutId>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, Cursor = MessageId> {
    pub items: Vec<T>,
    /// Where the next page starts, if there may be one.
    pub next: Option<Cursor>,
}

impl<T, Cursor> Page<T, Cursor> {
    /// No items and nothing after them.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next: None,
        }
    }

    /// A page from up to `limit + 1` items read newest first: an item beyond `limit` only
    /// says that there is more, and the last item kept is where the next page continues.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> Cursor) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor)
        } else {
            None
        };
        Page { items, next }
    }
}

/// What storing a month's invoice found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceCreated {
    /// Stored now, with the next number of its year.
    New(Invoice),
    /// The practice has its invoice for that month already: this one, unchanged.
    Existing(Invoice),
}

impl InvoiceCreated {
    pub fn invoice(&self) -> &Invoice {
        match self {
            InvoiceCreated::New(i) | InvoiceCreated::Existing(i) => i,
        }
    }
}

#[async_trait]
pub trait Store: Send + Sync {
    /// `Conflict` if the id exists, or another practice has the same reply number (inbound
    /// SMS to it must lead to exactly one practice).
    async fn create_org(&self, org: &Org) -> PortResult<()>;
    async fn get_org(&self, id: OrgId) -> PortResult<Option<Org>>;
    async fn list_orgs(&self) -> PortResult<Vec<Org>>;
    /// The practice whose reply number `number` is.
    async fn find_org_by_reply_number(&self, number: &PhoneNumber) -> PortResult<Option<Org>>;
    /// Changes a practice's settings and returns it as it is now; `None` if there is no such
    /// practice. A reply number another practice has is `Conflict`, and then nothing changes.
    async fn update_org(&self, id: OrgId, changes: &OrgChanges) -> PortResult<Option<Org>>;

    async fn put_api_key(&self, key: &ApiKeyRecord) -> PortResult<()>;
    async fn find_api_key(&self, hash: &KeyHash) -> PortResult<Option<ApiKeyRecord>>;
    async fn list_api_keys(&self, org: OrgId) -> PortResult<Vec<ApiKeyRecord>>;
    /// Marks a key revoked; false if there is no such key or it was revoked already.
    async fn revoke_api_key(&self, id: KeyId, at: DateTime<Utc>) -> PortResult<bool>;

    /// Records an idempotency key unless one exists (a conditional put).
    async fn claim_idempotency_key(
        &self,
        record: &IdempotencyRecord,
    ) -> PortResult<IdempotencyClaim>;

    /// Adds `n` SMS to `org`'s count for its local `day` unless the count would pass `cap`: one
    /// conditional write, so a batch fits whole or is refused whole (and then counts nothing).
    /// True if it was counted.
    async fn count_daily(&self, org: OrgId, day: NaiveDate, n: u32, cap: u32) -> PortResult<bool>;
    /// Counts one API request of `org` in the minute (UTC) of `at` unless it made `limit`
    /// there already: one conditional write, so concurrent requests never pass the limit
    /// together. True if it was counted. The counts are not data: they may vanish any time
    /// after their minute.
    async fn count_request(&self, org: OrgId, at: DateTime<Utc>, limit: u32) -> PortResult<bool>;

    /// Stores new messages; a message whose id exists already is left as it is, so a retried
    /// request writes nothing twice. Returns how many were new.
    async fn insert_messages(&self, messages: &[Message]) -> PortResult<usize>;
    async fn get_message(&self, id: MessageId) -> PortResult<Option<Message>>;
    async fn get_messages(&self, ids: &[MessageId]) -> PortResult<Vec<Message>>;
    /// A practice's messages, newest first.
    async fn list_messages(&self, org: OrgId, query: &ListQuery) -> PortResult<Page<Message>>;

    /// Applies a status move if the message is in one of `t.from()`; false if it is not (late or
    /// duplicate event). Appends to the history in the same write. A move to `sent` (the
    /// carrier took the message) also adds the message's parts to its practice's usage of
    /// that day (UTC), in the same transaction: a message is counted once, however often its
    /// move is tried.
    async fn apply(&self, t: &Transition) -> PortResult<bool>;
    /// Takes a message for dispatch: `pending` → `queued`, or a `queued` one whose lease ran out
    /// (its dispatcher died). Returns the message if this caller now holds it.
    async fn claim_for_dispatch(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<Option<Message>>;
    /// Gives a claim back early so the next delivery of the job may take it at once.
    async fn release_claim(&self, id: MessageId) -> PortResult<()>;
    async fn find_by_carrier_ref(
        &self,
        carrier: &str,
        carrier_ref: &str,
    ) -> PortResult<Option<MessageId>>;
    /// Keeps a delivery report for a carrier reference no message has yet, for
    /// `EARLY_REPORT_TTL`; the same carrier, reference and status is kept once (a resent
    /// report adds nothing).
    async fn park_report(&self, report: &EarlyReport) -> PortResult<()>;
    /// The reports kept for `carrier`/`carrier_ref` that were received at or after `since`,
    /// read consistently: a report parked a moment ago is seen.
    async fn parked_reports(
        &self,
        carrier: &str,
        carrier_ref: &str,
        since: DateTime<Utc>,
    ) -> PortResult<Vec<EarlyReport>>;

    /// The newest message (by id) of `org` to `to` that was handed to a carrier (it has a
    /// `sent_at`) and was created at or after `since`: what a reply from `to` answers.
    async fn latest_sent_to(
        &self,
        org: OrgId,
        to: &PhoneNumber,
        since: DateTime<Utc>,
    ) -> PortResult<Option<MessageId>>;

    /// Stores a reply unless one with the same carrier and carrier id exists (carriers resend
    /// webhooks): a conditional write. True if it was new.
    async fn insert_reply(&self, reply: &Reply) -> PortResult<bool>;
    /// A practice's replies, newest first.
    async fn list_replies(
        &self,
        org: OrgId,
        query: &ReplyQuery,
    ) -> PortResult<Page<Reply, ReplyId>>;

    /// Replies not yet forwarded to their practice, oldest first: the ones a sweep retries.
    async fn unforwarded_replies(&self) -> PortResult<Vec<Reply>>;
    /// Takes the right to forward `reply` (found by its carrier and carrier id) until
    /// `lease_until`: a conditional write that holds only while the reply is not forwarded and
    /// nobody else holds an unexpired lease on it. True if this caller holds it now.
    async fn claim_forwarding(
        &self,
        reply: &Reply,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> PortResult<bool>;
    /// Gives a lease back early (the mailer failed), so the next try need not wait it out.
    async fn release_forwarding(&self, reply: &Reply) -> PortResult<()>;
    /// Records that the mailer took `reply` at `at`; false if that was recorded already.
    async fn mark_forwarded(&self, reply: &Reply, at: DateTime<Utc>) -> PortResult<bool>;

    /// Stores one part of a long SMS unless it is stored already (keyed by its carrier and the
    /// carrier's id of the part: a resent webhook). True if it was new.
    async fn insert_reply_part(&self, part: &ReplyPart) -> PortResult<bool>;
    /// The parts not yet assembled of the SMS `part` belongs to (same carrier, sender, reply
    /// number and reference), `part` included once stored. Sees every part stored before it
    /// is called, so of two webhooks storing the last parts at once, one sees them all.
    async fn open_reply_parts(&self, part: &ReplyPart) -> PortResult<Vec<ReplyPart>>;
    /// Parts not yet assembled that were received before `before`: SMS whose missing parts
    /// are given up on.
    async fn stale_reply_parts(&self, before: DateTime<Utc>) -> PortResult<Vec<ReplyPart>>;
    /// Marks parts assembled: they leave the open parts for good (a resent one stays a
    /// duplicate; a new SMS that reuses the reference starts afresh).
    async fn close_reply_parts(&self, parts: &[ReplyPart]) -> PortResult<()>;
    /// Records that `o.number` opted out of `o.org_id`'s SMS, unless it has already (the first
    /// opt-out stands): a conditional write. True if it is new.
    async fn record_opt_out(&self, o: &OptOut) -> PortResult<bool>;
    /// Lifts `number`'s opt-out of `org`'s SMS; false if there was none.
    async fn lift_opt_out(&self, org: OrgId, number: &PhoneNumber) -> PortResult<bool>;
    /// Which of `numbers` opted out of `org`'s SMS: each such number once, in no order. Read
    /// consistently, so an opt-out just recorded is seen.
    async fn opted_out(&self, org: OrgId, numbers: &[PhoneNumber]) -> PortResult<Vec<PhoneNumber>>;
    /// A practice's opt-outs, newest first.
    async fn list_opt_outs(
        &self,
        org: OrgId,
        query: &OptOutQuery,
    ) -> PortResult<Page<OptOut, OptOutId>>;

    /// A practice's usage in `month`, one entry per day with any; kept for good (not personal
    /// data, and what invoices are made from).
    async fn usage(&self, org: OrgId, month: Month) -> PortResult<Vec<DailyUsage>>;
    /// Stores the practice's invoice for its month unless it has one: the next number of the
    /// invoice's year (of `created_at`) and the invoice in one transaction, each conditional
    /// (the counter on the value read, the invoice on (practice, month) being free), so
    /// numbers are neither used twice nor skipped, and a re-run or a concurrent run stores
    /// nothing twice.
    async fn create_invoice(&self, invoice: &NewInvoice) -> PortResult<InvoiceCreated>;
    async fn get_invoice(&self, id: InvoiceId) -> PortResult<Option<Invoice>>;
    /// A practice's invoices, newest month first.
    async fn list_invoices(&self, org: OrgId) -> PortResult<Vec<Invoice>>;
    /// Records that the invoice's PDF is stored and its e-mail handed over; false if that was
    /// recorded already. The only change a stored invoice ever sees.
    async fn mark_invoice_delivered(&self, id: InvoiceId, at: DateTime<Utc>) -> PortResult<bool>;

    /// Messages that are accepted but not yet handed to a carrier (embedded recovery at start).
    async fn unfinished(&self) -> PortResult<Vec<MessageId>>;
    /// Messages accepted before `created_before` that are still `pending` or `queued`, with no
    /// live lease nor sweeper's hold at `now`: their job was lost (the API failed between storing and
    /// enqueueing, or the job went to the dead-letter queue). Oldest first.
    async fn stranded(
        &self,
        created_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> PortResult<Vec<MessageId>>;
    /// Marks a stranded message as enqueued again by the sweeper until `until`: a conditional
    /// write that holds only while it is `pending` or `queued`, nobody holds a live lease on it
    /// and no sweep holds it, so of two sweeps one enqueues it, and later sweeps leave it alone
    /// until the hold ends (a backlog in the queue is not mistaken for lost jobs again and
    /// again). The hold is apart from the dispatcher's lease: a dispatcher claims a held
    /// message at once. Returns the status it was held in.
    async fn hold_for_requeue(
        &self,
        id: MessageId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> PortResult<Option<Status>>;
    /// Writes `undelivered`/`expired` for messages without a final report 72 h after sending.
    async fn expire_overdue(&self, now: DateTime<Utc>) -> PortResult<usize>;
    /// Deletes personal data older than `cutoff` (what DynamoDB's TTL does on AWS); returns
    /// how many messages and replies went (reply parts and keys go too, uncounted). Opt-outs
    /// stay: they do not expire.
    async fn purge_before(&self, cutoff: DateTime<Utc>) -> PortResult<usize>;
}

/// Hands message ids to the dispatcher. At-least-once: a job may arrive twice.
#[async_trait]
pub trait Queue: Send + Sync {
    async fn enqueue(&self, ids: &[MessageId]) -> PortResult<()>;
    /// Enqueues again after `delay` (a transient carrier failure).
    async fn enqueue_later(&self, id: MessageId, delay: Duration) -> PortResult<()>;
}

/// Hands out the month's invoice jobs, one per practice, to the workers that make them.
/// At-least-once: a job may arrive twice (making an invoice is idempotent).
#[async_trait]
pub trait InvoiceJobs: Send + Sync {
    async fn enqueue_invoices(&self, month: Month, orgs: &[OrgId]) -> PortResult<()>;
}

/// What a carrier needs to send one SMS.
#[derive(Debug, Clone)]
pub struct OutboundSms<'a> {
    pub id: MessageId,
    pub to: &'a PhoneNumber,
    pub sender: &'a SenderId,
    pub text: &'a str,
    pub segments: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The name of the carrier that took the message (with failover, not always the primary);
    /// its delivery reports arrive under that name.
    pub carrier: String,
    /// The carrier's id of the message; `None` when it answered that it had taken this very
    /// message already (seven.io's reload lock) without naming it again.
    pub carrier_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// Worth trying again later (network, 5xx, carrier overloaded).
    #[error("transient carrier failure: {0}")]
    Transient(String),
    /// The carrier will never take this message.
    #[error("carrier refused the message: {detail}")]
    Permanent { reason: Reason, detail: String },
    /// Our side is misconfigured (credentials, credit): not the practice's fault, retried.
    #[error("carrier account problem: {0}")]
    Operator(String),
}

#[async_trait]
pub trait Carrier: Send + Sync {
    fn name(&self) -> &str;
    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError>;
}

/// An e-mail to a practice. The sender's address is the mailer's (one configured sender);
/// the display name it shows is the e-mail's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    /// The name the practice sees as the sender, e.g. "praxis-sms".
    pub from_name: String,
    pub subject: String,
    pub text: String,
    /// The same content as simple HTML, sent beside `text` as `multipart/alternative`.
    pub html: Option<String>,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends once per `idempotency_key`: a second call with the same key sends nothing.
    async fn send(&self, idempotency_key: &str, mail: &Email) -> PortResult<()>;
}

#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> PortResult<()>;
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    /// A URL that lets its holder download the blob for `ttl`.
    async fn presign_get(&self, key: &str, ttl: Duration) -> PortResult<String>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

pub type SharedClock = Arc<dyn Clock>;
