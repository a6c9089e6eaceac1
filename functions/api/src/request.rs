//! The request side of the contract: bodies and query strings as `Deserialize` types that
//! refuse fields they do not know, and their checked conversion into domain values. Every error
//! names the field (a JSON path such as `messages[3].to`) and says what is wrong.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use chrono::{DateTime, Utc};
use praxis_shared::domain::message::retention_cutoff;
use praxis_shared::domain::org::Org;
use praxis_shared::domain::{MessageText, PhoneError, PhoneNumber, SenderId, Status, TextError};
use praxis_shared::services::Services;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::ApiError;

pub const MAX_REFERENCE_CHARS: usize = 255;
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 500;

/// One message as a client sends it (`POST /v1/messages`, preview, and each batch item).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub to: String,
    pub text: String,
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub smart_encoding: Option<bool>,
}

/// A batch: `{"messages": [...]}`. Items stay raw until each is read on its own, so one bad
/// item fails alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest<'a> {
    #[serde(borrow)]
    messages: Vec<&'a RawValue>,
}

/// One message as requested, every field valid.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub to: PhoneNumber,
    pub text: MessageText,
    pub sender: SenderId,
    pub reference: Option<String>,
}

/// The body of `POST /v1/messages` (and preview): one message, or a batch whose items were each
/// read on their own.
pub enum SendBody {
    One(MessageRequest),
    Batch(Vec<Result<MessageRequest, ApiError>>),
}

/// A JSON request body: only with a JSON `Content-Type` (415 otherwise), at most the router's
/// body limit (413).
pub struct JsonBody(pub Bytes);

impl FromRequest<Services> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, svc: &Services) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        // The limit is the router's `DefaultBodyLimit` layer, set from the same setting.
        match Bytes::from_request(req, svc).await {
            Ok(bytes) => Ok(JsonBody(bytes)),
            Err(e) if e.status() == http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::TooLarge {
                    limit: svc.settings.max_body_bytes,
                })
            }
            Err(e) => Err(ApiError::BadRequest {
                code: "broken_body",
                message: format!("the request body could not be read: {e}"),
                field: None,
            }),
        }
    }
}

/// `application/json`, with or without parameters such as `charset=utf-8`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

pub fn parse_send(body: &[u8], max_batch: usize) -> Result<SendBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "missing_body",
            "body",
            "the request needs a JSON body",
        ));
    }
    // Read once untyped to tell broken JSON (400) and a body that is not an object from the
    // rest; the typed read below is of the same bytes, so a key given twice is still seen.
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let Some(obj) = v.as_object() else {
        return Err(ApiError::invalid(
            "invalid_type",
            "body",
            "the body must be a JSON object",
        ));
    };
    if !obj.contains_key("messages") {
        return typed(body).map(SendBody::One);
    }
    let batch: BatchRequest = typed(body)?;
    if batch.messages.is_empty() {
        return Err(ApiError::invalid(
            "empty_batch",
            "messages",
            "`messages` must contain at least one message",
        ));
    }
    if batch.messages.len() > max_batch {
        return Err(ApiError::invalid(
            "batch_too_large",
            "messages",
            format!(
                "a batch holds at most {max_batch} messages; this one has {}",
                batch.messages.len()
            ),
        ));
    }
    Ok(SendBody::Batch(
        batch
            .messages
            .iter()
            .enumerate()
            .map(|(i, raw)| typed(raw.get().as_bytes()).map_err(|e| e.in_item(i)))
            .collect(),
    ))
}

/// Reads `T` from JSON, with the path of whatever is wrong.
fn typed<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().clone();
        let message = e.into_inner().to_string();
        // serde_json appends the position; the path says more.
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        contract_error(&path, &message)
    })
}

/// Reads a query string as `T`, with the parameter that is wrong.
pub fn query<T: DeserializeOwned + Default>(query: Option<&str>) -> Result<T, ApiError> {
    let Some(q) = query.filter(|q| !q.is_empty()) else {
        return Ok(T::default());
    };
    // form_urlencoded decodes lossily; a value it would have to patch up is refused instead.
    utf8_query(q)?;
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().clone();
        contract_error(&path, &e.into_inner().to_string())
    })
}

