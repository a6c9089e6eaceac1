//! Lambda bootstrap of the portal: build the services once, then serve API Gateway events with
//! the portal's router.

use lambda_http::{Error, run};
use praxis_portal::PortalConfig;
use praxis_shared::wiring::Wiring;

/// The portal's public root URL (links in e-mails; `Secure` cookies when https).
const ENV_PORTAL_URL: &str = "PRAXIS_SMS_PORTAL_URL";
/// The API's base URL shown for Dentport.
const ENV_API_URL: &str = "PRAXIS_SMS_API_URL";

// One thread, as the API: one event at a time, at most one vCPU below 1769 MB.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    let portal_url = std::env::var(ENV_PORTAL_URL)?;
    let api_url = std::env::var(ENV_API_URL).unwrap_or_else(|_| portal_url.clone());
    // The store, the mailer (password links, invitations) and the bucket (invoice PDFs).
    let svc = Wiring::from_env()
        .await?
        .with_mailer()?
        .with_blobs()?
        .build();
    run(praxis_portal::router(
        svc,
        PortalConfig::new(&portal_url, &api_url),
    ))
    .await
}
