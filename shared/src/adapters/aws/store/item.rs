//! Domain values to DynamoDB items and back, by hand: each attribute is named once here, and
//! an item that no longer parses is `PortError::Corrupt` naming the attribute (never its value).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::apikey::{ApiKeyRecord, KeyHash};
use crate::domain::invoice::{DailyUsage, Invoice, InvoiceDoc, InvoiceNumber};
use crate::domain::message::{EARLY_REPORT_TTL, EarlyReport, HistoryEntry, Message};
use crate::domain::optout::{OptOut, Source};
use crate::domain::org::{EmailAddress, Org, OrgName, PostalAddress};
use crate::domain::reply::{Reply, ReplyPart};
use crate::domain::{
    Encoding, InvoiceId, KeyId, MessageId, Month, OptOutId, OrgId, PhoneNumber, Reason, Region,
    ReplyId, SenderId, Status,
};
use crate::ports::{IdempotencyRecord, PortError, PortResult};

use super::keys::{self, stamp};

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The primary key of an item.
pub fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// A status change as a one-element list, ready for `list_append`.
pub fn history_entry(status: Status, at: DateTime<Utc>) -> AttributeValue {
    AttributeValue::L(vec![AttributeValue::M(HashMap::from([
        ("status".to_owned(), s(status.as_str())),
        ("at".to_owned(), s(stamp(at))),
    ]))])
}

/// Builds an item attribute by attribute, leaving out absent optional values (DynamoDB has
/// no use for NULLs, and a sparse index must not see its key attribute at all).
#[derive(Default)]
struct Builder(Item);

impl Builder {
    fn set(mut self, name: &str, v: AttributeValue) -> Self {
        self.0.insert(name.to_owned(), v);
        self
    }
    fn str(self, name: &str, v: impl Into<String>) -> Self {
        self.set(name, s(v))
    }
    fn opt_n(self, name: &str, v: Option<impl ToString>) -> Self {
        match v {
            Some(v) => self.set(name, n(v)),
            None => self,
        }
    }

    fn opt_str(self, name: &str, v: Option<impl Into<String>>) -> Self {
        match v {
            Some(v) => self.str(name, v),
            None => self,
        }
    }
}

pub fn org_item(o: &Org) -> Item {
    Builder(key(keys::org_pk(o.id), keys::SK_ORG))
        .str(keys::GSI1.pk, keys::ALL_ORGS)
        .str(keys::GSI1.sk, o.id.to_string())
        .str("id", o.id.to_string())
        .str("name", o.name.as_str())
        .str("email", o.email.as_str())
        .opt_str("reply_email", o.reply_email.as_ref().map(|e| e.as_str()))
        .opt_str(
            "default_sender",
            o.default_sender.as_ref().map(|x| x.as_str()),
        )
        .str("region", o.region.as_str())
        .opt_str("reply_number", o.reply_number.as_ref().map(|x| x.as_str()))
        .str("activated_on", o.activated_on.to_string())
        .opt_str(
            "address",
            o.address
                .as_ref()
                .and_then(|a| serde_json::to_string(a).ok()),
        )
        .str("created_at", stamp(o.created_at))
        .opt_n("daily_cap", o.daily_cap)
        .0
}

pub fn api_key_item(k: &ApiKeyRecord) -> Item {
    Builder(key(keys::key_pk(&k.hash), keys::SK_KEY))
        .str(keys::GSI1.pk, keys::org_keys(k.org_id))
        .str(keys::GSI1.sk, k.id.to_string())
        .str("hash", k.hash.as_str())
        .str("id", k.id.to_string())
        .str("org_id", k.org_id.to_string())
        .str("hint", &k.hint)
        .str("created_at", stamp(k.created_at))
        .opt_str("revoked_at", k.revoked_at.map(stamp))
        .0
}

/// The pointer item `KEYID#<id>` → hash, written together with the key.
pub fn api_key_id_item(k: &ApiKeyRecord) -> Item {
    Builder(key(keys::key_id_pk(k.id), keys::SK_KEY_ID))
        .str("hash", k.hash.as_str())
        .0
}

