//! The store conformance suite: the behaviour every `Store` implementation must show, written
//! once and run against each backend (`conformance_suite!` below instantiates it).

#![allow(dead_code)]

pub mod accounts;

use chrono::{DateTime, Duration, TimeZone, Utc};
use praxis_shared::domain::apikey::{ApiKey, ApiKeyRecord};
use praxis_shared::domain::invoice::{BillingConfig, DailyUsage, InvoiceNumber, NewInvoice};
use praxis_shared::domain::message::{EarlyReport, Message, Transition};
use praxis_shared::domain::optout::{OptOut, Source};
use praxis_shared::domain::org::{EmailAddress, Org, OrgChanges, OrgName, PostalAddress};
use praxis_shared::domain::reply::{Reply, ReplyPart};
use praxis_shared::domain::{
    KeyId, MessageId, MessageText, Month, OrgId, PhoneNumber, Reason, Region, ReplyId, SenderId,
    Status,
};
use praxis_shared::ports::{
    IdempotencyClaim, IdempotencyRecord, InvoiceCreated, ListQuery, OptOutQuery, PortError,
    ReplyQuery, Store,
};

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("valid time")
}

pub fn org(name: &str) -> Org {
    Org {
        id: OrgId::new(t0()),
        name: OrgName::parse(name).expect("name"),
        email: EmailAddress::parse("praxis@example.de").expect("email"),
        reply_email: None,
        default_sender: Some(SenderId::parse("Praxis").expect("sender")),
        region: Region::DE,
        reply_number: None,
        activated_on: t0().date_naive(),
        address: None,
        created_at: t0(),
        daily_cap: None,
    }
}

pub fn message(org: OrgId, at: DateTime<Utc>, last4: &str) -> Message {
    Message::accepted(
        MessageId::new(at),
        org,
        PhoneNumber::parse(&format!("+49176123{last4}"), Region::DE).expect("number"),
        SenderId::parse("Praxis").expect("sender"),
        MessageText::parse("Terminerinnerung: 19.08. um 16:30 Uhr", false).expect("text"),
        Some("ref-1".into()),
        at,
    )
}

pub fn number(n: &str) -> PhoneNumber {
    PhoneNumber::parse(n, Region::DE).expect("number")
}

/// A patient's reply from `+49176123<last4>` to the reply number `+4915112340000`.
pub fn reply(org: OrgId, at: DateTime<Utc>, carrier_ref: &str) -> Reply {
    Reply {
        id: ReplyId::new(at),
        org_id: org,
        from: number("+491761235678"),
        to: number("+4915112340000"),
        text: "Ja, ich komme. Grüße".into(),
        received_at: at,
        carrier: "sim".into(),
        carrier_ref: carrier_ref.into(),
        in_reply_to: Some(MessageId::new(at)),
        forwarded_at: None,
    }
}

/// Part `n` of `total` of a long SMS with concatenation reference `reference`, from the
/// patient of [`reply`] to its reply number.
pub fn reply_part(org: OrgId, reference: &str, n: u32, total: u32, at: DateTime<Utc>) -> ReplyPart {
    ReplyPart {
        org_id: org,
        from: number("+491761235678"),
        to: number("+4915112340000"),
        carrier: "vonage".into(),
        carrier_ref: format!("{reference}-part-{n}"),
        reference: reference.into(),
        part: n,
        total,
        text: format!("Teil {n} "),
        received_at: at,
    }
}

async fn unforwarded_ids(store: &dyn Store) -> Vec<ReplyId> {
    store
        .unforwarded_replies()
        .await
        .expect("unforwarded")
        .iter()
        .map(|r| r.id)
        .collect()
}

fn reply_query(since: DateTime<Utc>, limit: usize) -> ReplyQuery {
    ReplyQuery {
        since,
        until: None,
        after: None,
        limit,
    }
}

async fn all_replies(store: &dyn Store, org: OrgId, mut q: ReplyQuery) -> Vec<Reply> {
    let mut seen = Vec::new();
    loop {
        let page = store.list_replies(org, &q).await.expect("list replies");
        assert!(page.items.len() <= q.limit);
        seen.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => return seen,
        }
    }
}

fn query(since: DateTime<Utc>, limit: usize) -> ListQuery {
    ListQuery {
        status: None,
        since,
        until: None,
        after: None,
        limit,
    }
}

async fn stored(store: &dyn Store, id: MessageId) -> Message {
    store
        .get_message(id)
        .await
        .expect("get")
        .expect("message exists")
}

pub async fn creating_a_practice_twice_conflicts(store: &dyn Store) {
    let o = org("Praxis Dr. Muster");
    store.create_org(&o).await.expect("create");
    assert!(matches!(
        store.create_org(&o).await,
        Err(PortError::Conflict(_))
    ));
    assert_eq!(store.get_org(o.id).await.expect("get"), Some(o.clone()));
    assert!(store.list_orgs().await.expect("list").contains(&o));
}

pub async fn api_keys_are_found_by_hash_and_revoked_once(store: &dyn Store) {
    let o = org("Praxis Keys");
    store.create_org(&o).await.expect("create");
    let key = ApiKey::generate();
    let rec = ApiKeyRecord {
        id: KeyId::new(t0()),
        org_id: o.id,
        hash: key.hash(),
        hint: key.hint(),
        created_at: t0(),
        revoked_at: None,
    };
    store.put_api_key(&rec).await.expect("put");
    assert_eq!(
        store.find_api_key(&key.hash()).await.expect("find"),
        Some(rec.clone())
    );
    assert_eq!(
        store
            .find_api_key(&ApiKey::generate().hash())
            .await
            .expect("find"),
        None
    );
    assert!(store.revoke_api_key(rec.id, t0()).await.expect("revoke"));
    assert!(!store.revoke_api_key(rec.id, t0()).await.expect("revoke"));
    let found = store.find_api_key(&key.hash()).await.expect("find");
    assert!(found.and_then(|k| k.revoked_at).is_some());
    assert_eq!(store.list_api_keys(o.id).await.expect("list").len(), 1);
}

pub async fn idempotency_key_is_claimed_once(store: &dyn Store) {
    let o = org("Praxis Idem");
    let rec = IdempotencyRecord {
        org_id: o.id,
        key: "abc".into(),
        fingerprint: "f1".into(),
        created_at: t0(),
    };
    assert_eq!(
        store.claim_idempotency_key(&rec).await.expect("claim"),
        IdempotencyClaim::Fresh
    );
    let again = IdempotencyRecord {
        fingerprint: "f2".into(),
        created_at: t0() + Duration::seconds(5),
        ..rec.clone()
    };
    assert_eq!(
        store.claim_idempotency_key(&again).await.expect("claim"),
        IdempotencyClaim::Seen(rec.clone())
    );
    let other_org = IdempotencyRecord {
        org_id: OrgId::new(t0()),
        ..rec
    };
    assert_eq!(
        store
            .claim_idempotency_key(&other_org)
            .await
            .expect("claim"),
        IdempotencyClaim::Fresh
    );
}

pub async fn inserting_a_message_twice_changes_nothing(store: &dyn Store) {
    let o = org("Praxis Insert");
    let m = message(o.id, t0(), "5678");
    assert_eq!(
        store
            .insert_messages(std::slice::from_ref(&m))
            .await
            .expect("insert"),
        1
    );
    let mut changed = m.clone();
    changed.text = "other".into();
    assert_eq!(store.insert_messages(&[changed]).await.expect("insert"), 0);
    assert_eq!(stored(store, m.id).await, m);
    let both = store
        .get_messages(&[m.id, MessageId::new(t0())])
        .await
        .expect("get");
    assert_eq!(both, vec![m]);
}

