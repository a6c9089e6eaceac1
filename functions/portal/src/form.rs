//! Posted forms (`application/x-www-form-urlencoded`), read only once their CSRF token checks
//! out: a signed-in form carries its session's token, a sign-in form the token of its
//! `praxis_form` cookie (double submit). A form without it is refused (403) before anything
//! is read from it, so nothing changes.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use crate::error::PortalError;
use crate::session::{self, Signed};

/// The fields of a posted form.
#[derive(Debug, Default, Clone)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The field's value, empty if it is missing.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// A form posted by a signed-in browser, its CSRF token checked.
pub struct Form(pub Fields);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = PortalError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PortalError> {
        let signed = req
            .extensions()
            .get::<Signed>()
            .cloned()
            .ok_or(PortalError::NotFound)?;
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| PortalError::BadRequest("body"))?;
        let fields = Fields::parse(&body);
        if !session::same_token(fields.get("csrf"), signed.csrf()) {
            return Err(PortalError::Csrf);
        }
        Ok(Form(fields))
    }
}

/// A form posted before sign-in (sign-in, forgotten password, set password): its token must
/// match the `praxis_form` cookie the page set.
pub struct PublicForm(pub Fields);

impl<S: Send + Sync> FromRequest<S> for PublicForm {
    type Rejection = PortalError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PortalError> {
        let expected = session::cookie(req.headers(), session::FORM_COOKIE)
            .unwrap_or_default()
            .to_owned();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| PortalError::BadRequest("body"))?;
        let fields = Fields::parse(&body);
        if expected.len() < 32 || !session::same_token(fields.get("csrf"), &expected) {
            return Err(PortalError::Csrf);
        }
        Ok(PublicForm(fields))
    }
}