/// Refuses a query whose names or values are not UTF-8 once percent-decoded, naming the
/// parameter.
fn utf8_query(q: &str) -> Result<(), ApiError> {
    for pair in q.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name_bytes = percent_decoded(name);
        let name_ok = std::str::from_utf8(&name_bytes).is_ok();
        if !name_ok || std::str::from_utf8(&percent_decoded(value)).is_err() {
            let name = String::from_utf8_lossy(&name_bytes).into_owned();
            return Err(ApiError::BadRequest {
                code: "malformed_query",
                message: format!("query parameter `{name}` is not UTF-8 once percent-decoded"),
                field: Some(name),
            });
        }
    }
    Ok(())
}

/// `application/x-www-form-urlencoded` decoding to bytes: `+` is a space, `%XY` a byte, and
/// a `%` without two hex digits stays as it is (as form_urlencoded does).
fn percent_decoded(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Turns serde's message for a value at `path` into the API's error. serde's derive words
/// these messages the same way for every format (`unknown field`, `missing field`, ...); the
/// tests below pin them.
fn contract_error(path: &serde_path_to_error::Path, message: &str) -> ApiError {
    let at = |name: &str| match path.iter().next() {
        None => name.to_owned(),
        Some(_) => format!("{path}.{name}"),
    };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let field = path.iter().next().map(|_| path.to_string());
    if message.starts_with("unknown field") {
        return ApiError::BadRequest {
            code: "unknown_field",
            message: format!(
                "{message}; a field the API does not know is refused rather than ignored"
            ),
            field,
        };
    }
    if let Some(name) = named("missing field ") {
        return ApiError::invalid("missing_field", at(&name), format!("`{name}` is required"));
    }
    if let Some(name) = named("duplicate field ") {
        return ApiError::BadRequest {
            code: "duplicate_field",
            message: format!("`{name}` is given twice"),
            field: Some(at(&name)),
        };
    }
    match field {
        Some(field) => ApiError::Invalid {
            code: "invalid_type",
            message: format!("`{field}`: {message}"),
            field: Some(field),
        },
        None => ApiError::Invalid {
            code: "invalid_type",
            message: "each message must be a JSON object".into(),
            field: None,
        },
    }
}

fn phone_error(e: PhoneError) -> ApiError {
    let code = match e {
        PhoneError::PremiumRate | PhoneError::TollFree => "number_not_allowed",
        _ => "invalid_number",
    };
    ApiError::invalid(code, "to", e.to_string())
}

fn text_error(e: TextError) -> ApiError {
    let code = match e {
        TextError::Empty => "empty_text",
        TextError::ControlCharacter { .. } | TextError::ClusterTooLong { .. } => "invalid_text",
        TextError::TooLong { .. } => "text_too_long",
    };
    ApiError::invalid(code, "text", e.to_string())
}

/// The messages of a send or preview body, each checked against the practice's settings.
pub struct Checked {
    /// One message, not a batch: its failure is the request's.
    pub single: bool,
    /// A batch's items fail each on their own, their field prefixed with their index.
    pub items: Vec<Result<NewMessage, ApiError>>,
}

/// Reads a send or preview body and checks every message in it; a single message that fails
/// is the request's error.
pub fn check_send(org: &Org, body: &[u8], max_batch: usize) -> Result<Checked, ApiError> {
    Ok(match parse_send(body, max_batch)? {
        SendBody::One(m) => Checked {
            single: true,
            items: vec![Ok(new_message(org, &m)?)],
        },
        SendBody::Batch(items) => Checked {
            single: false,
            items: items
                .into_iter()
                .enumerate()
                .map(|(i, item)| item.and_then(|m| new_message(org, &m).map_err(|e| e.in_item(i))))
                .collect(),
        },
    })
}

impl Checked {
    /// The recipients of the valid items for which `asked(index)` holds.
    pub fn recipients(&self, asked: impl Fn(usize) -> bool) -> Vec<PhoneNumber> {
        self.items
            .iter()
            .enumerate()
            .filter(|(i, _)| asked(*i))
            .filter_map(|(_, item)| item.as_ref().ok().map(|m| m.to.clone()))
            .collect()
    }

    /// Refuses the valid items for which `asked(index)` holds whose recipient is one of
    /// `opted_out`: `422 recipient_opted_out`, the request's error for a single message.
    pub fn refuse_opted_out(
        &mut self,
        opted_out: &[PhoneNumber],
        asked: impl Fn(usize) -> bool,
    ) -> Result<(), ApiError> {
        if opted_out.is_empty() {
            return Ok(());
        }
        for (i, item) in self.items.iter_mut().enumerate() {
            let refused = matches!(item, Ok(m) if asked(i) && opted_out.contains(&m.to));
            if !refused {
                continue;
            }
            let e = ApiError::invalid(
                "recipient_opted_out",
                "to",
                "the recipient opted out of this practice's SMS (by replying STOP); \
                 nothing was sent",
            );
            if self.single {
                return Err(e);
            }
            *item = Err(e.in_item(i));
        }
        Ok(())
    }
}

/// Which of `numbers` opted out of the practice's SMS: one store read for a whole request.
pub async fn opted_out(
    svc: &Services,
    org: &Org,
    numbers: &[PhoneNumber],
) -> Result<Vec<PhoneNumber>, ApiError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(svc.store.opted_out(org.id, numbers).await?)
}

