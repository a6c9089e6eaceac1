//! Opt-outs and practice settings: a patient's `STOP` (through `praxis-sms sim inbound`) makes
//! every later send to that number a `422 recipient_opted_out` that stores nothing, for that
//! practice only, until `START` or the practice lifts it (`DELETE /v1/opt-outs/{number}`, or
//! `praxis-sms opt-out remove`); `praxis-sms org update` changes a practice's settings.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Stack, mobile, send};

const REPLY_NUMBER: &str = "+4915112340000";
const PATIENT: &str = "+4917612345678";

/// The patient's SMS to `to`, through the sim carrier's inbound webhook.
fn patient_writes(stack: &Stack, to: &str, text: &str) {
    let out = stack.cli(&[
        "sim",
        "inbound",
        "--to",
        to,
        "--from",
        "0176 12345678",
        "--text",
        text,
        "--addr",
        &stack.url,
    ]);
    assert_eq!(out["status"], 200, "{out}");
}

async fn send_to(stack: &Stack, key: &str, to: &str) -> crate::helpers::Resp {
    let body = json!({ "to": to, "text": "Terminerinnerung: morgen 9 Uhr" });
    stack.post_as(key, "/v1/messages", &body).await
}

/// The refusal of a message to an opted-out number, in the error shape; returns its field.
fn refused(r: &crate::helpers::Resp) -> String {
    assert_eq!(r.status, 422, "{}", r.body);
    let e = r.error();
    assert_eq!(e["code"], "recipient_opted_out", "{}", r.body);
    e["field"].as_str().unwrap_or_default().to_owned()
}

async fn opt_outs(stack: &Stack, key: &str) -> Vec<Value> {
    let page = stack.get_as(key, "/v1/opt-outs").await.expect(200);
    assert!(page["next_cursor"].is_null(), "{page}");
    page["opt_outs"].as_array().expect("opt_outs array").clone()
}

async fn lift(stack: &Stack, key: &str, number: &str) -> crate::helpers::Resp {
    // `+` is percent-encoded, as in any URL path meant to reach a server unchanged.
    let path = format!("/v1/opt-outs/{}", number.replace('+', "%2B"));
    send(stack.req_as(key, Method::DELETE, &path)).await
}

fn api_key(org: &Value) -> String {
    org["api_key"].as_str().expect("api_key").to_owned()
}

