//! Bad input: every rejected request answers 4xx with the JSON error shape, names the field,
//! and leaves nothing stored or sent.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Stack, mobile, send};

/// A rejected request: its body, the status it must get (`None`: 400 or 422) and the field
/// the error must name.
struct Bad {
    what: &'static str,
    body: Vec<u8>,
    status: Option<u16>,
    field: Option<&'static str>,
}

fn bad(what: &'static str, body: Value, field: &'static str) -> Bad {
    Bad {
        what,
        body: body.to_string().into_bytes(),
        status: None,
        field: Some(field),
    }
}

fn one(to: &str, text: &str) -> Value {
    json!({ "to": to, "text": text })
}

/// A valid message padded to 2 MB: too large, whatever it says.
fn two_megabytes() -> Vec<u8> {
    let mut body = one(&mobile(1), "x").to_string().into_bytes();
    let pad = format!("\"pad\":\"{}\",", "a".repeat(2 * 1024 * 1024));
    body.splice(1..1, pad.into_bytes());
    body
}

fn cases() -> Vec<Bad> {
    let good_to = mobile(1);
    let too_many: Vec<Value> = (0..1001).map(|i| one(&mobile(i), "Recall")).collect();
    vec![
        Bad {
            what: "broken JSON",
            body: br#"{"to": "+4917612345678", "text": "Hallo""#.to_vec(),
            status: Some(400),
            field: None,
        },
        Bad {
            what: "not JSON at all",
            body: b"to=+4917612345678&text=Hallo".to_vec(),
            status: Some(400),
            field: None,
        },
        Bad {
            what: "2 MB body",
            body: two_megabytes(),
            status: Some(413),
            field: None,
        },
        bad("empty body object", json!({}), "to"),
        bad("body is an array", json!([one(&good_to, "x")]), "body"),
        bad(
            "to is a number",
            json!({ "to": 4917612345678u64, "text": "x" }),
            "to",
        ),
        bad(
            "text is a bool",
            json!({ "to": good_to, "text": true }),
            "text",
        ),
        bad(
            "messages is a string",
            json!({ "messages": "x" }),
            "messages",
        ),
        bad("missing to", json!({ "text": "Hallo" }), "to"),
        bad("missing text", json!({ "to": good_to }), "text"),
        bad("empty text", one(&good_to, ""), "text"),
        bad("whitespace text", one(&good_to, "  \n\t "), "text"),
        bad("11 parts", one(&good_to, &"a".repeat(1531)), "text"),
        bad(
            "UCS-2 over 10 parts",
            one(&good_to, &"ä😀".repeat(336)),
            "text",
        ),
        bad(
            "one character of 800 KB (a letter and 400,000 accents)",
            one(&good_to, &format!("e{}", "\u{301}".repeat(400_000))),
            "text",
        ),
        bad(
            "one character of 33 code units",
            one(&good_to, &format!("Hallo e{}", "\u{301}".repeat(32))),
            "text",
        ),
        bad("control character", one(&good_to, "Hallo\u{7}"), "text"),
        bad("NUL character", one(&good_to, "Hallo\u{0}Welt"), "text"),
        bad(
            "sender too long",
            json!({ "to": good_to, "text": "x", "sender": "Zahnarztpraxis Dr. Mustermann" }),
            "sender",
        ),
        bad(
            "sender 17 digits",
            json!({ "to": good_to, "text": "x", "sender": "+49123456789012345" }),
            "sender",
        ),
        bad(
            "sender punctuation",
            json!({ "to": good_to, "text": "x", "sender": "Dr.Zahn!" }),
            "sender",
        ),
        bad("number with letters", one("0176 1234ABCD", "x"), "to"),
        bad("number too short", one("0176 12", "x"), "to"),
        bad("premium-rate number", one("0900 1234567", "x"), "to"),
        bad("toll-free number", one("0800 1234567", "x"), "to"),
        bad("empty number", one("", "x"), "to"),
        bad("number of 65 characters", one(&"1".repeat(65), "x"), "to"),
        bad(
            "reference of 256 characters",
            json!({ "to": good_to, "text": "x", "reference": "r".repeat(256) }),
            "reference",
        ),
        bad("1001 items", json!({ "messages": too_many }), "messages"),
        bad("empty batch", json!({ "messages": [] }), "messages"),
        bad(
            "smart_encoding not a bool",
            json!({ "to": good_to, "text": "x", "smart_encoding": "yes" }),
            "smart_encoding",
        ),
    ]
}

