//! The Dentport-facing HTTP API (`/v1`): key check, sending, preview, status and listing.
//! The same `handle` runs behind API Gateway (Lambda) and inside `praxis-sms serve`.

pub mod error;
pub mod request;
pub mod views;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use praxis_shared::domain::apikey::ApiKey;
use praxis_shared::domain::message::{Message, retention_cutoff};
use praxis_shared::domain::org::Org;
use praxis_shared::domain::{MessageId, ReplyId, Status};
use praxis_shared::ports::{IdempotencyClaim, IdempotencyRecord, ListQuery, ReplyQuery};
use praxis_shared::services::Services;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::request::{NewMessage, SendBody};

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 500;

pub fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    let mut res = Response::new(Body::Text(v.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    res
}

/// Handles one API request. Never fails: every error becomes its JSON response.
pub async fn handle(svc: &Services, req: Request) -> Response<Body> {
    match route(svc, &req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

/// API Gateway may put a stage name in front of the path; everything we serve is under `/v1`.
fn api_path(path: &str) -> &str {
    match path.find("/v1/") {
        Some(i) => &path[i..],
        None if path.ends_with("/v1") => "/v1",
        None => path,
    }
}

async fn route(svc: &Services, req: &Request) -> Result<Response<Body>, ApiError> {
    let path = api_path(req.uri().path()).trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let method = req.method();
    let Some(("v1", rest)) = segments.split_first().map(|(a, b)| (*a, b)) else {
        return Err(ApiError::NotFound("route"));
    };
    // Authenticate before looking at anything else, so an unauthenticated caller learns
    // nothing about which routes or ids exist.
    let org = authenticate(svc, req).await?;
    match (method, rest) {
        (&Method::GET, ["key-check"]) => Ok(json_response(StatusCode::OK, &views::key_check(&org))),
        (&Method::POST, ["messages"]) => send(svc, &org, req).await,
        (&Method::POST, ["messages", "preview"]) => preview(svc, &org, req),
        (&Method::GET, ["messages"]) => list(svc, &org, req).await,
        (&Method::GET, ["messages", id]) => get_one(svc, &org, id).await,
        (&Method::GET, ["replies"]) => list_replies(svc, &org, req).await,
        (
            _,
            ["key-check"] | ["messages"] | ["messages", "preview"] | ["messages", _] | ["replies"],
        ) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound("route")),
    }
}

/// Finds the practice behind `Authorization: Bearer …` or `X-Api-Key`.
async fn authenticate(svc: &Services, req: &Request) -> Result<Org, ApiError> {
    let headers = req.headers();
    let raw = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .ok_or(ApiError::Unauthorized)?;
    let key = ApiKey::parse(raw).ok_or(ApiError::Unauthorized)?;
    let hash = key.hash();
    let record = svc
        .store
        .find_api_key(&hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !record.hash.matches(&hash) || record.revoked_at.is_some() {
        return Err(ApiError::Unauthorized);
    }
    svc.store
        .get_org(record.org_id)
        .await?
        .ok_or(ApiError::Unauthorized)
}

fn body_bytes<'a>(svc: &Services, req: &'a Request) -> Result<&'a [u8], ApiError> {
    let body: &[u8] = req.body().as_ref();
    if body.len() > svc.settings.max_body_bytes {
        return Err(ApiError::TooLarge {
            limit: svc.settings.max_body_bytes,
        });
    }
    Ok(body)
}

fn preview(svc: &Services, org: &Org, req: &Request) -> Result<Response<Body>, ApiError> {
    match request::parse_body(body_bytes(svc, req)?, svc.settings.max_batch)? {
        SendBody::One(obj) => {
            let m = request::parse_message(org, &Value::Object(obj))?;
            Ok(json_response(StatusCode::OK, &views::preview(&m)))
        }
        SendBody::Batch(items) => {
            let out: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, v)| match request::parse_message(org, v) {
                    Ok(m) => views::preview(&m),
                    Err(e) => e.in_item(i).body(),
                })
                .collect();
            Ok(json_response(StatusCode::OK, &json!({ "messages": out })))
        }
    }
}

