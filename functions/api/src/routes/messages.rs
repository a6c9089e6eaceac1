//! `POST /v1/messages` (one or a batch, idempotent with `Idempotency-Key`),
//! `GET /v1/messages/{id}` and `GET /v1/messages` (the last 60 days, newest first).

use std::collections::{HashMap, HashSet};

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};
use praxis_shared::domain::message::Message;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::{MessageId, Status, local_time};
use praxis_shared::metrics::{self, Count};
use praxis_shared::ports::{IdempotencyClaim, IdempotencyRecord, ListQuery};
use praxis_shared::services::Services;
use praxis_shared::web::{self, ErrorBody};
use sha2::{Digest, Sha256};

use crate::auth::Practice;
use crate::error::ApiError;
use crate::request::{self, JsonBody, ListParams, NewMessage};
use crate::views::{Batch, Item, MessagePage, MessageView};

fn new_record(org: &Org, id: MessageId, m: NewMessage, at: DateTime<Utc>) -> Message {
    Message::accepted(id, org.id, m.to, m.sender, m.text, m.reference, at)
}

/// With an `Idempotency-Key`, message ids derive from the key, so a retry rewrites the same
/// messages (a no-op) and re-enqueues the ones still pending: a request that failed half-way is
/// completed by its retry, and nothing is ever sent twice.
///
/// A message to a number that opted out of the practice's SMS is refused and not stored. A
/// retry answers a message its first request stored as it is now, even if its number has
/// opted out since (the dispatcher does not send it then); only the rest are checked again.
pub async fn send(
    State(svc): State<Services>,
    Practice(org): Practice,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let idem = request::idempotency_key(&headers)?;
    let mut checked = request::check_send(&org, &body, svc.settings.max_batch)?;
    let single = checked.single;

    let now = svc.clock.now();
    let (created_at, replay) = match &idem {
        None => (now, false),
        Some(key) => {
            let record = IdempotencyRecord {
                org_id: org.id,
                key: key.clone(),
                fingerprint: hex::encode(Sha256::digest(&body)),
                created_at: now,
            };
            match svc.store.claim_idempotency_key(&record).await? {
                IdempotencyClaim::Fresh => (now, false),
                IdempotencyClaim::Seen(first) if first.fingerprint == record.fingerprint => {
                    (first.created_at, true)
                }
                IdempotencyClaim::Seen(_) => return Err(ApiError::IdempotencyKeyReused),
            }
        }
    };
    let ids: Vec<MessageId> = (0..checked.items.len())
        .map(|i| match &idem {
            Some(key) => MessageId::derived(org.id, key, i, created_at),
            None => MessageId::new(created_at),
        })
        .collect();

    let stored_before: HashSet<MessageId> = if replay {
        let asked: Vec<MessageId> = ids
            .iter()
            .zip(&checked.items)
            .filter(|(_, item)| item.is_ok())
            .map(|(id, _)| *id)
            .collect();
        let found = svc.store.get_messages(&asked).await?;
        found.iter().map(|m| m.id).collect()
    } else {
        HashSet::new()
    };
    let fresh = |i: usize| !stored_before.contains(&ids[i]);
    let opted_out = request::opted_out(&svc, &org, &checked.recipients(fresh)).await?;
    checked.refuse_opted_out(&opted_out, fresh)?;

    let mut slots: Vec<Result<MessageId, ApiError>> = Vec::with_capacity(ids.len());
    let mut records = Vec::new();
    for (id, item) in ids.into_iter().zip(checked.items) {
        match item {
            Ok(m) => {
                records.push(new_record(&org, id, m, created_at));
                slots.push(Ok(id));
            }
            Err(e) => slots.push(Err(e)),
        }
    }

    // The daily cap, before anything is stored: the whole batch fits in today's count or the
    // request is refused. What a replay stored the first time was counted then.
    let new_today = records
        .iter()
        .filter(|m| !stored_before.contains(&m.id))
        .count();
    if new_today > 0 {
        let cap = org.daily_cap.unwrap_or(svc.settings.daily_cap);
        let day = local_time::local_day(org.region, now);
        let n = u32::try_from(new_today).unwrap_or(u32::MAX);
        if !svc.store.count_daily(org.id, day, n, cap).await? {
            let retry_after = (local_time::next_local_midnight(org.region, now) - now)
                .num_seconds()
                .max(1) as u64;
            tracing::warn!(practice = %org.id, cap, asked = new_today, "daily cap reached");
            return Err(ApiError::DailyLimitReached { cap, retry_after });
        }
    }

    let accepted: Vec<Message> = if records.is_empty() {
        vec![]
    } else if replay {
        let new = svc.store.insert_messages(&records).await?;
        metrics::emit(Count::Accepted, new as u64, None);
        let ids: Vec<MessageId> = records.iter().map(|m| m.id).collect();
        svc.store.get_messages(&ids).await?
    } else {
        let new = svc.store.insert_messages(&records).await?;
        metrics::emit(Count::Accepted, new as u64, None);
        records
    };
    let pending: Vec<MessageId> = accepted
        .iter()
        .filter(|m| m.status == Status::Pending)
        .map(|m| m.id)
        .collect();
    if !pending.is_empty() {
        svc.queue.enqueue(&pending).await?;
    }
    tracing::info!(
        practice = %org.id,
        accepted = accepted.len(),
        rejected = slots.iter().filter(|s| s.is_err()).count(),
        opted_out = opted_out.len(),
        replay,
        "messages accepted"
    );

    let seen: Vec<Message> = accepted.into_iter().map(|m| m.as_seen_at(now)).collect();
    let by_id: HashMap<MessageId, &Message> = seen.iter().map(|m| (m.id, m)).collect();
    let out: Vec<Item<MessageView>> = slots
        .into_iter()
        .map(|slot| match slot {
            Ok(id) => match by_id.get(&id) {
                Some(m) => Item::Ok(MessageView::from(*m)),
                None => Item::Failed(ApiError::NotFound("message").body()),
            },
            Err(e) => Item::Failed(e.body()),
        })
        .collect();
    if single {
        return Ok(match out.into_iter().next() {
            Some(Item::Ok(m)) => web::json(StatusCode::ACCEPTED, &m),
            Some(Item::Failed(f)) => web::json(StatusCode::ACCEPTED, &f),
            None => return Err(ApiError::NotFound("message")),
        });
    }
    let any_ok = out.iter().any(|i| matches!(i, Item::Ok(_)));
    let (status, error) = if any_ok {
        (StatusCode::ACCEPTED, None)
    } else {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(ErrorBody {
                code: "all_messages_rejected",
                message: "no message of the batch was accepted; see each item's error".into(),
                field: Some("messages".into()),
            }),
        )
    };
    Ok(web::json(
        status,
        &Batch {
            messages: out,
            error,
        },
    ))
}