pub fn idempotency_item(r: &IdempotencyRecord) -> Item {
    Builder(key(
        keys::idempotency_pk(r.org_id, &r.key),
        keys::SK_IDEMPOTENCY,
    ))
    .str("org_id", r.org_id.to_string())
    .str("key", &r.key)
    .str("fingerprint", &r.fingerprint)
    .str("created_at", stamp(r.created_at))
    .set(keys::EXPIRES_AT, n(keys::expires_at(r.created_at)))
    .0
}

pub fn message_item(m: &Message) -> Item {
    let history = m
        .history
        .iter()
        .map(|h| {
            AttributeValue::M(HashMap::from([
                ("status".to_owned(), s(h.status.as_str())),
                ("at".to_owned(), s(stamp(h.at))),
            ]))
        })
        .collect();
    let mut b = Builder(key(keys::message_pk(m.id), keys::SK_MESSAGE))
        .str(keys::GSI1.pk, keys::org_messages(m.org_id))
        .str(keys::GSI1.sk, m.id.to_string())
        .str("id", m.id.to_string())
        .str("org_id", m.org_id.to_string())
        .str("to", m.to.as_str())
        .str("sender", m.sender.as_str())
        .str("text", &m.text)
        .opt_str("reference", m.reference.clone())
        .str("encoding", m.encoding.as_str())
        .set("segments", n(m.segments))
        .str("status", m.status.as_str())
        .opt_str("reason", m.reason.map(|r| r.as_str()))
        .str("created_at", stamp(m.created_at))
        .opt_str("sent_at", m.sent_at.map(stamp))
        .opt_str("carrier", m.carrier.clone())
        .opt_str("carrier_ref", m.carrier_ref.clone())
        .set("history", AttributeValue::L(history))
        .set(keys::EXPIRES_AT, n(keys::expires_at(m.created_at)));
    // The sparse indexes hold a message exactly while it is in their statuses; transitions
    // add and remove these attributes in the same write as the status (`transition_update`).
    match (m.status, m.sent_at) {
        (Status::Pending | Status::Queued, _) => {
            b = b
                .str(keys::GSI2.pk, keys::OPEN)
                .str(keys::GSI2.sk, m.id.to_string());
        }
        (Status::Sent | Status::Buffered, Some(sent_at)) => {
            b = b
                .str(keys::GSI3.pk, keys::AWAITING_REPORT)
                .str(keys::GSI3.sk, stamp(sent_at));
        }
        _ => {}
    }
    b.0
}

/// The item `CREF#<carrier>#<ref>` → message id, the strongly consistent way from a delivery
/// report to its message. It expires with the message.
pub fn carrier_ref_item(id: MessageId, carrier: &str, carrier_ref: &str) -> Item {
    let created_at = id.created_at();
    Builder(key(
        keys::carrier_ref_pk(carrier, carrier_ref),
        keys::SK_CARRIER_REF,
    ))
    .str("id", id.to_string())
    .str("carrier", carrier)
    .str("carrier_ref", carrier_ref)
    .str("created_at", stamp(created_at))
    .set(keys::EXPIRES_AT, n(keys::expires_at(created_at)))
    .0
}

/// A delivery report kept until the dispatcher records its carrier reference; DynamoDB's TTL
/// removes it `EARLY_REPORT_TTL` after it came.
pub fn early_report_item(r: &EarlyReport) -> Item {
    Builder(key(
        keys::early_report_pk(&r.carrier, &r.carrier_ref),
        r.status.as_str(),
    ))
    .str("carrier", r.carrier.as_str())
    .str("carrier_ref", r.carrier_ref.as_str())
    .str("status", r.status.as_str())
    .opt_str("reason", r.reason.map(|x| x.as_str()))
    .str("received_at", stamp(r.received_at))
    .set(
        keys::EXPIRES_AT,
        n((r.received_at + EARLY_REPORT_TTL).timestamp()),
    )
    .0
}

pub fn early_report_from(item: &Item) -> PortResult<EarlyReport> {
    let r = Read::new(item, "early report");
    Ok(EarlyReport {
        carrier: r.str("carrier")?.to_owned(),
        carrier_ref: r.str("carrier_ref")?.to_owned(),
        status: r
            .str("status")?
            .parse()
            .map_err(|_| PortError::Corrupt("early report status".into()))?,
        reason: r.opt_str("reason")?.and_then(crate::domain::Reason::parse),
        received_at: r.time("received_at")?,
    })
}

