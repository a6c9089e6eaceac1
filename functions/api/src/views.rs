//! The JSON shapes the outside world relies on (DESIGN.md), built from domain values.

use chrono::{DateTime, SecondsFormat, Utc};
use praxis_shared::domain::message::Message;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::reply::Reply;
use serde_json::{Value, json};

use crate::request::NewMessage;

pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn message(m: &Message) -> Value {
    json!({
        "id": m.id.to_string(),
        "to": m.to.as_str(),
        "sender": m.sender.as_str(),
        "text": m.text,
        "reference": m.reference,
        "status": m.status.as_str(),
        "status_text": m.status.label_de(),
        "reason": m.reason.map(|r| r.as_str()),
        "encoding": m.encoding.as_str(),
        "segments": m.segments,
        "created_at": time(m.created_at),
        "sent_at": m.sent_at.map(time),
        "history": m.history.iter().map(|h| json!({
            "status": h.status.as_str(),
            "status_text": h.status.label_de(),
            "at": time(h.at),
        })).collect::<Vec<_>>(),
    })
}

/// A patient's reply; `in_reply_to` is the id of the message it answers, if any.
pub fn reply(r: &Reply) -> Value {
    json!({
        "id": r.id.to_string(),
        "from": r.from.as_str(),
        "to": r.to.as_str(),
        "text": r.text,
        "received_at": time(r.received_at),
        "in_reply_to": r.in_reply_to.map(|m| m.to_string()),
    })
}

pub fn preview(m: &NewMessage) -> Value {
    json!({
        "to": m.to.as_str(),
        "sender": m.sender.as_str(),
        "text": m.text.as_str(),
        "encoding": m.text.encoding().as_str(),
        "segments": m.text.segments(),
        "characters": m.text.characters(),
        "units": m.text.units(),
        "ucs2_characters": m.text.forcing_ucs2().iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    })
}

pub fn key_check(org: &Org) -> Value {
    json!({
        "ok": true,
        "practice": { "id": org.id.to_string(), "name": org.name.as_str() },
        "name": org.name.as_str(),
        "default_sender": org.default_sender.as_ref().map(|s| s.as_str()),
        "reply_number": org.reply_number.as_ref().map(|n| n.as_str()),
        "region": org.region.as_str(),
    })
}