pub async fn get_one(
    State(svc): State<Services>,
    Practice(org): Practice,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    // An id that is not even text (bad percent-encoding) names no message either.
    let id = id
        .ok()
        .and_then(|Path(id)| MessageId::parse(&id).ok())
        .ok_or(ApiError::NotFound("message"))?;
    let now = svc.clock.now();
    let m = svc
        .store
        .get_message(id)
        .await?
        .filter(|m| m.org_id == org.id && m.is_visible_at(now))
        .ok_or(ApiError::NotFound("message"))?
        .as_seen_at(now);
    Ok(web::json(StatusCode::OK, &MessageView::from(&m)))
}

pub async fn list(
    State(svc): State<Services>,
    Practice(org): Practice,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let now = svc.clock.now();
    let params: ListParams = request::query(q.as_deref())?;
    let w = params.window(now, |c| MessageId::parse(c).ok())?;
    let q = ListQuery {
        status: params.status()?,
        since: w.since,
        until: w.until,
        after: w.after,
        limit: w.limit,
    };
    let page = svc.store.list_messages(org.id, &q).await?;
    let seen: Vec<Message> = page.items.into_iter().map(|m| m.as_seen_at(now)).collect();
    Ok(web::json(
        StatusCode::OK,
        &MessagePage {
            messages: seen.iter().map(MessageView::from).collect(),
            next_cursor: page.next.map(|c| c.to_string()),
        },
    ))
}
