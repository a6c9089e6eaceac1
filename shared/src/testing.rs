//! Test support shared by the handler crates: a local backend in a temporary directory, a
//! practice with a key, and the sample events of `events/` with their placeholders filled in.

use std::path::PathBuf;

use chrono::Utc;

use crate::adapters::embedded::LocalBackend;
use crate::domain::apikey::{ApiKey, ApiKeyRecord};
use crate::domain::message::Message;
use crate::domain::org::{EmailAddress, Org, OrgName};
use crate::domain::{KeyId, MessageId, MessageText, OrgId, PhoneNumber, Region, SenderId};
use crate::services::Services;

pub const SIM_TOKEN: &str = "test-sim-token";

/// A local backend whose files live as long as this value.
pub struct TestBackend {
    pub backend: LocalBackend,
    _dir: tempfile::TempDir,
}

impl TestBackend {
    /// Reports of the sim carrier go to `base_url`; tests that do not run a server can pass
    /// an address nobody listens on (the reports are then retried in the background, harmlessly).
    pub fn new(base_url: &str) -> TestBackend {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let backend = LocalBackend::open(dir.path(), base_url, SIM_TOKEN, b"test-blob-key")
            .unwrap_or_else(|e| panic!("local backend: {e}"));
        TestBackend { backend, _dir: dir }
    }

    pub fn svc(&self) -> &Services {
        &self.backend.services
    }

    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// Lines of the sim carrier's submission log, as JSON.
    pub fn submissions(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self._dir.path().join("sim").join("submissions.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// Creates a practice and a key for it.
pub async fn practice(svc: &Services, name: &str, region: Region) -> (Org, ApiKey) {
    practice_with_reply_number(svc, name, region, None).await
}

/// Creates a practice with a reply number (E.164) and a key for it.
pub async fn practice_with_reply_number(
    svc: &Services,
    name: &str,
    region: Region,
    reply_number: Option<&str>,
) -> (Org, ApiKey) {
    let now = Utc::now();
    let org = Org {
        id: OrgId::new(now),
        name: OrgName::parse(name).unwrap_or_else(|e| panic!("{e}")),
        email: EmailAddress::parse("praxis@example.de").unwrap_or_else(|e| panic!("{e}")),
        reply_email: None,
        default_sender: Some(SenderId::parse("Praxis").unwrap_or_else(|e| panic!("{e}"))),
        region,
        reply_number: reply_number
            .map(|n| PhoneNumber::parse(n, Region::DE).unwrap_or_else(|e| panic!("{e}"))),
        activated_on: now.date_naive(),
        address: None,
        created_at: now,
        daily_cap: None,
    };
    svc.store
        .create_org(&org)
        .await
        .unwrap_or_else(|e| panic!("create org: {e}"));
    let key = ApiKey::generate();
    let record = ApiKeyRecord {
        id: KeyId::new(now),
        org_id: org.id,
        hash: key.hash(),
        hint: key.hint(),
        created_at: now,
        revoked_at: None,
    };
    svc.store
        .put_api_key(&record)
        .await
        .unwrap_or_else(|e| panic!("put key: {e}"));
    (org, key)
}

/// A pending message of `org` to `to`, as the API would have stored it.
pub fn pending_message(org: OrgId, to: &str) -> Message {
    let now = Utc::now();
    Message::accepted(
        MessageId::new(now),
        org,
        PhoneNumber::parse(to, Region::DE).unwrap_or_else(|e| panic!("{e}")),
        SenderId::parse("Praxis").unwrap_or_else(|e| panic!("{e}")),
        MessageText::parse("Terminerinnerung: 19.08. um 16:30 Uhr", false)
            .unwrap_or_else(|e| panic!("{e}")),
        None,
        now,
    )
}

/// The sample event `events/<name>` with each `{{VAR}}` replaced.
pub fn event(name: &str, vars: &[(&str, &str)]) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("events")
        .join(name);
    let mut text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("sample event {}: {e}", path.display()));
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    text
}

/// Calls a function's router with a request, as `lambda_http::run` does, and returns the answer
/// with its body read whole.
pub async fn call<B>(
    router: axum::Router,
    req: http::Request<B>,
) -> http::Response<axum::body::Bytes>
where
    B: http_body::Body<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    use tower::ServiceExt;
    let res = router
        .oneshot(req)
        .await
        .unwrap_or_else(|never| match never {});
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_else(|e| panic!("the body of an answer: {e}"));
    http::Response::from_parts(parts, bytes)
}
