//! Lambda bootstrap of the portal: build the services once, then serve API Gateway events with
//! the portal's router.

use lambda_http::{Error, run};
use praxis_portal::PortalConfig;
use praxis_shared::wiring::Wiring;

/// The stack's public root URL (a custom domain); without it, the host each request came to.
const ENV_PUBLIC_URL: &str = "PRAXIS_SMS_PUBLIC_URL";

// One thread, as the API: one event at a time, at most one vCPU below 1769 MB.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    let config = match std::env::var(ENV_PUBLIC_URL) {
        Ok(url) if !url.trim().is_empty() => PortalConfig::new(url.trim()),
        _ => PortalConfig::from_requests(),
    };
    // The store, the mailer (password links, invitations) and the bucket (invoice PDFs).
    let svc = Wiring::from_env()
        .await?
        .with_mailer()?
        .with_blob_links()?
        .build();
    run(praxis_portal::router(svc, config)).await
}
