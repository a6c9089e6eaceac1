//! Lambda bootstrap of the carrier webhooks: build the services once, then serve calls.

use std::convert::Infallible;
use std::sync::Arc;

use praxis_shared::wiring::Wiring;

use lambda_http::{Error, Request, run, service_fn};

// One thread: Lambda hands a function one event at a time, and below 1769 MB of memory it has
// at most one vCPU; the work is waiting on DynamoDB, SQS and the carrier, which one thread
// interleaves as well as several. Starting no worker threads is cold-start time saved.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses (the store and the carriers' webhooks): the rest is not linked in.
    let svc = Arc::new(Wiring::from_env().await?.with_webhooks()?.build());
    let public_url: Option<Arc<str>> = std::env::var("PRAXIS_SMS_PUBLIC_URL").ok().map(Into::into);
    run(service_fn(move |req: Request| {
        let svc = svc.clone();
        let public_url = public_url.clone();
        async move { Ok::<_, Infallible>(praxis_dlr::handle(&svc, req, public_url.as_deref()).await) }
    }))
    .await
}
