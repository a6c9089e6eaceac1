//! Lambda bootstrap of the dispatcher: build the services once, then handle SQS batches,
//! reporting per-message failures so only those come back.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init(true);
    let svc = Arc::new(praxis_shared::bootstrap::lambda_services().await?);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let svc = svc.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(praxis_dispatch::handle_sqs(&svc, event.payload).await)
        }
    }))
    .await
}
