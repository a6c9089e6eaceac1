//! An [`Email`] as the RFC 5322 message both mailers deliver: the outbox writes these bytes and
//! SES v2 gets them as raw content, so a local `.eml` is what a practice would receive. UTF-8
//! throughout, headers encoded as RFC 2047 words where they are not ASCII, `Date` and a
//! `Message-ID` made from the idempotency key (the same e-mail has the same id everywhere).

use std::time::SystemTime;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::ports::{Email, PortError, PortResult};

/// The e-mail from the mailer's sender `from` (an address, or `Name <address>`, whose name the
/// e-mail's own display name replaces), sent at `date`.
pub fn mime(
    from: &str,
    mail: &Email,
    idempotency_key: &str,
    date: SystemTime,
) -> PortResult<Vec<u8>> {
    // Both addresses were checked when they were configured or stored; one that the builder
    // still refuses is a broken setting, not a passing failure.
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        PortError::Corrupt(format!(
            "e-mail {what} is not an address the mail builder takes: {e}"
        ))
    };
    let sender: Mailbox = from.parse().map_err(|e| invalid("sender", &e))?;
    let domain = sender.email.domain().to_owned();
    let sender = Mailbox::new(Some(mail.from_name.clone()), sender.email);
    let to: Mailbox = mail.to.parse().map_err(|e| invalid("recipient", &e))?;
    let builder = Message::builder()
        .from(sender)
        .to(to)
        .subject(mail.subject.as_str())
        .date(date)
        .message_id(Some(format!("<{}@{domain}>", id_part(idempotency_key))));
    let message = match &mail.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(SinglePart::plain(mail.text.clone())),
    }
    .map_err(|e| PortError::Corrupt(format!("e-mail not buildable: {e}")))?;
    Ok(message.formatted())
}

/// The idempotency key in the characters a Message-ID's left part may hold unquoted.
pub fn id_part(key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "none".to_owned()
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(html: Option<&str>) -> Email {
        Email {
            to: "praxis@zahnarzt-mueller.example".into(),
            from_name: "Praxis Müller – SMS".into(),
            subject: "SMS-Antwort von 0176 12345678: Grüße".into(),
            text: "Ja, ich komme. Grüße, Jürgen".into(),
            html: html.map(str::to_owned),
        }
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).expect("MIME is ASCII here")
    }

    #[test]
    fn headers_are_ascii_with_encoded_words_and_a_stable_message_id() {
        let eml = mime(
            "noreply@praxis-sms.example",
            &mail(None),
            "01JREPLY/1",
            SystemTime::UNIX_EPOCH,
        )
        .expect("mime");
        let eml = text(&eml);
        assert!(eml.is_ascii(), "{eml}");
        assert!(
            eml.contains("Message-ID: <01JREPLY_1@praxis-sms.example>"),
            "{eml}"
        );
        assert!(
            eml.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"),
            "{eml}"
        );
        // Encoded words only where the text is not ASCII (RFC 2047).
        assert!(
            eml.contains("Subject: SMS-Antwort von 0176 12345678: =?utf-8?b?"),
            "{eml}"
        );
        assert!(eml.contains("From: =?utf-8?b?"), "{eml}");
        assert!(eml.contains("<noreply@praxis-sms.example>"), "{eml}");
        assert!(!eml.contains("multipart"), "{eml}");
    }

    #[test]
    fn with_html_it_is_multipart_alternative_and_the_configured_name_is_replaced() {
        let eml = mime(
            "Old Name <noreply@praxis-sms.example>",
            &mail(Some("<p>Ja, ich komme.</p>")),
            "k",
            SystemTime::UNIX_EPOCH,
        )
        .expect("mime");
        let eml = text(&eml);
        assert!(eml.contains("Content-Type: multipart/alternative"), "{eml}");
        assert!(eml.contains("text/plain; charset=utf-8"), "{eml}");
        assert!(eml.contains("text/html; charset=utf-8"), "{eml}");
        assert!(!eml.contains("Old Name"), "{eml}");
    }

    #[test]
    fn an_address_the_builder_refuses_is_reported_not_sent() {
        let mut m = mail(None);
        m.to = "no address".into();
        assert!(matches!(
            mime(
                "noreply@praxis-sms.example",
                &m,
                "k",
                SystemTime::UNIX_EPOCH
            ),
            Err(PortError::Corrupt(_))
        ));
    }
}