fn new_record(org: &Org, id: MessageId, m: NewMessage, at: DateTime<Utc>) -> Message {
    Message::accepted(id, org.id, m.to, m.sender, m.text, m.reference, at)
}

/// `POST /v1/messages`. With an `Idempotency-Key`, message ids derive from the key, so a retry
/// rewrites the same messages (a no-op) and re-enqueues the ones still pending: a request that
/// failed half-way is completed by its retry, and nothing is ever sent twice.
async fn send(svc: &Services, org: &Org, req: &Request) -> Result<Response<Body>, ApiError> {
    let body = body_bytes(svc, req)?;
    let idem = request::idempotency_key(req.headers())?;
    let parsed = request::parse_body(body, svc.settings.max_batch)?;
    let (single, items): (bool, Vec<Result<NewMessage, ApiError>>) = match parsed {
        SendBody::One(obj) => (true, vec![request::parse_message(org, &Value::Object(obj))]),
        SendBody::Batch(items) => (
            false,
            items
                .iter()
                .enumerate()
                .map(|(i, v)| request::parse_message(org, v).map_err(|e| e.in_item(i)))
                .collect(),
        ),
    };
    let items = if single {
        // A single message that fails is a failed request, not an item of a batch.
        match items.into_iter().next() {
            Some(Err(e)) => return Err(e),
            other => other.into_iter().collect(),
        }
    } else {
        items
    };

    let now = svc.clock.now();
    let (created_at, replay) = match &idem {
        None => (now, false),
        Some(key) => {
            let record = IdempotencyRecord {
                org_id: org.id,
                key: key.clone(),
                fingerprint: hex::encode(Sha256::digest(body)),
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

    let mut slots: Vec<Result<MessageId, ApiError>> = Vec::with_capacity(items.len());
    let mut records = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Ok(m) => {
                let id = match &idem {
                    Some(key) => MessageId::derived(org.id, key, i, created_at),
                    None => MessageId::new(created_at),
                };
                records.push(new_record(org, id, m, created_at));
                slots.push(Ok(id));
            }
            Err(e) => slots.push(Err(e)),
        }
    }

    let accepted: Vec<Message> = if records.is_empty() {
        vec![]
    } else if replay {
        svc.store.insert_messages(&records).await?;
        let ids: Vec<MessageId> = records.iter().map(|m| m.id).collect();
        svc.store.get_messages(&ids).await?
    } else {
        svc.store.insert_messages(&records).await?;
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
        replay,
        "messages accepted"
    );

    let mut by_id: std::collections::HashMap<MessageId, Message> =
        accepted.into_iter().map(|m| (m.id, m)).collect();
    let mut out = Vec::with_capacity(slots.len());
    let mut any_ok = false;
    for slot in slots {
        match slot {
            Ok(id) => match by_id.remove(&id) {
                Some(m) => {
                    any_ok = true;
                    out.push(views::message(&m.as_seen_at(now)));
                }
                None => out.push(ApiError::NotFound("message").body()),
            },
            Err(e) => out.push(e.body()),
        }
    }
    if single {
        let one = out.into_iter().next().unwrap_or(Value::Null);
        return Ok(json_response(StatusCode::ACCEPTED, &one));
    }
    let status = if any_ok {
        StatusCode::ACCEPTED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut body = json!({ "messages": out });
    if !any_ok {
        body["error"] = json!({
            "code": "all_messages_rejected",
            "message": "no message of the batch was accepted; see each item's error",
            "field": "messages",
        });
    }
    Ok(json_response(status, &body))
}

async fn get_one(svc: &Services, org: &Org, id: &str) -> Result<Response<Body>, ApiError> {
    let id = MessageId::parse(id).map_err(|_| ApiError::NotFound("message"))?;
    let now = svc.clock.now();
    let m = svc
        .store
        .get_message(id)
        .await?
        .filter(|m| m.org_id == org.id && m.is_visible_at(now))
        .ok_or(ApiError::NotFound("message"))?;
    Ok(json_response(
        StatusCode::OK,
        &views::message(&m.as_seen_at(now)),
    ))
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || {
            let h = bytes.get(i + 1..i + 3)?;
            u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
        };
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match hex() {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_time(name: &'static str, v: &str) -> Result<DateTime<Utc>, ApiError> {
    // A `+` of an unencoded offset arrives as a space after form decoding; take it back.
    DateTime::parse_from_rfc3339(v)
        .or_else(|e| match v.contains(' ') {
            true => DateTime::parse_from_rfc3339(&v.replace(' ', "+")),
            false => Err(e),
        })
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ApiError::invalid(
                "invalid_parameter",
                name,
                format!("`{name}` must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"),
            )
        })
}

/// The paging parameters every list route takes: a time window (`since`, `until`) clamped to
/// the retention cutoff, a `cursor` of the listed kind of id, and `limit`.
struct Window<Cursor> {
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    after: Option<Cursor>,
    limit: usize,
}

fn window<Cursor>(
    pairs: &[(String, String)],
    now: DateTime<Utc>,
    cursor: impl Fn(&str) -> Option<Cursor>,
) -> Result<Window<Cursor>, ApiError> {
    let cutoff = retention_cutoff(now);
    let mut w = Window {
        since: cutoff,
        until: None,
        after: None,
        limit: DEFAULT_PAGE,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "since" => w.since = parse_time("since", v)?.max(cutoff),
            "until" => w.until = Some(parse_time("until", v)?),
            "cursor" => {
                w.after = Some(cursor(v).ok_or_else(|| {
                    ApiError::invalid(
                        "invalid_parameter",
                        "cursor",
                        "`cursor` is not a cursor this API returned",
                    )
                })?)
            }
            "limit" => {
                w.limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "invalid_parameter",
                            "limit",
                            format!("`limit` must be a whole number from 1 to {MAX_PAGE}"),
                        )
                    })?
            }
            _ => {}
        }
    }
    Ok(w)
}