pub async fn status_moves_only_forward(store: &dyn Store) {
    let o = org("Praxis Status");
    let m = message(o.id, t0(), "5678");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let t = |s: Status, secs: i64| Transition::new(m.id, s, t0() + Duration::seconds(secs));
    let claimed = store
        .claim_for_dispatch(m.id, t0(), t0() + Duration::seconds(60))
        .await
        .expect("claim");
    assert_eq!(claimed.map(|c| c.status), Some(Status::Queued));
    assert!(
        store
            .apply(&t(Status::Sent, 1).with_carrier("sim", "sim-1"))
            .await
            .expect("sent")
    );
    assert!(
        store
            .apply(&t(Status::Delivered, 2))
            .await
            .expect("delivered")
    );
    // Late and duplicate reports change nothing.
    assert!(!store.apply(&t(Status::Buffered, 3)).await.expect("late"));
    assert!(!store.apply(&t(Status::Delivered, 4)).await.expect("dup"));
    assert!(
        !store
            .apply(&t(Status::Undelivered, 5).with_reason(Reason::Rejected))
            .await
            .expect("other final")
    );
    let got = stored(store, m.id).await;
    assert_eq!(got.status, Status::Delivered);
    assert_eq!(got.reason, None);
    assert_eq!(got.sent_at, Some(t0() + Duration::seconds(1)));
    assert_eq!(got.carrier.as_deref(), Some("sim"));
    let statuses: Vec<Status> = got.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![
            Status::Pending,
            Status::Queued,
            Status::Sent,
            Status::Delivered
        ]
    );
    assert_eq!(
        store
            .find_by_carrier_ref("sim", "sim-1")
            .await
            .expect("find"),
        Some(m.id)
    );
    assert_eq!(
        store
            .find_by_carrier_ref("other", "sim-1")
            .await
            .expect("find"),
        None
    );
}

pub async fn history_times_never_go_backwards(store: &dyn Store) {
    let o = org("Praxis Order");
    let m = message(o.id, t0(), "5678");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let claimed_at = t0() + Duration::seconds(10);
    store
        .claim_for_dispatch(m.id, claimed_at, claimed_at + Duration::seconds(60))
        .await
        .expect("claim");
    // A handler that took its time before the claim was written reports an earlier moment.
    assert!(
        store
            .apply(&Transition::new(
                m.id,
                Status::Sent,
                t0() + Duration::seconds(5)
            ))
            .await
            .expect("sent")
    );
    let times: Vec<_> = stored(store, m.id)
        .await
        .history
        .iter()
        .map(|h| h.at)
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "history times go backwards: {times:?}"
    );
}

pub async fn undelivered_keeps_its_reason(store: &dyn Store) {
    let o = org("Praxis Reason");
    let m = message(o.id, t0(), "0000");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let t = Transition::new(m.id, Status::Undelivered, t0()).with_reason(Reason::UnknownSubscriber);
    assert!(store.apply(&t).await.expect("apply"));
    let got = stored(store, m.id).await;
    assert_eq!(got.status, Status::Undelivered);
    assert_eq!(got.reason, Some(Reason::UnknownSubscriber));
}

pub async fn a_claimed_message_is_not_claimed_again_until_its_lease_ends(store: &dyn Store) {
    let o = org("Praxis Claim");
    let m = message(o.id, t0(), "5678");
    store
        .insert_messages(std::slice::from_ref(&m))
        .await
        .expect("insert");
    let lease = t0() + Duration::seconds(60);
    assert!(
        store
            .claim_for_dispatch(m.id, t0(), lease)
            .await
            .expect("c1")
            .is_some()
    );
    assert!(
        store
            .claim_for_dispatch(m.id, t0() + Duration::seconds(1), lease)
            .await
            .expect("c2")
            .is_none()
    );
    // After the lease the dispatcher is presumed dead; the job may be taken over.
    let later = t0() + Duration::seconds(61);
    let again = store
        .claim_for_dispatch(m.id, later, later + Duration::seconds(60))
        .await
        .expect("c3");
    assert!(again.is_some());
    // The takeover does not write `queued` into the history a second time.
    let queued = stored(store, m.id)
        .await
        .history
        .iter()
        .filter(|h| h.status == Status::Queued)
        .count();
    assert_eq!(queued, 1);
    store.release_claim(m.id).await.expect("release");
    assert!(
        store
            .claim_for_dispatch(m.id, later, later + Duration::seconds(60))
            .await
            .expect("c4")
            .is_some()
    );
    assert!(
        store
            .apply(&Transition::new(m.id, Status::Sent, later))
            .await
            .expect("sent")
    );
    assert!(
        store
            .claim_for_dispatch(m.id, later + Duration::hours(1), later + Duration::hours(2))
            .await
            .expect("c5")
            .is_none()
    );
}

pub async fn listing_is_newest_first_paginated_and_per_practice(store: &dyn Store) {
    let a = org("Praxis A");
    let b = org("Praxis B");
    let mut ids = Vec::new();
    for i in 0..7 {
        let m = message(a.id, t0() + Duration::minutes(i), "5678");
        ids.push(m.id);
        store.insert_messages(&[m]).await.expect("insert");
    }
    store
        .insert_messages(&[message(b.id, t0(), "5678")])
        .await
        .expect("insert");
    ids.reverse();
    let mut seen = Vec::new();
    let mut q = query(t0() - Duration::days(1), 3);
    loop {
        let page = store.list_messages(a.id, &q).await.expect("list");
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|m| m.id));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    // Time window: since/until are inclusive bounds on creation time.
    let mut q = query(t0() + Duration::minutes(2), 100);
    q.until = Some(t0() + Duration::minutes(4));
    let page = store.list_messages(a.id, &q).await.expect("list");
    assert_eq!(page.items.len(), 3);
    assert_eq!(page.next, None);
    // Status filter.
    assert!(
        store
            .apply(&Transition::new(ids[0], Status::Delivered, t0()))
            .await
            .expect("apply")
    );
    let mut q = query(t0() - Duration::days(1), 100);
    q.status = Some(Status::Delivered);
    let page = store.list_messages(a.id, &q).await.expect("list");
    assert_eq!(
        page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    let page = store
        .list_messages(b.id, &query(t0() - Duration::days(1), 100))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);
}

pub async fn overdue_messages_expire_after_72_hours(store: &dyn Store) {
    let o = org("Praxis Expiry");
    let old = message(o.id, t0(), "1111");
    let fresh = message(o.id, t0() + Duration::hours(10), "1111");
    store
        .insert_messages(&[old.clone(), fresh.clone()])
        .await
        .expect("insert");
    for (m, at) in [(&old, t0()), (&fresh, t0() + Duration::hours(10))] {
        assert!(
            store
                .apply(&Transition::new(m.id, Status::Sent, at))
                .await
                .expect("sent")
        );
    }
    let now = t0() + Duration::hours(73);
    assert_eq!(store.expire_overdue(now).await.expect("expire"), 1);
    let got = stored(store, old.id).await;
    assert_eq!(got.status, Status::Undelivered);
    assert_eq!(got.reason, Some(Reason::Expired));
    assert_eq!(
        got.history.last().map(|h| h.at),
        Some(t0() + Duration::hours(72))
    );
    assert_eq!(stored(store, fresh.id).await.status, Status::Sent);
    assert_eq!(store.expire_overdue(now).await.expect("expire again"), 0);
    // The expiry is stored: a status filter finds it, and a report arriving afterwards
    // cannot turn it into `delivered`.
    let mut q = query(t0() - Duration::days(1), 100);
    q.status = Some(Status::Undelivered);
    let found = store.list_messages(o.id, &q).await.expect("list");
    assert_eq!(
        found.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![old.id]
    );
    assert!(
        !store
            .apply(&Transition::new(old.id, Status::Delivered, now))
            .await
            .expect("late report")
    );
    assert_eq!(stored(store, old.id).await.reason, Some(Reason::Expired));
    // Before any sweep too: a report more than 72 hours after sending is refused, since the
    // message has been shown as expired from then on.
    let late = message(o.id, t0(), "2222");
    store
        .insert_messages(std::slice::from_ref(&late))
        .await
        .expect("insert");
    assert!(
        store
            .apply(&Transition::new(late.id, Status::Sent, t0()))
            .await
            .expect("sent")
    );
    let report = Transition::new(late.id, Status::Delivered, t0() + Duration::hours(72));
    assert!(!store.apply(&report).await.expect("late report"));
    let within = Transition::new(late.id, Status::Buffered, t0() + Duration::hours(71));
    assert!(store.apply(&within).await.expect("report in time"));
}

