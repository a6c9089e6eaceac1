//! Parsing of request bodies into domain values: each field of a message checked once, with a
//! field path and a clear message for the first thing that is wrong.

use praxis_shared::domain::org::Org;
use praxis_shared::domain::{MessageText, PhoneError, PhoneNumber, SenderId, TextError};
use serde_json::{Map, Value};

use crate::error::ApiError;

pub const MAX_REFERENCE_CHARS: usize = 255;

/// One message as requested, every field valid.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub to: PhoneNumber,
    pub text: MessageText,
    pub sender: SenderId,
    pub reference: Option<String>,
}

/// The body of `POST /v1/messages` (and preview): one message or a batch.
pub enum SendBody {
    One(Map<String, Value>),
    Batch(Vec<Value>),
}

pub fn parse_body(body: &[u8], max_batch: usize) -> Result<SendBody, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "missing_body",
            "body",
            "the request needs a JSON body",
        ));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let Value::Object(mut obj) = v else {
        return Err(ApiError::invalid(
            "invalid_type",
            "body",
            "the body must be a JSON object",
        ));
    };
    match obj.remove("messages") {
        None => Ok(SendBody::One(obj)),
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(ApiError::invalid(
                    "empty_batch",
                    "messages",
                    "`messages` must contain at least one message",
                ));
            }
            if items.len() > max_batch {
                return Err(ApiError::invalid(
                    "batch_too_large",
                    "messages",
                    format!(
                        "a batch holds at most {max_batch} messages; this one has {}",
                        items.len()
                    ),
                ));
            }
            Ok(SendBody::Batch(items))
        }
        Some(_) => Err(ApiError::invalid(
            "invalid_type",
            "messages",
            "`messages` must be an array of messages",
        )),
    }
}

fn string_field<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(
            "invalid_type",
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

fn required<'a>(obj: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, ApiError> {
    string_field(obj, name)?
        .ok_or_else(|| ApiError::invalid("missing_field", name, format!("`{name}` is required")))
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
        TextError::ControlCharacter { .. } => "invalid_text",
        TextError::TooLong { .. } => "text_too_long",
    };
    ApiError::invalid(code, "text", e.to_string())
}

/// Checks one message against the practice's settings.
pub fn parse_message(org: &Org, v: &Value) -> Result<NewMessage, ApiError> {
    let Value::Object(obj) = v else {
        return Err(ApiError::Invalid {
            code: "invalid_type",
            message: "each message must be a JSON object".into(),
            field: None,
        });
    };
    let smart = match obj.get("smart_encoding") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_type",
                "smart_encoding",
                "`smart_encoding` must be true or false",
            ));
        }
    };
    let to = PhoneNumber::parse(required(obj, "to")?, org.region).map_err(phone_error)?;
    let text = MessageText::parse(required(obj, "text")?, smart).map_err(text_error)?;
    let requested = string_field(obj, "sender")?
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
    let reference = string_field(obj, "reference")?
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
