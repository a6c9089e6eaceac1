//! Carrier secrets from SSM Parameter Store, against moto over HTTP (scripts/moto.sh starts it):
//! the Lambda services built from parameter names send with the key stored in SSM and verify
//! webhooks with the signing key stored there; a carrier whose parameters do not exist is not
//! configured.

#![cfg(feature = "aws")]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_ssm::types::ParameterType;
use chrono::Utc;
use praxis_shared::carriers::seven;
use praxis_shared::carriers::{WebhookError, WebhookRequest};
use praxis_shared::domain::{MessageId, PhoneNumber, Region, SenderId};
use praxis_shared::ports::OutboundSms;
use praxis_shared::wiring::Wiring;
use serde_json::json;
use support::loopback::{Loopback, Reply};

async fn ssm() -> Option<aws_sdk_ssm::Client> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("PRAXIS_SKIP_AWS").as_deref() == Ok("1") {
            eprintln!("PRAXIS_SKIP_AWS=1: skipping the SSM tests");
            return None;
        }
        panic!(
            "AWS_ENDPOINT_URL is not set. Run through scripts/moto.sh: scripts/moto.sh cargo \
             test -p praxis-shared --features aws --test ssm_secrets"
        );
    }
    let config = praxis_shared::adapters::aws::sdk_config().await;
    Some(aws_sdk_ssm::Client::new(&config))
}

async fn put_secret(client: &aws_sdk_ssm::Client, name: &str, value: &str) {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

#[tokio::test]
async fn seven_sends_and_verifies_with_the_secrets_stored_in_ssm() {
    let Some(client) = ssm().await else {
        return;
    };
    let prefix = format!("/praxis-sms-test/{}", std::process::id());
    put_secret(&client, &format!("{prefix}/seven/api-key"), "key-from-ssm").await;
    put_secret(
        &client,
        &format!("{prefix}/seven/signing-key"),
        "signing-from-ssm",
    )
    .await;

    let seen_keys = Arc::new(Mutex::new(Vec::new()));
    let seen = seen_keys.clone();
    let seven_api = Loopback::start(move |req| {
        seen.lock()
            .expect("lock")
            .push(req.header("x-api-key").unwrap_or_default().to_owned());
        let sent = req.json();
        Reply::Json(
            200,
            json!({"success": "100", "messages": [{"id": "77", "success": true,
                "recipient": sent["to"], "parts": 1, "price": 0.075, "error": null}]})
            .to_string(),
        )
    })
    .await;

    let env: HashMap<String, String> = [
        ("PRAXIS_SMS_TABLE", "t".to_owned()),
        ("PRAXIS_SMS_QUEUE_URL", "http://127.0.0.1:1/q".to_owned()),
        ("PRAXIS_SMS_SENDER_EMAIL", "noreply@example.com".to_owned()),
        ("PRAXIS_SMS_BUCKET", "b".to_owned()),
        ("PRAXIS_SMS_CARRIER", "seven".to_owned()),
        ("SEVEN_API_URL", seven_api.url.clone()),
        (
            "PRAXIS_SMS_SEVEN_API_KEY_PARAMETER",
            format!("{prefix}/seven/api-key"),
        ),
        (
            "PRAXIS_SMS_SEVEN_SIGNING_KEY_PARAMETER",
            format!("{prefix}/seven/signing-key"),
        ),
        // Named, but never created: Vonage is not configured in this deployment.
        (
            "PRAXIS_SMS_VONAGE_API_KEY_PARAMETER",
            format!("{prefix}/vonage/api-key"),
        ),
        (
            "PRAXIS_SMS_VONAGE_API_SECRET_PARAMETER",
            format!("{prefix}/vonage/api-secret"),
        ),
        (
            "PRAXIS_SMS_VONAGE_SIGNATURE_SECRET_PARAMETER",
            format!("{prefix}/vonage/signature-secret"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let svc = Wiring::from_lookup(move |name| env.get(name).cloned())
        .await
        .and_then(|w| w.with_carrier()?.with_webhooks())
        .expect("services")
        .build();

    // Sending uses the API key from SSM.
    let to = PhoneNumber::parse("+4917612345678", Region::DE).expect("number");
    let sender = SenderId::parse("Praxis").expect("sender");
    let sms = OutboundSms {
        id: MessageId::new(Utc::now()),
        to: &to,
        sender: &sender,
        text: "Erinnerung: Termin morgen 9 Uhr",
        segments: 1,
    };
    for _ in 0..2 {
        let done = svc.carrier.submit(&sms).await.expect("submitted");
        assert_eq!(
            (done.carrier.as_str(), done.carrier_ref.as_deref()),
            ("seven", Some("77"))
        );
    }
    assert_eq!(
        *seen_keys.lock().expect("lock"),
        vec!["key-from-ssm".to_owned(), "key-from-ssm".to_owned()]
    );

    // Webhooks are verified with the signing key from SSM, and only with it.
    let hooks = svc.webhooks_for("seven").expect("seven webhooks");
    hooks.ready().await.expect("secrets fetched");
    let url = "https://api.example/webhooks/seven/dlr";
    let body = br#"{"webhook_event":"dlr","data":{"msg_id":"77","status":"DELIVERED"}}"#;
    let ts = Utc::now().timestamp().to_string();
    for (key, ok) in [("signing-from-ssm", true), ("key-from-ssm", false)] {
        let mut headers = http::HeaderMap::new();
        let signature = seven::sign(key, &ts, "n0nce", "POST", url, body);
        headers.insert("x-signature", signature.parse().expect("header"));
        headers.insert("x-timestamp", ts.parse().expect("header"));
        headers.insert("x-nonce", "n0nce".parse().expect("header"));
        let req = WebhookRequest {
            method: "POST",
            url,
            headers: &headers,
            body,
        };
        assert_eq!(
            hooks.verify(&req, Utc::now()).is_ok(),
            ok,
            "signed with {key}"
        );
    }

    // Vonage's parameters do not exist: its webhooks are not configured (the handler says 404).
    let vonage = svc.webhooks_for("vonage").expect("vonage named");
    match vonage.ready().await {
        Err(WebhookError::NotConfigured(m)) => assert!(m.contains("vonage"), "{m}"),
        other => panic!("expected not configured, got {other:?}"),
    }
}
