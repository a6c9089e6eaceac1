//! The carrier-facing DLR webhook: only the carrier may report, and a report after the final
//! status or for a message we do not know changes nothing.

use serde_json::{Value, json};

use crate::helpers::{SETTLE, Stack, id_of, status_of};

fn report(id: &str, status: &str) -> Value {
    json!({
        "id": id,
        "carrier_ref": format!("sim-{id}"),
        "status": status,
        "at": "2026-01-01T00:00:00Z",
    })
}

#[tokio::test]
async fn dlr_without_the_carriers_token_gets_401_and_changes_nothing() {
    let stack = Stack::start();
    // 1111 stays buffered: a forged `delivered` would visibly move it.
    let m = stack.send_one("+4917612341111", "Termin").await;
    let id = id_of(&m);
    let before = stack
        .wait_for_status(&id, |s| s == "buffered", SETTLE)
        .await;

    let token = stack.sim_token();
    let wrong = format!("{token}x");
    for (what, t) in [("no token", None), ("wrong token", Some(wrong.as_str()))] {
        let r = stack.post_dlr(t, &report(&id, "delivered")).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        r.error();
    }
    let after = stack.message(&id).await;
    assert_eq!(
        after, before,
        "an unauthenticated report changed the message"
    );
}

#[tokio::test]
async fn dlr_after_the_final_status_changes_nothing() {
    let stack = Stack::start();
    let m = stack.send_one("+4917612345678", "Termin").await;
    let id = id_of(&m);
    let before = stack
        .wait_for_status(&id, |s| s == "delivered", SETTLE)
        .await;
    let token = stack.sim_token();
    for status in ["buffered", "sent", "undelivered", "delivered"] {
        let r = stack.post_dlr(Some(&token), &report(&id, status)).await;
        assert!(
            (200..300).contains(&r.status),
            "late {status} report: {} {}",
            r.status,
            r.body
        );
    }
    let after = stack.message(&id).await;
    assert_eq!(after, before, "a late report changed a final message");
    assert_eq!(status_of(&after), "delivered");
}

#[tokio::test]
async fn dlr_for_an_unknown_message_is_acknowledged() {
    let stack = Stack::start();
    let token = stack.sim_token();
    // A real message id of another stack (so: well-formed, but unknown here) ...
    let elsewhere = Stack::start();
    let foreign = id_of(&elsewhere.send_one("+4917612345678", "x").await);
    // ... and a carrier reference that matches nothing.
    let unknown_ref = json!({
        "id": "no-such-message",
        "carrier_ref": "sim-unknown",
        "status": "delivered",
        "at": "2026-01-01T00:00:00Z",
    });
    for body in [report(&foreign, "delivered"), unknown_ref] {
        let r = stack.post_dlr(Some(&token), &body).await;
        assert!(
            (200..300).contains(&r.status),
            "report for an unknown message: {} {}",
            r.status,
            r.body
        );
    }
    assert!(stack.list_all(&stack.key, &[]).await.is_empty());
}
