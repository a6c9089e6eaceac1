//! Mail on the local stack: each e-mail becomes an RFC 5322 `.eml` file in `<data-dir>/outbox/`,
//! named by its idempotency key so that sending twice writes one file.

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;

use crate::ports::{Email, Mailer, PortError, PortResult};

#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
    from: String,
}

impl OutboxMailer {
    pub fn new(dir: PathBuf, from: impl Into<String>) -> PortResult<OutboxMailer> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            PortError::Unavailable(format!("cannot create outbox {}: {e}", dir.display()))
        })?;
        Ok(OutboxMailer {
            dir,
            from: from.into(),
        })
    }
}

/// An RFC 2047 encoded word where the header is not plain ASCII.
fn header_text(s: &str) -> String {
    if s.is_ascii() && !s.contains(['\r', '\n']) {
        s.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", STANDARD.encode(s.as_bytes()))
    }
}

/// Renders a mail as RFC 5322 text with a base64 UTF-8 body (safe for any content).
pub fn render_eml(from: &str, mail: &Email, message_id: &str) -> String {
    let body = STANDARD.encode(mail.text.as_bytes());
    let mut wrapped = String::with_capacity(body.len() + body.len() / 76 * 2);
    for chunk in body.as_bytes().chunks(76) {
        wrapped.push_str(&String::from_utf8_lossy(chunk));
        wrapped.push_str("\r\n");
    }
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{wrapped}",
        to = mail.to,
        subject = header_text(&mail.subject),
        date = Utc::now().to_rfc2822(),
    )
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, idempotency_key: &str, mail: &Email) -> PortResult<()> {
        let safe: String = idempotency_key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.dir.join(format!("{safe}.eml"));
        let eml = render_eml(&self.from, mail, &format!("{safe}@praxis-sms.local"));
        tokio::task::spawn_blocking(move || {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => f
                    .write_all(eml.as_bytes())
                    .map_err(|e| PortError::Unavailable(format!("outbox write: {e}"))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(PortError::Unavailable(format!("outbox: {e}"))),
            }
        })
        .await
        .map_err(|e| PortError::Unavailable(format!("outbox task: {e}")))?
    }
}
