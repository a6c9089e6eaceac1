//! Lambda bootstrap of the dispatcher: build the services once, then handle SQS batches,
//! reporting per-message failures so only those come back.

use std::sync::Arc;

use praxis_shared::bootstrap::Wiring;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init(true);
    // Only what this function uses (the store and the carrier): the rest is not linked in.
    let svc = Arc::new(Wiring::from_env().await?.with_carrier()?.build());
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let svc = svc.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(praxis_dispatch::handle_sqs(&svc, event.payload).await)
        }
    }))
    .await
}
