//! `sim`, the simulated carrier of the local stack and the tests. Outcomes depend on the
//! recipient's last four digits (docs/contract.md); it reports through the real DLR webhook
//! over HTTP.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{
    CarrierWebhooks, Concat, DeliveryReport, InboundSms, ReportTarget, WebhookError, WebhookRequest,
};
use crate::domain::{MessageId, Reason, ReplyId, Status};
use crate::ports::{Carrier, OutboundSms, SubmitError, Submitted};

pub const NAME: &str = "sim";
const SUBMISSIONS: &str = "submissions.jsonl";
const ACKED: &str = "reports-acked.jsonl";

/// What the sim does with a number, by its last four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// `0000`: accepted, then reported undelivered (unknown subscriber).
    UnknownSubscriber,
    /// `1111`: accepted, then reported buffered, and nothing more.
    StaysBuffered,
    /// `2222`: refused at submission, permanently.
    Rejected,
    /// `3333`: two transient failures, then accepted and delivered.
    FlakyTwice,
    /// Anything else: accepted, then delivered.
    Delivers,
}

impl Behaviour {
    pub fn of(last_four: &str) -> Behaviour {
        match last_four {
            "0000" => Behaviour::UnknownSubscriber,
            "1111" => Behaviour::StaysBuffered,
            "2222" => Behaviour::Rejected,
            "3333" => Behaviour::FlakyTwice,
            _ => Behaviour::Delivers,
        }
    }
}

/// The sim's DLR payload (its own documented protocol: JSON, bearer token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimReport {
    pub id: String,
    pub carrier_ref: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// An SMS a patient sends through the sim (`praxis-sms sim inbound` posts it to
/// `/webhooks/sim/inbound`, bearer token as for reports). Numbers in E.164.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInbound {
    pub from: String,
    pub to: String,
    pub text: String,
    /// The sim's id of the SMS; posting the same id again is a resent webhook. Without one,
    /// each post is a new SMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Set when this is one part of a long SMS, as carriers that forward parts one by one do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concat: Option<SimConcat>,
}

/// Which part of which long SMS a [`SimInbound`] is (Vonage's `concat-*`, in the sim's JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimConcat {
    pub reference: String,
    pub total: u32,
    pub part: u32,
}

/// Appends one JSON line with a single `write`, so a kill leaves whole lines or none (a line
/// written piecewise could be cut and glued to the next process's first line).
fn append_line(f: &mut File, v: &serde_json::Value) -> std::io::Result<()> {
    let mut buf = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    buf.push(b'\n');
    f.write_all(&buf)
}

/// Ends a line a crash cut short, so the next record starts on a line of its own.
fn end_torn_line(path: &Path, f: &mut File) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut reader = File::open(path)?;
    let len = reader.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    reader.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    reader.read_exact(&mut last)?;
    if last[0] != b'\n' {
        f.write_all(b"\n")?;
    }
    Ok(())
}

pub struct SimCarrier {
    dir: PathBuf,
    submissions: Mutex<File>,
    /// Reports the webhook accepted. A carrier outlives our process: what is in
    /// `submissions.jsonl` but not here is reported again after a restart (`resume`).
    acked: Arc<Mutex<File>>,
    attempts: Mutex<HashMap<MessageId, u32>>,
    webhook_url: String,
    token: String,
    http: reqwest::Client,
    report_delay: Duration,
}

impl SimCarrier {
    /// The sim of a local stack: its log in `<data_dir>/sim`, its reports posted to the stack's
    /// own webhook at `base_url`.
    pub fn for_stack(data_dir: &Path, base_url: &str, token: &str) -> std::io::Result<SimCarrier> {
        SimCarrier::new(
            &data_dir.join("sim"),
            format!("{base_url}/webhooks/sim/dlr"),
            token.to_owned(),
        )
    }

