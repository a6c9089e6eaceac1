//! Lambda bootstrap of the inbound-SMS webhook: build the services once, then serve calls with
//! its router.

use praxis_shared::wiring::Wiring;

use lambda_http::{Error, run};

// One thread, as the other functions (functions/dlr/src/main.rs says why).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses: the store, the mailer (SES) and the carriers' webhooks.
    let svc = Wiring::from_env()
        .await?
        .with_mailer()?
        .with_webhooks()?
        .build();
    let public_url = std::env::var("PRAXIS_SMS_PUBLIC_URL").ok();
    run(praxis_inbound::router(svc, public_url)).await
}