/// The pointer item `REPLYNUM#<number>` → practice, written together with the practice.
pub fn reply_number_item(org: OrgId, number: &PhoneNumber) -> Item {
    Builder(key(keys::reply_number_pk(number), keys::SK_REPLY_NUMBER))
        .str("org_id", org.to_string())
        .0
}

/// The key of a stored reply: its carrier's id for it.
pub fn reply_key(r: &Reply) -> Item {
    key(keys::reply_pk(&r.carrier, &r.carrier_ref), keys::SK_REPLY)
}

/// A reply, in its practice's part of GSI1 and, until it is forwarded, in the unforwarded part
/// of GSI2. `created_at` is when it was received (what the purge and TTL go by).
pub fn reply_item(r: &Reply) -> Item {
    let b = match r.forwarded_at {
        Some(at) => Builder(reply_key(r)).str("forwarded_at", stamp(at)),
        None => Builder(reply_key(r))
            .str(keys::GSI2.pk, keys::UNFORWARDED)
            .str(keys::GSI2.sk, r.id.to_string()),
    };
    b.str(keys::GSI1.pk, keys::org_replies(r.org_id))
        .str(keys::GSI1.sk, r.id.to_string())
        .str("id", r.id.to_string())
        .str("org_id", r.org_id.to_string())
        .str("from", r.from.as_str())
        .str("to", r.to.as_str())
        .str("text", &r.text)
        .str("created_at", stamp(r.received_at))
        .str("carrier", &r.carrier)
        .str("carrier_ref", &r.carrier_ref)
        .opt_str("in_reply_to", r.in_reply_to.map(|i| i.to_string()))
        .set(keys::EXPIRES_AT, n(keys::expires_at(r.received_at)))
        .0
}

/// An opt-out in its practice's partition, keyed by the number, and in GSI1 by its id. No
/// `expires_at`: it stands until it is lifted.
pub fn opt_out_item(o: &OptOut) -> Item {
    Builder(key(keys::opt_outs_pk(o.org_id), o.number.as_str()))
        .str(keys::GSI1.pk, keys::org_opt_outs(o.org_id))
        .str(keys::GSI1.sk, o.id.to_string())
        .str("id", o.id.to_string())
        .str("org_id", o.org_id.to_string())
        .str("number", o.number.as_str())
        .str("since", stamp(o.since))
        .str("source", o.source.as_str())
        .0
}

/// Reads typed attributes of one item; `what` names the item kind in errors.
pub struct Read<'a> {
    item: &'a Item,
    what: &'static str,
}

impl<'a> Read<'a> {
    pub fn new(item: &'a Item, what: &'static str) -> Self {
        Read { item, what }
    }

    fn corrupt(&self, name: &str, problem: &str) -> PortError {
        PortError::Corrupt(format!("{} attribute {name}: {problem}", self.what))
    }

    pub fn opt_str(&self, name: &str) -> PortResult<Option<&'a str>> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v)),
            Some(_) => Err(self.corrupt(name, "not a string")),
        }
    }

    pub fn str(&self, name: &str) -> PortResult<&'a str> {
        self.opt_str(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub fn opt_time(&self, name: &str) -> PortResult<Option<DateTime<Utc>>> {
        self.opt_str(name)?
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| self.corrupt(name, "not an RFC 3339 time"))
            })
            .transpose()
    }

    pub fn time(&self, name: &str) -> PortResult<DateTime<Utc>> {
        self.opt_time(name)?
            .ok_or_else(|| self.corrupt(name, "missing"))
    }

    pub fn u64(&self, name: &str) -> PortResult<u64> {
        match self.item.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.corrupt(name, "not a u64")),
            Some(_) => Err(self.corrupt(name, "not a number")),
            None => Err(self.corrupt(name, "missing")),
        }
    }

    pub fn u32(&self, name: &str) -> PortResult<u32> {
        match self.item.get(name) {
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.corrupt(name, "not a u32")),
            Some(_) => Err(self.corrupt(name, "not a number")),
            None => Err(self.corrupt(name, "missing")),
        }
    }

    fn parsed<T, E>(&self, name: &str, parse: impl FnOnce(&str) -> Result<T, E>) -> PortResult<T> {
        parse(self.str(name)?).map_err(|_| self.corrupt(name, "does not parse"))
    }

    fn opt_parsed<T, E>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> PortResult<Option<T>> {
        self.opt_str(name)?
            .map(|v| parse(v).map_err(|_| self.corrupt(name, "does not parse")))
            .transpose()
    }

    pub fn message_id(&self, name: &str) -> PortResult<MessageId> {
        self.parsed(name, MessageId::parse)
    }
}

