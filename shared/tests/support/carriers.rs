//! seven.io and Vonage on loopback, scripted: each speaks its carrier's documented send API
//! (seven.io's `POST /api/sms` with JSON, Vonage's `POST /sms/json` with a form), plays the
//! answers a test queues and after them its standing answer (accepting, unless told otherwise),
//! and records every request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use praxis_shared::carriers::seven::{self, SevenConfig};
use praxis_shared::carriers::vonage::{self, VonageConfig};
use serde_json::{Value, json};

use super::loopback::{Loopback, Reply, Request};

pub const SEVEN_API_KEY: &str = "test-api-key-0123456789";
pub const SEVEN_SIGNING_KEY: &str = "test-signing-key-9876543210";
pub const VONAGE_API_KEY: &str = "abcd1234";
pub const VONAGE_API_SECRET: &str = "test-api-secret-0123";
pub const VONAGE_SIGNATURE_SECRET: &str = "test-signature-secret-9876543210";

/// The seven adapter's settings for a seven.io at `url`, with the keys above.
pub fn seven_config(url: &str) -> SevenConfig {
    let url = url.to_owned();
    SevenConfig::from_lookup(move |name| match name {
        seven::ENV_API_URL => Some(url.clone()),
        seven::ENV_API_KEY => Some(SEVEN_API_KEY.into()),
        seven::ENV_SIGNING_KEY => Some(SEVEN_SIGNING_KEY.into()),
        _ => None,
    })
    .expect("seven config")
}

/// The Vonage adapter's settings for a Vonage at `url`, with the credentials above.
pub fn vonage_config(url: &str) -> VonageConfig {
    let url = url.to_owned();
    VonageConfig::from_lookup(move |name| match name {
        vonage::ENV_API_URL => Some(url.clone()),
        vonage::ENV_API_KEY => Some(VONAGE_API_KEY.into()),
        vonage::ENV_API_SECRET => Some(VONAGE_API_SECRET.into()),
        vonage::ENV_SIGNATURE_SECRET => Some(VONAGE_SIGNATURE_SECRET.into()),
        _ => None,
    })
    .expect("vonage config")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Seven,
    Vonage,
}