/// `GET /v1/messages`: newest first, never older than 60 days, cursor-paginated.
async fn list(svc: &Services, org: &Org, req: &Request) -> Result<Response<Body>, ApiError> {
    let now = svc.clock.now();
    let pairs = query_pairs(req);
    let w = window(&pairs, now, |c| MessageId::parse(c).ok())?;
    let mut q = ListQuery {
        status: None,
        since: w.since,
        until: w.until,
        after: w.after,
        limit: w.limit,
    };
    for (k, v) in &pairs {
        if k == "status" {
            q.status = Some(v.parse().map_err(
                |e: praxis_shared::domain::status::UnknownStatus| {
                    ApiError::invalid("invalid_parameter", "status", e.to_string())
                },
            )?)
        }
    }
    let page = svc.store.list_messages(org.id, &q).await?;
    let items: Vec<Value> = page
        .items
        .into_iter()
        .map(|m| views::message(&m.as_seen_at(now)))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "messages": items, "next_cursor": page.next.map(|c| c.to_string()) }),
    ))
}

/// `GET /v1/replies`: patients' replies, newest first, never older than 60 days,
/// cursor-paginated like messages.
async fn list_replies(
    svc: &Services,
    org: &Org,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let w = window(&query_pairs(req), svc.clock.now(), |c| {
        ReplyId::parse(c).ok()
    })?;
    let q = ReplyQuery {
        since: w.since,
        until: w.until,
        after: w.after,
        limit: w.limit,
    };
    let page = svc.store.list_replies(org.id, &q).await?;
    let items: Vec<Value> = page.items.iter().map(views::reply).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "replies": items, "next_cursor": page.next.map(|c| c.to_string()) }),
    ))
}
