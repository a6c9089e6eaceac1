//! Lambda bootstrap of the API: build the services once, then serve API Gateway events.

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
    // Only what this function uses (the store and the queue): the rest is not linked in.
    let svc = Arc::new(Wiring::from_env().await?.with_queue()?.build());
    run(service_fn(move |req: Request| {
        let svc = svc.clone();
        async move { Ok::<_, Infallible>(praxis_api::handle(&svc, req).await) }
    }))
    .await
}
