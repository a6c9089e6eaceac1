//! Lambda bootstrap of the API: build the services once, then serve API Gateway events.

use std::convert::Infallible;
use std::sync::Arc;

use praxis_shared::bootstrap::Wiring;

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init(true);
    // Only what this function uses (the store and the queue): the rest is not linked in.
    let svc = Arc::new(Wiring::from_env().await?.with_queue()?.build());
    run(service_fn(move |req: Request| {
        let svc = svc.clone();
        async move { Ok::<_, Infallible>(praxis_api::handle(&svc, req).await) }
    }))
    .await
}
