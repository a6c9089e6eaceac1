//! Lambda bootstrap of the sweeper: build the services once, then sweep on each scheduled
//! event (EventBridge; the event's content is not used).

use std::sync::Arc;

use praxis_shared::wiring::Wiring;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread, as the other functions (functions/dispatch/src/main.rs says why).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses: the store, the queue (jobs enqueued again) and the mailer
    // (replies not yet forwarded). No carrier: it never sends an SMS itself.
    let svc = Arc::new(
        Wiring::from_env()
            .await?
            .with_queue()?
            .with_mailer()?
            .build(),
    );
    run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let svc = svc.clone();
        async move {
            let swept = praxis_sweeper::sweep(&svc, svc.clock.now()).await?;
            Ok::<serde_json::Value, Error>(swept.to_json())
        }
    }))
    .await
}
