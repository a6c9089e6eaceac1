//! Failover between two real carrier adapters (seven.io primary, Vonage secondary), each talking
//! to its own loopback HTTP server that speaks the carrier's protocol and can be taken down.
//! The breaker's clock is a manual one, so cool-downs pass without waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use praxis_shared::carriers::client::Timeouts;
use praxis_shared::carriers::failover::{BreakerPolicy, Circuit, FailoverCarrier};
use praxis_shared::carriers::seven::SevenCarrier;
use praxis_shared::carriers::vonage::VonageCarrier;
use praxis_shared::domain::{MessageId, PhoneNumber, Region, SenderId};
use praxis_shared::ports::{Carrier, Clock, OutboundSms, SubmitError};

mod support;

use support::carriers::{Answer, FakeCarrier};

/// The carrier up: every message taken.
const UP: Answer = Answer::Accept;
/// The carrier down: HTTP 500 to everything.
const DOWN: Answer = Answer::Http(500);
/// seven.io refusing every recipient (code 202), a permanent error.
const REFUSES_RECIPIENT: Answer = Answer::MessageError("202");

// ---------------------------------------------------------------------------------------------

struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock");
        *t += chrono::Duration::from_std(by).expect("duration");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock")
    }
}

const POLICY: BreakerPolicy = BreakerPolicy {
    failure_threshold: 3,
    window: Duration::from_secs(60),
    cool_down: Duration::from_secs(30),
};

struct Rig {
    seven: FakeCarrier,
    vonage: FakeCarrier,
    clock: Arc<ManualClock>,
    carrier: Arc<FailoverCarrier>,
}

async fn rig() -> Rig {
    let seven = FakeCarrier::seven().await;
    let vonage = FakeCarrier::vonage().await;
    let timeouts = Timeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_secs(2),
    };
    let primary = SevenCarrier::with_timeouts(&seven.seven_config(), timeouts).expect("seven");
    let secondary =
        VonageCarrier::with_timeouts(&vonage.vonage_config(), timeouts).expect("vonage");
    let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
    let carrier = Arc::new(FailoverCarrier::new(
        Arc::new(primary),
        Arc::new(secondary),
        clock.clone(),
        POLICY,
    ));
    Rig {
        seven,
        vonage,
        clock,
        carrier,
    }
}

/// Sends one new message; returns its id and the carrier that took it.
async fn send(carrier: &FailoverCarrier) -> (String, Result<String, SubmitError>) {
    let id = MessageId::new(Utc::now());
    let to = PhoneNumber::parse("0176 12345678", Region::DE).expect("number");
    let sender = SenderId::parse("Praxis").expect("sender");
    let sms = OutboundSms {
        id,
        to: &to,
        sender: &sender,
        text: "Ihr Termin ist morgen.",
        segments: 1,
    };
    let result = carrier.submit(&sms).await.map(|done| {
        assert!(done.carrier_ref.is_some_and(|r| !r.is_empty()));
        done.carrier
    });
    (id.to_string(), result)
}

fn once_each(accepted: &[String]) -> bool {
    let mut seen = HashMap::new();
    for id in accepted {
        *seen.entry(id).or_insert(0) += 1;
    }
    seen.values().all(|n| *n == 1)
}

#[tokio::test]
async fn with_the_primary_down_every_message_goes_out_once_through_the_secondary() {
    let r = rig().await;
    r.seven.always(DOWN);
    let mut ids = Vec::new();
    for _ in 0..10 {
        let (id, took) = send(&r.carrier).await;
        assert_eq!(took.expect("sent"), "vonage");
        ids.push(id);
    }
    // Only the failures that opened the circuit reached the primary.
    assert_eq!(r.seven.requests().len(), POLICY.failure_threshold as usize);
    assert!(r.seven.accepted().is_empty());
    assert_eq!(r.carrier.circuit(), Circuit::Open);
    let vonage = r.vonage.accepted();
    assert_eq!(vonage, ids, "each message handed over at once, in order");
    assert!(
        once_each(&vonage),
        "a message was submitted twice: {vonage:?}"
    );
}