pub async fn unfinished_lists_what_the_dispatcher_still_owes(store: &dyn Store) {
    let o = org("Praxis Open");
    let a = message(o.id, t0(), "5678");
    let b = message(o.id, t0(), "5678");
    let c = message(o.id, t0(), "5678");
    store
        .insert_messages(&[a.clone(), b.clone(), c.clone()])
        .await
        .expect("insert");
    store
        .claim_for_dispatch(b.id, t0(), t0() + Duration::seconds(60))
        .await
        .expect("claim");
    store
        .apply(&Transition::new(c.id, Status::Sent, t0()))
        .await
        .expect("sent");
    let open = store.unfinished().await.expect("unfinished");
    assert!(open.contains(&a.id) && open.contains(&b.id));
    assert!(!open.contains(&c.id));
}

pub async fn stranded_are_old_open_messages_that_nobody_holds(store: &dyn Store) {
    let o = org("Praxis Stranded");
    let pending = message(o.id, t0(), "1111");
    let held = message(o.id, t0(), "2222");
    let lapsed = message(o.id, t0(), "3333");
    let released = message(o.id, t0(), "4444");
    let sent = message(o.id, t0(), "5555");
    let fresh = message(o.id, t0() + Duration::minutes(8), "6666");
    store
        .insert_messages(&[
            pending.clone(),
            held.clone(),
            lapsed.clone(),
            released.clone(),
            sent.clone(),
            fresh.clone(),
        ])
        .await
        .expect("insert");
    let claim =
        |id, at: DateTime<Utc>| store.claim_for_dispatch(id, at, at + Duration::seconds(60));
    assert!(
        claim(held.id, t0() + Duration::minutes(9))
            .await
            .expect("claim")
            .is_some()
    );
    assert!(claim(lapsed.id, t0()).await.expect("claim").is_some());
    assert!(claim(released.id, t0()).await.expect("claim").is_some());
    store.release_claim(released.id).await.expect("release");
    assert!(
        store
            .apply(&Transition::new(sent.id, Status::Sent, t0()))
            .await
            .expect("sent")
    );
    let now = t0() + Duration::minutes(10);
    let mut got = store
        .stranded(now - Duration::minutes(5), now)
        .await
        .expect("stranded");
    got.sort();
    let mut want = vec![pending.id, lapsed.id, released.id];
    want.sort();
    // Not the one whose dispatcher holds a live lease, not the one already with the carrier,
    // not the one accepted moments ago (its job is on its way).
    assert_eq!(got, want);

    // A sweeper holds each before enqueueing it: one of two sweeps gets it, and later sweeps
    // leave it alone until the hold ends.
    let until = now + Duration::minutes(10);
    assert_eq!(
        store
            .hold_for_requeue(pending.id, now, until)
            .await
            .expect("hold"),
        Some(Status::Pending)
    );
    assert_eq!(
        store
            .hold_for_requeue(pending.id, now, until)
            .await
            .expect("hold"),
        None
    );
    assert_eq!(
        store
            .hold_for_requeue(lapsed.id, now, until)
            .await
            .expect("hold"),
        Some(Status::Queued)
    );
    assert_eq!(
        store
            .hold_for_requeue(held.id, now, until)
            .await
            .expect("hold"),
        None
    );
    assert_eq!(
        store
            .hold_for_requeue(sent.id, now, until)
            .await
            .expect("hold"),
        None
    );
    let mut got = store
        .stranded(now - Duration::minutes(5), now)
        .await
        .expect("stranded");
    got.sort();
    assert_eq!(got, vec![released.id]);
    // The hold is the sweeper's mark, not a claim: the dispatcher takes a held message at once,
    // pending or queued (a queued one whose dispatcher died must not wait for the hold).
    for id in [pending.id, lapsed.id] {
        assert!(
            store
                .claim_for_dispatch(id, now, now + Duration::seconds(60))
                .await
                .expect("claim")
                .is_some()
        );
    }
    // Claimed, it is not stranded while the lease lives (the first claim's has lapsed by now).
    // A dead dispatcher's claim lapses, and once the hold ends the next sweep takes it again.
    let mut got = store
        .stranded(now - Duration::minutes(5), now + Duration::seconds(30))
        .await
        .expect("stranded");
    got.sort();
    let mut want = vec![held.id, released.id];
    want.sort();
    assert_eq!(got, want);
    let after = until + Duration::seconds(1);
    let mut got = store
        .stranded(now - Duration::minutes(5), after)
        .await
        .expect("stranded");
    got.sort();
    let mut want = vec![pending.id, held.id, lapsed.id, released.id];
    want.sort();
    assert_eq!(got, want);
}

pub async fn an_early_report_is_kept_once_for_its_carrier_reference(store: &dyn Store) {
    let delivered = EarlyReport {
        carrier: "seven".into(),
        carrier_ref: "77".into(),
        status: Status::Delivered,
        reason: None,
        received_at: t0(),
    };
    let buffered = EarlyReport {
        status: Status::Buffered,
        ..delivered.clone()
    };
    for r in [&delivered, &delivered, &buffered] {
        store.park_report(r).await.expect("park");
    }
    let mut got = store
        .parked_reports("seven", "77", t0() - Duration::hours(1))
        .await
        .expect("parked");
    got.sort_by_key(|r| r.status.as_str());
    assert_eq!(got, vec![buffered.clone(), delivered.clone()]);
    // Another carrier's reference of the same spelling is another message.
    assert!(
        store
            .parked_reports("vonage", "77", t0() - Duration::hours(1))
            .await
            .expect("parked")
            .is_empty()
    );
    // Past the time it is kept for, it counts as gone.
    assert!(
        store
            .parked_reports("seven", "77", t0() + Duration::seconds(1))
            .await
            .expect("parked")
            .is_empty()
    );
}

pub async fn a_practices_daily_count_takes_a_batch_whole_or_not_at_all(store: &dyn Store) {
    let a = OrgId::new(t0());
    let b = OrgId::new(t0() + Duration::seconds(1));
    let day = t0().date_naive();
    assert!(store.count_daily(a, day, 6, 10).await.expect("count"));
    assert!(store.count_daily(a, day, 4, 10).await.expect("count"));
    // Full: one more does not fit, and a refused batch counts nothing.
    assert!(!store.count_daily(a, day, 1, 10).await.expect("count"));
    assert!(!store.count_daily(a, day, 1, 10).await.expect("count"));
    // A raised cap lets exactly the difference through.
    assert!(!store.count_daily(a, day, 3, 12).await.expect("count"));
    assert!(store.count_daily(a, day, 2, 12).await.expect("count"));
    // Another day, another practice: counted on their own.
    assert!(
        store
            .count_daily(a, day.succ_opt().expect("day"), 10, 10)
            .await
            .expect("count")
    );
    assert!(store.count_daily(b, day, 10, 10).await.expect("count"));
    // A batch larger than the cap never fits.
    assert!(
        !store
            .count_daily(b, day.succ_opt().expect("day"), 11, 10)
            .await
            .expect("count")
    );
}

pub async fn a_practices_requests_are_counted_per_minute_up_to_the_limit(store: &dyn Store) {
    let a = OrgId::new(t0() + Duration::seconds(2));
    let b = OrgId::new(t0() + Duration::seconds(3));
    // Ten concurrent requests against a limit of 7: exactly 7 counted, whatever the order.
    let at = t0() + Duration::seconds(5);
    let answers =
        futures_util::future::join_all((0..10).map(|_| store.count_request(a, at, 7))).await;
    let counted = answers
        .into_iter()
        .map(|r| r.expect("count"))
        .filter(|ok| *ok)
        .count();
    assert_eq!(counted, 7);
    // Later in the same minute: still full. Another practice: its own count.
    assert!(
        !store
            .count_request(a, at + Duration::seconds(50), 7)
            .await
            .expect("count")
    );
    assert!(store.count_request(b, at, 7).await.expect("count"));
    // The next minute starts afresh; a raised limit lets the difference through at once.
    let next = at + Duration::seconds(60);
    assert!(store.count_request(a, next, 1).await.expect("count"));
    assert!(!store.count_request(a, next, 1).await.expect("count"));
    assert!(store.count_request(a, next, 2).await.expect("count"));
}

