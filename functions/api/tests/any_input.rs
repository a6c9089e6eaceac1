//! The send path on any input, in the ordinary test run (the `api` fuzz target runs the same
//! properties for longer, docs/testing.md): never a 5xx, nothing stored for a refused request,
//! and every accepted message reads back exactly as the send answered it and as preview
//! described it.

use axum::body::Body;
use praxis_shared::domain::Region;
use praxis_shared::domain::apikey::ApiKey;
use praxis_shared::testing::{TestBackend, call, practice};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

struct Stack {
    rt: tokio::runtime::Runtime,
    backend: TestBackend,
    key: ApiKey,
}

impl Stack {
    fn new() -> Stack {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let backend = TestBackend::new("http://127.0.0.1:9");
        let (_, key) = rt.block_on(practice(backend.svc(), "Praxis", Region::DE));
        Stack { rt, backend, key }
    }

    async fn call(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.key.expose()))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let res = call(praxis_api::router(self.backend.svc().clone()), req).await;
        let status = res.status().as_u16();
        assert!(
            status < 500,
            "{status} for {method} {path}: {:?}",
            res.body()
        );
        (
            status,
            serde_json::from_slice(res.body()).unwrap_or(Value::Null),
        )
    }
}

/// Pieces of texts that decide something: tabs, line breaks, control characters, GSM escapes,
/// typographic characters, decomposed accents, emoji sequences, long clusters.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 .:,äöüß]{1,20}",
        1 => prop::sample::select(vec![
            "\t", "\n", "\r\n", "\u{7}", "\u{0}", "€", "[", "„", "“", "–", "…", "\u{A0}",
            "\u{200B}", "u\u{308}", "e\u{301}", "😀", "👍🏽", "🇩🇪", "ç", "中",
        ])
        .prop_map(str::to_owned),
        1 => (1usize..40).prop_map(|n| format!("e{}", "\u{301}".repeat(n))),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|p| p.concat())
}

fn field(known: &'static [&'static str]) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        4 => prop::sample::select(known).prop_map(|s| Some(json!(s))),
        1 => ".{0,20}".prop_map(|s| Some(json!(s))),
        1 => any::<i32>().prop_map(|n| Some(json!(n))),
    ]
}

fn item() -> impl Strategy<Value = Value> {
    (
        field(&[
            "0176 12345678",
            "+43 664 1234567",
            "0900 1234567",
            "0176 1234567x",
        ]),
        prop_oneof![4 => text().prop_map(|t| Some(json!(t))), 1 => field(&["Termin"])],
        field(&["ZA Berger", "+4930123456", "Zahnärzte", " DrMuster "]),
        field(&["termin-4711", ""]),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(to, text, sender, reference, smart)| {
            let mut m = Map::new();
            for (k, v) in [
                ("to", to),
                ("text", text),
                ("sender", sender),
                ("reference", reference),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            if let Some(b) = smart {
                m.insert("smart_encoding".into(), json!(b));
            }
            Value::Object(m)
        })
}

fn body() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => item(),
        1 => prop::collection::vec(item(), 1..5).prop_map(|items| json!({ "messages": items })),
    ]
}

const SAME: [&str; 5] = ["to", "sender", "text", "encoding", "segments"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn accepted_messages_read_back_as_answered_and_refused_ones_store_nothing(body in body()) {
        let stack = Stack::new();
        stack.rt.block_on(async {
            let bytes = body.to_string().into_bytes();
            let (status, sent) = stack.call("POST", "/v1/messages", bytes.clone()).await;
            let (_, preview) = stack.call("POST", "/v1/messages/preview", bytes).await;
            let (_, listed) = stack.call("GET", "/v1/messages", vec![]).await;
            let listed = listed["messages"].as_array().cloned().unwrap_or_default();
            if status != 202 {
                assert!(listed.is_empty(), "refused ({status}) but stored: {body}");
                return;
            }
            let (answers, previews) = match sent.get("messages") {
                Some(items) => (items.clone(), preview["messages"].clone()),
                None => (json!([sent]), json!([preview])),
            };
            let answers = answers.as_array().cloned().unwrap_or_default();
            let accepted: Vec<&Value> = answers.iter().filter(|a| a.get("id").is_some()).collect();
            assert_eq!(listed.len(), accepted.len(), "{body}");
            for (i, answer) in answers.iter().enumerate() {
                let Some(id) = answer["id"].as_str() else { continue };
                let (status, stored) = stack.call("GET", &format!("/v1/messages/{id}"), vec![]).await;
                assert_eq!(status, 200);
                assert_eq!(&stored, answer, "stored form differs from the answer to {body}");
                for f in SAME {
                    assert_eq!(stored[f], previews[i][f], "preview differs in {f} for {body}");
                }
            }
        });
    }
}