#[tokio::test]
async fn bad_input_gets_4xx_with_the_error_shape_and_stores_nothing() {
    let stack = Stack::start();
    let mut failures = Vec::new();
    for case in cases() {
        for path in ["/v1/messages", "/v1/messages/preview"] {
            // An unread body ends its connection; that is tested on its own below.
            let connection = if case.status == Some(413) {
                "close"
            } else {
                "keep-alive"
            };
            let r = send(
                stack
                    .req_as(&stack.key, Method::POST, path)
                    .header("Content-Type", "application/json")
                    .header("Connection", connection)
                    .body(case.body.clone()),
            )
            .await;
            let status_ok = match case.status {
                Some(s) => r.status == s,
                None => matches!(r.status, 400 | 422),
            };
            let shape_ok = r.body["error"]["code"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
                && r.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty());
            let field_ok = case
                .field
                .is_none_or(|f| r.body["error"]["field"].as_str() == Some(f));
            if !(status_ok && shape_ok && field_ok) {
                let mut shown = r.body.to_string();
                shown.truncate(300);
                failures.push(format!(
                    "{} {path}: got {} {shown} (want {:?}, field {:?})",
                    case.what, r.status, case.status, case.field
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    assert!(
        stack.list_all(&stack.key, &[]).await.is_empty(),
        "a rejected request stored a message"
    );
    // Something stored would have gone out at once; prove the dispatcher is alive and idle.
    let probe = stack.send_one(&mobile(99), "probe").await;
    stack
        .wait_for_final(probe["id"].as_str().expect("id"))
        .await;
    let submitted = stack.submission_counts();
    assert_eq!(
        submitted.len(),
        1,
        "rejected requests reached the carrier: {submitted:?}"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let stack = Stack::start();
    for (method, path, status) in [
        (Method::GET, "/v1/nothing", 404),
        (Method::DELETE, "/v1/messages", 405),
        (Method::PUT, "/v1/key-check", 405),
    ] {
        let r = send(stack.req_as(&stack.key, method.clone(), path)).await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.body);
        r.error();
    }
}

#[tokio::test]
async fn after_a_413_the_next_request_of_the_same_client_works() {
    let stack = Stack::start();
    let mut failures = Vec::new();
    for round in 0..100 {
        let big = send(
            stack
                .req_as(&stack.key, Method::POST, "/v1/messages")
                .header("Content-Type", "application/json")
                .body(two_megabytes()),
        )
        .await;
        assert_eq!(big.status, 413, "{}", big.body);
        big.error();
        // A keep-alive client (Dentport's, reqwest's) sends its next request on the same
        // connection unless the 413 said `Connection: close`.
        match stack
            .req_as(&stack.key, Method::GET, "/v1/key-check")
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => failures.push(format!("round {round}: key-check got {}", r.status())),
            Err(e) => failures.push(format!("round {round}: key-check failed: {e:?}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// A client must never believe we honoured what we ignored: a field the API does not know, a key
/// given twice, a query parameter it does not take, a body that is not declared JSON.
#[tokio::test]
async fn what_the_api_does_not_know_is_refused_not_ignored() {
    let stack = Stack::start();
    let to = mobile(7);
    let post = |body: Vec<u8>, content_type: Option<&'static str>| {
        let mut rb = stack
            .req_as(&stack.key, Method::POST, "/v1/messages")
            .body(body);
        if let Some(ct) = content_type {
            rb = rb.header("Content-Type", ct);
        }
        send(rb)
    };
    let json_ct = Some("application/json");

    let r = post(
        json!({ "to": to, "text": "Termin morgen", "scheduled_at": "2026-12-01T08:00:00Z" })
            .to_string()
            .into_bytes(),
        json_ct,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["code"], "unknown_field");
    assert_eq!(r.error()["field"], "scheduled_at");
    assert!(
        r.error()["message"]
            .as_str()
            .is_some_and(|m| m.contains("scheduled_at")),
        "{}",
        r.body
    );

    let r = post(
        json!({ "messages": [{ "to": to, "text": "a", "priority": "high" }] })
            .to_string()
            .into_bytes(),
        json_ct,
    )
    .await;
    assert_eq!(r.status, 422, "a batch whose only item fails: {}", r.body);
    assert_eq!(r.body["messages"][0]["error"]["code"], "unknown_field");
    assert_eq!(
        r.body["messages"][0]["error"]["field"],
        "messages[0].priority"
    );

    let r = post(
        json!({ "messages": [{ "to": to, "text": "a" }], "send_at": "morgen" })
            .to_string()
            .into_bytes(),
        json_ct,
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["field"], "send_at");

    let twice = format!(r#"{{"to":"{to}","text":"a","text":"b"}}"#).into_bytes();
    let r = post(twice, json_ct).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["code"], "duplicate_field");
    assert_eq!(r.error()["field"], "text");

    let body = json!({ "to": to, "text": "a" }).to_string().into_bytes();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = post(body.clone(), ct).await;
        assert_eq!(r.status, 415, "Content-Type {ct:?}: {}", r.body);
        assert_eq!(r.error()["code"], "unsupported_media_type");
    }
    let r = post(body.clone(), Some("application/json; charset=utf-8")).await;
    assert_eq!(r.status, 202, "JSON with a charset is JSON: {}", r.body);
    let accepted = r.body["id"].as_str().expect("id").to_owned();

    let r = send(
        stack
            .req_as(&stack.key, Method::GET, "/v1/messages")
            .query(&[("stauts", "delivered")]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.error()["code"], "unknown_field");
    assert_eq!(r.error()["field"], "stauts");

    let stored = stack.list_all(&stack.key, &[]).await;
    let ids: Vec<&str> = stored.iter().filter_map(|m| m["id"].as_str()).collect();
    assert_eq!(ids, [accepted.as_str()], "only the one good request stored");
}

#[tokio::test]
async fn a_wrong_method_names_the_allowed_ones() {
    let stack = Stack::start();
    for (method, path, allowed) in [
        (Method::DELETE, "/v1/messages", &["GET", "POST"][..]),
        (Method::PUT, "/v1/key-check", &["GET"][..]),
        (Method::GET, "/v1/messages/preview", &["POST"][..]),
        (Method::GET, "/webhooks/sim/dlr", &["POST"][..]),
    ] {
        let res = stack
            .req_as(&stack.key, method.clone(), path)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 405, "{method} {path}");
        let allow = res
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        for m in allowed {
            assert!(
                allow.contains(m),
                "{method} {path}: Allow {allow:?} lacks {m}"
            );
        }
        let body: Value = res.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    }
}

/// Every limit at its edge, on whichever backend the suite runs (DynamoDB in moto with
/// PRAXIS_E2E_BACKEND=aws): just inside it is accepted and reads back exactly as answered, just
/// outside it is a 4xx naming the field, and nothing of that is stored.
#[tokio::test]
async fn limits_hold_at_their_edge_and_accepted_input_reads_back_as_answered() {
    let stack = Stack::start();
    let inside = [
        json!({ "to": mobile(21), "text": "a".repeat(1530) }),
        json!({ "to": mobile(22), "text": "ç".repeat(670) }),
        json!({ "to": mobile(23), "text": format!("Hallo e{}", "\u{301}".repeat(31)) }),
        json!({ "to": mobile(24), "text": "x", "reference": "😀".repeat(255) }),
        json!({ "to": mobile(25), "text": "Termin:\t19.08." }),
        json!({ "to": mobile(26), "text": "Termin:\t19.08.", "smart_encoding": true }),
    ];
    let mut accepted = Vec::new();
    for (i, body) in inside.iter().enumerate() {
        let key = if i == 0 {
            "k".repeat(255)
        } else {
            format!("edge-{i}")
        };
        let r = send(
            stack
                .req_as(&stack.key, Method::POST, "/v1/messages")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .body(body.to_string()),
        )
        .await;
        assert_eq!(r.status, 202, "{body}: {}", r.body);
        let stored = stack.message(r.body["id"].as_str().expect("id")).await;
        for field in [
            "to",
            "sender",
            "text",
            "reference",
            "encoding",
            "segments",
            "created_at",
        ] {
            assert_eq!(stored[field], r.body[field], "{field} of {body}");
        }
        accepted.push(stored);
    }
    let parts: Vec<_> = accepted
        .iter()
        .map(|m| (m["encoding"].clone(), m["segments"].clone()))
        .collect();
    assert_eq!(
        parts,
        [
            (json!("GSM-7"), json!(10)),
            (json!("UCS-2"), json!(10)),
            (json!("UCS-2"), json!(1)),
            (json!("GSM-7"), json!(1)),
            (json!("UCS-2"), json!(1)),
            (json!("GSM-7"), json!(1)),
        ]
    );
    assert_eq!(
        accepted[5]["text"], "Termin: 19.08.",
        "a tab is a space under smart encoding"
    );

    let r = send(
        stack
            .req_as(&stack.key, Method::POST, "/v1/messages")
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", "k".repeat(256))
            .body(json!({ "to": mobile(27), "text": "x" }).to_string()),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.error()["field"], "Idempotency-Key");
    for (query, status, field) in [
        (format!("since={}", "9".repeat(10_000)), 422, "since"),
        (format!("cursor={}", "Z".repeat(10_000)), 422, "cursor"),
        (format!("limit={}", "9".repeat(1_000)), 422, "limit"),
        ("status=%FF".to_owned(), 400, "status"),
    ] {
        let r = stack.get(&format!("/v1/messages?{query}")).await;
        assert_eq!(
            r.status,
            status,
            "{}: {}",
            &query[..20.min(query.len())],
            r.body
        );
        assert_eq!(r.error()["field"], field);
    }
    let listed = stack.list_all(&stack.key, &[]).await;
    assert_eq!(
        listed.len(),
        inside.len(),
        "only the messages inside the limits are stored"
    );
}