pub async fn purge_deletes_what_is_past_retention(store: &dyn Store) {
    let o = org("Praxis Purge");
    let old = message(o.id, t0() - Duration::days(61), "5678");
    let recent = message(o.id, t0() - Duration::days(59), "5678");
    store
        .insert_messages(&[old.clone(), recent.clone()])
        .await
        .expect("insert");
    let n = store
        .purge_before(t0() - Duration::days(60))
        .await
        .expect("purge");
    assert!(n >= 1);
    assert_eq!(store.get_message(old.id).await.expect("get"), None);
    assert!(store.get_message(recent.id).await.expect("get").is_some());
}

pub async fn a_practice_is_found_by_its_reply_number_which_no_other_may_have(store: &dyn Store) {
    let mut a = org("Praxis Antwort");
    a.reply_number = Some(number("+4915112340000"));
    store.create_org(&a).await.expect("create");
    store
        .create_org(&org("Praxis ohne Nummer"))
        .await
        .expect("create without reply number");
    assert_eq!(
        store
            .find_org_by_reply_number(&number("+4915112340000"))
            .await
            .expect("find"),
        Some(a.clone())
    );
    assert_eq!(
        store
            .find_org_by_reply_number(&number("+4915112349999"))
            .await
            .expect("find"),
        None
    );
    let mut b = org("Praxis Gleiche Nummer");
    b.reply_number = a.reply_number.clone();
    assert!(matches!(
        store.create_org(&b).await,
        Err(PortError::Conflict(_))
    ));
    assert_eq!(store.get_org(b.id).await.expect("get"), None);
    assert_eq!(
        store
            .find_org_by_reply_number(&number("+4915112340000"))
            .await
            .expect("find"),
        Some(a)
    );
}

pub async fn a_reply_is_stored_once_per_carrier_message(store: &dyn Store) {
    let o = org("Praxis Replies");
    let r = reply(o.id, t0(), "in-1");
    assert!(store.insert_reply(&r).await.expect("insert"));
    // The carrier resends its webhook: we make a new reply of it, with a new id.
    let resent = Reply {
        id: ReplyId::new(t0() + Duration::seconds(30)),
        received_at: t0() + Duration::seconds(30),
        ..r.clone()
    };
    assert!(!store.insert_reply(&resent).await.expect("insert again"));
    // The same id at another carrier is another SMS.
    let elsewhere = Reply {
        id: ReplyId::new(t0() + Duration::seconds(40)),
        carrier: "seven".into(),
        ..r.clone()
    };
    assert!(store.insert_reply(&elsewhere).await.expect("insert"));
    let stored = all_replies(store, o.id, reply_query(t0() - Duration::days(1), 10)).await;
    assert_eq!(stored, vec![elsewhere, r]);
}

pub async fn replies_are_listed_newest_first_paginated_per_practice(store: &dyn Store) {
    let a = org("Praxis A");
    let b = org("Praxis B");
    let mut expected = Vec::new();
    for i in 0..7 {
        let r = reply(a.id, t0() + Duration::minutes(i), &format!("a-{i}"));
        store.insert_reply(&r).await.expect("insert");
        expected.push(r);
    }
    store
        .insert_reply(&reply(b.id, t0(), "b-1"))
        .await
        .expect("insert");
    expected.reverse();
    let seen = all_replies(store, a.id, reply_query(t0() - Duration::days(1), 3)).await;
    assert_eq!(seen, expected);
    // The window: since and until are inclusive bounds on the time received.
    let mut q = reply_query(t0() + Duration::minutes(2), 100);
    q.until = Some(t0() + Duration::minutes(4));
    let page = store.list_replies(a.id, &q).await.expect("list");
    assert_eq!(page.items, expected[2..5].to_vec());
    assert_eq!(page.next, None);
    let other = all_replies(store, b.id, reply_query(t0() - Duration::days(1), 100)).await;
    assert_eq!(other.len(), 1);
}

pub async fn replies_past_retention_are_not_listed_and_are_purged(store: &dyn Store) {
    let o = org("Praxis Alt");
    let old = reply(o.id, t0() - Duration::days(61), "old");
    let recent = reply(o.id, t0() - Duration::days(59), "recent");
    store.insert_reply(&old).await.expect("insert");
    store.insert_reply(&recent).await.expect("insert");
    let cutoff = t0() - Duration::days(60);
    // Reads go by the window even while the old reply is still stored.
    let listed = all_replies(store, o.id, reply_query(cutoff, 100)).await;
    assert_eq!(listed, vec![recent.clone()]);
    assert!(store.purge_before(cutoff).await.expect("purge") >= 1);
    let everything = all_replies(store, o.id, reply_query(cutoff - Duration::days(30), 100)).await;
    assert_eq!(everything, vec![recent]);
}

pub async fn latest_sent_to_is_the_newest_message_handed_to_a_carrier(store: &dyn Store) {
    let o = org("Praxis Letzte");
    let other = org("Praxis Andere");
    let patient = number("+491761235678");
    let since = t0() - Duration::days(1);
    assert_eq!(
        store
            .latest_sent_to(o.id, &patient, since)
            .await
            .expect("none yet"),
        None
    );
    let older = message(o.id, t0(), "5678");
    let newer = message(o.id, t0() + Duration::minutes(5), "5678");
    let unsent = message(o.id, t0() + Duration::minutes(9), "5678");
    let to_someone_else = message(o.id, t0() + Duration::minutes(7), "9999");
    let by_other_practice = message(other.id, t0() + Duration::minutes(8), "5678");
    store
        .insert_messages(&[
            older.clone(),
            newer.clone(),
            unsent,
            to_someone_else.clone(),
            by_other_practice.clone(),
        ])
        .await
        .expect("insert");
    // Reaching the carrier out of order: the newer message first.
    for m in [&newer, &older, &to_someone_else, &by_other_practice] {
        let sent = Transition::new(m.id, Status::Sent, t0() + Duration::minutes(10));
        assert!(store.apply(&sent).await.expect("sent"));
    }
    assert_eq!(
        store
            .latest_sent_to(o.id, &patient, since)
            .await
            .expect("latest"),
        Some(newer.id)
    );
    assert_eq!(
        store
            .latest_sent_to(other.id, &patient, since)
            .await
            .expect("latest"),
        Some(by_other_practice.id)
    );
    // Messages past the window answer nothing.
    assert_eq!(
        store
            .latest_sent_to(o.id, &patient, t0() + Duration::minutes(6))
            .await
            .expect("latest"),
        None
    );
}

pub async fn writes_to_an_unknown_message_create_nothing(store: &dyn Store) {
    let id = MessageId::new(t0());
    let later = t0() + Duration::seconds(60);
    assert!(
        store
            .claim_for_dispatch(id, t0(), later)
            .await
            .expect("claim")
            .is_none()
    );
    assert!(
        !store
            .apply(&Transition::new(id, Status::Delivered, t0()))
            .await
            .expect("apply")
    );
    store.release_claim(id).await.expect("release");
    // Nothing half-written either: a partial item would read back as corrupt, not absent.
    assert_eq!(store.get_message(id).await.expect("get"), None);
    assert!(!store.unfinished().await.expect("unfinished").contains(&id));
}

pub async fn get_messages_answers_in_request_order_across_batches(store: &dyn Store) {
    let org = OrgId::new(t0());
    // More than one DynamoDB BatchGetItem (100 keys each), a duplicate and an unknown id.
    let messages: Vec<_> = (0..130)
        .map(|i| message(org, t0() + Duration::seconds(i), "5678"))
        .collect();
    assert_eq!(store.insert_messages(&messages).await.expect("insert"), 130);
    let mut ids: Vec<MessageId> = messages.iter().rev().map(|m| m.id).collect();
    ids.push(messages[0].id);
    let unknown = MessageId::new(t0() + Duration::days(1));
    let mut asked = ids.clone();
    asked.insert(7, unknown);
    let got: Vec<MessageId> = store
        .get_messages(&asked)
        .await
        .expect("get")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(got, ids);
}

