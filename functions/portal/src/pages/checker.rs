//! Textprüfer: characters, encoding and parts of a text by the rules sending uses
//! (`praxis_shared::domain::text`), with the characters that force UCS-2 marked; the FAQ's
//! suggested reminder and recall texts to start from. Works on submit without JavaScript, and
//! live with it (`/textpruefer/zaehlen`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header;
use maud::{Markup, html};
use praxis_shared::domain::text::analyse;
use praxis_shared::domain::{Encoding, MessageText};

use crate::Portal;
use crate::error::PortalError;
use crate::form::Form;
use crate::layout::{self, Nav, csrf};
use crate::session::Signed;

/// The product FAQ's suggested texts ("Textvorlagen").
pub const SUGGESTIONS: [(&str, &str); 7] = [
    (
        "Terminbestätigung",
        "Terminbestätigung für Silvana Müller: 19.08. um 16:30 Uhr. Verhindert/Fragen? Tel: 01234-567890 Viele Grüße Zahnarztpraxis Dr. Mustermann",
    ),
    (
        "Terminerinnerung",
        "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter 01234-567890 Viele Grüße Zahnarztpraxis Dr. Mustermann",
    ),
    (
        "Recall: Kontrolle",
        "Hallo Frau Müller, es ist wieder Zeit für eine Kontrolle. Rufen Sie uns bitte unter 01234-567890 an. Viele Grüße Zahnarztpraxis Dr. Mustermann",
    ),
    (
        "Recall: Vorsorge",
        "Lieber Patient, der nächste Vorsorge- bzw. Kontrolltermin steht an. Wir freuen uns auf Ihren Anruf unter 01234-567890. Zahnarztpraxis Dr. Mustermann",
    ),
    (
        "Recall: Prophylaxe",
        "Hallo Frau Silvana Müller, bitte vereinbaren Sie Ihren nächsten Prophylaxe-/Kontroll-Termin. Ihre Zahnarztpraxis Dr. Mustermann 01234-567890",
    ),
    (
        "Recall: Erinnerung",
        "Erinnerung für Martina Mustermann: Bitte vereinbaren Sie Ihren nächsten Prophylaxe-/Kontroll-Termin in Ihrer Praxis Dr. Mustermann 01234-567890",
    ),
    (
        "Recall: Patientin",
        "Liebe Patientin, bitte vereinbaren Sie einen Vorsorge- bzw. Kontrolltermin mit uns. Zahnarztpraxis Dr. Mustermann freut sich auf Ihren Anruf: 01234-567890",
    ),
];

/// What the checker says about a text.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    pub characters: usize,
    pub encoding: &'static str,
    pub segments: u32,
    pub forcing_ucs2: Vec<String>,
    /// Why sending would refuse the text, if it would.
    pub problem: Option<String>,
}

pub fn verdict(text: &str) -> Verdict {
    let a = analyse(text);
    let problem = MessageText::parse(text, false).err().map(|e| match e {
        praxis_shared::domain::TextError::Empty => "Der Text ist leer.".to_owned(),
        praxis_shared::domain::TextError::TooLong { segments, max } => {
            format!("Der Text bräuchte {segments} SMS; höchstens {max} sind erlaubt.")
        }
        praxis_shared::domain::TextError::ControlCharacter { position, .. } => {
            format!(
                "Der Text enthält an Stelle {} ein Steuerzeichen.",
                position + 1
            )
        }
        praxis_shared::domain::TextError::ClusterTooLong { position, .. } => {
            format!("Das Zeichen an Stelle {} ist zu lang.", position + 1)
        }
    });
    Verdict {
        characters: a.characters,
        encoding: a.encoding.as_str(),
        segments: a.segments,
        forcing_ucs2: a.forcing_ucs2.iter().map(|c| c.to_string()).collect(),
        problem,
    }
}

fn view(signed: &Signed, text: &str) -> Markup {
    let v = verdict(text);
    let forcing: Vec<char> = v
        .forcing_ucs2
        .iter()
        .filter_map(|s| s.chars().next())
        .collect();
    let content = html! {
        p.lead { "Prüfen Sie, wie viele SMS ein Text kostet. Bis 160 Zeichen ist es eine SMS; längere Texte werden in Teile zu 153 Zeichen geteilt. Einige Zeichen (z. B. Emojis, typografische Anführungszeichen) erzwingen die Kodierung UCS-2: dann passen nur 70 Zeichen in eine SMS." }
        form method="post" action="/textpruefer" data-checker {
            (csrf(signed))
            label for="vorlage" { "Vorschlag übernehmen" }
            select id="vorlage" name="vorlage" data-suggestions {
                option value="" { "– eigener Text –" }
                @for (label, text) in SUGGESTIONS {
                    option value=(text) { (label) }
                }
            }
            label for="text" { "Text" }
            textarea id="text" name="text" rows="6" aria-describedby="result" { (text) }
            button type="submit" { "Prüfen" }
        }
        section id="result" .card aria-live="polite" {
            dl.facts {
                dt { "Zeichen" } dd data-out="characters" { (v.characters) }
                dt { "Kodierung" } dd data-out="encoding" { (v.encoding) }
                dt { "SMS-Teile" } dd data-out="segments" { (v.segments) }
            }
            p.field-error data-out="problem" { @if let Some(p) = &v.problem { (p) } }
            div data-out="forcing" {
                @if v.encoding == Encoding::Ucs2.as_str() && !forcing.is_empty() {
                    p { "Diese Zeichen erzwingen UCS-2: " @for c in &forcing { mark { (c) } " " } }
                    p.marked { @for c in text.chars() { @if forcing.contains(&c) { mark { (c) } } @else { (c) } } }
                }
            }
        }
    };
    layout::page("Textprüfer", signed, Nav::Checker, content)
}

pub async fn page(signed: Signed) -> Markup {
    view(&signed, SUGGESTIONS[1].1)
}

pub async fn submit(signed: Signed, Form(form): Form) -> Markup {
    let text = if form.get("text").is_empty() {
        form.get("vorlage")
    } else {
        form.get("text")
    };
    view(&signed, text)
}

/// The live count, as JSON: the same verdict as on submit.
pub async fn count(
    State(_): State<Portal>,
    _signed: Signed,
    Form(form): Form,
) -> Result<Response, PortalError> {
    let body = serde_json::to_string(&verdict(form.get("text")))
        .map_err(|_| PortalError::BadRequest("json"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
