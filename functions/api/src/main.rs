//! Lambda bootstrap of the API: build the services once, then serve API Gateway events.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init(true);
    let svc = Arc::new(praxis_shared::bootstrap::lambda_services().await?);
    run(service_fn(move |req: Request| {
        let svc = svc.clone();
        async move { Ok::<_, Infallible>(praxis_api::handle(&svc, req).await) }
    }))
    .await
}
