//! Mail through SES v2 from one verified sender: the e-mail as raw MIME (`adapters::mime`), the
//! same bytes the local outbox writes.
//!
//! Idempotency: SES has no idempotency key, so `send` cannot keep the port's promise of "once
//! per key" by itself; a retried call with the same key sends a second mail. The key is
//! attached as an email tag (`idempotency-key`, sanitised to SES's tag alphabet) so duplicates
//! can be traced in SES events, and is the `Message-ID`'s left part. Callers that must not send
//! twice deduplicate before calling, with the store (a conditional write claiming the right to
//! send, as forwarding replies does), not here.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, MessageTag, RawMessage};

use crate::adapters::mime::mime;
use crate::ports::{Email, Mailer, PortError, PortResult};

use super::error::sdk_unavailable;

/// SES limits a tag value to 256 characters.
const TAG_VALUE_MAX: usize = 256;

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> SesMailer {
        SesMailer {
            client,
            from: from.into(),
        }
    }
}

/// The idempotency key in SES's tag alphabet (ASCII letters, digits, `_`, `-`).
fn tag_value(key: &str) -> String {
    let value: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(TAG_VALUE_MAX)
        .collect();
    if value.is_empty() {
        "none".to_owned()
    } else {
        value
    }
}

#[async_trait]
impl Mailer for SesMailer {
    /// Sends the mail; see the module docs for why this does not deduplicate on the key. The
    /// envelope sender is the configured address (the `From` header adds the display name);
    /// the recipients are the raw message's `To`, one source for both.
    async fn send(&self, idempotency_key: &str, mail: &Email) -> PortResult<()> {
        let raw = mime(
            &self.from,
            mail,
            idempotency_key,
            std::time::SystemTime::now(),
        )?;
        let raw = RawMessage::builder()
            .data(Blob::new(raw))
            .build()
            .map_err(|e| PortError::Unavailable(format!("SES raw message: {e}")))?;
        let tag = MessageTag::builder()
            .name("idempotency-key")
            .value(tag_value(idempotency_key))
            .build()
            .map_err(|e| PortError::Unavailable(format!("SES tag: {e}")))?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .content(EmailContent::builder().raw(raw).build())
            .email_tags(tag)
            .send()
            .await
            .map_err(|e| sdk_unavailable("SES", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_use_the_ses_alphabet() {
        assert_eq!(tag_value("inv-2026_11"), "inv-2026_11");
        assert_eq!(tag_value("a b/ü"), "a_b__");
        assert_eq!(tag_value(""), "none");
        assert_eq!(tag_value(&"x".repeat(300)).len(), TAG_VALUE_MAX);
    }
}
