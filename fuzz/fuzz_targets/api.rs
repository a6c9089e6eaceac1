//! The API's send path end to end, on the embedded store: any body to `POST /v1/messages`.
//! Never a 5xx; nothing stored when the request is refused; and every accepted message reads
//! back (`GET /v1/messages/{id}`) exactly as the send answered it, and as preview described it.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use praxis_shared::domain::Region;
use praxis_shared::domain::apikey::ApiKey;
use praxis_shared::testing::{TestBackend, call, practice};
use serde_json::{Map, Value, json};

/// A field: absent, null, a value taken from the tests, or anything.
#[derive(Debug, Arbitrary)]
enum Field {
    Absent,
    Null,
    Known(u8),
    Text(String),
    Number(i64),
}

#[derive(Debug, Arbitrary)]
struct Item {
    to: Field,
    text: Field,
    sender: Field,
    reference: Field,
    smart_encoding: Option<bool>,
}

/// A body built from fields (the tests' values and anything), one message or a batch.
#[derive(Debug, Arbitrary)]
enum Built {
    One(Item),
    Batch(Vec<Item>),
}

const NUMBERS: [&str; 6] = [
    "0176 12345678",
    "+49 (0) 151 23456789",
    "0043 664 1234567",
    "0900 1234567",
    "0176 1234567x",
    "+41 79 123 45 67",
];
const TEXTS: [&str; 8] = [
    "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr.",
    "Termin:\t19.08.",
    "„Hallo“ – Ihr Termin…",
    "Bis morgen 😀",
    "Mu\u{0308}ller Jose\u{0301}",
    "€[]{}~^|\\",
    "a\u{7}b",
    "",
];
const SENDERS: [&str; 4] = ["ZA Berger", "+4930123456", "Zahnärzte", "  DrMuster "];

fn value(f: &Field, known: &[&str]) -> Option<Value> {
    match f {
        Field::Absent => None,
        Field::Null => Some(Value::Null),
        Field::Known(i) => Some(json!(known[usize::from(*i) % known.len()])),
        Field::Text(s) => Some(json!(s)),
        Field::Number(n) => Some(json!(n)),
    }
}

fn item(i: &Item) -> Value {
    let mut m = Map::new();
    for (name, f, known) in [
        ("to", &i.to, &NUMBERS[..]),
        ("text", &i.text, &TEXTS[..]),
        ("sender", &i.sender, &SENDERS[..]),
        ("reference", &i.reference, &["termin-4711"][..]),
    ] {
        if let Some(v) = value(f, known) {
            m.insert(name.into(), v);
        }
    }
    if let Some(b) = i.smart_encoding {
        m.insert("smart_encoding".into(), json!(b));
    }
    Value::Object(m)
}

struct Stack {
    rt: tokio::runtime::Runtime,
    backend: TestBackend,
    key: ApiKey,
}

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let backend = TestBackend::new("http://127.0.0.1:9");
        let (_, key) = rt.block_on(practice(backend.svc(), "Fuzz-Praxis", Region::DE));
        Stack { rt, backend, key }
    })
}

async fn request(s: &Stack, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", s.key.expose()))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("request");
    let res = call(praxis_api::router(s.backend.svc().clone()), req).await;
    let status = res.status().as_u16();
    assert!(status < 500, "{status} for {method} {path}: {:?}", res.body());
    (status, serde_json::from_slice(res.body()).unwrap_or(Value::Null))
}

/// What the store and the preview must agree on, of a message as answered.
const SAME: [&str; 5] = ["to", "sender", "text", "encoding", "segments"];

/// The first byte says how to read the rest: 0 as the body itself (the corpus seeds are
/// bodies from the tests), anything else as fields to build one from.
fn body(data: &[u8]) -> Option<Vec<u8>> {
    let (&mode, rest) = data.split_first()?;
    if mode == 0 {
        return Some(rest.to_vec());
    }
    let built = Built::arbitrary_take_rest(arbitrary::Unstructured::new(rest)).ok()?;
    Some(match built {
        Built::One(i) => item(&i).to_string().into_bytes(),
        Built::Batch(items) => json!({ "messages": items.iter().map(item).collect::<Vec<_>>() })
            .to_string()
            .into_bytes(),
    })
}

fuzz_target!(|data: &[u8]| {
    let s = stack();
    let Some(bytes) = body(data) else {
        return;
    };
    s.rt.block_on(async {
        let (_, before) = request(s, "GET", "/v1/messages?limit=1", vec![]).await;
        let (status, sent) = request(s, "POST", "/v1/messages", bytes.clone()).await;
        let (_, preview) = request(s, "POST", "/v1/messages/preview", bytes).await;
        if status != 202 {
            let (_, after) = request(s, "GET", "/v1/messages?limit=1", vec![]).await;
            assert_eq!(before["messages"], after["messages"], "a refused request stored something");
            return;
        }
        let (answers, previews) = match sent.get("messages") {
            Some(items) => (items.clone(), preview["messages"].clone()),
            None => (json!([sent]), json!([preview])),
        };
        let answers = answers.as_array().cloned().unwrap_or_default();
        for (i, answer) in answers.iter().enumerate() {
            let Some(id) = answer["id"].as_str() else {
                continue;
            };
            let (status, stored) = request(s, "GET", &format!("/v1/messages/{id}"), vec![]).await;
            assert_eq!(status, 200, "accepted message {id} not found");
            assert_eq!(&stored, answer, "stored form differs from the answer");
            for field in SAME {
                assert_eq!(stored[field], previews[i][field], "preview differs in {field}");
            }
        }
    });
});
