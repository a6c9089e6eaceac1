//! Lambda bootstrap of the API: build the services once, then serve API Gateway events with
//! the API's router.

use praxis_shared::wiring::Wiring;

use lambda_http::{Error, run};

// One thread: Lambda hands a function one event at a time, and below 1769 MB of memory it has
// at most one vCPU; the work is waiting on DynamoDB, SQS and the carrier, which one thread
// interleaves as well as several. Starting no worker threads is cold-start time saved.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses (the store, the queue, the bucket to presign invoice PDFs,
    // the invoice links' key): the rest is not linked in.
    let svc = Wiring::from_env()
        .await?
        .with_queue()?
        .with_blob_links()?
        .with_invoice_links()?
        .build();
    run(praxis_api::router(svc)).await
}
