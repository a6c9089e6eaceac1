//! The harness: a real `praxis-sms serve` on a random port with its own data directory, killed
//! when the test ends, and small helpers that answer with the status code and the JSON body.
//!
//! `PRAXIS_E2E_BACKEND=aws` runs every stack with `--backend aws` against the AWS API at
//! `AWS_ENDPOINT_URL` (moto, started by `scripts/moto.sh`), each on its own table, queue and
//! bucket made by `praxis-sms aws bootstrap`; the suite is otherwise the same.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_praxis-sms");
/// How long a message may take through dispatcher, sim and DLR on a busy 2-core machine.
pub const SETTLE: Duration = Duration::from_secs(20);
const START_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(25);

/// An e-mail as a mail program reads it, by Python's `email` package (tests/parse_eml.py):
/// decoded headers, content types, the plain-text and HTML bodies.
pub fn parse_eml(eml: &[u8]) -> Value {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/parse_eml.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(eml)
        .expect("write the e-mail");
    let out = child.wait_with_output().expect("parse_eml.py");
    assert!(
        out.status.success(),
        "Python's email package cannot read the e-mail: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(eml)
    );
    serde_json::from_slice(&out.stdout).expect("parse_eml.py prints JSON")
}

/// A German mobile number whose last four digits never select a special sim behaviour.
pub fn mobile(n: u32) -> String {
    format!("+491761{:07}", n * 10 + 5)
}

/// An HTTP answer: the status code and the body as JSON (a JSON string if it was not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
}

impl Resp {
    /// The body, after checking the status code.
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// Asserts the error shape of docs/contract.md#errors (`{"error":{"code","message",…}}`) and
    /// returns the error object.
    pub fn error(&self) -> &Value {
        let e = &self.body["error"];
        for part in ["code", "message"] {
            assert!(
                e[part].as_str().is_some_and(|s| !s.is_empty()),
                "status {}: body lacks error.{part}: {}",
                self.status,
                self.body
            );
        }
        e
    }
}

pub async fn send(rb: RequestBuilder) -> Resp {
    let res = rb.send().await.expect("request failed");
    let status = res.status().as_u16();
    let text = res.text().await.expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp { status, body }
}

pub fn id_of(message: &Value) -> String {
    message["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {message}"))
        .to_owned()
}

pub fn status_of(message: &Value) -> &str {
    message["status"].as_str().unwrap_or_default()
}

pub fn is_final(status: &str) -> bool {
    matches!(status, "delivered" | "undelivered")
}

/// A running `praxis-sms serve` on its own data directory.
pub struct Stack {
    pub url: String,
    /// The demo practice's API key.
    pub key: String,
    tmp: TempDir,
    child: Child,
    http: reqwest::Client,
    /// Extra `serve` arguments and environment, kept for restarts.
    extra: Extra,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// How many times longer than on the embedded backend a stack may take: moto is a Python
/// process that answers every DynamoDB and SQS call of the stack and of the test, and scans
/// whole tables and queues where AWS uses indexes.
pub fn patience() -> u32 {
    if on_aws() { 6 } else { 1 }
}

/// The backend the suite runs on, from `PRAXIS_E2E_BACKEND` (`embedded` by default).
pub fn on_aws() -> bool {
    match std::env::var("PRAXIS_E2E_BACKEND").as_deref() {
        Ok("aws") => true,
        Ok("embedded") | Ok("") | Err(_) => false,
        Ok(other) => panic!("PRAXIS_E2E_BACKEND must be embedded or aws, not {other:?}"),
    }
}

/// The `--backend` arguments and environment of a stack's commands: none on the embedded
/// backend; on AWS, fresh resources from `praxis-sms aws bootstrap` and their names.
fn backend_setup() -> (Vec<String>, Vec<(String, String)>) {
    if !on_aws() {
        return (Vec::new(), Vec::new());
    }
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).expect("random name");
    let name = format!("e2e-{}", hex::encode(raw));
    let out = Command::new(BIN)
        .args(["aws", "bootstrap", "--name", &name])
        .args(["--sender-email", "noreply@praxis-e2e.example"])
        .env("PRAXIS_SMS_LOG", "warn")
        .output()
        .expect("run praxis-sms aws bootstrap");
    assert!(
        out.status.success(),
        "aws bootstrap failed (is AWS_ENDPOINT_URL set? run under scripts/moto.sh): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("aws bootstrap prints JSON");
    let env = printed["env"]
        .as_object()
        .expect("aws bootstrap prints env")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("env value").to_owned()))
        .collect();
    (vec!["--backend".to_owned(), "aws".to_owned()], env)
}

