//! Inbound SMS: `POST /webhooks/{carrier}/inbound`, after the carrier is authenticated. An SMS
//! to a practice's reply number is stored once as its reply, and a reply that is only `STOP`
//! (or `START`) opts its number out of (or back into) that practice's SMS; anything else is
//! acknowledged, so the carrier stops resending, and logged without numbers or text.

use praxis_shared::carriers::InboundSms;
use praxis_shared::domain::message::retention_cutoff;
use praxis_shared::domain::optout::{Keyword, OptOut, Source};
use praxis_shared::domain::reply::Reply;
use praxis_shared::domain::{PhoneNumber, Region, ReplyId};
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

/// What became of an inbound SMS; every outcome is acknowledged to the carrier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Stored(ReplyId),
    /// A resent webhook: the reply is stored already.
    Duplicate,
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

/// Stores `sms` as a reply of the practice it was sent to.
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
    let in_reply_to = svc
        .store
        .latest_sent_to(org.id, &from, retention_cutoff(now))
        .await?;
    let reply = Reply {
        id: ReplyId::new(now),
        org_id: org.id,
        from,
        to,
        text: sms.text.clone(),
        received_at: now,
        carrier: carrier.to_owned(),
        carrier_ref: sms.message_id.clone(),
        in_reply_to,
    };
    let stored = svc.store.insert_reply(&reply).await?;
    tracing::info!(
        reply_id = %reply.id,
        practice = %org.id,
        carrier,
        carrier_ref = %reply.carrier_ref,
        from = %reply.from.masked(),
        in_reply_to = ?reply.in_reply_to.map(|m| m.to_string()),
        stored,
        "inbound SMS"
    );
    // After the reply is stored (it is forwarded like any other): a resent webhook is a
    // duplicate reply but applies its keyword again, which changes nothing.
    apply_keyword(svc, &reply).await?;
    Ok(if stored {
        Received::Stored(reply.id)
    } else {
        Received::Duplicate
    })
}

/// Opts the reply's number out of (or back into) the practice's SMS if the reply is only a
/// keyword. Returns the keyword and whether it changed anything.
pub async fn apply_keyword(
    svc: &Services,
    reply: &Reply,
) -> Result<Option<(Keyword, bool)>, PortError> {
    let Some(keyword) = Keyword::of(&reply.text) else {
        return Ok(None);
    };
    let changed = match keyword {
        Keyword::Stop => {
            let o = OptOut::new(
                reply.org_id,
                reply.from.clone(),
                reply.received_at,
                Source::Keyword,
            );
            svc.store.record_opt_out(&o).await?
        }
        Keyword::Start => svc.store.lift_opt_out(reply.org_id, &reply.from).await?,
    };
    tracing::info!(
        reply_id = %reply.id,
        practice = %reply.org_id,
        from = %reply.from.masked(),
        keyword = ?keyword,
        changed,
        "opt-out keyword"
    );
    Ok(Some((keyword, changed)))
}