pub async fn a_carrier_reference_belongs_to_one_message_and_a_late_sent_changes_nothing(
    store: &dyn Store,
) {
    let org = OrgId::new(t0());
    let a = message(org, t0(), "5678");
    let b = message(org, t0(), "5678");
    store
        .insert_messages(&[a.clone(), b.clone()])
        .await
        .expect("insert");
    let sent = |id, r: &str| Transition::new(id, Status::Sent, t0()).with_carrier("sim", r);
    assert!(store.apply(&sent(a.id, "r-1")).await.expect("sent"));
    // The same move again (a retried dispatch) changes nothing, and the second reference is
    // not recorded.
    assert!(!store.apply(&sent(a.id, "r-2")).await.expect("late sent"));
    assert_eq!(
        store.find_by_carrier_ref("sim", "r-2").await.expect("find"),
        None
    );
    // Another message claiming a recorded reference is refused and stays as it was.
    assert!(matches!(
        store.apply(&sent(b.id, "r-1")).await,
        Err(PortError::Conflict(_))
    ));
    assert_eq!(stored(store, b.id).await.status, Status::Pending);
    assert_eq!(
        store.find_by_carrier_ref("sim", "r-1").await.expect("find"),
        Some(a.id)
    );
}

pub async fn an_api_key_stored_twice_conflicts(store: &dyn Store) {
    let key = ApiKey::generate();
    let rec = ApiKeyRecord {
        id: KeyId::new(t0()),
        org_id: OrgId::new(t0()),
        hash: key.hash(),
        hint: key.hint(),
        created_at: t0(),
        revoked_at: None,
    };
    store.put_api_key(&rec).await.expect("put");
    assert!(matches!(
        store.put_api_key(&rec).await,
        Err(PortError::Conflict(_))
    ));
}

pub async fn an_idempotency_key_past_retention_is_claimed_afresh(store: &dyn Store) {
    let old = IdempotencyRecord {
        org_id: OrgId::new(t0()),
        key: "k".into(),
        fingerprint: "f1".into(),
        created_at: t0(),
    };
    store.claim_idempotency_key(&old).await.expect("claim");
    // Not deleted yet (DynamoDB's TTL lags, the embedded purge runs daily), but 60 days on it
    // no longer counts.
    let new = IdempotencyRecord {
        fingerprint: "f2".into(),
        created_at: t0() + Duration::days(61),
        ..old.clone()
    };
    assert_eq!(
        store.claim_idempotency_key(&new).await.expect("claim"),
        IdempotencyClaim::Fresh
    );
    assert_eq!(
        store.claim_idempotency_key(&old).await.expect("claim"),
        IdempotencyClaim::Seen(new)
    );
}

pub async fn a_new_reply_waits_for_forwarding_oldest_first(store: &dyn Store) {
    let o = org("Praxis Weiterleitung");
    let older = reply(o.id, t0(), "in-1");
    let newer = reply(o.id, t0() + Duration::seconds(5), "in-2");
    store.insert_reply(&newer).await.expect("insert");
    store.insert_reply(&older).await.expect("insert");
    assert_eq!(unforwarded_ids(store).await, vec![older.id, newer.id]);
    let listed = all_replies(store, o.id, reply_query(t0() - Duration::days(1), 10)).await;
    assert!(
        listed.iter().all(|r| r.forwarded_at.is_none()),
        "{listed:?}"
    );
}

pub async fn only_one_caller_at_a_time_holds_the_right_to_forward(store: &dyn Store) {
    let o = org("Praxis Lease");
    let r = reply(o.id, t0(), "in-1");
    store.insert_reply(&r).await.expect("insert");
    let lease = t0() + Duration::seconds(60);
    assert!(store.claim_forwarding(&r, t0(), lease).await.expect("c1"));
    // A resent webhook or a sweep racing the first: refused while the lease runs.
    let soon = t0() + Duration::seconds(1);
    assert!(
        !store
            .claim_forwarding(&r, soon, soon + Duration::seconds(60))
            .await
            .expect("c2")
    );
    // The holder died: once the lease is over another may take it.
    let later = t0() + Duration::seconds(61);
    assert!(
        store
            .claim_forwarding(&r, later, later + Duration::seconds(60))
            .await
            .expect("c3")
    );
    // Given back (the mailer failed): the next try need not wait.
    store.release_forwarding(&r).await.expect("release");
    assert!(
        store
            .claim_forwarding(&r, later, later + Duration::seconds(60))
            .await
            .expect("c4")
    );
    // Still waiting for forwarding: a lease is not a forwarding.
    assert_eq!(unforwarded_ids(store).await, vec![r.id]);
}

pub async fn a_forwarded_reply_is_never_claimed_again(store: &dyn Store) {
    let o = org("Praxis Erledigt");
    let r = reply(o.id, t0(), "in-1");
    let other = reply(o.id, t0() + Duration::seconds(1), "in-2");
    store.insert_reply(&r).await.expect("insert");
    store.insert_reply(&other).await.expect("insert");
    let lease = t0() + Duration::seconds(60);
    assert!(
        store
            .claim_forwarding(&r, t0(), lease)
            .await
            .expect("claim")
    );
    let at = t0() + Duration::seconds(2);
    assert!(store.mark_forwarded(&r, at).await.expect("mark"));
    assert!(
        !store
            .mark_forwarded(&r, at + Duration::seconds(1))
            .await
            .expect("mark again")
    );
    // Not even after its lease, nor after a release.
    let much_later = t0() + Duration::hours(1);
    store.release_forwarding(&r).await.expect("release");
    assert!(
        !store
            .claim_forwarding(&r, much_later, much_later + Duration::seconds(60))
            .await
            .expect("claim")
    );
    assert_eq!(unforwarded_ids(store).await, vec![other.id]);
    let listed = all_replies(store, o.id, reply_query(t0() - Duration::days(1), 10)).await;
    let stored = listed.iter().find(|x| x.id == r.id).expect("listed");
    assert_eq!(stored.forwarded_at, Some(at));
    // A resent webhook stores nothing and brings nothing back.
    let resent = Reply {
        id: ReplyId::new(much_later),
        received_at: much_later,
        ..r.clone()
    };
    assert!(!store.insert_reply(&resent).await.expect("insert again"));
    assert_eq!(unforwarded_ids(store).await, vec![other.id]);
}

pub async fn forwarding_a_reply_that_is_not_stored_changes_nothing(store: &dyn Store) {
    let o = org("Praxis Nichts");
    let r = reply(o.id, t0(), "in-ghost");
    let lease = t0() + Duration::seconds(60);
    assert!(
        !store
            .claim_forwarding(&r, t0(), lease)
            .await
            .expect("claim")
    );
    assert!(!store.mark_forwarded(&r, t0()).await.expect("mark"));
    store.release_forwarding(&r).await.expect("release");
    assert!(unforwarded_ids(store).await.is_empty());
    assert!(
        all_replies(store, o.id, reply_query(t0() - Duration::days(1), 10))
            .await
            .is_empty()
    );
}