/// Checks one message against the practice's settings.
pub fn new_message(org: &Org, m: &MessageRequest) -> Result<NewMessage, ApiError> {
    let smart = m.smart_encoding.unwrap_or(false);
    let to = PhoneNumber::parse(&m.to, org.region).map_err(phone_error)?;
    let text = MessageText::parse(&m.text, smart).map_err(text_error)?;
    let requested = m
        .sender
        .as_deref()
        .map(|s| {
            SenderId::parse(s)
                .map_err(|e| ApiError::invalid("invalid_sender", "sender", e.to_string()))
        })
        .transpose()?;
    let sender = org.sender_for(requested).ok_or_else(|| {
        ApiError::invalid(
            "sender_required",
            "sender",
            "no sender given and the practice has no default sender",
        )
    })?;
    let reference = m
        .reference
        .as_deref()
        .map(|r| {
            if r.chars().count() > MAX_REFERENCE_CHARS {
                Err(ApiError::invalid(
                    "invalid_reference",
                    "reference",
                    format!("`reference` is longer than {MAX_REFERENCE_CHARS} characters"),
                ))
            } else if r.chars().any(char::is_control) {
                Err(ApiError::invalid(
                    "invalid_reference",
                    "reference",
                    "`reference` must not contain control characters",
                ))
            } else {
                Ok(r.to_owned())
            }
        })
        .transpose()?;
    Ok(NewMessage {
        to,
        text,
        sender,
        reference,
    })
}

/// An `Idempotency-Key` header value: 1–255 visible ASCII characters.
pub fn idempotency_key(headers: &http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or_default().trim();
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// The query of the list routes: the paging window, and for messages a status.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

impl ListParams {
    /// For a list that has no status to filter by (replies): `status` is then a parameter it
    /// does not take, refused like any other.
    pub fn without_status(self) -> Result<ListParams, ApiError> {
        match self.status {
            Some(_) => Err(ApiError::BadRequest {
                code: "unknown_field",
                message: "unknown field `status`: this list has no status to filter by".into(),
                field: Some("status".into()),
            }),
            None => Ok(self),
        }
    }
}

/// The query of a list without a time window (opt-outs, which do not expire): a page.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

impl PageParams {
    /// The checked `cursor` (read by `cursor`) and `limit`.
    pub fn page<Cursor>(
        &self,
        cursor: impl Fn(&str) -> Option<Cursor>,
    ) -> Result<(Option<Cursor>, usize), ApiError> {
        Ok((
            parse_cursor(self.cursor.as_deref(), cursor)?,
            parse_limit(self.limit.as_deref())?,
        ))
    }
}

fn parse_cursor<Cursor>(
    raw: Option<&str>,
    cursor: impl Fn(&str) -> Option<Cursor>,
) -> Result<Option<Cursor>, ApiError> {
    raw.map(|c| {
        cursor(c).ok_or_else(|| {
            ApiError::invalid(
                "invalid_parameter",
                "cursor",
                "`cursor` is not a cursor this API returned",
            )
        })
    })
    .transpose()
}

fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_PAGE),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    "invalid_parameter",
                    "limit",
                    format!("`limit` must be a whole number from 1 to {MAX_PAGE}"),
                )
            }),
    }
}

/// A checked window: `since` clamped to the retention cutoff, a `cursor` of the listed kind of
/// id, and `limit`.
pub struct Window<Cursor> {
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub after: Option<Cursor>,
    pub limit: usize,
}

