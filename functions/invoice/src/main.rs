//! Lambda bootstrap of the invoice function: the monthly schedule's event plans (one job per
//! practice onto the invoice queue), the queue's events make the invoices.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use praxis_invoice::{ENV_BILLING, Event, InvoiceSettings, handle_sqs, month_before, plan};
use praxis_shared::wiring::Wiring;

// One thread, as the other functions (functions/dlr/src/main.rs says why).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    praxis_shared::telemetry::init_json();
    // The store, the invoice queue, the bucket, the mailer and the links' key.
    let svc = Arc::new(
        Wiring::from_env()
            .await?
            .with_invoice_jobs()?
            .with_blobs()?
            .with_mailer()?
            .with_invoice_links()?
            .build(),
    );
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    // Deployed invoices must name the real seller: no example configuration in Lambda.
    if env(ENV_BILLING).is_none() {
        return Err(
            format!("{ENV_BILLING} (the template's BillingConfiguration) is not set").into(),
        );
    }
    let billing = InvoiceSettings::billing_from(env, None)?;
    // The links lead to the public base URL, else to the HTTP API's own URL.
    let public_url = match (
        env("PRAXIS_SMS_PUBLIC_URL"),
        env("PRAXIS_SMS_API_ID"),
        env("AWS_REGION"),
    ) {
        (Some(url), _, _) => url,
        (None, Some(api), Some(region)) => {
            format!("https://{api}.execute-api.{region}.amazonaws.com")
        }
        _ => {
            return Err(
                "PRAXIS_SMS_PUBLIC_URL or PRAXIS_SMS_API_ID and AWS_REGION must be set".into(),
            );
        }
    };
    let settings = Arc::new(InvoiceSettings {
        billing: Arc::new(billing),
        public_url,
    });
    run(service_fn(move |event: LambdaEvent<Event>| {
        let (svc, settings) = (svc.clone(), settings.clone());
        async move {
            match event.payload {
                Event::Sqs(sqs) => Ok::<_, Error>(serde_json::to_value(
                    handle_sqs(&svc, &settings, sqs).await,
                )?),
                Event::Schedule { time, month } => {
                    let month = month
                        .unwrap_or_else(|| month_before(time.unwrap_or_else(|| svc.clock.now())));
                    let n = plan(&svc, month).await?;
                    Ok(serde_json::json!({"month": month, "practices": n}))
                }
            }
        }
    }))
    .await
}