#[tokio::test]
async fn an_open_circuit_spares_the_primary_and_one_trial_brings_traffic_back() {
    let r = rig().await;
    r.seven.always(DOWN);
    for _ in 0..POLICY.failure_threshold {
        send(&r.carrier).await.1.expect("sent");
    }
    assert_eq!(r.carrier.circuit(), Circuit::Open);
    let tripped = r.seven.requests().len();

    // Open: the primary gets nothing, even as time passes within the cool-down.
    for _ in 0..5 {
        r.clock.advance(Duration::from_secs(5));
        assert_eq!(send(&r.carrier).await.1.expect("sent"), "vonage");
    }
    assert_eq!(
        r.seven.requests().len(),
        tripped,
        "the primary was called while open"
    );

    // Cool-down over, primary still down: exactly one trial, the message still goes out, and
    // the circuit opens again.
    r.clock.advance(Duration::from_secs(30));
    assert_eq!(send(&r.carrier).await.1.expect("sent"), "vonage");
    assert_eq!(r.seven.requests().len(), tripped + 1, "one trial request");
    assert_eq!(r.carrier.circuit(), Circuit::Open);
    for _ in 0..3 {
        assert_eq!(send(&r.carrier).await.1.expect("sent"), "vonage");
    }
    assert_eq!(r.seven.requests().len(), tripped + 1);

    // The primary recovers: the next trial closes the circuit and traffic returns to it.
    r.seven.always(UP);
    r.clock.advance(Duration::from_secs(31));
    let vonage_before = r.vonage.requests().len();
    for _ in 0..5 {
        assert_eq!(send(&r.carrier).await.1.expect("sent"), "seven");
    }
    assert_eq!(r.carrier.circuit(), Circuit::Closed);
    assert_eq!(
        r.vonage.requests().len(),
        vonage_before,
        "secondary used after recovery"
    );
    assert_eq!(r.seven.accepted().len(), 5);
    let all: Vec<String> = r
        .seven
        .accepted()
        .into_iter()
        .chain(r.vonage.accepted())
        .collect();
    assert!(once_each(&all), "a message was taken twice");
}

#[tokio::test]
async fn one_transient_failure_hands_only_that_message_over_and_keeps_the_circuit_closed() {
    let r = rig().await;
    r.seven.always(DOWN);
    assert_eq!(send(&r.carrier).await.1.expect("sent"), "vonage");
    assert_eq!(r.carrier.circuit(), Circuit::Closed);
    r.seven.always(UP);
    assert_eq!(send(&r.carrier).await.1.expect("sent"), "seven");
    assert_eq!(r.seven.requests().len(), 2);
    assert_eq!(r.vonage.requests().len(), 1);
}

#[tokio::test]
async fn failures_further_apart_than_the_window_do_not_open_the_circuit() {
    let r = rig().await;
    r.seven.always(DOWN);
    for _ in 0..6 {
        assert_eq!(send(&r.carrier).await.1.expect("sent"), "vonage");
        assert_eq!(r.carrier.circuit(), Circuit::Closed);
        r.clock.advance(Duration::from_secs(61));
    }
    // A success resets the count as well.
    r.seven.always(DOWN);
    send(&r.carrier).await.1.expect("sent");
    send(&r.carrier).await.1.expect("sent");
    r.seven.always(UP);
    send(&r.carrier).await.1.expect("sent");
    r.seven.always(DOWN);
    send(&r.carrier).await.1.expect("sent");
    send(&r.carrier).await.1.expect("sent");
    assert_eq!(r.carrier.circuit(), Circuit::Closed);
}

#[tokio::test]
async fn permanent_refusals_neither_trip_the_breaker_nor_fail_over() {
    let r = rig().await;
    r.seven.always(REFUSES_RECIPIENT);
    for _ in 0..10 {
        let err = send(&r.carrier).await.1.expect_err("refused");
        assert!(matches!(err, SubmitError::Permanent { .. }), "{err}");
    }
    assert_eq!(r.carrier.circuit(), Circuit::Closed);
    assert_eq!(r.seven.requests().len(), 10);
    assert_eq!(
        r.vonage.requests().len(),
        0,
        "a bad message was tried elsewhere"
    );
}

#[tokio::test]
async fn both_down_is_transient_and_nothing_is_taken() {
    let r = rig().await;
    r.seven.always(DOWN);
    r.vonage.always(DOWN);
    for _ in 0..5 {
        let err = send(&r.carrier).await.1.expect_err("both down");
        assert!(matches!(err, SubmitError::Transient(_)), "{err}");
    }
    assert!(r.seven.accepted().is_empty() && r.vonage.accepted().is_empty());
    assert_eq!(r.seven.requests().len(), POLICY.failure_threshold as usize);
}

#[tokio::test]
async fn concurrent_sends_during_an_outage_each_go_out_once() {
    let r = rig().await;
    r.seven.always(DOWN);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let carrier = r.carrier.clone();
        tasks.push(tokio::spawn(async move { send(&carrier).await }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (id, took) = t.await.expect("task");
        assert_eq!(took.expect("sent"), "vonage");
        ids.push(id);
    }
    let mut accepted = r.vonage.accepted();
    assert!(once_each(&accepted));
    accepted.sort();
    ids.sort();
    assert_eq!(accepted, ids);
    assert_eq!(r.carrier.circuit(), Circuit::Open);
    // Afterwards the primary is left alone.
    let before = r.seven.requests().len();
    for _ in 0..10 {
        send(&r.carrier).await.1.expect("sent");
    }
    assert_eq!(r.seven.requests().len(), before);
}