pub async fn parts_of_a_long_sms_are_stored_once_and_found_together(store: &dyn Store) {
    let o = org("Praxis Teile");
    let p1 = reply_part(o.id, "A7", 1, 3, t0());
    let p3 = reply_part(o.id, "A7", 3, 3, t0() + Duration::seconds(2));
    assert!(store.insert_reply_part(&p1).await.expect("insert"));
    assert!(store.insert_reply_part(&p3).await.expect("insert"));
    // Resent: still one.
    assert!(!store.insert_reply_part(&p3).await.expect("insert again"));
    // Another SMS (another reference), and the same reference to another number.
    let other = reply_part(o.id, "B1", 1, 2, t0());
    store.insert_reply_part(&other).await.expect("insert");
    let mut elsewhere = reply_part(o.id, "A7", 2, 3, t0());
    elsewhere.to = number("+4915112341111");
    elsewhere.carrier_ref = "elsewhere".into();
    store.insert_reply_part(&elsewhere).await.expect("insert");
    let mut open = store.open_reply_parts(&p1).await.expect("open");
    open.sort_by_key(|p| p.part);
    assert_eq!(open, vec![p1.clone(), p3.clone()]);
    let p2 = reply_part(o.id, "A7", 2, 3, t0() + Duration::seconds(3));
    assert!(store.insert_reply_part(&p2).await.expect("insert"));
    assert_eq!(store.open_reply_parts(&p2).await.expect("open").len(), 3);
}

pub async fn assembled_parts_are_closed_for_good(store: &dyn Store) {
    let o = org("Praxis Zusammen");
    let p1 = reply_part(o.id, "A7", 1, 2, t0());
    let p2 = reply_part(o.id, "A7", 2, 2, t0() + Duration::seconds(1));
    for p in [&p1, &p2] {
        store.insert_reply_part(p).await.expect("insert");
    }
    store
        .close_reply_parts(&[p1.clone(), p2.clone()])
        .await
        .expect("close");
    assert!(store.open_reply_parts(&p1).await.expect("open").is_empty());
    // A part resent after its SMS was assembled is still a duplicate.
    assert!(!store.insert_reply_part(&p2).await.expect("resent"));
    assert!(store.open_reply_parts(&p1).await.expect("open").is_empty());
    // Weeks on the patient's phone reuses the reference for another SMS: it starts afresh.
    let later = t0() + Duration::days(20);
    let mut again = reply_part(o.id, "A7", 1, 2, later);
    again.carrier_ref = "A7-again-1".into();
    assert!(store.insert_reply_part(&again).await.expect("insert"));
    assert_eq!(
        store.open_reply_parts(&again).await.expect("open"),
        vec![again.clone()]
    );
    assert!(
        store
            .stale_reply_parts(later - Duration::seconds(1))
            .await
            .expect("stale")
            .is_empty()
    );
}

pub async fn stale_parts_are_those_received_before_the_cutoff(store: &dyn Store) {
    let o = org("Praxis Alt Teile");
    let old = reply_part(o.id, "A7", 1, 2, t0());
    let fresh = reply_part(o.id, "C3", 1, 2, t0() + Duration::minutes(10));
    store.insert_reply_part(&old).await.expect("insert");
    store.insert_reply_part(&fresh).await.expect("insert");
    let cutoff = t0() + Duration::minutes(5);
    assert_eq!(
        store.stale_reply_parts(cutoff).await.expect("stale"),
        vec![old.clone()]
    );
    // Parts past retention go with the rest of the personal data.
    store
        .purge_before(t0() + Duration::minutes(1))
        .await
        .expect("purge");
    assert!(store.open_reply_parts(&old).await.expect("open").is_empty());
    assert_eq!(
        store.open_reply_parts(&fresh).await.expect("open"),
        vec![fresh]
    );
}

fn month(s: &str) -> Month {
    Month::parse(s).expect("month")
}

/// `org`'s invoice for `m`, issued at `at`.
fn new_invoice(org: &Org, m: &str, at: DateTime<Utc>) -> NewInvoice {
    NewInvoice::issue(org, month(m), &BillingConfig::example(), &[], at).expect("active")
}

async fn sent(store: &dyn Store, m: &Message, at: DateTime<Utc>) -> bool {
    store
        .apply(&Transition::new(m.id, Status::Sent, at))
        .await
        .expect("sent")
}

pub async fn a_message_is_counted_once_when_the_carrier_takes_it(store: &dyn Store) {
    let o = org("Praxis Nutzung");
    let other = org("Praxis Andere");
    let (a, mut b, c) = (
        message(o.id, t0(), "5678"),
        message(o.id, t0(), "5679"),
        message(o.id, t0(), "5670"),
    );
    b.segments = 2;
    let refused = message(o.id, t0(), "2222");
    let elsewhere = message(other.id, t0(), "5678");
    store
        .insert_messages(&[
            a.clone(),
            b.clone(),
            c.clone(),
            refused.clone(),
            elsewhere.clone(),
        ])
        .await
        .expect("insert");
    let next_day = t0() + Duration::days(1);
    assert!(sent(store, &a, t0()).await);
    assert!(sent(store, &b, t0()).await);
    assert!(sent(store, &c, next_day).await);
    assert!(sent(store, &elsewhere, t0()).await);
    // A duplicate job, a late report: the move is refused and nothing is counted again.
    assert!(!sent(store, &a, t0()).await);
    assert!(!sent(store, &b, next_day).await);
    store
        .apply(&Transition::new(c.id, Status::Delivered, next_day))
        .await
        .expect("delivered");
    // Refused at submission: never `sent`, never billed.
    store
        .apply(
            &Transition::new(refused.id, Status::Undelivered, t0()).with_reason(Reason::Rejected),
        )
        .await
        .expect("undelivered");
    let day = |at: DateTime<Utc>, parts, messages| DailyUsage {
        day: at.date_naive(),
        parts,
        messages,
    };
    let mut used = store.usage(o.id, month("2026-11")).await.expect("usage");
    used.sort_by_key(|u| u.day);
    assert_eq!(used, [day(t0(), 3, 2), day(next_day, 1, 1)]);
    assert_eq!(
        store
            .usage(other.id, month("2026-11"))
            .await
            .expect("usage"),
        [day(t0(), 1, 1)]
    );
    assert_eq!(
        store.usage(o.id, month("2026-12")).await.expect("usage"),
        []
    );
    // Usage outlives the messages it counts.
    store
        .purge_before(t0() + Duration::days(400))
        .await
        .expect("purge");
    assert_eq!(store.get_message(a.id).await.expect("get"), None);
    assert_eq!(
        store
            .usage(o.id, month("2026-11"))
            .await
            .expect("usage")
            .len(),
        2
    );
}

pub async fn invoices_are_numbered_in_order_once_per_practice_and_month(store: &dyn Store) {
    let (a, b) = (org("Praxis A"), org("Praxis B"));
    let at = t0() + Duration::days(30);
    let first = store
        .create_invoice(&new_invoice(&a, "2026-11", at))
        .await
        .expect("create");
    let second = store
        .create_invoice(&new_invoice(&b, "2026-11", at))
        .await
        .expect("create");
    let (InvoiceCreated::New(first), InvoiceCreated::New(second)) = (first, second) else {
        panic!("both invoices are new");
    };
    let base = first.number.seq();
    assert_eq!(first.number.year(), 2026);
    assert_eq!(second.number, InvoiceNumber::new(2026, base + 1));
    // A re-run: the stored invoice, unchanged, and no number used.
    let again = store
        .create_invoice(&new_invoice(&a, "2026-11", at + Duration::hours(1)))
        .await
        .expect("create");
    assert_eq!(again, InvoiceCreated::Existing(first.clone()));
    let december = store
        .create_invoice(&new_invoice(&a, "2026-12", at + Duration::days(31)))
        .await
        .expect("create");
    assert!(matches!(december, InvoiceCreated::New(_)));
    // Issued in 2027: that year's numbers.
    assert_eq!(december.invoice().number.year(), 2027);
    let listed: Vec<_> = store
        .list_invoices(a.id)
        .await
        .expect("list")
        .into_iter()
        .map(|i| (i.month, i.number))
        .collect();
    assert_eq!(
        listed,
        [
            (month("2026-12"), december.invoice().number),
            (month("2026-11"), first.number)
        ]
    );
    assert_eq!(
        store.get_invoice(first.id).await.expect("get"),
        Some(first.clone())
    );
    assert!(
        store
            .mark_invoice_delivered(first.id, at)
            .await
            .expect("mark")
    );
    assert!(
        !store
            .mark_invoice_delivered(first.id, at)
            .await
            .expect("mark")
    );
    let stored = store
        .get_invoice(first.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.delivered_at, Some(at));
    assert_eq!(stored.doc, first.doc);
}

