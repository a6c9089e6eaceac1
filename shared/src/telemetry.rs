//! Logging, set up once per process: JSON lines in Lambda (CloudWatch), readable lines on a
//! terminal. Always to stderr, so stdout stays free for script output. Never log a number or
//! a text in clear: use `PhoneNumber::masked` and message ids.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The variable that sets what is logged: a level (`info`, the default; `debug`, ...) or
/// targets with levels, `praxis_shared=debug,info`.
pub const ENV_LOG: &str = "PRAXIS_SMS_LOG";

/// For Lambda: one JSON object per line (CloudWatch Logs parses them), no timestamps
/// (CloudWatch adds its own). Separate from [`init_terminal`] so that a Lambda binary does not
/// link the human-readable formatter.
pub fn init_json() {
    let (filter, invalid) = filter(std::env::var(ENV_LOG).ok().as_deref());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .json()
        .with_current_span(false)
        .without_time();
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init();
    report(invalid);
    // In Lambda, counts go out as embedded-metric lines on stdout too.
    crate::metrics::enable();
}

/// For the command line: readable lines, coloured on a terminal.
pub fn init_terminal() {
    let (filter, invalid) = filter(std::env::var(ENV_LOG).ok().as_deref());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .try_init();
    report(invalid);
}

fn report(invalid: Option<String>) {
    if let Some(value) = invalid {
        tracing::warn!(
            value,
            "{ENV_LOG} is neither a level nor a list of target=level; logging at info"
        );
    }
}

/// The filter `value` of [`ENV_LOG`] asks for: a `Targets` list, not `EnvFilter`, whose
/// regex matching of span fields would add ~0.1 MB to every Lambda binary for nothing we use;
/// `info` when unset or invalid, and then the invalid value, to report.
fn filter(value: Option<&str>) -> (Targets, Option<String>) {
    let info = Targets::new().with_default(LevelFilter::INFO);
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => (info, None),
        Some(v) => match v.parse::<Targets>() {
            Ok(t) => (t, None),
            Err(_) => (info, Some(v.to_owned())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn the_log_filter_reads_levels_and_targets_and_falls_back_to_info() {
        let (f, bad) = filter(None);
        assert!(f.would_enable("praxis_api", &Level::INFO) && bad.is_none());
        assert!(!f.would_enable("praxis_api", &Level::DEBUG));
        let (f, _) = filter(Some("debug"));
        assert!(f.would_enable("aws_config", &Level::DEBUG));
        let (f, _) = filter(Some("praxis_shared=debug,warn"));
        assert!(f.would_enable("praxis_shared::carriers", &Level::DEBUG));
        assert!(!f.would_enable("aws_config", &Level::INFO));
        assert!(f.would_enable("aws_config", &Level::WARN));
        let (f, bad) = filter(Some("praxis_api=loudest"));
        assert_eq!(bad.as_deref(), Some("praxis_api=loudest"));
        assert!(f.would_enable("praxis_api", &Level::INFO));
    }
}
