//! What a practice sees of its messages: the sim table's outcomes, status history, listing
//! with filters and pagination, and never another practice's data.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Stack, id_of, is_final, mobile, status_of};

const ORDER: [&str; 6] = [
    "pending",
    "queued",
    "sent",
    "buffered",
    "delivered",
    "undelivered",
];

fn rank(status: &str) -> usize {
    // delivered and undelivered share the final rank.
    ORDER
        .iter()
        .position(|s| *s == status)
        .unwrap_or_else(|| panic!("unknown status {status:?}"))
        .min(4)
}

fn history(m: &Value) -> Vec<(String, String)> {
    m["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history in {m}"))
        .iter()
        .map(|h| {
            (
                h["status"].as_str().expect("history status").to_owned(),
                h["at"].as_str().expect("history at").to_owned(),
            )
        })
        .collect()
}

/// The statuses of the history, checked to move strictly forward.
fn history_statuses(m: &Value) -> Vec<String> {
    let statuses: Vec<String> = history(m).into_iter().map(|(s, _)| s).collect();
    for pair in statuses.windows(2) {
        assert!(
            rank(&pair[0]) < rank(&pair[1]),
            "history goes {} -> {}: {m}",
            pair[0],
            pair[1]
        );
    }
    statuses
}

struct Case {
    last_four: &'static str,
    status: &'static str,
    status_text: &'static str,
    reason: Option<&'static str>,
    history: &'static [&'static str],
    submitted: usize,
}

const SIM_TABLE: [Case; 5] = [
    Case {
        last_four: "0000",
        status: "undelivered",
        status_text: "nicht ausgeliefert",
        reason: Some("unknown_subscriber"),
        history: &["pending", "queued", "sent", "undelivered"],
        submitted: 1,
    },
    Case {
        last_four: "1111",
        status: "buffered",
        status_text: "buffered",
        reason: None,
        history: &["pending", "queued", "sent", "buffered"],
        submitted: 1,
    },
    Case {
        last_four: "2222",
        status: "undelivered",
        status_text: "nicht ausgeliefert",
        reason: Some("rejected"),
        history: &["pending", "queued", "undelivered"],
        submitted: 0,
    },
    Case {
        last_four: "3333",
        status: "delivered",
        status_text: "zugestellt",
        reason: None,
        history: &["pending", "queued", "sent", "delivered"],
        submitted: 1,
    },
    Case {
        last_four: "5678",
        status: "delivered",
        status_text: "zugestellt",
        reason: None,
        history: &["pending", "queued", "sent", "delivered"],
        submitted: 1,
    },
];

/// Sends one message per row of the sim table and waits until each has settled (the
/// buffered one settles at `buffered`).
async fn send_sim_table(stack: &Stack) -> Vec<Value> {
    let items: Vec<Value> = SIM_TABLE
        .iter()
        .map(|c| json!({ "to": format!("+49176123{}", c.last_four), "text": "Erinnerung: Termin morgen 9 Uhr" }))
        .collect();
    let accepted = stack
        .post("/v1/messages", &json!({ "messages": items }))
        .await
        .expect(202);
    let ids: Vec<String> = accepted["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(id_of)
        .collect();
    let mut settled = Vec::new();
    for id in &ids {
        let m = stack
            .wait_for_status(
                id,
                |s| is_final(s) || s == "buffered",
                crate::helpers::SETTLE,
            )
            .await;
        settled.push(m);
    }
    settled
}

#[tokio::test]
async fn every_number_of_the_sim_table_ends_in_its_state() {
    let stack = Stack::start();
    let settled = send_sim_table(&stack).await;
    for (case, m) in SIM_TABLE.iter().zip(&settled) {
        let what = format!("number ending {}: {m}", case.last_four);
        assert_eq!(status_of(m), case.status, "{what}");
        assert_eq!(m["status_text"], case.status_text, "{what}");
        assert_eq!(m["reason"].as_str(), case.reason, "{what}");
        assert_eq!(history_statuses(m), case.history, "{what}");
    }
    // Everything else has settled by now (3333 needed its retries); the buffered one stays.
    let buffered = stack.message(&id_of(&settled[1])).await;
    assert_eq!(status_of(&buffered), "buffered", "{buffered}");

    let submitted = stack.submission_counts();
    for (case, m) in SIM_TABLE.iter().zip(&settled) {
        assert_eq!(
            submitted.get(&id_of(m)).copied().unwrap_or(0),
            case.submitted,
            "submissions of the number ending {}",
            case.last_four
        );
    }
}

#[tokio::test]
async fn history_times_never_go_backwards() {
    let stack = Stack::start();
    send_sim_table(&stack).await;
    // Many messages at once, so that the steps of one message fall into different
    // milliseconds often enough to show any step recorded with an earlier time.
    let more: Vec<Value> = (0..300)
        .map(|i| json!({ "to": mobile(i), "text": "Recall" }))
        .collect();
    stack
        .post("/v1/messages", &json!({ "messages": more }))
        .await
        .expect(202);
    // The sim table delivers two of its five (3333 and the ordinary number).
    stack
        .wait_for_count("delivered", 302, Duration::from_secs(30))
        .await;
    let mut backwards = Vec::new();
    for m in stack.list_all(&stack.key, &[]).await {
        let h = history(&m);
        assert_eq!(h[0].1, m["created_at"].as_str().unwrap_or_default(), "{m}");
        // RFC 3339 UTC with fixed millisecond precision sorts as text.
        if h.windows(2).any(|pair| pair[0].1 > pair[1].1) {
            backwards.push(m["history"].to_string());
        }
    }
    assert!(
        backwards.is_empty(),
        "{} of 305 histories go back in time, e.g. {}",
        backwards.len(),
        backwards[0]
    );
}

#[tokio::test]
async fn a_practice_never_sees_another_practices_messages() {
    let stack = Stack::start();
    let other = stack.new_practice("Praxis Zwei");
    let mine = stack.send_one(&mobile(1), "Termin am Montag").await;
    let id = id_of(&mine);
    stack.get(&format!("/v1/messages/{id}")).await.expect(200);

    let r = stack.get_as(&other, &format!("/v1/messages/{id}")).await;
    assert_eq!(r.status, 404, "another practice's message: {}", r.body);
    assert_eq!(r.error()["code"], "not_found", "{}", r.body);
    assert!(
        stack.list_all(&other, &[]).await.is_empty(),
        "the other practice lists our message"
    );
    let theirs = stack
        .post_as(
            &other,
            "/v1/messages",
            &json!({ "to": mobile(2), "text": "Hallo" }),
        )
        .await
        .expect(202);
    let ours: Vec<String> = stack
        .list_all(&stack.key, &[])
        .await
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ours, vec![id.clone()], "we list exactly our own message");
    let r = stack.get(&format!("/v1/messages/{}", id_of(&theirs))).await;
    assert_eq!(r.status, 404, "{}", r.body);

    // A well-formed id that does not exist, and ids that are not ids at all.
    let mut unknown = id.clone();
    let last = unknown.pop().expect("id");
    unknown.push(if last == 'Z' { 'Y' } else { 'Z' });
    for bad in [unknown.as_str(), "nope", "0", "..%2F..%2Fsecrets.json"] {
        let r = stack.get(&format!("/v1/messages/{bad}")).await;
        assert_eq!(r.status, 404, "id {bad:?}: {}", r.body);
        r.error();
    }
}

