//! The response side of the contract (docs/contract.md, "Shapes"): what a message, a reply, an
//! opt-out, a preview and the key check look like as JSON, built from domain values.

use chrono::{DateTime, SecondsFormat, Utc};
use praxis_shared::domain::message::{HistoryEntry, Message};
use praxis_shared::domain::optout::OptOut;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::reply::Reply;
use praxis_shared::web::Failure;
use serde::Serialize;

use crate::request::NewMessage;

/// Times are RFC 3339 in UTC, to the millisecond.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, Serialize)]
pub struct MessageView<'a> {
    pub id: String,
    pub to: &'a str,
    pub sender: &'a str,
    pub text: &'a str,
    pub reference: Option<&'a str>,
    pub status: &'static str,
    pub status_text: &'static str,
    pub reason: Option<&'static str>,
    pub encoding: &'static str,
    pub segments: u32,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub history: Vec<HistoryView>,
}

#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub status: &'static str,
    pub status_text: &'static str,
    pub at: String,
}

impl<'a> From<&'a Message> for MessageView<'a> {
    fn from(m: &'a Message) -> Self {
        MessageView {
            id: m.id.to_string(),
            to: m.to.as_str(),
            sender: m.sender.as_str(),
            text: &m.text,
            reference: m.reference.as_deref(),
            status: m.status.as_str(),
            status_text: m.status.label_de(),
            reason: m.reason.map(|r| r.as_str()),
            encoding: m.encoding.as_str(),
            segments: m.segments,
            created_at: time(m.created_at),
            sent_at: m.sent_at.map(time),
            history: m.history.iter().map(HistoryView::from).collect(),
        }
    }
}

impl From<&HistoryEntry> for HistoryView {
    fn from(h: &HistoryEntry) -> Self {
        HistoryView {
            status: h.status.as_str(),
            status_text: h.status.label_de(),
            at: time(h.at),
        }
    }
}

/// A patient's reply; `in_reply_to` is the id of the message it answers, if any.
#[derive(Debug, Serialize)]
pub struct ReplyView<'a> {
    pub id: String,
    pub from: &'a str,
    pub to: &'a str,
    pub text: &'a str,
    pub received_at: String,
    pub in_reply_to: Option<String>,
}

impl<'a> From<&'a Reply> for ReplyView<'a> {
    fn from(r: &'a Reply) -> Self {
        ReplyView {
            id: r.id.to_string(),
            from: r.from.as_str(),
            to: r.to.as_str(),
            text: &r.text,
            received_at: time(r.received_at),
            in_reply_to: r.in_reply_to.map(|m| m.to_string()),
        }
    }
}

/// What a message would cost, without sending it.
#[derive(Debug, Serialize)]
pub struct PreviewView<'a> {
    pub to: &'a str,
    pub sender: &'a str,
    pub text: &'a str,
    pub encoding: &'static str,
    pub segments: u32,
    pub characters: usize,
    pub units: usize,
    /// The characters that forced UCS-2, each once, in order of appearance.
    pub ucs2_characters: Vec<String>,
}

impl<'a> From<&'a NewMessage> for PreviewView<'a> {
    fn from(m: &'a NewMessage) -> Self {
        PreviewView {
            to: m.to.as_str(),
            sender: m.sender.as_str(),
            text: m.text.as_str(),
            encoding: m.text.encoding().as_str(),
            segments: m.text.segments(),
            characters: m.text.characters(),
            units: m.text.units(),
            ucs2_characters: m.text.forcing_ucs2().iter().map(char::to_string).collect(),
        }
    }
}

/// The "Key-Check" button's answer.
#[derive(Debug, Serialize)]
pub struct KeyCheckView<'a> {
    pub ok: bool,
    pub practice: PracticeView<'a>,
    pub name: &'a str,
    pub default_sender: Option<&'a str>,
    pub reply_number: Option<&'a str>,
    pub region: &'a str,
}

#[derive(Debug, Serialize)]
pub struct PracticeView<'a> {
    pub id: String,
    pub name: &'a str,
}

impl<'a> From<&'a Org> for KeyCheckView<'a> {
    fn from(org: &'a Org) -> Self {
        KeyCheckView {
            ok: true,
            practice: PracticeView {
                id: org.id.to_string(),
                name: org.name.as_str(),
            },
            name: org.name.as_str(),
            default_sender: org.default_sender.as_ref().map(|s| s.as_str()),
            reply_number: org.reply_number.as_ref().map(|n| n.as_str()),
            region: org.region.as_str(),
        }
    }
}

/// One item of a batch answer: the message, or why it was refused.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Item<T> {
    Ok(T),
    Failed(Failure),
}

/// A batch answer, in request order. When no item was accepted, `error` says so for the whole.
#[derive(Debug, Serialize)]
pub struct Batch<T> {
    pub messages: Vec<Item<T>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<praxis_shared::web::ErrorBody>,
}

/// A page of messages, newest first.
#[derive(Debug, Serialize)]
pub struct MessagePage<'a> {
    pub messages: Vec<MessageView<'a>>,
    pub next_cursor: Option<String>,
}

/// A page of replies, newest first.
#[derive(Debug, Serialize)]
pub struct ReplyPage<'a> {
    pub replies: Vec<ReplyView<'a>>,
    pub next_cursor: Option<String>,
}

/// An invoice as the API lists it; the document itself is behind `/v1/invoices/{id}/pdf`.
#[derive(Debug, Serialize)]
pub struct InvoiceView {
    pub id: String,
    pub number: String,
    pub month: String,
    pub net_cents: i64,
    pub vat_cents: i64,
    pub gross_cents: i64,
    pub created_at: String,
}

impl From<&praxis_shared::domain::invoice::Invoice> for InvoiceView {
    fn from(i: &praxis_shared::domain::invoice::Invoice) -> Self {
        let c = &i.doc.computed;
        InvoiceView {
            id: i.id.to_string(),
            number: i.number.to_string(),
            month: i.month.to_string(),
            net_cents: c.net.get(),
            vat_cents: c.vat.get(),
            gross_cents: c.gross.get(),
            created_at: i
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

/// A number that opted out of the practice's SMS: since when, and how (`keyword`: the patient
/// replied STOP; `practice`: recorded on the practice's behalf).
#[derive(Debug, Serialize)]
pub struct OptOutView<'a> {
    pub number: &'a str,
    pub opted_out_at: String,
    pub source: &'static str,
}

impl<'a> From<&'a OptOut> for OptOutView<'a> {
    fn from(o: &'a OptOut) -> Self {
        OptOutView {
            number: o.number.as_str(),
            opted_out_at: time(o.since),
            source: o.source.as_str(),
        }
    }
}

/// A practice's invoices, newest month first (one page: twelve a year).
#[derive(Debug, Serialize)]
pub struct InvoicePage {
    pub invoices: Vec<InvoiceView>,
    pub next_cursor: Option<String>,
}

/// A page of opt-outs, newest first.
#[derive(Debug, Serialize)]
pub struct OptOutPage<'a> {
    pub opt_outs: Vec<OptOutView<'a>>,
    pub next_cursor: Option<String>,
}