/// What the carrier answers one request with.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with the carrier's answer for a message it took.
    Accept,
    /// seven.io: 200 with its JSON answer carrying this return code and no message id.
    Code(&'static str),
    /// seven.io: 200 with `{"success":"101"}` and this code in the message entry.
    MessageError(&'static str),
    /// 200 with only this as the body: seven.io's bare codes (its auth errors), or an answer
    /// that is not the carrier's at all.
    Bare(&'static str),
    /// Vonage: 200 with a message entry carrying this status code and no message-id.
    Status(&'static str),
    /// Vonage: 200, a long text: the first part taken, the second refused.
    PartlyTaken,
    /// This HTTP status.
    Http(u16),
    /// Accepts, but only after this pause.
    Slow(Duration),
    /// Reads the request and closes the connection without a word.
    Drop,
    /// Sends the status line and headers, then closes halfway through the body.
    BrokenOff,
}

struct State {
    script: VecDeque<Answer>,
    standing: Answer,
    requests: Vec<Request>,
    /// Our message ids the carrier took, in order.
    accepted: Vec<String>,
    next_id: u64,
}

/// A scripted seven.io or Vonage on a loopback port.
pub struct FakeCarrier {
    protocol: Protocol,
    server: Loopback,
    state: Arc<Mutex<State>>,
}

impl FakeCarrier {
    /// seven.io; its message ids count up from 77149843701.
    pub async fn seven() -> FakeCarrier {
        FakeCarrier::start(Protocol::Seven, 77_149_843_700).await
    }

    /// Vonage; its message ids count up from 0A0000000123AB01.
    pub async fn vonage() -> FakeCarrier {
        FakeCarrier::start(Protocol::Vonage, 0x0A00_0000_0123_AB00).await
    }

    async fn start(protocol: Protocol, first_id: u64) -> FakeCarrier {
        let state = Arc::new(Mutex::new(State {
            script: VecDeque::new(),
            standing: Answer::Accept,
            requests: Vec::new(),
            accepted: Vec::new(),
            next_id: first_id,
        }));
        let shared = state.clone();
        let server = Loopback::start(move |request| answer(protocol, &shared, request)).await;
        FakeCarrier {
            protocol,
            server,
            state,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.server.url
    }

    /// Queues answers for the next requests; once they are used up, the standing answer holds.
    pub fn then(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().expect("state").script.extend(answers);
    }

    /// The answer to every request from now on that no queued answer is left for: the
    /// carrier up (`Accept`, as it starts), down (`Http(500)`), refusing everything, ...
    pub fn always(&self, answer: Answer) {
        self.state.lock().expect("state").standing = answer;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().expect("state").requests.clone()
    }

    /// Our message ids (seven.io's `foreign_id`, Vonage's `client-ref`) the carrier took.
    pub fn accepted(&self) -> Vec<String> {
        self.state.lock().expect("state").accepted.clone()
    }

    /// How many connections clients have opened so far.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// The seven adapter's settings for this server.
    pub fn seven_config(&self) -> SevenConfig {
        assert_eq!(self.protocol, Protocol::Seven, "not a seven.io");
        seven_config(self.url())
    }

    /// The Vonage adapter's settings for this server.
    pub fn vonage_config(&self) -> VonageConfig {
        assert_eq!(self.protocol, Protocol::Vonage, "not a Vonage");
        vonage_config(self.url())
    }
}

/// Records the request and plays the next answer.
fn answer(protocol: Protocol, state: &Mutex<State>, request: &Request) -> Reply {
    let mut s = state.lock().expect("state");
    s.requests.push(request.clone());
    s.next_id += 1;
    let answer = s.script.pop_front().unwrap_or_else(|| s.standing.clone());
    let taken = matches!(
        answer,
        Answer::Accept | Answer::Slow(_) | Answer::PartlyTaken
    );
    if taken {
        s.accepted.push(ours(protocol, request));
    }
    let id = s.next_id;
    drop(s);
    match (protocol, answer) {
        (_, Answer::Drop) => Reply::Close,
        (Protocol::Seven, Answer::BrokenOff) => Reply::BreakOff(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"success\":\"1",
        ),
        (Protocol::Vonage, Answer::BrokenOff) => Reply::BreakOff(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 400\r\n\r\n{\"message-count\":\"1",
        ),
        (_, Answer::Slow(pause)) => Reply::After(
            pause,
            Box::new(Reply::Json(
                200,
                accepted(protocol, request, id).to_string(),
            )),
        ),
        (_, Answer::Accept) => Reply::Json(200, accepted(protocol, request, id).to_string()),
        (_, Answer::Bare(body)) => Reply::Json(200, body.to_owned()),
        (_, Answer::Http(status)) => {
            Reply::Json(status, "{\"error\":\"server trouble\"}".to_owned())
        }
        (Protocol::Seven, Answer::Code(code)) => {
            Reply::Json(200, seven_refused(code, None).to_string())
        }
        (Protocol::Seven, Answer::MessageError(code)) => {
            Reply::Json(200, seven_refused("101", Some(code)).to_string())
        }
        (Protocol::Vonage, Answer::Status(code)) => {
            Reply::Json(200, vonage_refused(code).to_string())
        }
        (Protocol::Vonage, Answer::PartlyTaken) => {
            let mut a = accepted(protocol, request, id);
            a["message-count"] = json!("2");
            if let Some(m) = a["messages"].as_array_mut() {
                m.push(json!({ "status": "5", "error-text": "Internal Error" }));
            }
            Reply::Json(200, a.to_string())
        }
        (protocol, answer) => panic!("{protocol:?} has no answer {answer:?}"),
    }
}

/// Our message id in a submission.
fn ours(protocol: Protocol, request: &Request) -> String {
    match protocol {
        Protocol::Seven => request.json()["foreign_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        Protocol::Vonage => request
            .form()
            .get("client-ref")
            .cloned()
            .unwrap_or_default(),
    }
}

/// The carrier's answer for one message it took, as documented: seven.io's (docs.seven.io,
/// SMS) or Vonage's (`definitions/sms.yml`).
fn accepted(protocol: Protocol, request: &Request, id: u64) -> Value {
    match protocol {
        Protocol::Seven => {
            let sent = request.json();
            json!({
                "success": "100",
                "total_price": 0.075,
                "balance": 12.34,
                "debug": "false",
                "sms_type": "direct",
                "messages": [{
                    "id": id.to_string(),
                    "sender": sent["from"],
                    "recipient": sent["to"].as_str().unwrap_or_default().trim_start_matches('+'),
                    "text": sent["text"],
                    "encoding": "gsm",
                    "label": null,
                    "parts": 1,
                    "udh": null,
                    "is_binary": false,
                    "price": 0.075,
                    "success": true,
                    "error": null,
                    "error_text": null
                }]
            })
        }
        Protocol::Vonage => {
            let sent = request.form();
            json!({
                "message-count": "1",
                "messages": [{
                    "to": sent.get("to"),
                    "message-id": format!("{id:016X}"),
                    "status": "0",
                    "remaining-balance": "3.14159265",
                    "message-price": "0.03330000",
                    "network": "26203",
                    "client-ref": sent.get("client-ref")
                }]
            })
        }
    }
}

fn seven_refused(code: &str, message_error: Option<&str>) -> Value {
    json!({
        "success": code,
        "total_price": 0,
        "balance": 12.34,
        "debug": "false",
        "sms_type": "direct",
        "messages": [{
            "id": null,
            "parts": 1,
            "price": 0,
            "success": false,
            "error": message_error,
            "error_text": message_error.map(|_| "refused")
        }]
    })
}

fn vonage_refused(code: &str) -> Value {
    json!({
        "message-count": "1",
        "messages": [{ "status": code, "error-text": format!("error {code}") }]
    })
}
