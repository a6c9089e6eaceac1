//! Who is calling: the practice behind `Authorization: Bearer …` or `X-Api-Key`. It runs as a
//! layer before any route is matched, so an unauthenticated caller learns nothing about which
//! routes or ids exist; handlers take the practice as the [`Practice`] extractor.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use praxis_shared::domain::KeyId;
use praxis_shared::domain::apikey::ApiKey;
use praxis_shared::domain::org::Org;
use praxis_shared::services::Services;

use crate::error::ApiError;

/// The authenticated practice of a request.
#[derive(Debug, Clone)]
pub struct Practice(pub Org);

/// The layer: 401 unless the request carries a valid, unrevoked key; 429 `rate_limited` once
/// the practice made its requests of the minute (`Settings::rate_limit`).
pub async fn authenticate(State(svc): State<Services>, mut req: Request, next: Next) -> Response {
    let org = match practice_of(&svc, req.headers()).await {
        Ok(org) => org,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = within_rate(&svc, &org).await {
        return e.into_response();
    }
    req.extensions_mut().insert(Practice(org));
    next.run(req).await
}

async fn within_rate(svc: &Services, org: &Org) -> Result<(), ApiError> {
    let now = svc.clock.now();
    let limit = svc.settings.rate_limit;
    if svc.store.count_request(org.id, now, limit).await? {
        return Ok(());
    }
    tracing::warn!(practice = %org.id, limit, "request rate limit reached");
    let into_minute = now.timestamp().rem_euclid(60);
    Err(ApiError::RateLimited {
        limit,
        retry_after: u64::try_from(60 - into_minute).unwrap_or(1),
    })
}

async fn practice_of(svc: &Services, headers: &HeaderMap) -> Result<Org, ApiError> {
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
    note_use(svc, record.id).await;
    svc.store
        .get_org(record.org_id)
        .await?
        .ok_or(ApiError::Unauthorized)
}

/// How often one process writes a key's "last used" (the portal shows it): a write per key every
/// few minutes, not one per request.
const NOTE_EVERY: chrono::Duration = chrono::Duration::minutes(5);

/// Records that `key` was used, unless this process did so within [`NOTE_EVERY`]. A failure
/// only costs the portal's figure, never the request.
async fn note_use(svc: &Services, key: KeyId) {
    static NOTED: Mutex<Option<HashMap<KeyId, DateTime<Utc>>>> = Mutex::new(None);
    let now = svc.clock.now();
    {
        let mut noted = NOTED.lock().unwrap_or_else(|e| e.into_inner());
        let noted = noted.get_or_insert_with(HashMap::new);
        if noted.get(&key).is_some_and(|at| now - *at < NOTE_EVERY) {
            return;
        }
        noted.insert(key, now);
    }
    if let Err(e) = svc.accounts.note_api_key_used(key, now).await {
        tracing::warn!(error = %e, key = %key, "could not note the key's use");
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Practice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        // Only missing when a route is served without the layer: fail closed.
        parts
            .extensions
            .get::<Practice>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}