    /// `dir` gets `submissions.jsonl`; reports are posted to `webhook_url` with `token`.
    pub fn new(dir: &Path, webhook_url: String, token: String) -> std::io::Result<SimCarrier> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
        };
        let mut submissions = open(SUBMISSIONS)?;
        let mut acked = open(ACKED)?;
        end_torn_line(&dir.join(SUBMISSIONS), &mut submissions)?;
        end_torn_line(&dir.join(ACKED), &mut acked)?;
        let http = crate::http::client_builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(SimCarrier {
            dir: dir.to_path_buf(),
            submissions: Mutex::new(submissions),
            acked: Arc::new(Mutex::new(acked)),
            attempts: Mutex::new(HashMap::new()),
            webhook_url,
            token,
            http,
            report_delay: Duration::from_millis(5),
        })
    }

    fn record(&self, report: &SimReport, segments: u32) -> Result<(), SubmitError> {
        let line = serde_json::json!({
            "id": report.id,
            "carrier_ref": report.carrier_ref,
            "segments": segments,
            "at": Utc::now(),
            "report": report,
        });
        let mut f = self
            .submissions
            .lock()
            .map_err(|_| SubmitError::Transient("sim log lock poisoned".into()))?;
        append_line(&mut f, &line).map_err(|e| SubmitError::Transient(format!("sim log: {e}")))
    }

    fn flaky_attempt(&self, id: MessageId) -> u32 {
        let mut a = match self.attempts.lock() {
            Ok(a) => a,
            Err(p) => p.into_inner(),
        };
        let n = a.entry(id).or_insert(0);
        *n += 1;
        *n
    }

    /// Sends again every report the webhook has not accepted yet (after a restart).
    pub fn resume(&self) -> std::io::Result<usize> {
        let read = |name: &str| -> std::io::Result<Vec<serde_json::Value>> {
            let f = File::open(self.dir.join(name))?;
            Ok(BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                // A line cut short by a crash is skipped; its message is still open and is
                // dispatched again by the restarted dispatcher.
                .filter_map(|l| serde_json::from_str(&l).ok())
                .collect())
        };
        let acked: std::collections::HashSet<String> = read(ACKED)?
            .into_iter()
            .filter_map(|v| v.get("id")?.as_str().map(str::to_owned))
            .collect();
        let mut n = 0;
        for line in read(SUBMISSIONS)? {
            let Some(report) = line
                .get("report")
                .and_then(|r| serde_json::from_value::<SimReport>(r.clone()).ok())
            else {
                continue;
            };
            if !acked.contains(&report.id) {
                self.report_later(report);
                n += 1;
            }
        }
        Ok(n)
    }

    fn report_later(&self, report: SimReport) {
        let acked = self.acked.clone();
        let http = self.http.clone();
        let url = self.webhook_url.clone();
        let token = self.token.clone();
        let delay = self.report_delay;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            // Like a real carrier: retry a failed webhook call with growing pauses.
            let mut pause = Duration::from_millis(100);
            for _ in 0..10 {
                let res = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&report)
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        if let Ok(mut f) = acked.lock() {
                            let _ = append_line(&mut f, &serde_json::json!({ "id": report.id }));
                        }
                        return;
                    }
                    Ok(r) => {
                        tracing::warn!(message_id = %report.id, status = %r.status(), "sim DLR not accepted; retrying")
                    }
                    Err(e) => {
                        tracing::warn!(message_id = %report.id, error = %e, "sim DLR failed; retrying")
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            tracing::error!(message_id = %report.id, "sim DLR given up");
        });
    }
}

#[async_trait]
impl Carrier for SimCarrier {
    fn name(&self) -> &str {
        NAME
    }

    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError> {
        let behaviour = Behaviour::of(sms.to.last_four());
        let (status, reason) = match behaviour {
            Behaviour::Rejected => {
                return Err(SubmitError::Permanent {
                    reason: Reason::Rejected,
                    detail: "sim: recipient rejected at submission".into(),
                });
            }
            Behaviour::FlakyTwice if self.flaky_attempt(sms.id) <= 2 => {
                return Err(SubmitError::Transient(
                    "sim: temporary network failure".into(),
                ));
            }
            Behaviour::UnknownSubscriber => (
                Status::Undelivered,
                Some(Reason::UnknownSubscriber.as_str().to_owned()),
            ),
            Behaviour::StaysBuffered => (Status::Buffered, None),
            Behaviour::FlakyTwice | Behaviour::Delivers => (Status::Delivered, None),
        };
        let carrier_ref = format!("sim-{}", sms.id);
        let report = SimReport {
            id: sms.id.to_string(),
            carrier_ref: carrier_ref.clone(),
            status: status.as_str().to_owned(),
            reason,
            at: Utc::now(),
        };
        self.record(&report, sms.segments)?;
        self.report_later(report);
        Ok(Submitted {
            carrier: NAME.to_owned(),
            carrier_ref: Some(carrier_ref),
        })
    }
}

