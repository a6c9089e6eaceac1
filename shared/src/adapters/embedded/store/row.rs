//! Rows to domain values and the column encodings both directions share: times as epoch
//! milliseconds (history entries as RFC 3339, inside their JSON), numbers in E.164. A row that
//! no longer parses is `PortError::Corrupt` naming the column.

use chrono::{DateTime, Utc};
use rusqlite::Row;

use crate::domain::apikey::{ApiKeyRecord, KeyHash};
use crate::domain::invoice::{Invoice, InvoiceNumber};
use crate::domain::message::{HistoryEntry, Message};
use crate::domain::optout::{OptOut, Source};
use crate::domain::reply::{Reply, ReplyPart};
use crate::domain::{
    InvoiceId, KeyId, MessageId, Month, OptOutId, OrgId, PhoneNumber, Reason, Region, ReplyId,
    SenderId,
};
use crate::ports::{PortError, PortResult};

pub(super) const MESSAGE_COLUMNS: &str = "id, org_id, to_number, sender, body, reference, encoding, \
     segments, status, reason, created_at, sent_at, carrier, carrier_ref, history";

pub(super) const REPLY_COLUMNS: &str = "id, org_id, from_number, to_number, body, received_at, \
     carrier, carrier_ref, in_reply_to, forwarded_at";

pub(super) const PART_COLUMNS: &str = "carrier, carrier_ref, org_id, from_number, to_number, \
     reference, part, total, body, received_at";

pub(super) const OPT_OUT_COLUMNS: &str = "id, org_id, number, since, source";

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn from_ms(v: i64) -> PortResult<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(v)
        .ok_or_else(|| PortError::Corrupt(format!("timestamp {v} out of range")))
}

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) fn corrupt<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> PortError {
    move |e| PortError::Corrupt(format!("{what}: {e}"))
}

/// Raw columns of a message row; parsed outside the row callback so errors stay typed.
pub(super) struct MessageRow {
    id: String,
    org_id: String,
    to: String,
    sender: String,
    body: String,
    reference: Option<String>,
    encoding: String,
    segments: i64,
    status: String,
    reason: Option<String>,
    created_at: i64,
    sent_at: Option<i64>,
    carrier: Option<String>,
    carrier_ref: Option<String>,
    history: String,
}

impl MessageRow {
    pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
        Ok(MessageRow {
            id: r.get(0)?,
            org_id: r.get(1)?,
            to: r.get(2)?,
            sender: r.get(3)?,
            body: r.get(4)?,
            reference: r.get(5)?,
            encoding: r.get(6)?,
            segments: r.get(7)?,
            status: r.get(8)?,
            reason: r.get(9)?,
            created_at: r.get(10)?,
            sent_at: r.get(11)?,
            carrier: r.get(12)?,
            carrier_ref: r.get(13)?,
            history: r.get(14)?,
        })
    }

    pub(super) fn parse(self) -> PortResult<Message> {
        let encoding = serde_json::from_value(serde_json::Value::String(self.encoding))
            .map_err(corrupt("encoding"))?;
        Ok(Message {
            id: MessageId::parse(&self.id).map_err(corrupt("message id"))?,
            org_id: OrgId::parse(&self.org_id).map_err(corrupt("org id"))?,
            to: number(&self.to)?,
            sender: SenderId::parse(&self.sender).map_err(corrupt("sender"))?,
            text: self.body,
            reference: self.reference,
            encoding,
            segments: u32::try_from(self.segments).map_err(corrupt("segments"))?,
            status: self.status.parse().map_err(corrupt("status"))?,
            reason: match self.reason {
                Some(r) => Some(
                    Reason::parse(&r).ok_or_else(|| PortError::Corrupt(format!("reason {r}")))?,
                ),
                None => None,
            },
            created_at: from_ms(self.created_at)?,
            sent_at: self.sent_at.map(from_ms).transpose()?,
            carrier: self.carrier,
            carrier_ref: self.carrier_ref,
            history: serde_json::from_str::<Vec<HistoryEntry>>(&self.history)
                .map_err(corrupt("history"))?,
        })
    }
}

pub(super) fn number(v: &str) -> PortResult<PhoneNumber> {
    // Stored numbers are E.164, so the region only matters for a corrupt value.
    PhoneNumber::parse(v, Region::DE).map_err(corrupt("number"))
}

/// Raw columns of a reply row, parsed outside the row callback like [`MessageRow`].
pub(super) struct ReplyRow {
    id: String,
    org_id: String,
    from: String,
    to: String,
    body: String,
    received_at: i64,
    carrier: String,
    carrier_ref: String,
    in_reply_to: Option<String>,
    forwarded_at: Option<i64>,
}

impl ReplyRow {
    pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<ReplyRow> {
        Ok(ReplyRow {
            id: r.get(0)?,
            org_id: r.get(1)?,
            from: r.get(2)?,
            to: r.get(3)?,
            body: r.get(4)?,
            received_at: r.get(5)?,
            carrier: r.get(6)?,
            carrier_ref: r.get(7)?,
            in_reply_to: r.get(8)?,
            forwarded_at: r.get(9)?,
        })
    }

