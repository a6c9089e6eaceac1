//! Storing an inbound SMS: one to a practice's reply number becomes its reply, once however
//! often the carrier sends the webhook; the parts of a long SMS become one reply when all are
//! in (or, by `forward_pending`, when the rest is given up on). Anything else is acknowledged,
//! so the carrier stops resending, and logged without numbers or text.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use praxis_shared::carriers::InboundSms;
use praxis_shared::domain::message::retention_cutoff;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::reply::{MAX_PARTS, Reply, ReplyPart, assemble};
use praxis_shared::domain::{PhoneNumber, Region, ReplyId};
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

use crate::optout;

/// What became of an inbound SMS; every outcome is acknowledged to the carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new reply, stored: the one to forward.
    Stored(Box<Reply>),
    /// A resent webhook: the reply (or part) is stored already.
    Duplicate,
    /// One part of a long SMS, stored; the reply follows with the last part.
    PartStored,
    /// Sent to a number that is no practice's reply number.
    UnknownNumber,
    /// From a sender that is not a phone number (short code, alphanumeric): no patient.
    NotFromAPhone,
}

/// Carriers give numbers in international form, some without the `+`.
fn international(raw: &str) -> Option<PhoneNumber> {
    let raw = raw.trim();
    let with_plus = match raw.strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None if raw.starts_with('+') => raw.to_owned(),
        None => format!("+{raw}"),
    };
    // With a `+` the region plays no part.
    PhoneNumber::parse(&with_plus, Region::DE).ok()
}

/// Stores `sms` as a reply of the practice it was sent to (or as a part of one).
pub async fn receive(
    svc: &Services,
    carrier: &str,
    sms: &InboundSms,
) -> Result<Received, PortError> {
    let to = international(&sms.to);
    let org = match &to {
        Some(to) => svc.store.find_org_by_reply_number(to).await?,
        None => None,
    };
    let (Some(org), Some(to)) = (org, to) else {
        tracing::warn!(
            carrier,
            carrier_ref = %sms.message_id,
            "inbound SMS to a number no practice has; acknowledged"
        );
        return Ok(Received::UnknownNumber);
    };
    let Some(from) = international(&sms.from) else {
        tracing::warn!(
            carrier,
            carrier_ref = %sms.message_id,
            practice = %org.id,
            "inbound SMS from a sender that is not a phone number; acknowledged"
        );
        return Ok(Received::NotFromAPhone);
    };
    let now = svc.clock.now();
    // A "long" SMS in one part is just an SMS, and so is one whose part numbers no phone
    // could have sent.
    let received = match &sms.concat {
        Some(c) if (2..=MAX_PARTS).contains(&c.total) && (1..=c.total).contains(&c.part) => {
            let part = ReplyPart {
                org_id: org.id,
                from,
                to,
                carrier: carrier.to_owned(),
                carrier_ref: sms.message_id.clone(),
                reference: c.reference.clone(),
                part: c.part,
                total: c.total,
                text: sms.text.clone(),
                received_at: now,
            };
            receive_part(svc, &org, part).await?
        }
        _ => {
            let reply = Reply {
                id: ReplyId::new(now),
                org_id: org.id,
                from,
                to,
                text: sms.text.clone(),
                received_at: now,
                carrier: carrier.to_owned(),
                carrier_ref: sms.message_id.clone(),
                in_reply_to: None,
                forwarded_at: None,
            };
            store(svc, &org, reply).await?
        }
    };
    tracing::info!(
        practice = %org.id,
        carrier,
        carrier_ref = %sms.message_id,
        outcome = outcome(&received),
        "inbound SMS"
    );
    Ok(received)
}

fn outcome(r: &Received) -> &'static str {
    match r {
        Received::Stored(_) => "stored",
        Received::Duplicate => "duplicate",
        Received::PartStored => "part stored",
        Received::UnknownNumber => "unknown number",
        Received::NotFromAPhone => "not from a phone",
    }
}

/// Stores one part, and the reply once the parts read back are all of them. Of two webhooks
/// storing the last parts at once, at least the later one reads all parts back; should both,
/// storing the reply lets one through.
async fn receive_part(svc: &Services, org: &Org, part: ReplyPart) -> Result<Received, PortError> {
    if !svc.store.insert_reply_part(&part).await? {
        return Ok(Received::Duplicate);
    }
    let parts = svc.store.open_reply_parts(&part).await?;
    let Some(reply) = assemble(&parts, true) else {
        return Ok(Received::PartStored);
    };
    let received = store(svc, org, reply).await?;
    svc.store.close_reply_parts(&parts).await?;
    Ok(match received {
        Received::Duplicate => Received::PartStored,
        other => other,
    })
}

/// Stores a reply with the message it answers, and records an opt-out it asks for.
async fn store(svc: &Services, org: &Org, mut reply: Reply) -> Result<Received, PortError> {
    reply.in_reply_to = svc
        .store
        .latest_sent_to(org.id, &reply.from, retention_cutoff(reply.received_at))
        .await?;
    let stored = svc.store.insert_reply(&reply).await?;
    // Also for a resent webhook: the first may have stored the reply and then failed here.
    optout::apply_keyword(svc, &reply).await?;
    tracing::info!(
        reply_id = %reply.id,
        practice = %org.id,
        carrier = %reply.carrier,
        carrier_ref = %reply.carrier_ref,
        from = %reply.from.masked(),
        in_reply_to = ?reply.in_reply_to.map(|m| m.to_string()),
        stored,
        "reply"
    );
    Ok(if stored {
        Received::Stored(Box::new(reply))
    } else {
        Received::Duplicate
    })
}

/// Assembles the long SMS whose parts stopped coming before `before`, with what arrived; the
/// replies made are returned, to be forwarded.
pub async fn assemble_stale(
    svc: &Services,
    before: DateTime<Utc>,
) -> Result<Vec<Reply>, PortError> {
    let stale = svc.store.stale_reply_parts(before).await?;
    // One SMS per carrier, sender, number and reference.
    let mut sms: BTreeMap<(String, String, String, String), ReplyPart> = BTreeMap::new();
    for p in stale {
        let key = (
            p.carrier.clone(),
            p.from.as_str().to_owned(),
            p.to.as_str().to_owned(),
            p.reference.clone(),
        );
        sms.entry(key).or_insert(p);
    }
    let mut replies = Vec::new();
    for part in sms.into_values() {
        let parts = svc.store.open_reply_parts(&part).await?;
        let Some(reply) = assemble(&parts, false) else {
            continue;
        };
        let Some(org) = svc.store.get_org(part.org_id).await? else {
            // The practice is gone: nobody to forward to; the parts expire with retention.
            svc.store.close_reply_parts(&parts).await?;
            continue;
        };
        tracing::warn!(
            practice = %org.id,
            carrier = %part.carrier,
            parts = parts.len(),
            total = part.total,
            "long SMS assembled without all its parts"
        );
        let received = store(svc, &org, reply).await?;
        svc.store.close_reply_parts(&parts).await?;
        if let Received::Stored(reply) = received {
            replies.push(*reply);
        }
    }
    Ok(replies)
}
