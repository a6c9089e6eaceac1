//! Lambda bootstrap of the carrier webhooks: build the services once, then serve calls with
//! the webhooks' router.

use praxis_shared::wiring::Wiring;

use lambda_http::{Error, run};

// One thread: Lambda hands a function one event at a time, and below 1769 MB of memory it has
// at most one vCPU; the work is waiting on DynamoDB, SQS and the carrier, which one thread
// interleaves as well as several. Starting no worker threads is cold-start time saved.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses (the store and the carriers' webhooks): the rest is not linked in.
    let svc = Wiring::from_env().await?.with_webhooks()?.build();
    let public_url = std::env::var("PRAXIS_SMS_PUBLIC_URL").ok();
    run(praxis_dlr::router(svc, public_url)).await
}