    pub(super) fn parse(self) -> PortResult<Reply> {
        Ok(Reply {
            id: ReplyId::parse(&self.id).map_err(corrupt("reply id"))?,
            org_id: OrgId::parse(&self.org_id).map_err(corrupt("org id"))?,
            from: number(&self.from)?,
            to: number(&self.to)?,
            text: self.body,
            received_at: from_ms(self.received_at)?,
            carrier: self.carrier,
            carrier_ref: self.carrier_ref,
            in_reply_to: self
                .in_reply_to
                .map(|i| MessageId::parse(&i).map_err(corrupt("in_reply_to")))
                .transpose()?,
            forwarded_at: self.forwarded_at.map(from_ms).transpose()?,
        })
    }
}

/// Raw columns of a reply part row, in the order of [`PART_COLUMNS`].
pub(super) struct PartRow {
    carrier: String,
    carrier_ref: String,
    org_id: String,
    from: String,
    to: String,
    reference: String,
    part: i64,
    total: i64,
    body: String,
    received_at: i64,
}

impl PartRow {
    pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<PartRow> {
        Ok(PartRow {
            carrier: r.get(0)?,
            carrier_ref: r.get(1)?,
            org_id: r.get(2)?,
            from: r.get(3)?,
            to: r.get(4)?,
            reference: r.get(5)?,
            part: r.get(6)?,
            total: r.get(7)?,
            body: r.get(8)?,
            received_at: r.get(9)?,
        })
    }

    pub(super) fn parse(self) -> PortResult<ReplyPart> {
        Ok(ReplyPart {
            org_id: OrgId::parse(&self.org_id).map_err(corrupt("org id"))?,
            from: number(&self.from)?,
            to: number(&self.to)?,
            carrier: self.carrier,
            carrier_ref: self.carrier_ref,
            reference: self.reference,
            part: u32::try_from(self.part).map_err(corrupt("part"))?,
            total: u32::try_from(self.total).map_err(corrupt("total"))?,
            text: self.body,
            received_at: from_ms(self.received_at)?,
        })
    }
}

/// Raw columns of an opt-out row, parsed outside the row callback like [`MessageRow`].
pub(super) struct OptOutRow {
    id: String,
    org_id: String,
    number: String,
    since: i64,
    source: String,
}

impl OptOutRow {
    pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<OptOutRow> {
        Ok(OptOutRow {
            id: r.get(0)?,
            org_id: r.get(1)?,
            number: r.get(2)?,
            since: r.get(3)?,
            source: r.get(4)?,
        })
    }

    pub(super) fn parse(self) -> PortResult<OptOut> {
        Ok(OptOut {
            id: OptOutId::parse(&self.id).map_err(corrupt("opt-out id"))?,
            org_id: OrgId::parse(&self.org_id).map_err(corrupt("org id"))?,
            number: number(&self.number)?,
            since: from_ms(self.since)?,
            source: Source::parse(&self.source)
                .ok_or_else(|| PortError::Corrupt(format!("opt-out source {}", self.source)))?,
        })
    }
}

pub(super) fn key_row(
    r: &Row<'_>,
) -> rusqlite::Result<(String, String, String, String, i64, Option<i64>)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(super) fn parse_key(
    (hash, id, org_id, hint, created_at, revoked_at): (
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
    ),
) -> PortResult<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: KeyId::parse(&id).map_err(corrupt("key id"))?,
        org_id: OrgId::parse(&org_id).map_err(corrupt("org id"))?,
        hash: KeyHash::from_stored(hash),
        hint,
        created_at: from_ms(created_at)?,
        revoked_at: revoked_at.map(from_ms).transpose()?,
    })
}

pub(super) const INVOICE_COLUMNS: &str = "id, org_id, month, number, created_at, doc, delivered_at";

/// Raw columns of an invoice row.
pub(super) struct InvoiceRow {
    id: String,
    org_id: String,
    month: String,
    number: String,
    created_at: i64,
    doc: String,
    delivered_at: Option<i64>,
}

impl InvoiceRow {
    pub(super) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<InvoiceRow> {
        Ok(InvoiceRow {
            id: r.get(0)?,
            org_id: r.get(1)?,
            month: r.get(2)?,
            number: r.get(3)?,
            created_at: r.get(4)?,
            doc: r.get(5)?,
            delivered_at: r.get(6)?,
        })
    }

    pub(super) fn parse(self) -> PortResult<Invoice> {
        Ok(Invoice {
            id: InvoiceId::parse(&self.id).map_err(corrupt("invoice id"))?,
            org_id: OrgId::parse(&self.org_id).map_err(corrupt("invoice practice"))?,
            month: Month::parse(&self.month).map_err(corrupt("invoice month"))?,
            number: InvoiceNumber::parse(&self.number).map_err(corrupt("invoice number"))?,
            created_at: from_ms(self.created_at)?,
            doc: serde_json::from_str(&self.doc).map_err(corrupt("invoice"))?,
            delivered_at: self.delivered_at.map(from_ms).transpose()?,
        })
    }
}
