//! The seam to opt-outs (STOP/START keywords), which are built on another branch (`optout`):
//! which keyword a reply is, recording what it asks for, and what the e-mail tells the practice.
//!
//! STUB until branch `optout` is merged: no keyword is recognised and nothing is recorded, so
//! no reply opts anyone out yet. The names are that branch's, so at the merge only this file
//! changes: `Keyword` becomes `pub use praxis_shared::domain::optout::Keyword;` (its `of` and
//! `notice_de` are the real ones) and `apply_keyword` takes the body of that branch's
//! `apply_keyword` (functions/dlr/src/inbound.rs there: `record_opt_out` / `lift_opt_out`).
//! It runs after the reply is stored, also for a resent webhook (the first may have stored the
//! reply and failed here), so it must stay idempotent, as those store writes are.

use praxis_shared::domain::reply::Reply;
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

/// What a reply asks for when it is nothing but one of the keywords. STUB: see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// `STOP`, `STOPP`, `ABMELDEN`, `STOP ALLE`: no more SMS from this practice.
    Stop,
    /// `START`, `ANMELDEN`: SMS from this practice again.
    Start,
}

impl Keyword {
    /// STUB: recognises nothing until the `optout` branch's parser replaces it.
    pub fn of(text: &str) -> Option<Keyword> {
        let _ = text;
        None
    }

    /// What the practice is told about such a reply (the reply's e-mail), in German.
    pub fn notice_de(self) -> &'static str {
        match self {
            Keyword::Stop => {
                "Mit dieser Antwort hat sich die Nummer von den SMS Ihrer Praxis abgemeldet. \
                 Weitere SMS an sie werden abgelehnt, bis sie sich mit START wieder anmeldet \
                 oder Sie die Abmeldung aufheben."
            }
            Keyword::Start => {
                "Mit dieser Antwort hat sich die Nummer wieder für die SMS Ihrer Praxis \
                 angemeldet."
            }
        }
    }
}

/// Opts the reply's number out of (or back into) the practice's SMS if the reply is only a
/// keyword. STUB: see the module docs.
pub async fn apply_keyword(svc: &Services, reply: &Reply) -> Result<(), PortError> {
    let Some(keyword) = Keyword::of(&reply.text) else {
        return Ok(());
    };
    let _ = (svc, keyword);
    Ok(())
}
