//! Crash recovery: `serve` killed with SIGKILL in the middle of a 1000-message batch loses
//! nothing after a restart, and re-sends at most what was in flight to the carrier.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Stack, id_of, mobile};

/// `serve`'s default number of dispatcher workers: each holds at most one message at the
/// carrier, so at most this many can be in flight when the process dies.
const WORKERS: usize = 16;

#[tokio::test]
async fn sigkill_right_after_the_batch_is_accepted_loses_nothing() {
    let mut stack = Stack::start();
    let ids = post_batch(&stack).await;
    kill_after_submissions(&mut stack, 20).await;
    stack.restart();
    check_all_delivered_once(&stack, &ids, 1).await;
}

#[tokio::test]
async fn sigkill_halfway_through_the_batch_loses_nothing() {
    let mut stack = Stack::start();
    let ids = post_batch(&stack).await;
    kill_after_submissions(&mut stack, 500).await;
    stack.restart();
    check_all_delivered_once(&stack, &ids, 1).await;
}

#[tokio::test]
async fn repeated_sigkills_lose_nothing_and_leave_whole_lines() {
    const KILLS: usize = 12;
    let mut stack = Stack::start();
    let ids = post_batch(&stack).await;
    for round in 1..=KILLS {
        kill_after_submissions(&mut stack, round * 40).await;
        stack.restart();
    }
    check_all_delivered_once(&stack, &ids, KILLS).await;
}

/// Posts 1000 messages to ordinary numbers; returns their ids.
async fn post_batch(stack: &Stack) -> HashSet<String> {
    let batch: Vec<Value> = (0..1000)
        .map(|i| json!({ "to": mobile(i), "text": "Recall: bitte Termin vereinbaren" }))
        .collect();
    let accepted = stack
        .post("/v1/messages", &json!({ "messages": batch }))
        .await
        .expect(202);
    let ids: HashSet<String> = accepted["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids.len(), 1000);
    ids
}

/// SIGKILLs serve as soon as `n` submissions reached the carrier, and checks that the kill
/// landed in the middle of the work.
async fn kill_after_submissions(stack: &mut Stack, n: usize) {
    let start = Instant::now();
    while stack.submissions().len() < n {
        assert!(
            // Generous: this guards against a dispatcher that stalls, not a slow machine.
            start.elapsed() < Duration::from_secs(60) * crate::helpers::patience(),
            "dispatch did not reach {n} submissions"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stack.kill();
    let done = stack.submission_counts().len();
    assert!(
        done < 1000,
        "the batch was done before the kill; the test proves nothing"
    );
    println!("recovery: killed after {done} messages were submitted");
}

/// Every message delivered and submitted, none unknown, and at most the in-flight ones of
/// each kill submitted twice.
async fn check_all_delivered_once(stack: &Stack, ids: &HashSet<String>, kills: usize) {
    stack
        .wait_for_count("delivered", ids.len(), Duration::from_secs(60))
        .await;
    let submitted = stack.submission_counts();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| !submitted.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} delivered messages never reached the carrier: {missing:?}",
        missing.len()
    );
    let strangers: Vec<&String> = submitted.keys().filter(|id| !ids.contains(*id)).collect();
    assert!(strangers.is_empty(), "unknown ids submitted: {strangers:?}");
    let twice: Vec<(&String, &usize)> = submitted.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "recovery: {} of {} messages submitted more than once after {kills} kill(s)",
        twice.len(),
        ids.len()
    );
    let bound = WORKERS * kills;
    assert!(
        twice.len() <= bound,
        "{} messages submitted more than once (at most {bound} were in flight): {twice:?}",
        twice.len()
    );
}
