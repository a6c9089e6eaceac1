//! STOP and START: a reply that is only a keyword opts its number out of (or back into) the
//! practice's SMS. It runs after the reply is stored, also for a resent webhook (the first may
//! have stored the reply and failed here); the store's writes make a repeat change nothing.

pub use praxis_shared::domain::optout::Keyword;
use praxis_shared::domain::optout::{OptOut, Source};
use praxis_shared::domain::reply::Reply;
use praxis_shared::ports::PortError;
use praxis_shared::services::Services;

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
