//! seven.io and Vonage on loopback for the stacks under test: each speaks its carrier's send API
//! (seven.io's `POST /api/sms` with JSON, Vonage's `POST /sms/json` with a form), answers as
//! planned per recipient and else takes the message (or, while down, answers 500), and records
//! every submission.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

/// How the carrier answers one submission.
#[derive(Debug, Clone, Copy)]
pub enum Plan {
    Accept,
    /// 200 with this return code (seven.io) or status (Vonage), and no message id.
    Code(&'static str),
    Http500,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Seven,
    /// With the credentials it takes; others get Vonage's status 4.
    Vonage {
        api_key: &'static str,
        api_secret: &'static str,
    },
}

/// One submission as the carrier received it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// seven.io's JSON body, or Vonage's form as a JSON object of strings.
    pub body: Value,
    /// seven.io's `X-Api-Key` header.
    pub api_key: Option<String>,
    /// The carrier's message id, when it took the message.
    pub accepted_as: Option<String>,
}

impl Submission {
    /// Our message id: seven.io's `foreign_id`, Vonage's `client-ref`.
    fn ours(&self) -> &str {
        self.body["foreign_id"]
            .as_str()
            .or(self.body["client-ref"].as_str())
            .unwrap_or_default()
    }
}

struct Fake {
    protocol: Protocol,
    /// Answers for the next submissions to a number (E.164 with `+`).
    plans: HashMap<String, VecDeque<Plan>>,
    down: bool,
    submissions: Vec<Submission>,
    next_id: u64,
}

/// A carrier on a loopback port.
pub struct FakeCarrier {
    pub url: String,
    state: Arc<Mutex<Fake>>,
}

impl FakeCarrier {
    /// seven.io; its message ids count up from 77100000001.
    pub async fn seven() -> FakeCarrier {
        FakeCarrier::start(Protocol::Seven, 77_100_000_000).await
    }

    /// Vonage, taking these credentials; its message ids are hex, from 0A00000000000001, so
    /// they never look like seven.io's.
    pub async fn vonage(api_key: &'static str, api_secret: &'static str) -> FakeCarrier {
        let protocol = Protocol::Vonage {
            api_key,
            api_secret,
        };
        FakeCarrier::start(protocol, 0x0A00_0000_0000_0000).await
    }

    async fn start(protocol: Protocol, first_id: u64) -> FakeCarrier {
        let state = Arc::new(Mutex::new(Fake {
            protocol,
            plans: HashMap::new(),
            down: false,
            submissions: Vec::new(),
            next_id: first_id,
        }));
        let route = match protocol {
            Protocol::Seven => "/api/sms",
            Protocol::Vonage { .. } => "/sms/json",
        };
        let app = axum::Router::new()
            .route(route, axum::routing::post(submit))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeCarrier { url, state }
    }

    /// Answers for the next submissions to `to` (E.164); after them, the carrier takes it.
    pub fn plan(&self, to: &str, plans: &[Plan]) {
        self.state
            .lock()
            .expect("state")
            .plans
            .entry(to.to_owned())
            .or_default()
            .extend(plans.iter().copied());
    }

    /// While down, every submission gets HTTP 500 (and is recorded).
    pub fn set_down(&self, down: bool) {
        self.state.lock().expect("state").down = down;
    }

    pub fn submissions_for(&self, message_id: &str) -> Vec<Submission> {
        self.state
            .lock()
            .expect("state")
            .submissions
            .iter()
            .filter(|s| s.ours() == message_id)
            .cloned()
            .collect()
    }

    pub fn submission_count(&self) -> usize {
        self.state.lock().expect("state").submissions.len()
    }

    /// The carrier's id for our message, if it took it (asserting it took it at most once).
    pub fn taken(&self, message_id: &str) -> Option<String> {
        let ids: Vec<String> = self
            .submissions_for(message_id)
            .into_iter()
            .filter_map(|s| s.accepted_as)
            .collect();
        assert!(ids.len() <= 1, "{message_id} accepted {} times", ids.len());
        ids.into_iter().next()
    }

    /// The carrier's id for our message (the one its delivery reports name), which it took
    /// exactly once.
    pub fn msg_id(&self, message_id: &str) -> String {
        self.taken(message_id)
            .unwrap_or_else(|| panic!("{message_id} was not accepted"))
    }
}

type Answer = (StatusCode, [(header::HeaderName, &'static str); 1], String);

async fn submit(State(state): State<Arc<Mutex<Fake>>>, headers: HeaderMap, body: Bytes) -> Answer {
    let mut s = state.lock().expect("state");
    let (body, to) = match s.protocol {
        Protocol::Seven => {
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let to = body["to"].as_str().unwrap_or_default().to_owned();
            (body, to)
        }
        Protocol::Vonage { .. } => {
            let form = parse_form(&body);
            let to = format!(
                "+{}",
                form.get("to").map(String::as_str).unwrap_or_default()
            );
            (json!(form), to)
        }
    };
    let api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let plan = if s.down {
        Plan::Http500
    } else {
        let planned = s.plans.get_mut(&to).and_then(|p| p.pop_front());
        planned.unwrap_or(Plan::Accept)
    };
    s.next_id += 1;
    let (status, answer, accepted_as) = match (s.protocol, plan) {
        (
            Protocol::Vonage {
                api_key: key,
                api_secret: secret,
            },
            _,
        ) if body["api_key"] != key || body["api_secret"] != secret => (
            StatusCode::OK,
            json!({ "message-count": "1", "messages": [{ "status": "4", "error-text": "Bad Credentials" }] }),
            None,
        ),
        (_, Plan::Http500) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "internal" }),
            None,
        ),
        (Protocol::Seven, Plan::Accept) => {
            let id = s.next_id.to_string();
            let answer = json!({
                "success": "100", "total_price": 0.075, "balance": 10.0, "debug": "false",
                "sms_type": "direct",
                "messages": [{
                    "id": id, "sender": body["from"], "recipient": to.trim_start_matches('+'),
                    "text": body["text"], "encoding": "gsm", "label": null, "parts": 1,
                    "udh": null, "is_binary": false, "price": 0.075, "success": true,
                    "error": null, "error_text": null
                }]
            });
            (StatusCode::OK, answer, Some(id))
        }
        (Protocol::Seven, Plan::Code(code)) => (
            StatusCode::OK,
            json!({
                "success": code, "total_price": 0, "balance": 10.0, "debug": "false",
                "sms_type": "direct", "messages": []
            }),
            None,
        ),
        (Protocol::Vonage { .. }, Plan::Accept) => {
            let id = format!("{:016X}", s.next_id);
            let answer = json!({ "message-count": "1", "messages": [{
                "to": body["to"], "message-id": id, "status": "0",
                "remaining-balance": "10.0", "message-price": "0.0333", "network": "26203"
            }] });
            (StatusCode::OK, answer, Some(id))
        }
        (Protocol::Vonage { .. }, Plan::Code(code)) => (
            StatusCode::OK,
            json!({ "message-count": "1", "messages": [{ "status": code, "error-text": "refused" }] }),
            None,
        ),
    };
    s.submissions.push(Submission {
        body,
        api_key,
        accepted_as,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
}

/// `application/x-www-form-urlencoded`, decoded (`+` is a space, `%XX` a byte).
fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    let decode = |s: &str| {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() && s.is_char_boundary(i + 3) => {
                    match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