/// An invoice, in its practice's partition under its month. The document is one JSON string:
/// it is written once and never queried into.
pub fn invoice_item(i: &Invoice) -> PortResult<Item> {
    let doc = serde_json::to_string(&i.doc)
        .map_err(|e| PortError::Corrupt(format!("invoice {}: {e}", i.id)))?;
    Ok(
        Builder(key(keys::org_pk(i.org_id), &keys::invoice_sk(i.month)))
            .str("id", i.id.to_string())
            .str("org_id", i.org_id.to_string())
            .str("month", i.month.to_string())
            .str("number", i.number.to_string())
            .str("created_at", stamp(i.created_at))
            .str("doc", doc)
            .0,
    )
}

/// The pointer from an invoice id to the invoice item's key.
pub fn invoice_pointer_item(i: &Invoice) -> Item {
    Builder(key(keys::invoice_pk(i.id), keys::SK_INVOICE))
        .str("org_id", i.org_id.to_string())
        .str("month", i.month.to_string())
        .0
}

pub fn invoice_from(item: &Item) -> PortResult<Invoice> {
    let r = Read::new(item, "invoice");
    Ok(Invoice {
        id: r.parsed("id", InvoiceId::parse)?,
        org_id: r.parsed("org_id", OrgId::parse)?,
        month: r.parsed("month", Month::parse)?,
        number: r.parsed("number", InvoiceNumber::parse)?,
        created_at: r.time("created_at")?,
        doc: r.parsed("doc", |v| serde_json::from_str::<InvoiceDoc>(v))?,
        delivered_at: r.opt_time("delivered_at")?,
    })
}

/// A usage item: the day is in its sort key.
pub fn usage_from(item: &Item) -> PortResult<DailyUsage> {
    let r = Read::new(item, "usage");
    let day = r
        .str(keys::SK)?
        .strip_prefix(keys::SK_USAGE_PREFIX)
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .ok_or_else(|| r.corrupt(keys::SK, "not a usage day"))?;
    Ok(DailyUsage {
        day,
        parts: r.u64("parts")?,
        messages: r.u64("messages")?,
    })
}

pub fn org_from(item: &Item) -> PortResult<Org> {
    let r = Read::new(item, "practice");
    Ok(Org {
        id: r.parsed("id", OrgId::parse)?,
        name: r.parsed("name", OrgName::parse)?,
        email: r.parsed("email", EmailAddress::parse)?,
        reply_email: r.opt_parsed("reply_email", EmailAddress::parse)?,
        default_sender: r.opt_parsed("default_sender", SenderId::parse)?,
        region: r.parsed("region", Region::parse)?,
        reply_number: r.opt_parsed("reply_number", |v| PhoneNumber::parse(v, Region::DE))?,
        activated_on: r.parsed("activated_on", |v| v.parse::<NaiveDate>())?,
        address: r.opt_parsed("address", |v| serde_json::from_str::<PostalAddress>(v))?,
        created_at: r.time("created_at")?,
        daily_cap: match item.get("daily_cap") {
            Some(AttributeValue::N(v)) => Some(
                v.parse()
                    .map_err(|_| PortError::Corrupt("practice daily_cap".into()))?,
            ),
            _ => None,
        },
    })
}