#[tokio::test]
async fn listing_pages_newest_first_through_every_message_once() {
    let stack = Stack::start();
    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(id_of(&stack.send_one(&mobile(i), "Recall").await));
    }
    let batch: Vec<Value> = (7..30)
        .map(|i| json!({ "to": mobile(i), "text": "Recall" }))
        .collect();
    let accepted = stack
        .post("/v1/messages", &json!({ "messages": batch }))
        .await
        .expect(202);
    sent.extend(
        accepted["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(id_of),
    );

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/v1/messages?limit=4".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = stack.get(&path).await.expect(200);
        let items = page["messages"].as_array().expect("messages");
        assert!(items.len() <= 4, "page larger than limit: {page}");
        seen.extend(items.iter().cloned());
        pages += 1;
        assert!(pages <= 30, "pagination does not end");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let ids: Vec<String> = seen.iter().map(id_of).collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a message appeared twice: {ids:?}");
    assert_eq!(
        unique,
        sent.iter().collect(),
        "listing misses or adds messages"
    );
    let times: Vec<&str> = seen
        .iter()
        .map(|m| m["created_at"].as_str().expect("created_at"))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
}

#[tokio::test]
async fn listing_filters_by_status_and_time() {
    let stack = Stack::start();
    let mut msgs = Vec::new();
    for to in ["+4917612342222", &mobile(1), &mobile(2)] {
        let m = stack.send_one(to, "Termin").await;
        msgs.push(stack.wait_for_final(&id_of(&m)).await);
        // Distinct creation milliseconds, so the time filters can tell them apart.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let t: Vec<&str> = msgs
        .iter()
        .map(|m| m["created_at"].as_str().expect("created_at"))
        .collect();
    assert!(t[0] < t[1] && t[1] < t[2], "creation times {t:?}");
    let ids: Vec<String> = msgs.iter().map(id_of).collect();
    let listed = |items: Vec<Value>| -> Vec<String> { items.iter().map(id_of).collect() };

    let undelivered = listed(
        stack
            .list_all(&stack.key, &[("status", "undelivered")])
            .await,
    );
    assert_eq!(undelivered, vec![ids[0].clone()]);
    let delivered = listed(stack.list_all(&stack.key, &[("status", "delivered")]).await);
    assert_eq!(delivered, vec![ids[2].clone(), ids[1].clone()]);
    assert!(
        stack
            .list_all(&stack.key, &[("status", "pending")])
            .await
            .is_empty()
    );

    let since = listed(stack.list_all(&stack.key, &[("since", t[1])]).await);
    assert_eq!(
        since,
        vec![ids[2].clone(), ids[1].clone()],
        "since {}",
        t[1]
    );
    let until = listed(stack.list_all(&stack.key, &[("until", t[1])]).await);
    assert_eq!(
        until,
        vec![ids[1].clone(), ids[0].clone()],
        "until {}",
        t[1]
    );
    let both = listed(
        stack
            .list_all(&stack.key, &[("since", t[1]), ("until", t[1])])
            .await,
    );
    assert_eq!(both, vec![ids[1].clone()]);
    let both = listed(
        stack
            .list_all(&stack.key, &[("since", t[0]), ("status", "delivered")])
            .await,
    );
    assert_eq!(both, vec![ids[2].clone(), ids[1].clone()]);
}

#[tokio::test]
async fn listing_refuses_bad_parameters() {
    let stack = Stack::start();
    for query in [
        "limit=0",
        "limit=501",
        "limit=zehn",
        "limit=-1",
        "status=zugestellt",
        "status=DELIVERED",
        "since=gestern",
        "since=2026-13-01T00:00:00Z",
        "until=1700000000",
        "cursor=not-a-cursor",
    ] {
        let r = stack.get(&format!("/v1/messages?{query}")).await;
        assert!(
            matches!(r.status, 400 | 422),
            "{query}: status {} {}",
            r.status,
            r.body
        );
        r.error();
    }
}