#[tokio::test]
async fn after_stop_sends_to_that_number_are_refused_until_start_or_the_practice_lifts_it() {
    let stack = Stack::start();
    let org = stack.org_create("Praxis Stopp", &["--reply-number", REPLY_NUMBER]);
    let key = api_key(&org);
    let other_practice = stack.new_practice("Praxis Andere");
    let someone_else = mobile(7);
    send_to(&stack, &key, PATIENT).await.expect(202);

    patient_writes(&stack, REPLY_NUMBER, "STOP");
    let stored_before = stack.list_all(&key, &[]).await.len();
    assert_eq!(refused(&send_to(&stack, &key, PATIENT).await), "to");
    // In the practice's own way of writing it, too.
    assert_eq!(refused(&send_to(&stack, &key, "0176 12345678").await), "to");
    assert_eq!(
        stack.list_all(&key, &[]).await.len(),
        stored_before,
        "a refused message was stored"
    );
    let preview = json!({ "to": PATIENT, "text": "Hallo" });
    let r = stack.post_as(&key, "/v1/messages/preview", &preview).await;
    assert_eq!(refused(&r), "to");
    // In a batch only that item fails, on its own.
    let batch = json!({ "messages": [
        { "to": PATIENT, "text": "Hallo" },
        { "to": someone_else, "text": "Hallo" },
    ]});
    let answer = stack
        .post_as(&key, "/v1/messages", &batch)
        .await
        .expect(202);
    let items = answer["messages"].as_array().expect("items");
    assert_eq!(items[0]["error"]["code"], "recipient_opted_out", "{answer}");
    assert_eq!(items[0]["error"]["field"], "messages[0].to", "{answer}");
    assert_eq!(items[1]["status"], "pending", "{answer}");
    let previews = stack
        .post_as(&key, "/v1/messages/preview", &batch)
        .await
        .expect(200);
    assert_eq!(
        previews["messages"][0]["error"]["field"], "messages[0].to",
        "{previews}"
    );
    assert_eq!(previews["messages"][1]["to"], someone_else.as_str());
    // Other practices are not affected.
    send_to(&stack, &other_practice, PATIENT).await.expect(202);
    assert!(opt_outs(&stack, &other_practice).await.is_empty());
    assert_eq!(lift(&stack, &other_practice, PATIENT).await.status, 404);

    let listed = opt_outs(&stack, &key).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["number"], PATIENT);
    assert_eq!(listed[0]["source"], "keyword");
    assert!(listed[0]["opted_out_at"].as_str().is_some(), "{listed:?}");

    // START opts the number back in.
    patient_writes(&stack, REPLY_NUMBER, "Start");
    send_to(&stack, &key, PATIENT).await.expect(202);
    assert!(opt_outs(&stack, &key).await.is_empty());

    // Out again; this time the practice lifts it.
    patient_writes(&stack, REPLY_NUMBER, "stop alle!");
    refused(&send_to(&stack, &key, PATIENT).await);
    let r = lift(&stack, &key, PATIENT).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let again = lift(&stack, &key, PATIENT).await;
    assert_eq!(again.status, 404, "{}", again.body);
    assert_eq!(again.error()["code"], "not_found");
    send_to(&stack, &key, PATIENT).await.expect(202);

    // Every reply was stored, the keywords too.
    let replies = stack.get_as(&key, "/v1/replies").await.expect(200);
    assert_eq!(replies["replies"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn the_command_line_lists_and_lifts_a_practices_opt_outs() {
    let stack = Stack::start();
    let org = stack.org_create("Praxis Liste", &["--reply-number", REPLY_NUMBER]);
    let (id, key) = (org["id"].as_str().expect("id"), api_key(&org));
    patient_writes(&stack, REPLY_NUMBER, "ABMELDEN");

    let listed = stack.cli(&["opt-out", "list", "--org", id]);
    assert_eq!(listed["opt_outs"][0]["number"], PATIENT, "{listed}");
    assert_eq!(listed["opt_outs"][0]["source"], "keyword", "{listed}");
    // The same list as the API's.
    assert_eq!(
        listed["opt_outs"].as_array().cloned().unwrap_or_default(),
        opt_outs(&stack, &key).await
    );
    let removed = stack.cli(&["opt-out", "remove", "--org", id, "0176 12345678"]);
    assert_eq!(removed["removed"], PATIENT, "{removed}");
    send_to(&stack, &key, PATIENT).await.expect(202);
    let listed = stack.cli(&["opt-out", "list", "--org", id]);
    assert_eq!(listed["opt_outs"], json!([]), "{listed}");
    let said = stack.cli_fails(&["opt-out", "remove", "--org", id, PATIENT]);
    assert!(said.contains("not opted out"), "{said}");
}

#[tokio::test]
async fn org_update_changes_a_practices_settings_and_a_reply_number_stays_unique() {
    let stack = Stack::start();
    let a = stack.org_create("Praxis A", &["--reply-number", REPLY_NUMBER]);
    let b = stack.org_create("Praxis B", &["--reply-number", "0151 12341111"]);
    let (a_id, a_key) = (a["id"].as_str().expect("id"), api_key(&a));
    let (b_id, b_key) = (b["id"].as_str().expect("id"), api_key(&b));

    // A's number is taken: nothing about B changes.
    let said = stack.cli_fails(&[
        "org",
        "update",
        "--org",
        b_id,
        "--name",
        "Praxis B neu",
        "--reply-number",
        REPLY_NUMBER,
    ]);
    assert!(said.contains("another practice"), "{said}");
    let check = stack.get_as(&b_key, "/v1/key-check").await.expect(200);
    assert_eq!(check["name"], "Praxis B", "{check}");
    assert_eq!(check["reply_number"], "+4915112341111", "{check}");

    let updated = stack.cli(&[
        "org",
        "update",
        "--org",
        a_id,
        "--name",
        "Praxis A, Wien",
        "--reply-email",
        "antworten@example.org",
        "--sender",
        "PraxisWien",
        "--region",
        "AT",
    ]);
    assert_eq!(updated["reply_email"], "antworten@example.org", "{updated}");
    assert_eq!(updated["email"], "praxis@example.org", "{updated}");
    let check = stack.get_as(&a_key, "/v1/key-check").await.expect(200);
    assert_eq!(check["name"], "Praxis A, Wien", "{check}");
    assert_eq!(check["region"], "AT", "{check}");
    assert_eq!(check["default_sender"], "PraxisWien", "{check}");
    assert_eq!(check["reply_number"], REPLY_NUMBER, "{check}");
    // National numbers are read as Austrian from now on.
    let m = send_to(&stack, &a_key, "0676 1234567").await.expect(202);
    assert_eq!(m["to"], "+436761234567", "{m}");
    assert_eq!(m["sender"], REPLY_NUMBER, "{m}");

    // A gives its reply number up: its messages go out with its sender again.
    let updated = stack.cli(&["org", "update", "--org", a_id, "--no-reply-number"]);
    assert!(updated["reply_number"].is_null(), "{updated}");
    let m = send_to(&stack, &a_key, "0676 1234567").await.expect(202);
    assert_eq!(m["sender"], "PraxisWien", "{m}");
    // B takes the freed number (given in B's region, DE), and replies to it reach B.
    stack.cli(&[
        "org",
        "update",
        "--org",
        b_id,
        "--reply-number",
        "0151 12340000",
    ]);
    patient_writes(&stack, REPLY_NUMBER, "Ja, ich komme");
    let to_b = stack.get_as(&b_key, "/v1/replies").await.expect(200);
    assert_eq!(to_b["replies"].as_array().map(Vec::len), Some(1), "{to_b}");
    let to_a = stack.get_as(&a_key, "/v1/replies").await.expect(200);
    assert_eq!(to_a["replies"], json!([]), "{to_a}");
    // B's old number leads nowhere now: a patient's SMS to it is acknowledged, not stored.
    patient_writes(&stack, "+4915112341111", "Hallo?");
    let to_b = stack.get_as(&b_key, "/v1/replies").await.expect(200);
    assert_eq!(to_b["replies"].as_array().map(Vec::len), Some(1), "{to_b}");

    let list = stack.cli(&["org", "list"]);
    let listed_a = list["practices"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == a_id).cloned())
        .expect("A is listed");
    assert_eq!(
        listed_a["reply_email"], "antworten@example.org",
        "{listed_a}"
    );
    let said = stack.cli_fails(&["org", "update", "--org", a_id]);
    assert!(said.contains("nothing to change"), "{said}");
}