/// The sim's webhook side: a shared bearer token (the sim has no signature scheme).
pub struct SimWebhooks {
    token: String,
}

impl SimWebhooks {
    pub fn new(token: String) -> SimWebhooks {
        SimWebhooks { token }
    }
}

impl CarrierWebhooks for SimWebhooks {
    fn name(&self) -> &str {
        NAME
    }

    fn carries_signature(&self, req: &WebhookRequest<'_>) -> bool {
        req.headers.contains_key(http::header::AUTHORIZATION)
    }

    fn verify(&self, req: &WebhookRequest<'_>, _now: DateTime<Utc>) -> Result<(), WebhookError> {
        let given = req
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(WebhookError::Unauthorized("missing bearer token"))?;
        if given.as_bytes().ct_eq(self.token.as_bytes()).into() {
            Ok(())
        } else {
            Err(WebhookError::Unauthorized("wrong token"))
        }
    }

    fn parse_reports(&self, body: &[u8]) -> Result<Vec<DeliveryReport>, WebhookError> {
        let r: SimReport =
            serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
        let status: Status =
            r.status
                .parse()
                .map_err(|e: crate::domain::status::UnknownStatus| {
                    WebhookError::BadPayload(e.to_string())
                })?;
        let reason = match r.reason.as_deref() {
            Some(s) => Some(
                Reason::parse(s)
                    .ok_or_else(|| WebhookError::BadPayload(format!("unknown reason {s:?}")))?,
            ),
            None => None,
        };
        let target = match MessageId::parse(&r.id) {
            Ok(id) => ReportTarget::Ours(id),
            Err(_) => ReportTarget::CarrierRef(r.carrier_ref),
        };
        Ok(vec![DeliveryReport {
            target,
            status: Some(status),
            reason,
        }])
    }

    fn parse_inbound(&self, body: &[u8]) -> Result<Option<InboundSms>, WebhookError> {
        let sms: SimInbound =
            serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(e.to_string()))?;
        let now = Utc::now();
        Ok(Some(InboundSms {
            from: sms.from,
            to: sms.to,
            message_id: sms
                .id
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(|| format!("sim-in-{}", ReplyId::new(now))),
            text: sms.text,
            concat: sms.concat.map(|c| Concat {
                reference: c.reference,
                total: c.total,
                part: c.part,
            }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviour_follows_the_last_four_digits() {
        assert_eq!(Behaviour::of("0000"), Behaviour::UnknownSubscriber);
        assert_eq!(Behaviour::of("1111"), Behaviour::StaysBuffered);
        assert_eq!(Behaviour::of("2222"), Behaviour::Rejected);
        assert_eq!(Behaviour::of("3333"), Behaviour::FlakyTwice);
        assert_eq!(Behaviour::of("5678"), Behaviour::Delivers);
    }

    #[test]
    fn webhook_needs_the_token() {
        let w = SimWebhooks::new("tok".into());
        let mut headers = http::HeaderMap::new();
        let req = |h: &http::HeaderMap| {
            w.verify(
                &WebhookRequest {
                    method: "POST",
                    url: "http://x/webhooks/sim/dlr",
                    headers: h,
                    body: b"{}",
                },
                Utc::now(),
            )
        };
        assert!(req(&headers).is_err());
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer nope"),
        );
        assert!(req(&headers).is_err());
        headers.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_static("Bearer tok"),
        );
        assert!(req(&headers).is_ok());
    }
}