impl ListParams {
    /// The checked window; `cursor` reads a cursor of the listed kind of id.
    pub fn window<Cursor>(
        &self,
        now: DateTime<Utc>,
        cursor: impl Fn(&str) -> Option<Cursor>,
    ) -> Result<Window<Cursor>, ApiError> {
        let cutoff = retention_cutoff(now);
        let since = match self.since.as_deref() {
            Some(v) => parse_time("since", v)?.max(cutoff),
            None => cutoff,
        };
        let until = self
            .until
            .as_deref()
            .map(|v| parse_time("until", v))
            .transpose()?;
        Ok(Window {
            since,
            until,
            after: parse_cursor(self.cursor.as_deref(), cursor)?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }

    pub fn status(&self) -> Result<Option<Status>, ApiError> {
        self.status
            .as_deref()
            .map(|s| {
                s.parse()
                    .map_err(|e: praxis_shared::domain::status::UnknownStatus| {
                        ApiError::invalid("invalid_parameter", "status", e.to_string())
                    })
            })
            .transpose()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn one(body: &str) -> Result<MessageRequest, ApiError> {
        match parse_send(body.as_bytes(), 1000)? {
            SendBody::One(m) => Ok(m),
            SendBody::Batch(_) => panic!("read as a batch: {body}"),
        }
    }

    fn batch(body: &str) -> Vec<Result<MessageRequest, ApiError>> {
        match parse_send(body.as_bytes(), 1000) {
            Ok(SendBody::Batch(items)) => items,
            Ok(SendBody::One(_)) => panic!("read as one message: {body}"),
            Err(e) => panic!("refused whole: {e}"),
        }
    }

    /// An error as the client sees it: code, field, HTTP status.
    type Seen<'a> = (&'static str, Option<&'a str>, u16);

    fn code_and_field(e: &ApiError) -> Seen<'_> {
        (e.code(), e.field(), e.status().as_u16())
    }

    // serde words its errors the same for every format; these pin the wording `contract_error`
    // reads, so a serde upgrade that changes it fails here, not in a practice's integration.
    #[test]
    fn serde_errors_become_the_contracts_codes_with_the_field_named() {
        let cases: &[(&str, Seen)] = &[
            (
                r#"{"to":"0176 1","text":"a","scheduled_at":"x"}"#,
                ("unknown_field", Some("scheduled_at"), 400),
            ),
            (
                r#"{"to":"0176 1","text":"a","text":"b"}"#,
                ("duplicate_field", Some("text"), 400),
            ),
            (r#"{"text":"a"}"#, ("missing_field", Some("to"), 422)),
            (r#"{"to":"0176 1"}"#, ("missing_field", Some("text"), 422)),
            (
                r#"{"to":4917612345678,"text":"a"}"#,
                ("invalid_type", Some("to"), 422),
            ),
            (
                r#"{"to":"0176 1","text":"a","smart_encoding":"yes"}"#,
                ("invalid_type", Some("smart_encoding"), 422),
            ),
            (r#"[1]"#, ("invalid_type", Some("body"), 422)),
            (r#"{"to":"#, ("malformed_json", None, 400)),
            ("  ", ("missing_body", Some("body"), 422)),
            (
                r#"{"messages":"x"}"#,
                ("invalid_type", Some("messages"), 422),
            ),
            (
                r#"{"messages":[],"sender":"x"}"#,
                ("unknown_field", Some("sender"), 400),
            ),
            (r#"{"messages":[]}"#, ("empty_batch", Some("messages"), 422)),
        ];
        for (body, want) in cases {
            let got = one(body).map(|_| ()).expect_err(body);
            assert_eq!(code_and_field(&got), *want, "{body}: {got}");
        }
        let e = one(r#"{"to":"0176 1","text":"a","scheduled_at":"x"}"#).expect_err("unknown");
        assert!(e.to_string().contains("`scheduled_at`"), "{e}");
    }

    #[test]
    fn each_batch_item_is_read_on_its_own_with_its_index_in_the_field() {
        let items = batch(
            r#"{"messages":[{"to":"a","text":"b"},{"to":"a","text":"b","prio":1},7,{"text":"b","text":"c"}]}"#,
        );
        assert!(items[0].is_ok());
        let errs: Vec<_> = items[1..]
            .iter()
            .map(|r| code_and_field(r.as_ref().expect_err("a bad item")))
            .collect();
        assert_eq!(
            errs,
            [
                ("unknown_field", Some("messages[1].prio"), 400),
                ("invalid_type", Some("messages[2]"), 422),
                ("duplicate_field", Some("messages[3].text"), 400),
            ]
        );
    }

    #[test]
    fn query_parameters_are_typed_and_unknown_ones_refused() {
        let p: ListParams = query(Some(
            "status=delivered&limit=5&since=2026-11-01T00:00:00%2B01:00",
        ))
        .expect("valid");
        assert_eq!(p.status().expect("status"), Some(Status::Delivered));
        let now = Utc::now();
        let w = p.window(now, |_| Some(())).expect("window");
        assert_eq!(w.limit, 5);
        let e = query::<ListParams>(Some("stauts=delivered")).expect_err("typo");
        assert_eq!(code_and_field(&e), ("unknown_field", Some("stauts"), 400));
        let p: ListParams = query(Some("status=sent")).expect("typed");
        let e = p.without_status().map(|_| ()).expect_err("not for replies");
        assert_eq!(code_and_field(&e), ("unknown_field", Some("status"), 400));
        let e = query::<ListParams>(Some("limit=1&limit=2")).expect_err("twice");
        assert_eq!(code_and_field(&e), ("duplicate_field", Some("limit"), 400));
        let p: ListParams = query(Some("limit=0")).expect("typed");
        let e = p.window(now, |_| Some(())).map(|_| ()).expect_err("0");
        assert_eq!(
            code_and_field(&e),
            ("invalid_parameter", Some("limit"), 422)
        );
        let p: ListParams = query(None).expect("empty");
        assert!(p.status.is_none() && p.limit.is_none());
    }

    #[test]
    fn a_query_that_is_not_utf8_once_decoded_is_refused_naming_the_parameter() {
        for (q, field) in [
            ("since=%FF", "since"),
            ("limit=5&cursor=%C3%28", "cursor"),
            ("st%FFtus=sent", "st\u{FFFD}tus"),
        ] {
            let e = query::<ListParams>(Some(q)).expect_err(q);
            assert_eq!(
                code_and_field(&e),
                ("malformed_query", Some(field), 400),
                "{q}"
            );
        }
        // Valid percent-encoding, and a lone `%`, are read as before.
        let p: ListParams =
            query(Some("since=2026-11-01T00:00:00%2B01:00&cursor=%25")).expect("ok");
        assert_eq!(p.since.as_deref(), Some("2026-11-01T00:00:00+01:00"));
        assert_eq!(p.cursor.as_deref(), Some("%"));
        let p: ListParams = query(Some("status=%C3%BC")).expect("UTF-8");
        assert_eq!(p.status.as_deref(), Some("ü"));
    }

    #[test]
    fn a_body_that_is_not_utf8_is_malformed_json() {
        for body in [
            &b"{\"to\":\"0176 12345678\",\"text\":\"Gr\xFC\xDFe\"}"[..],
            br#"{"to":"0176 12345678","text":"\ud800"}"#,
        ] {
            let e = parse_send(body, 1000).map(|_| ()).expect_err("not UTF-8");
            assert_eq!(code_and_field(&e), ("malformed_json", None, 400));
        }
    }

    #[test]
    fn numbers_where_strings_are_expected_name_the_field() {
        for (body, field) in [
            (r#"{"to":"0176 12345678","text":42}"#, "text"),
            (
                r#"{"to":"0176 12345678","text":"a","sender":12345}"#,
                "sender",
            ),
            (
                r#"{"to":"0176 12345678","text":"a","reference":7}"#,
                "reference",
            ),
            (
                r#"{"messages":[{"to":"0176 12345678","text":"a"},{"to":1,"text":"a"}]}"#,
                "messages[1].to",
            ),
        ] {
            let e = match parse_send(body.as_bytes(), 1000) {
                Err(e) => e,
                Ok(SendBody::One(_)) => panic!("accepted {body}"),
                Ok(SendBody::Batch(items)) => items
                    .into_iter()
                    .find_map(Result::err)
                    .unwrap_or_else(|| panic!("accepted {body}")),
            };
            assert_eq!(
                code_and_field(&e),
                ("invalid_type", Some(field), 422),
                "{body}"
            );
        }
    }

    #[test]
    fn only_a_json_content_type_is_json() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ] {
            assert!(is_json(ct), "{ct}");
        }
        for ct in [
            "text/plain",
            "application/jsonx",
            "application/x-www-form-urlencoded",
            "",
        ] {
            assert!(!is_json(ct), "{ct}");
        }
    }
}
