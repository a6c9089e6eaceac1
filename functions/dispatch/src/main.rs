//! Lambda bootstrap of the dispatcher: build the services once, then handle SQS batches,
//! reporting per-message failures so only those come back.

use std::sync::Arc;

use praxis_shared::wiring::Wiring;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

// One thread: Lambda hands a function one event at a time, and below 1769 MB of memory it has
// at most one vCPU; the work is waiting on DynamoDB, SQS and the carrier, which one thread
// interleaves as well as several. Starting no worker threads is cold-start time saved.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // Only what this function uses (the store and the carrier): the rest is not linked in.
    let svc = Arc::new(Wiring::from_env().await?.with_carrier()?.build());
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let svc = svc.clone();
        async move {
            let deadline = praxis_dispatch::deadline_of(event.context.deadline);
            Ok::<SqsBatchResponse, Error>(
                praxis_dispatch::handle_sqs(&svc, event.payload, Some(deadline)).await,
            )
        }
    }))
    .await
}