impl Stack {
    pub fn start() -> Stack {
        Stack::start_with(&[], &[])
    }

    /// Starts serve with extra arguments (e.g. `--carrier seven`) and environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Stack {
        let (mut all_args, mut all_env) = backend_setup();
        // The suite polls as one practice many times a minute: past the default rate limit,
        // unless a test sets its own (later entries win).
        all_env.insert(0, ("PRAXIS_SMS_RATE_LIMIT".into(), "1000000".into()));
        all_args.extend(args.iter().map(|a| a.to_string()));
        all_env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let extra = Extra {
            args: all_args,
            env: all_env,
        };
        let tmp = tempfile::tempdir().expect("temp dir");
        let (child, url, key) = spawn(tmp.path(), &extra);
        let key = key.expect("a fresh data dir prints the demo practice");
        let http = praxis_shared::http::client_builder()
            .timeout(Duration::from_secs(30) * patience())
            .build()
            .expect("http client");
        Stack {
            url,
            key,
            tmp,
            child,
            http,
            extra,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// SIGKILL: no shutdown code runs, as when the machine loses power.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts serve again on the same data directory (on a new port).
    pub fn restart(&mut self) {
        self.kill();
        let (child, url, demo) = spawn(self.tmp.path(), &self.extra);
        assert!(
            demo.is_none(),
            "a restart must not create another demo practice"
        );
        self.child = child;
        self.url = url;
    }

    /// Starts serve again with `env` changed: a variable with a value is set, one without is
    /// removed (on a new port; the data stays).
    pub fn restart_with_env(&mut self, env: &[(&str, Option<&str>)]) {
        for (name, value) in env {
            self.extra.env.retain(|(k, _)| k != name);
            if let Some(v) = value {
                self.extra.env.push((name.to_string(), v.to_string()));
            }
        }
        self.restart();
    }

    /// Every e-mail this stack sent to `to`, as the bytes the practice's mail server got: the
    /// `.eml` files of the outbox, or on AWS what SES (moto) recorded.
    pub async fn emails_to(&self, to: &str) -> Vec<Vec<u8>> {
        if on_aws() {
            let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
            let data: Value = self
                .http
                .get(format!("{endpoint}/moto-api/data.json"))
                .send()
                .await
                .expect("moto data.json")
                .json()
                .await
                .expect("moto data is JSON");
            let Some(sent) = data["ses"]["RawMessage"].as_array() else {
                return Vec::new();
            };
            return sent
                .iter()
                .filter(|m| {
                    m["destinations"]
                        .as_array()
                        .is_some_and(|d| d.iter().any(|a| a == to))
                })
                .filter_map(|m| m["raw_data"].as_str().map(|r| r.as_bytes().to_vec()))
                .collect();
        }
        let Ok(dir) = std::fs::read_dir(self.data_dir().join("outbox")) else {
            return Vec::new();
        };
        dir.filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read(e.path()).expect("readable .eml"))
            .filter(|eml| {
                parse_eml(eml)["to"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|a| a == to))
            })
            .collect()
    }

    pub fn req_as(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.unauthenticated(method, path).bearer_auth(key)
    }

    pub fn unauthenticated(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.url))
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.post_as(&self.key, path, body).await
    }

    pub async fn post_as(&self, key: &str, path: &str, body: &Value) -> Resp {
        send(self.req_as(key, Method::POST, path).json(body)).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.get_as(&self.key, path).await
    }

    pub async fn get_as(&self, key: &str, path: &str) -> Resp {
        send(self.req_as(key, Method::GET, path)).await
    }

    /// Sends one message with the demo key and returns the accepted message.
    pub async fn send_one(&self, to: &str, text: &str) -> Value {
        let body = serde_json::json!({ "to": to, "text": text });
        self.post("/v1/messages", &body).await.expect(202)
    }

    pub async fn message(&self, id: &str) -> Value {
        self.message_as(&self.key, id).await
    }

    pub async fn message_as(&self, key: &str, id: &str) -> Value {
        self.get_as(key, &format!("/v1/messages/{id}"))
            .await
            .expect(200)
    }

    /// Polls the message until `done(status)` holds; panics with the last answer otherwise.
    pub async fn wait_for_status(
        &self,
        id: &str,
        done: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Value {
        self.wait_for_status_as(&self.key, id, done, timeout).await
    }

    /// [`Stack::wait_for_status`] as the practice behind `key`.
    pub async fn wait_for_status_as(
        &self,
        key: &str,
        id: &str,
        done: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Value {
        let timeout = timeout * patience();
        let start = Instant::now();
        loop {
            let m = self.message_as(key, id).await;
            if done(status_of(&m)) {
                return m;
            }
            assert!(
                start.elapsed() < timeout,
                "message {id} still {:?} after {timeout:?}: {m}",
                status_of(&m)
            );
            tokio::time::sleep(POLL).await;
        }
    }

    pub async fn wait_for_final(&self, id: &str) -> Value {
        self.wait_for_status(id, is_final, SETTLE).await
    }

    /// Every message of the practice behind `key` matching `query`, following `next_cursor`.
    pub async fn list_all(&self, key: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let mut rb = self
                .req_as(key, Method::GET, "/v1/messages")
                .query(&[("limit", "500")])
                .query(query);
            if let Some(c) = &cursor {
                rb = rb.query(&[("cursor", c)]);
            }
            let page = send(rb).await.expect(200);
            out.extend(page["messages"].as_array().expect("messages array").clone());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
        panic!("listing did not end after 1000 pages");
    }

    pub async fn status_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for m in self.list_all(&self.key, &[]).await {
            *counts.entry(status_of(&m).to_owned()).or_default() += 1;
        }
        counts
    }

    /// Polls until `n` messages of the demo practice have `status`; panics with the counts
    /// of every status otherwise.
    pub async fn wait_for_count(&self, status: &str, n: usize, timeout: Duration) {
        let timeout = timeout * patience();
        let start = Instant::now();
        loop {
            let have = self.list_all(&self.key, &[("status", status)]).await.len();
            if have >= n {
                assert_eq!(have, n, "more messages {status} than were sent");
                return;
            }
            if start.elapsed() > timeout {
                panic!(
                    "only {have} of {n} messages {status} after {timeout:?}; by status: {:?}",
                    self.status_counts().await
                );
            }
            // Listing every message is a scan in moto: poll it rarely there.
            tokio::time::sleep(if on_aws() {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(100)
            })
            .await;
        }
    }

    /// Runs a `praxis-sms` subcommand on this stack's data (its data dir, or its table on
    /// AWS) and returns its JSON output.
    pub fn cli(&self, args: &[&str]) -> Value {
        let stdout = self.cli_stdout(args);
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("praxis-sms {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// Runs a `praxis-sms` subcommand that prints one JSON object per line.
    pub fn cli_lines(&self, args: &[&str]) -> Vec<Value> {
        self.cli_stdout(args)
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("praxis-sms {args:?} printed no JSON ({e}): {l}"))
            })
            .collect()
    }

    /// Runs a `praxis-sms` subcommand that must succeed; returns what it printed.
    fn cli_stdout(&self, args: &[&str]) -> String {
        let out = self.run_cli(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "praxis-sms {args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Runs a `praxis-sms` subcommand that must fail; returns what it said on stderr.
    pub fn cli_fails(&self, args: &[&str]) -> String {
        let out = self.run_cli(args);
        assert!(
            !out.status.success(),
            "praxis-sms {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.stdout.is_empty(),
            "a failed command printed a result: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn run_cli(&self, args: &[&str]) -> std::process::Output {
        // `aws …` commands act on the AWS resources alone: no data dir, no backend choice.
        let local = if args.first() == Some(&"aws") {
            vec![]
        } else if on_aws() {
            vec![
                "--backend".into(),
                "aws".into(),
                "--data-dir".into(),
                self.data_dir(),
            ]
        } else {
            vec!["--data-dir".into(), self.data_dir()]
        };
        Command::new(BIN)
            .args(args)
            .args(local)
            .envs(self.extra.env.iter().map(|(k, v)| (k, v)))
            .env("PRAXIS_SMS_LOG", "warn")
            .output()
            .expect("run praxis-sms")
    }

    /// `org create`; returns its JSON (with `id`, `api_key`, `api_key_id`).
    pub fn org_create(&self, name: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "org",
            "create",
            "--name",
            name,
            "--email",
            "praxis@example.org",
        ];
        args.extend_from_slice(extra);
        self.cli(&args)
    }

    /// A new practice with a default sender; returns its API key.
    pub fn new_practice(&self, name: &str) -> String {
        let org = self.org_create(name, &["--sender", "Praxis"]);
        org["api_key"].as_str().expect("api_key").to_owned()
    }

    /// The DynamoDB table of a stack on the AWS backend.
    pub fn aws_table(&self) -> Option<String> {
        self.aws_env("PRAXIS_SMS_TABLE")
    }

    /// A setting of the stack's AWS resources (as `aws bootstrap` printed it).
    pub fn aws_env(&self, name: &str) -> Option<String> {
        self.extra
            .env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The message as the store holds it (with what the API does not show, such as the
    /// carrier that took it), read through the store port of the stack's backend.
    pub async fn stored(&self, id: &str) -> praxis_shared::domain::message::Message {
        let id = praxis_shared::domain::MessageId::parse(id).expect("message id");
        self.store()
            .await
            .get_message(id)
            .await
            .expect("store answers")
            .unwrap_or_else(|| panic!("message {id} is not in the store"))
    }

    /// The stack's store, opened beside it through the store port of its backend: what a test
    /// writes here, the stack sees as if it had written it itself.
    pub async fn store(&self) -> Box<dyn praxis_shared::ports::Store> {
        if on_aws() {
            let table = self.aws_table().expect("the stack's table");
            let config = praxis_shared::adapters::aws::sdk_config().await;
            Box::new(praxis_shared::adapters::aws::DynamoStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                table,
            ))
        } else {
            let db = self.data_dir().join("praxis.sqlite3");
            Box::new(
                praxis_shared::adapters::embedded::SqliteStore::open(&db)
                    .unwrap_or_else(|e| panic!("open {}: {e}", db.display())),
            )
        }
    }

    /// Every complete line of the sim carrier's `submissions.jsonl`. A last line without its
    /// newline is being written right now and is left for the next read; a complete line that
    /// is not JSON (say, one cut short by a crash and continued by the next process) fails.
    pub fn submissions(&self) -> Vec<Value> {
        let path = self.data_dir().join("sim").join("submissions.jsonl");
        let Ok(raw) = std::fs::read_to_string(&path) else {
            return Vec::new();
        };
        let complete = &raw[..raw.rfind('\n').map_or(0, |i| i + 1)];
        complete
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("broken line in {}: {e}: {l}", path.display()))
            })
            .collect()
    }

    /// How often each message id was handed to the carrier.
    pub fn submission_counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for s in self.submissions() {
            *counts.entry(id_of(&s)).or_default() += 1;
        }
        counts
    }

    /// The bearer token the sim carrier signs its delivery reports with.
    pub fn sim_token(&self) -> String {
        let raw = std::fs::read(self.data_dir().join("secrets.json")).expect("secrets.json");
        let secrets: Value = serde_json::from_slice(&raw).expect("secrets.json is JSON");
        secrets["sim_token"].as_str().expect("sim_token").to_owned()
    }

    /// Posts a delivery report to the sim webhook as a carrier (or an impostor) would.
    pub async fn post_dlr(&self, token: Option<&str>, report: &Value) -> Resp {
        let mut rb = self
            .unauthenticated(Method::POST, "/webhooks/sim/dlr")
            .json(report);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        send(rb).await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawns serve on `<root>/data` (logs to `<root>/serve.log`) and reads its start-up lines:
/// the URL and, on a fresh data dir, the demo practice's key.
fn spawn(root: &Path, extra: &Extra) -> (Child, String, Option<String>) {
    let log_path = root.join("serve.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .expect("serve.log");
    let mut child = Command::new(BIN)
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(root.join("data"))
        .args(&extra.args)
        .envs(extra.env.iter().map(|(k, v)| (k, v)))
        .env("PRAXIS_SMS_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn praxis-sms serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    // Keeps draining stdout after start-up so serve never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + START_TIMEOUT * patience();
    let mut demo_key = None;
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = match rx.recv_timeout(wait) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "serve did not print `listening` ({e}); its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        };
        let Ok(event) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match event["event"].as_str() {
            Some("demo_practice") => {
                demo_key = event["practice"]["api_key"].as_str().map(str::to_owned);
            }
            Some("listening") => {
                let url = event["url"].as_str().expect("listening url").to_owned();
                return (child, url, demo_key);
            }
            _ => {}
        }
    }
}
