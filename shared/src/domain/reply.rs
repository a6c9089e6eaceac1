//! A patient's reply: an inbound SMS to a practice's reply number, as stored and shown (kept
//! 60 days, like messages) and forwarded to the practice by e-mail once; and the parts of a
//! long SMS that a carrier forwards one by one, until they are assembled into one reply.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{MessageId, OrgId, ReplyId};
use super::message::retention_cutoff;
use super::phone::PhoneNumber;

/// Only SMS from a valid phone number become replies: the patient's number is what the
/// practice answers, what `in_reply_to` and (later) opt-outs are keyed on. Anything else (an
/// alphanumeric sender, a short code) is no patient and is acknowledged without being stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Ours, from the time we received it: replies sort by arrival.
    pub id: ReplyId,
    pub org_id: OrgId,
    /// The patient's number.
    pub from: PhoneNumber,
    /// The practice's reply number it was sent to.
    pub to: PhoneNumber,
    pub text: String,
    /// When we received it, on our clock (a carrier's timestamp may be skewed or zoneless).
    pub received_at: DateTime<Utc>,
    /// The carrier that forwarded it and its id there: a resent webhook carries the same pair,
    /// which is what makes storing a reply idempotent.
    pub carrier: String,
    pub carrier_ref: String,
    /// The latest message the practice had handed to a carrier for `from` when the reply
    /// arrived: the one the patient most likely answers.
    pub in_reply_to: Option<MessageId>,
    /// When the practice's mailer took the e-mail with this reply; `None` until then.
    pub forwarded_at: Option<DateTime<Utc>>,
}

impl Reply {
    pub fn is_visible_at(&self, now: DateTime<Utc>) -> bool {
        self.received_at >= retention_cutoff(now)
    }
}

/// One part of a long SMS, as carriers that forward the parts one by one send it (Vonage's
/// `concat-*`). Stored until every part is in, or a few minutes have passed, and then assembled
/// into one [`Reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPart {
    pub org_id: OrgId,
    pub from: PhoneNumber,
    pub to: PhoneNumber,
    /// The carrier and its id of this part: a resent webhook carries the same pair.
    pub carrier: String,
    pub carrier_ref: String,
    /// What the parts of one SMS share (the sender's concatenation reference). Phones reuse it
    /// after a while, so it is only unique among the parts not yet assembled.
    pub reference: String,
    /// 1-based.
    pub part: u32,
    pub total: u32,
    pub text: String,
    pub received_at: DateTime<Utc>,
}

/// The most parts a long SMS can have: its concatenation header counts them in one octet.
pub const MAX_PARTS: u32 = 255;

/// Stands where a part of a long SMS never arrived.
pub const MISSING_PART: &str = "[…]";

/// The reply that `parts` of one SMS make, or `None` while parts are missing and `complete`
/// is required. Parts repeat only if a carrier sent one twice under two ids; the first counts.
///
/// Two assemblers of the same parts (the last part's webhook and the sweep) make the same
/// reply key: it is named after the part that arrived first, which both see, so storing it is
/// the conditional write that lets only one of them through.
pub fn assemble(parts: &[ReplyPart], complete: bool) -> Option<Reply> {
    let first = parts
        .iter()
        .min_by(|a, b| (a.received_at, &a.carrier_ref).cmp(&(b.received_at, &b.carrier_ref)))?;
    let total = parts
        .iter()
        .map(|p| p.total)
        .max()
        .unwrap_or(1)
        .clamp(1, MAX_PARTS);
    let mut by_number: Vec<Option<&ReplyPart>> = vec![None; total as usize];
    for p in parts {
        if let Some(slot) = p
            .part
            .checked_sub(1)
            .and_then(|i| by_number.get_mut(i as usize))
        {
            slot.get_or_insert(p);
        }
    }
    let have = by_number.iter().filter(|p| p.is_some()).count();
    if complete && have < total as usize {
        return None;
    }
    let mut text = String::new();
    let mut after_gap = false;
    for slot in &by_number {
        match slot {
            Some(p) if after_gap => {
                text.push(' ');
                text.push_str(p.text.trim_start());
                after_gap = false;
            }
            Some(p) => text.push_str(&p.text),
            // One marker for a run of missing parts, set off by single spaces.
            None if !after_gap => {
                text.truncate(text.trim_end().len());
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(MISSING_PART);
                after_gap = true;
            }
            None => {}
        }
    }
    Some(Reply {
        id: ReplyId::new(first.received_at),
        org_id: first.org_id,
        from: first.from.clone(),
        to: first.to.clone(),
        text,
        received_at: first.received_at,
        carrier: first.carrier.clone(),
        carrier_ref: format!("parts-{}", first.carrier_ref),
        in_reply_to: None,
        forwarded_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Region;
    use chrono::TimeZone;

    fn part(n: u32, total: u32, text: &str, secs: i64) -> ReplyPart {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("time")
            + chrono::Duration::seconds(secs);
        ReplyPart {
            org_id: OrgId::new(at),
            from: PhoneNumber::parse("+4917612345678", Region::DE).expect("number"),
            to: PhoneNumber::parse("+4915112340000", Region::DE).expect("number"),
            carrier: "vonage".into(),
            carrier_ref: format!("part-{n}"),
            reference: "A7".into(),
            part: n,
            total,
            text: text.into(),
            received_at: at,
        }
    }

    #[test]
    fn parts_are_joined_in_their_order_whatever_order_they_came_in() {
        let parts = [
            part(2, 3, "wie ", 1),
            part(3, 3, "besprochen.", 2),
            part(1, 3, "Ja, ", 5),
        ];
        let reply = assemble(&parts, true).expect("complete");
        assert_eq!(reply.text, "Ja, wie besprochen.");
        // Named after the part that arrived first, whichever number it has.
        assert_eq!(reply.carrier_ref, "parts-part-2");
        assert_eq!(reply.received_at, parts[0].received_at);
    }

    #[test]
    fn an_incomplete_sms_waits_unless_its_time_is_up() {
        let parts = [part(1, 4, "Ja, ich ", 0), part(4, 4, "morgen.", 1)];
        assert_eq!(assemble(&parts, true), None);
        let late = assemble(&parts, false).expect("assembled with what arrived");
        assert_eq!(late.text, "Ja, ich […] morgen.");
        let only_last = assemble(&parts[1..], false).expect("assembled");
        assert_eq!(only_last.text, "[…] morgen.");
    }

    #[test]
    fn a_part_sent_twice_under_two_ids_counts_once() {
        let mut again = part(1, 2, "Ja", 3);
        again.carrier_ref = "part-1b".into();
        let parts = [part(1, 2, "Ja", 0), again, part(2, 2, "!", 4)];
        assert_eq!(assemble(&parts, true).map(|r| r.text), Some("Ja!".into()));
    }
}
