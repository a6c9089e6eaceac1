//! A hello-world Lambda function on `lambda_runtime` and nothing else: the cold-start baseline
//! the praxis-sms functions are measured against (scripts/coldstart.sh). Not deployed.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "message": "hello" }))
    }))
    .await
}
