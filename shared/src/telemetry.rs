//! Logging, set up once per process: JSON lines in Lambda (CloudWatch), readable lines on a
//! terminal. Always to stderr, so stdout stays free for script output. Never log a number or
//! a text in clear: use `PhoneNumber::masked` and message ids.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_env("PRAXIS_SMS_LOG")
        .or_else(|_| EnvFilter::try_new("info"))
        .unwrap_or_default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder
            .json()
            .with_current_span(false)
            .without_time()
            .try_init()
    } else {
        builder.with_target(false).try_init()
    };
}