pub fn reply_from(item: &Item) -> PortResult<Reply> {
    let r = Read::new(item, "reply");
    let number = |v: &str| PhoneNumber::parse(v, Region::DE);
    Ok(Reply {
        id: r.parsed("id", ReplyId::parse)?,
        org_id: r.parsed("org_id", OrgId::parse)?,
        from: r.parsed("from", number)?,
        to: r.parsed("to", number)?,
        text: r.str("text")?.to_owned(),
        received_at: r.time("created_at")?,
        carrier: r.str("carrier")?.to_owned(),
        carrier_ref: r.str("carrier_ref")?.to_owned(),
        in_reply_to: r.opt_parsed("in_reply_to", MessageId::parse)?,
        forwarded_at: r.opt_time("forwarded_at")?,
    })
}

/// A part of a long SMS, in its SMS's partition and, until it is assembled, in the open-parts
/// part of GSI2. Expires like a reply.
pub fn reply_part_item(p: &ReplyPart) -> Item {
    Builder(reply_part_key(p))
        .str(keys::GSI2.pk, keys::OPEN_PARTS)
        .str(keys::GSI2.sk, stamp(p.received_at))
        .str("org_id", p.org_id.to_string())
        .str("from", p.from.as_str())
        .str("to", p.to.as_str())
        .str("carrier", &p.carrier)
        .str("carrier_ref", &p.carrier_ref)
        .str("reference", &p.reference)
        .set("part", n(p.part))
        .set("total", n(p.total))
        .str("text", &p.text)
        .str("created_at", stamp(p.received_at))
        .set(keys::EXPIRES_AT, n(keys::expires_at(p.received_at)))
        .0
}

pub fn reply_part_key(p: &ReplyPart) -> Item {
    key(
        keys::reply_parts_pk(&p.carrier, &p.from, &p.to, &p.reference),
        &format!("{}{}", keys::SK_PART_PREFIX, p.carrier_ref),
    )
}

pub fn reply_part_from(item: &Item) -> PortResult<ReplyPart> {
    let r = Read::new(item, "reply part");
    let number = |v: &str| PhoneNumber::parse(v, Region::DE);
    Ok(ReplyPart {
        org_id: r.parsed("org_id", OrgId::parse)?,
        from: r.parsed("from", number)?,
        to: r.parsed("to", number)?,
        carrier: r.str("carrier")?.to_owned(),
        carrier_ref: r.str("carrier_ref")?.to_owned(),
        reference: r.str("reference")?.to_owned(),
        part: r.u32("part")?,
        total: r.u32("total")?,
        text: r.str("text")?.to_owned(),
        received_at: r.time("created_at")?,
    })
}

pub fn opt_out_from(item: &Item) -> PortResult<OptOut> {
    let r = Read::new(item, "opt-out");
    Ok(OptOut {
        id: r.parsed("id", OptOutId::parse)?,
        org_id: r.parsed("org_id", OrgId::parse)?,
        number: r.parsed("number", |v| PhoneNumber::parse(v, Region::DE))?,
        since: r.time("since")?,
        source: r.parsed("source", |v| Source::parse(v).ok_or(()))?,
    })
}

/// The number an opt-out item is for, from its key alone (what a projected read returns).
pub fn opted_out_number(item: &Item) -> PortResult<PhoneNumber> {
    Read::new(item, "opt-out key").parsed(keys::SK, |v| PhoneNumber::parse(v, Region::DE))
}

