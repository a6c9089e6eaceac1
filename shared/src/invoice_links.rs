//! The download links of invoice e-mails: `/invoices/{id}/pdf?expires=…&signature=…`, an
//! HMAC-SHA256 over the invoice id and the expiry with a key the stack keeps, so a practice
//! can open its invoice for months without an API key. The route that checks it redirects to
//! a fresh presigned URL each time (a presigned URL made with a Lambda role's credentials dies
//! with them, hours later). The key: locally derived from `secrets.json`; in AWS an SSM
//! SecureString read on first use, like the carrier secrets.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::carriers::config::ParameterStore;
use crate::carriers::lazy::LoadError;
use crate::domain::InvoiceId;
use crate::ports::{PortError, PortResult};

/// How long an e-mailed link works: a practice may look for last year's invoice.
pub const LINK_VALIDITY: Duration = Duration::days(400);

/// The variable holding the key itself (hex or any text of at least 32 bytes).
pub const ENV_LINK_KEY: &str = "PRAXIS_SMS_INVOICE_LINK_KEY";
/// The variable naming the SSM parameter that holds it.
pub const ENV_LINK_KEY_PARAMETER: &str = "PRAXIS_SMS_INVOICE_LINK_KEY_PARAMETER";

/// A signing key; never printed.
#[derive(Clone)]
pub struct LinkKey(Vec<u8>);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(…)")
    }
}

impl LinkKey {
    /// At least 32 bytes: a shorter key is a configuration mistake, not a key.
    pub fn new(bytes: Vec<u8>) -> Option<LinkKey> {
        (bytes.len() >= 32).then_some(LinkKey(bytes))
    }

    /// A key of its own for links, derived from another secret of the stack (the local
    /// stack's blob key), so neither can stand in for the other.
    pub fn derived_from(secret: &[u8]) -> LinkKey {
        LinkKey(mac(secret, b"praxis-sms invoice links").to_vec())
    }

    fn signature(&self, id: InvoiceId, expires: i64) -> Vec<u8> {
        mac(&self.0, format!("{id}\n{expires}").as_bytes()).to_vec()
    }
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data);
    m.finalize().into_bytes().into()
}

enum Source {
    Fixed(LinkKey),
    Parameter {
        store: Arc<dyn ParameterStore>,
        name: String,
    },
    None,
}

/// What checking a link found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkCheck {
    Valid,
    Expired,
    Invalid,
}

/// Signs and checks invoice links with the stack's key.
pub struct InvoiceLinks {
    source: Source,
    key: tokio::sync::OnceCell<LinkKey>,
}

impl InvoiceLinks {
    pub fn fixed(key: LinkKey) -> InvoiceLinks {
        InvoiceLinks {
            source: Source::Fixed(key),
            key: tokio::sync::OnceCell::new(),
        }
    }

    /// The key is the SSM parameter `name`, fetched the first time a link is signed or checked.
    pub fn from_parameter(store: Arc<dyn ParameterStore>, name: String) -> InvoiceLinks {
        InvoiceLinks {
            source: Source::Parameter { store, name },
            key: tokio::sync::OnceCell::new(),
        }
    }

    /// A process that neither signs nor checks links.
    pub fn unwired() -> InvoiceLinks {
        InvoiceLinks {
            source: Source::None,
            key: tokio::sync::OnceCell::new(),
        }
    }

    async fn key(&self) -> PortResult<&LinkKey> {
        self.key
            .get_or_try_init(|| async {
                match &self.source {
                    Source::Fixed(k) => Ok(k.clone()),
                    Source::Parameter { store, name } => {
                        let values =
                            store
                                .fetch(std::slice::from_ref(name))
                                .await
                                .map_err(|e| match e {
                                    LoadError::NotConfigured(m) | LoadError::Unavailable(m) => {
                                        PortError::Unavailable(format!("invoice link key: {m}"))
                                    }
                                })?;
                        let raw = values.get(name).map(|v| v.trim().as_bytes().to_vec());
                        raw.and_then(LinkKey::new).ok_or_else(|| {
                            PortError::Unavailable(format!(
                                "invoice link key: parameter {name} holds less than 32 bytes"
                            ))
                        })
                    }
                    Source::None => Err(PortError::Unavailable(
                        "invoice links are not wired into this function".into(),
                    )),
                }
            })
            .await
    }

    /// The path and query of a link to `id`'s PDF that works until `expires`.
    pub async fn path(&self, id: InvoiceId, expires: DateTime<Utc>) -> PortResult<String> {
        let key = self.key().await?;
        let expires = expires.timestamp();
        let signature = hex::encode(key.signature(id, expires));
        Ok(format!(
            "/invoices/{id}/pdf?expires={expires}&signature={signature}"
        ))
    }

    /// Checks a link's `expires` and `signature` at `now`.
    pub async fn check(
        &self,
        id: InvoiceId,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> PortResult<LinkCheck> {
        let key = self.key().await?;
        let Ok(given) = hex::decode(signature) else {
            return Ok(LinkCheck::Invalid);
        };
        let expected = key.signature(id, expires);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_slice(),
            expected.as_slice(),
        )) {
            return Ok(LinkCheck::Invalid);
        }
        Ok(if now.timestamp() > expires {
            LinkCheck::Expired
        } else {
            LinkCheck::Valid
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(path: &str) -> (i64, String) {
        let q = path.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut expires = 0;
        let mut signature = String::new();
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            match &*k {
                "expires" => expires = v.parse().unwrap_or_default(),
                "signature" => signature = v.into_owned(),
                _ => {}
            }
        }
        (expires, signature)
    }

    #[tokio::test]
    async fn a_link_works_until_it_expires_and_only_for_its_invoice() {
        let links = InvoiceLinks::fixed(LinkKey::derived_from(b"blob key"));
        let now = Utc::now();
        let id = InvoiceId::new(now);
        let path = links.path(id, now + LINK_VALIDITY).await.expect("signs");
        assert!(path.starts_with(&format!("/invoices/{id}/pdf?expires=")));
        let (expires, sig) = query(&path);
        let check = |id, expires, sig: &str, at| {
            let links = &links;
            let sig = sig.to_owned();
            async move { links.check(id, expires, &sig, at).await.expect("checks") }
        };
        assert_eq!(check(id, expires, &sig, now).await, LinkCheck::Valid);
        assert_eq!(
            check(id, expires, &sig, now + Duration::days(401)).await,
            LinkCheck::Expired
        );
        assert_eq!(
            check(InvoiceId::new(now), expires, &sig, now).await,
            LinkCheck::Invalid
        );
        assert_eq!(
            check(id, expires + 86_400, &sig, now).await,
            LinkCheck::Invalid
        );
        assert_eq!(check(id, expires, "zz", now).await, LinkCheck::Invalid);
        let other = InvoiceLinks::fixed(LinkKey::derived_from(b"another key"));
        assert_eq!(
            other.check(id, expires, &sig, now).await.ok(),
            Some(LinkCheck::Invalid)
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(LinkKey::new(vec![7; 31]).is_none());
        assert!(LinkKey::new(vec![7; 32]).is_some());
    }
}
