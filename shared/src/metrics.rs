//! The counts the functions emit for the operator's alarms and dashboard, as CloudWatch
//! embedded metric format (EMF): one JSON line on stdout per count, which CloudWatch Logs turns
//! into a metric. No SDK call and nothing at init, so no cold-start cost. Emitted only in
//! Lambda (`telemetry::init_json` switches it on); the local stack keeps its stdout for its own
//! lines.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every count (template.yaml's alarms and dashboard read it).
pub const NAMESPACE: &str = "praxis-sms";

/// What is counted. The names are the metric names in CloudWatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Messages the API stored (`POST /v1/messages`).
    Accepted,
    /// Messages a carrier took (dimension `Carrier`).
    Sent,
    /// Final reports: delivered (dimension `Carrier`).
    Delivered,
    /// Final reports and refusals: undelivered (dimension `Carrier`).
    Undelivered,
    /// Messages stored as expired by the sweeper (no final report in 72 hours).
    Expired,
    /// Messages whose job was lost, enqueued again by the sweeper.
    Requeued,
    /// Webhook calls refused for a missing or wrong signature (dimension `Carrier`): a wrong
    /// public URL makes every seven.io report fail like this.
    WebhookRejected,
    /// Replies still not e-mailed to their practice an hour after they came.
    RepliesNotForwarded,
}

impl Count {
    pub fn name(self) -> &'static str {
        match self {
            Count::Accepted => "Accepted",
            Count::Sent => "Sent",
            Count::Delivered => "Delivered",
            Count::Undelivered => "Undelivered",
            Count::Expired => "Expired",
            Count::Requeued => "Requeued",
            Count::WebhookRejected => "WebhookRejected",
            Count::RepliesNotForwarded => "RepliesNotForwarded",
        }
    }
}

static ON: AtomicBool = AtomicBool::new(false);

/// Switches emission on (Lambda's telemetry does).
pub fn enable() {
    ON.store(true, Ordering::Relaxed);
}

/// Emits `value` of `count`, with a `Carrier` dimension when given.
pub fn emit(count: Count, value: u64, carrier: Option<&str>) {
    if !ON.load(Ordering::Relaxed) {
        return;
    }
    let line = emf(count, value, carrier, Utc::now());
    // One write per line, so concurrent emitters never interleave within a line.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The EMF document for one count.
pub fn emf(count: Count, value: u64, carrier: Option<&str>, at: DateTime<Utc>) -> Value {
    let dimensions: Vec<&str> = carrier.map(|_| "Carrier").into_iter().collect();
    let mut doc = Map::new();
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions],
                "Metrics": [{ "Name": count.name(), "Unit": "Count" }],
            }],
        }),
    );
    if let Some(c) = carrier {
        doc.insert("Carrier".into(), Value::from(c));
    }
    doc.insert(count.name().into(), Value::from(value));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_count_is_an_emf_document_cloudwatch_reads() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("time");
        let doc = emf(Count::Sent, 3, Some("seven"), at);
        // The shape of the specification: _aws.CloudWatchMetrics names the namespace, the
        // dimension sets and the metrics; each dimension and metric is a top-level member.
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
        assert_eq!(directive["Namespace"], "praxis-sms");
        assert_eq!(directive["Dimensions"], json!([["Carrier"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Sent", "Unit": "Count"}])
        );
        assert_eq!(doc["Carrier"], "seven");
        assert_eq!(doc["Sent"], 3);
        // One line, as CloudWatch Logs needs it.
        assert!(!doc.to_string().contains('\n'));
    }

    #[test]
    fn a_count_without_a_carrier_has_one_empty_dimension_set() {
        let doc = emf(Count::Accepted, 1000, None, Utc::now());
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(doc["Accepted"], 1000);
        assert!(doc.get("Carrier").is_none());
    }
}