pub fn api_key_from(item: &Item) -> PortResult<ApiKeyRecord> {
    let r = Read::new(item, "API key");
    Ok(ApiKeyRecord {
        id: r.parsed("id", KeyId::parse)?,
        org_id: r.parsed("org_id", OrgId::parse)?,
        hash: KeyHash::from_stored(r.str("hash")?.to_owned()),
        hint: r.str("hint")?.to_owned(),
        created_at: r.time("created_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

pub fn idempotency_from(item: &Item) -> PortResult<IdempotencyRecord> {
    let r = Read::new(item, "idempotency key");
    Ok(IdempotencyRecord {
        org_id: r.parsed("org_id", OrgId::parse)?,
        key: r.str("key")?.to_owned(),
        fingerprint: r.str("fingerprint")?.to_owned(),
        created_at: r.time("created_at")?,
    })
}

fn encoding(v: &str) -> Result<Encoding, ()> {
    [Encoding::Gsm7, Encoding::Ucs2]
        .into_iter()
        .find(|e| e.as_str() == v)
        .ok_or(())
}

fn history_from(r: &Read<'_>) -> PortResult<Vec<HistoryEntry>> {
    let Some(AttributeValue::L(entries)) = r.item.get("history") else {
        return Err(r.corrupt("history", "missing or not a list"));
    };
    entries
        .iter()
        .map(|e| {
            let AttributeValue::M(entry) = e else {
                return Err(r.corrupt("history", "entry is not a map"));
            };
            let e = Read::new(entry, "history entry");
            Ok(HistoryEntry {
                status: e.parsed("status", str::parse::<Status>)?,
                at: e.time("at")?,
            })
        })
        .collect()
}

pub fn message_from(item: &Item) -> PortResult<Message> {
    let r = Read::new(item, "message");
    Ok(Message {
        id: r.message_id("id")?,
        org_id: r.parsed("org_id", OrgId::parse)?,
        // Stored numbers are E.164, so the region only matters for a corrupt value.
        to: r.parsed("to", |v| PhoneNumber::parse(v, Region::DE))?,
        sender: r.parsed("sender", SenderId::parse)?,
        text: r.str("text")?.to_owned(),
        reference: r.opt_str("reference")?.map(str::to_owned),
        encoding: r.parsed("encoding", encoding)?,
        segments: r.u32("segments")?,
        status: r.parsed("status", str::parse::<Status>)?,
        reason: r.opt_parsed("reason", |v| Reason::parse(v).ok_or(()))?,
        created_at: r.time("created_at")?,
        sent_at: r.opt_time("sent_at")?,
        carrier: r.opt_str("carrier")?.map(str::to_owned),
        carrier_ref: r.opt_str("carrier_ref")?.map(str::to_owned),
        history: history_from(&r)?,
    })
}

/// A GSI3 entry: which message, and when it was sent.
pub fn awaiting_report(item: &Item) -> PortResult<(MessageId, DateTime<Utc>)> {
    let sent_at = Read::new(item, "awaiting-report entry").time(keys::GSI3.sk)?;
    Ok((message_id_of_key(item)?, sent_at))
}

/// The message an index entry points at (GSI2 and GSI3 carry only the keys).
pub fn message_id_of_key(item: &Item) -> PortResult<MessageId> {
    let pk = Read::new(item, "message key").str(keys::PK)?;
    keys::message_id_in_pk(pk)
        .ok_or_else(|| PortError::Corrupt("message key PK: not MSG#<id>".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn message() -> PortResult<Message> {
        let bad = |what: &str| PortError::Corrupt(what.to_owned());
        Ok(Message {
            id: MessageId::new(t0()),
            org_id: OrgId::new(t0()),
            to: PhoneNumber::parse("+4917612345678", Region::DE).map_err(|_| bad("number"))?,
            sender: SenderId::parse("Praxis").map_err(|_| bad("sender"))?,
            text: "Hallo".into(),
            reference: None,
            encoding: Encoding::Ucs2,
            segments: 2,
            status: Status::Sent,
            reason: None,
            created_at: t0(),
            sent_at: Some(t0()),
            carrier: Some("sim".into()),
            carrier_ref: Some("r-1".into()),
            history: vec![HistoryEntry {
                status: Status::Pending,
                at: t0(),
            }],
        })
    }

    #[test]
    fn a_message_round_trips_through_its_item() -> PortResult<()> {
        let m = message()?;
        assert_eq!(message_from(&message_item(&m))?, m);
        Ok(())
    }

    #[test]
    fn a_sent_message_is_in_the_awaiting_index_and_not_the_open_one() -> PortResult<()> {
        let item = message_item(&message()?);
        assert!(item.contains_key(keys::GSI3.pk) && !item.contains_key(keys::GSI2.pk));
        Ok(())
    }

    #[test]
    fn a_corrupt_attribute_is_named_without_its_value() -> PortResult<()> {
        let mut item = message_item(&message()?);
        item.insert("to".into(), s("+49 not a number 555"));
        match message_from(&item) {
            Err(PortError::Corrupt(e)) => {
                assert!(e.contains("to") && !e.contains("555"));
                Ok(())
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