pub async fn concurrent_invoice_runs_store_each_invoice_once_without_gaps(store: &dyn Store) {
    let orgs: Vec<Org> = (0..6).map(|i| org(&format!("Praxis {i}"))).collect();
    let at = t0() + Duration::days(30);
    let before = store
        .create_invoice(&new_invoice(&org("Praxis Vorher"), "2026-11", at))
        .await
        .expect("create")
        .invoice()
        .number
        .seq();
    let drafts: Vec<NewInvoice> = orgs
        .iter()
        .chain(orgs.iter())
        .map(|o| new_invoice(o, "2026-11", at))
        .collect();
    let runs = drafts.iter().map(|d| store.create_invoice(d));
    let results = futures_util::future::join_all(runs).await;
    let mut numbers: Vec<u64> = results
        .iter()
        .filter_map(|r| match r {
            Ok(InvoiceCreated::New(i)) => Some(i.number.seq()),
            Ok(InvoiceCreated::Existing(_)) => None,
            Err(e) => panic!("create failed: {e}"),
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (before + 1..=before + 6).collect::<Vec<_>>());
    for o in &orgs {
        assert_eq!(store.list_invoices(o.id).await.expect("list").len(), 1);
    }
}

pub async fn writes_to_an_unknown_invoice_change_nothing(store: &dyn Store) {
    let id = praxis_shared::domain::InvoiceId::new(t0());
    assert_eq!(store.get_invoice(id).await.expect("get"), None);
    assert!(!store.mark_invoice_delivered(id, t0()).await.expect("mark"));
    assert_eq!(store.get_invoice(id).await.expect("get"), None);
}

/// The `i`th of a run of German mobile numbers.
fn patient(i: usize) -> PhoneNumber {
    number(&format!("+49176100{i:05}"))
}

async fn all_opt_outs(store: &dyn Store, org: OrgId, limit: usize) -> Vec<OptOut> {
    let mut q = OptOutQuery { after: None, limit };
    let mut seen = Vec::new();
    loop {
        let page = store.list_opt_outs(org, &q).await.expect("list opt-outs");
        assert!(page.items.len() <= limit);
        seen.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => return seen,
        }
    }
}

async fn opted_out(store: &dyn Store, org: OrgId, numbers: &[PhoneNumber]) -> Vec<PhoneNumber> {
    let mut got = store.opted_out(org, numbers).await.expect("opted out");
    got.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    got
}

pub async fn a_number_opts_out_once_and_is_lifted_once(store: &dyn Store) {
    let o = org("Praxis Stop");
    let (n, other) = (patient(1), patient(2));
    let first = OptOut::new(o.id, n.clone(), t0(), Source::Keyword);
    assert!(store.record_opt_out(&first).await.expect("opt out"));
    // The patient writes STOP again (or the carrier resends it): the first opt-out stands.
    let again = OptOut::new(o.id, n.clone(), t0() + Duration::hours(1), Source::Keyword);
    assert!(!store.record_opt_out(&again).await.expect("again"));
    assert_eq!(all_opt_outs(store, o.id, 10).await, vec![first.clone()]);
    assert_eq!(
        opted_out(store, o.id, &[other.clone(), n.clone()]).await,
        vec![n.clone()]
    );

    assert!(store.lift_opt_out(o.id, &n).await.expect("lift"));
    assert!(!store.lift_opt_out(o.id, &n).await.expect("lift again"));
    assert!(!store.lift_opt_out(o.id, &other).await.expect("never out"));
    assert!(
        opted_out(store, o.id, std::slice::from_ref(&n))
            .await
            .is_empty()
    );
    assert!(all_opt_outs(store, o.id, 10).await.is_empty());

    // Out again later: a new opt-out with its own time.
    let later = OptOut::new(o.id, n.clone(), t0() + Duration::days(2), Source::Practice);
    assert!(store.record_opt_out(&later).await.expect("out again"));
    assert_eq!(all_opt_outs(store, o.id, 10).await, vec![later]);
}

pub async fn an_opt_out_is_for_one_practice_only(store: &dyn Store) {
    let (a, b) = (org("Praxis A"), org("Praxis B"));
    let n = patient(3);
    assert!(
        store
            .record_opt_out(&OptOut::new(a.id, n.clone(), t0(), Source::Keyword))
            .await
            .expect("opt out")
    );
    assert!(
        opted_out(store, b.id, std::slice::from_ref(&n))
            .await
            .is_empty()
    );
    assert!(all_opt_outs(store, b.id, 10).await.is_empty());
    // Another practice cannot lift it.
    assert!(!store.lift_opt_out(b.id, &n).await.expect("lift"));
    assert_eq!(
        opted_out(store, a.id, std::slice::from_ref(&n)).await,
        vec![n.clone()]
    );
    // Opting out of the second practice is a second opt-out, not a repeat of the first.
    assert!(
        store
            .record_opt_out(&OptOut::new(b.id, n.clone(), t0(), Source::Keyword))
            .await
            .expect("opt out of b")
    );
    assert_eq!(opted_out(store, b.id, &[n]).await.len(), 1);
}

pub async fn opt_outs_are_listed_newest_first_paginated(store: &dyn Store) {
    let (a, b) = (org("Praxis A"), org("Praxis B"));
    let mut expected = Vec::new();
    for i in 0..7 {
        let o = OptOut::new(
            a.id,
            patient(10 + i),
            t0() + Duration::minutes(i as i64),
            Source::Keyword,
        );
        assert!(store.record_opt_out(&o).await.expect("opt out"));
        expected.push(o);
    }
    store
        .record_opt_out(&OptOut::new(b.id, patient(10), t0(), Source::Keyword))
        .await
        .expect("opt out of b");
    expected.reverse();
    assert_eq!(all_opt_outs(store, a.id, 3).await, expected);
    assert_eq!(all_opt_outs(store, a.id, 7).await, expected);
    assert_eq!(all_opt_outs(store, b.id, 100).await.len(), 1);
}

pub async fn opted_out_picks_the_opted_out_numbers_of_a_whole_batch(store: &dyn Store) {
    let o = org("Praxis Batch");
    let other = org("Praxis Andere");
    // More numbers than DynamoDB reads by key at once, some given twice.
    let numbers: Vec<PhoneNumber> = (0..1000).map(|i| patient(100 + i % 400)).collect();
    let mut expected = Vec::new();
    for i in (0..400).step_by(9) {
        let n = patient(100 + i);
        let opt = OptOut::new(o.id, n.clone(), t0(), Source::Keyword);
        assert!(store.record_opt_out(&opt).await.expect("opt out"));
        expected.push(n);
    }
    // Opted out, but not asked about; and opted out of another practice only.
    store
        .record_opt_out(&OptOut::new(o.id, patient(9999), t0(), Source::Keyword))
        .await
        .expect("opt out");
    store
        .record_opt_out(&OptOut::new(other.id, patient(101), t0(), Source::Keyword))
        .await
        .expect("opt out of the other practice");
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(opted_out(store, o.id, &numbers).await, expected);
    // A few numbers at once, and one.
    assert_eq!(
        opted_out(store, o.id, &[patient(100), patient(101), patient(109)]).await,
        vec![patient(100), patient(109)]
    );
    assert_eq!(
        opted_out(store, o.id, &[patient(101)]).await,
        Vec::<PhoneNumber>::new()
    );
    assert!(opted_out(store, o.id, &[]).await.is_empty());
}

pub async fn opt_outs_do_not_expire_with_the_60_day_data(store: &dyn Store) {
    let o = org("Praxis Dauerhaft");
    let long_ago = t0() - Duration::days(400);
    let opt = OptOut::new(o.id, patient(5), long_ago, Source::Keyword);
    assert!(store.record_opt_out(&opt).await.expect("opt out"));
    store
        .purge_before(t0() - Duration::days(60))
        .await
        .expect("purge");
    assert_eq!(all_opt_outs(store, o.id, 10).await, vec![opt]);
    assert_eq!(
        opted_out(store, o.id, &[patient(5)]).await,
        vec![patient(5)]
    );
}

