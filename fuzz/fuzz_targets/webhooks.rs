//! Each carrier's webhook payloads and signature check on any input. No panic, and no call
//! the fuzzer makes up passes seven.io's or Vonage's signature check (it does not know the
//! secrets; the sim's bearer token is a plain comparison a fuzzer may well find).
#![no_main]

use arbitrary::Arbitrary;
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use praxis_shared::carriers::seven::{SevenConfig, SevenWebhooks};
use praxis_shared::carriers::sim::SimWebhooks;
use praxis_shared::carriers::vonage::{VonageConfig, VonageWebhooks};
use praxis_shared::carriers::{CarrierWebhooks, WebhookRequest};

/// A call to the signature check, made from the same bytes.
#[derive(Debug, Arbitrary)]
struct Call<'a> {
    method: &'a str,
    url: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
    now: u32,
}

fn carriers() -> Vec<(bool, Box<dyn CarrierWebhooks>)> {
    let vars = |name: &str| {
        Some(match name {
            "SEVEN_API_KEY" | "VONAGE_API_KEY" => "key".to_owned(),
            "SEVEN_SIGNING_KEY" | "VONAGE_API_SECRET" | "VONAGE_SIGNATURE_SECRET" => {
                "fuzz-secret".to_owned()
            }
            _ => return None,
        })
    };
    let seven = SevenConfig::from_lookup(vars).expect("seven config");
    let vonage = VonageConfig::from_lookup(vars).expect("vonage config");
    vec![
        (false, Box::new(SimWebhooks::new("fuzz-token".into()))),
        (true, Box::new(SevenWebhooks::new(&seven))),
        (true, Box::new(VonageWebhooks::new(&vonage))),
    ]
}

/// The first byte picks the carrier, the rest is the payload (the corpus seeds are payloads
/// from the tests) and, read as a [`Call`], a request to verify.
fuzz_target!(|data: &[u8]| {
    let Some((&carrier, payload)) = data.split_first() else {
        return;
    };
    let carriers = carriers();
    let (signed, hooks) = &carriers[usize::from(carrier) % carriers.len()];
    let _ = hooks.parse_reports(payload);
    let _ = hooks.parse_inbound(payload);
    let Ok(call) = Call::arbitrary_take_rest(arbitrary::Unstructured::new(payload)) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in &call.headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let req = WebhookRequest {
        method: call.method,
        url: call.url,
        headers: &headers,
        body: call.body,
    };
    let now = Utc
        .timestamp_opt(1_700_000_000 + i64::from(call.now), 0)
        .single()
        .expect("a time");
    let verified = hooks.verify(&req, now);
    if *signed {
        assert!(verified.is_err(), "a made-up call passed {}'s check", hooks.name());
    }
});
