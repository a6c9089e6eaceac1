//! Every way a portal request can fail, and the one place that turns a failure into a German
//! HTML page with its status code.

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use maud::html;
use praxis_shared::ports::PortError;

use crate::layout;

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Also what another practice's id, and a page a team member may not see, answer.
    #[error("not found")]
    NotFound,
    #[error("the form's CSRF token is missing or wrong")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("backend: {0}")]
    Port(#[from] PortError),
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            PortalError::NotFound => (
                StatusCode::NOT_FOUND,
                "Seite nicht gefunden",
                "Diese Seite gibt es nicht, oder sie gehört nicht zu Ihrem Zugang.",
            ),
            PortalError::Csrf => (
                StatusCode::FORBIDDEN,
                "Formular abgelaufen",
                "Das Formular konnte nicht überprüft werden (es ist abgelaufen oder stammt nicht \
                 von dieser Seite). Es wurde nichts geändert. Bitte laden Sie die Seite neu und \
                 versuchen Sie es noch einmal.",
            ),
            PortalError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Ungültige Anfrage",
                "Die Anfrage konnte nicht gelesen werden. Es wurde nichts geändert.",
            ),
            PortalError::Port(e) => {
                tracing::error!(error = %e, "portal request failed");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Vorübergehend nicht erreichbar",
                    "Bitte versuchen Sie es in einem Moment noch einmal.",
                )
            }
        };
        let body = layout::bare(
            title,
            html! {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Zur Übersicht" } }
            },
        );
        (status, body).into_response()
    }
}

pub async fn not_found() -> PortalError {
    PortalError::NotFound
}