pub async fn updating_a_practice_changes_only_what_is_given(store: &dyn Store) {
    let mut o = org("Praxis Alt");
    o.reply_number = Some(number("+4915112340001"));
    store.create_org(&o).await.expect("create");
    let changes = OrgChanges {
        name: Some(OrgName::parse("Praxis Neu").expect("name")),
        reply_email: Some(EmailAddress::parse("antworten@example.de").expect("email")),
        region: Some(Region::parse("AT").expect("AT")),
        daily_cap: Some(500),
        address: Some(PostalAddress::parse("Ringstraße 1, 1010 Wien").expect("address")),
        ..OrgChanges::default()
    };
    let updated = store
        .update_org(o.id, &changes)
        .await
        .expect("update")
        .expect("the practice exists");
    let mut expected = o.clone();
    expected.name = OrgName::parse("Praxis Neu").expect("name");
    expected.reply_email = Some(EmailAddress::parse("antworten@example.de").expect("email"));
    expected.region = Region::parse("AT").expect("AT");
    expected.daily_cap = Some(500);
    expected.address = Some(PostalAddress::parse("Ringstraße 1, 1010 Wien").expect("address"));
    assert_eq!(updated, expected);
    assert_eq!(
        store.get_org(o.id).await.expect("get"),
        Some(expected.clone())
    );
    assert_eq!(updated.reply_address().as_str(), "antworten@example.de");
    // The reply number was not touched, so it still leads to the practice.
    assert_eq!(
        store
            .find_org_by_reply_number(&number("+4915112340001"))
            .await
            .expect("find"),
        Some(expected.clone())
    );
    let sender = OrgChanges {
        email: Some(EmailAddress::parse("neu@example.de").expect("email")),
        default_sender: Some(SenderId::parse("PraxisNeu").expect("sender")),
        ..OrgChanges::default()
    };
    let updated = store
        .update_org(o.id, &sender)
        .await
        .expect("update")
        .expect("exists");
    assert_eq!(updated.email.as_str(), "neu@example.de");
    assert_eq!(
        updated.default_sender.as_ref().map(|s| s.as_str()),
        Some("PraxisNeu")
    );
    assert_eq!(updated.name, expected.name);
    assert_eq!(
        store
            .update_org(OrgId::new(t0()), &changes)
            .await
            .expect("update of nobody"),
        None
    );
    assert_eq!(store.get_org(o.id).await.expect("get"), Some(updated));
}

pub async fn a_reply_number_moves_between_practices_and_stays_unique(store: &dyn Store) {
    let (r1, r2, r3) = (
        number("+4915112340011"),
        number("+4915112340022"),
        number("+4915112340033"),
    );
    let mut a = org("Praxis A");
    a.reply_number = Some(r1.clone());
    let mut b = org("Praxis B");
    b.reply_number = Some(r2.clone());
    store.create_org(&a).await.expect("create a");
    store.create_org(&b).await.expect("create b");
    let to = |n: Option<&PhoneNumber>| OrgChanges {
        reply_number: Some(n.cloned()),
        name: Some(OrgName::parse("Umbenannt").expect("name")),
        ..OrgChanges::default()
    };
    let found = |n: PhoneNumber| async move {
        store
            .find_org_by_reply_number(&n)
            .await
            .expect("find")
            .map(|o| o.id)
    };

    // A's number is taken: B stays as it was, its own number still leads to it.
    assert!(matches!(
        store.update_org(b.id, &to(Some(&r1))).await,
        Err(PortError::Conflict(_))
    ));
    assert_eq!(store.get_org(b.id).await.expect("get"), Some(b.clone()));
    assert_eq!(found(r1.clone()).await, Some(a.id));
    assert_eq!(found(r2.clone()).await, Some(b.id));

    // A moves to a new number: the old one is free, the new one leads to A.
    let moved = store
        .update_org(a.id, &to(Some(&r3)))
        .await
        .expect("move")
        .expect("exists");
    assert_eq!(moved.reply_number, Some(r3.clone()));
    assert_eq!(found(r1.clone()).await, None);
    assert_eq!(found(r3.clone()).await, Some(a.id));
    // Now B may take A's old number, and gives up its own.
    store
        .update_org(b.id, &to(Some(&r1)))
        .await
        .expect("take the freed number")
        .expect("exists");
    assert_eq!(found(r1.clone()).await, Some(b.id));
    assert_eq!(found(r2.clone()).await, None);
    // Setting the number a practice has already changes nothing about it.
    store
        .update_org(b.id, &to(Some(&r1)))
        .await
        .expect("same number")
        .expect("exists");
    assert_eq!(found(r1.clone()).await, Some(b.id));
    // A gives its number up: nothing leads to it any more, and anyone may take it.
    let removed = store
        .update_org(a.id, &to(None))
        .await
        .expect("remove")
        .expect("exists");
    assert_eq!(removed.reply_number, None);
    assert_eq!(found(r3.clone()).await, None);
    let mut c = org("Praxis C");
    c.reply_number = Some(r3.clone());
    store
        .create_org(&c)
        .await
        .expect("create c with the freed number");
    assert_eq!(found(r3).await, Some(c.id));
}

/// Instantiates every conformance test for one backend. `$make` is an async expression that
/// yields a fresh store (boxed as `Box<dyn Store>`), evaluated inside each test.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@tests $make;
            creating_a_practice_twice_conflicts,
            api_keys_are_found_by_hash_and_revoked_once,
            idempotency_key_is_claimed_once,
            inserting_a_message_twice_changes_nothing,
            status_moves_only_forward,
            history_times_never_go_backwards,
            undelivered_keeps_its_reason,
            a_claimed_message_is_not_claimed_again_until_its_lease_ends,
            listing_is_newest_first_paginated_and_per_practice,
            overdue_messages_expire_after_72_hours,
            unfinished_lists_what_the_dispatcher_still_owes,
            stranded_are_old_open_messages_that_nobody_holds,
            an_early_report_is_kept_once_for_its_carrier_reference,
            a_practices_daily_count_takes_a_batch_whole_or_not_at_all,
            a_practices_requests_are_counted_per_minute_up_to_the_limit,
            purge_deletes_what_is_past_retention,
            a_practice_is_found_by_its_reply_number_which_no_other_may_have,
            a_reply_is_stored_once_per_carrier_message,
            replies_are_listed_newest_first_paginated_per_practice,
            replies_past_retention_are_not_listed_and_are_purged,
            latest_sent_to_is_the_newest_message_handed_to_a_carrier,
            writes_to_an_unknown_message_create_nothing,
            get_messages_answers_in_request_order_across_batches,
            a_carrier_reference_belongs_to_one_message_and_a_late_sent_changes_nothing,
            an_api_key_stored_twice_conflicts,
            an_idempotency_key_past_retention_is_claimed_afresh,
            a_new_reply_waits_for_forwarding_oldest_first,
            only_one_caller_at_a_time_holds_the_right_to_forward,
            a_forwarded_reply_is_never_claimed_again,
            forwarding_a_reply_that_is_not_stored_changes_nothing,
            parts_of_a_long_sms_are_stored_once_and_found_together,
            assembled_parts_are_closed_for_good,
            stale_parts_are_those_received_before_the_cutoff,
            a_message_is_counted_once_when_the_carrier_takes_it,
            invoices_are_numbered_in_order_once_per_practice_and_month,
            concurrent_invoice_runs_store_each_invoice_once_without_gaps,
            writes_to_an_unknown_invoice_change_nothing,
            a_number_opts_out_once_and_is_lifted_once,
            an_opt_out_is_for_one_practice_only,
            opt_outs_are_listed_newest_first_paginated,
            opted_out_picks_the_opted_out_numbers_of_a_whole_batch,
            opt_outs_do_not_expire_with_the_60_day_data,
            updating_a_practice_changes_only_what_is_given,
            a_reply_number_moves_between_practices_and_stays_unique,
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let store = $make;
                conformance::$name(store.as_ref()).await;
            }
        )*
    };
}
