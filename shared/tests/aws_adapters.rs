//! The SQS queue, SES mailer and S3 blobs against moto over HTTP (scripts/moto.sh starts it).
//! Every test makes its own queue, sender or bucket, so they run in parallel.

#![cfg(feature = "aws")]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::Utc;
use praxis_shared::adapters::aws::{
    S3Blobs, SesMailer, SqsQueue, create_bucket, create_queues, s3_client, sdk_config,
    verify_sender,
};
use praxis_shared::domain::MessageId;
use praxis_shared::ports::{Blobs, Email, Mailer, PortError, Queue};

/// The SDK configuration for the emulator, or `None` (with a notice) when the run asked to
/// skip AWS tests.
async fn config() -> Option<SdkConfig> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if std::env::var("PRAXIS_SKIP_AWS").as_deref() == Ok("1") {
            eprintln!("PRAXIS_SKIP_AWS=1: skipping the AWS adapter tests");
            return None;
        }
        panic!(
            "AWS_ENDPOINT_URL is not set. Run these tests through scripts/moto.sh, which starts \
             moto and sets it: scripts/moto.sh cargo test -p praxis-shared --features aws \
             --test aws_adapters (or set PRAXIS_SKIP_AWS=1 to skip them)"
        );
    }
    Some(sdk_config().await)
}

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").expect("checked by config()")
}

/// A name no other test (or earlier run against the same moto) uses.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn body(id: MessageId) -> String {
    serde_json::json!({ "id": id.to_string() }).to_string()
}

/// Receives up to 10 messages (visibility `visibility` seconds) and returns their bodies.
async fn receive(client: &aws_sdk_sqs::Client, url: &str, visibility: i32) -> Vec<String> {
    let out = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(visibility)
        .send()
        .await
        .expect("receive");
    out.messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.body)
        .collect()
}

#[tokio::test]
async fn sqs_batch_of_25_jobs_arrives_with_the_job_bodies() {
    let Some(config) = config().await else {
        return;
    };
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, _dlq) = create_queues(&client, &unique("jobs"))
        .await
        .expect("create queues");
    let queue = SqsQueue::new(client.clone(), url.clone());
    let ids: Vec<MessageId> = (0..25).map(|_| MessageId::new(Utc::now())).collect();
    queue.enqueue(&ids).await.expect("enqueue");

    let expected: BTreeSet<String> = ids.iter().map(|id| body(*id)).collect();
    let mut got = BTreeSet::new();
    for _ in 0..20 {
        if got.len() == expected.len() {
            break;
        }
        // Held for the default visibility timeout, so nothing is received twice.
        got.extend(receive(&client, &url, 120).await);
    }
    assert_eq!(got, expected);
    assert!(receive(&client, &url, 120).await.is_empty());

    // Nothing to send is not a request.
    queue.enqueue(&[]).await.expect("enqueue nothing");
}

#[tokio::test]
async fn sqs_queue_has_redrive_and_visibility_and_a_poison_job_lands_in_the_dlq() {
    let Some(config) = config().await else {
        return;
    };
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, dlq) = create_queues(&client, &unique("poison"))
        .await
        .expect("create queues");
    let attrs = client
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .expect("attributes")
        .attributes
        .unwrap_or_default();
    assert_eq!(
        attrs
            .get(&QueueAttributeName::VisibilityTimeout)
            .map(String::as_str),
        Some("540")
    );
    let redrive: serde_json::Value = serde_json::from_str(
        attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .expect("redrive policy"),
    )
    .expect("redrive json");
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    assert!(
        redrive["deadLetterTargetArn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with("-dlq"))
    );

    let queue = SqsQueue::new(client.clone(), url.clone());
    let id = MessageId::new(Utc::now());
    queue.enqueue(&[id]).await.expect("enqueue");
    // Received and never deleted: visibility 0 makes it visible again at once.
    let mut receives = 0;
    for _ in 0..20 {
        if receive(&client, &url, 0).await.is_empty() {
            break;
        }
        receives += 1;
    }
    assert_eq!(receives, 5, "delivered maxReceiveCount times, then moved");
    assert_eq!(receive(&client, &dlq, 120).await, vec![body(id)]);
}

#[tokio::test]
async fn sqs_enqueue_later_delays_the_job() {
    let Some(config) = config().await else {
        return;
    };
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, _dlq) = create_queues(&client, &unique("later"))
        .await
        .expect("create queues");
    let queue = SqsQueue::new(client.clone(), url.clone());
    let id = MessageId::new(Utc::now());
    queue
        .enqueue_later(id, Duration::from_millis(1500))
        .await
        .expect("enqueue later");
    assert!(receive(&client, &url, 120).await.is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(receive(&client, &url, 120).await, vec![body(id)]);

    // A delay beyond SQS's 15 minutes is capped, not refused.
    queue
        .enqueue_later(id, Duration::from_secs(3600))
        .await
        .expect("long delay is capped");
}

#[tokio::test]
async fn ses_sends_from_a_verified_sender_only() {
    let Some(config) = config().await else {
        return;
    };
    let client = aws_sdk_sesv2::Client::new(&config);
    let from = format!("{}@praxis.example", unique("noreply"));
    let mailer = SesMailer::new(client.clone(), from.clone());
    let key = unique("invoice");
    let mail = Email {
        to: "praxis@kunde.example".into(),
        from_name: "praxis-sms Rechnungen".into(),
        subject: "Rechnung für November".into(),
        text: "Grüße aus der Praxis – Ihre Rechnung liegt bei.".into(),
        html: Some("<p>Grüße aus der Praxis – Ihre Rechnung liegt bei.</p>".into()),
    };

    let refused = mailer.send(&key, &mail).await;
    assert!(
        matches!(&refused, Err(PortError::Unavailable(e)) if e.contains("MessageRejected")),
        "{refused:?}"
    );

    verify_sender(&client, &from).await.expect("verify");
    verify_sender(&client, &from).await.expect("verify again");
    mailer.send(&key, &mail).await.expect("send");

    // moto keeps raw mails as `ses.RawMessage` models, exposed on its data endpoint; the raw
    // data is the MIME message the outbox would have written (`adapters::mime`).
    let data: serde_json::Value = praxis_shared::http::client_builder()
        .build()
        .expect("client")
        .get(format!("{}/moto-api/data.json", endpoint()))
        .send()
        .await
        .expect("data.json")
        .json()
        .await
        .expect("data json");
    let message_id = format!("Message-ID: <{key}@praxis.example>");
    let sent: Vec<&serde_json::Value> = data["ses"]["RawMessage"]
        .as_array()
        .expect("ses raw messages")
        .iter()
        .filter(|m| {
            m["raw_data"]
                .as_str()
                .is_some_and(|r| r.contains(&message_id))
        })
        .collect();
    assert_eq!(sent.len(), 1, "{data}");
    assert_eq!(sent[0]["source"], from.as_str());
    assert_eq!(
        sent[0]["destinations"],
        serde_json::json!(["praxis@kunde.example"])
    );
    let raw = sent[0]["raw_data"].as_str().unwrap_or_default();
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("From: \"praxis-sms Rechnungen\" <"), "{raw}");
}

#[tokio::test]
async fn s3_blobs_are_private_encrypted_and_presigned() {
    let Some(config) = config().await else {
        return;
    };
    let client = s3_client(&config);
    let bucket = unique("praxis-blobs");
    let region = config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "eu-central-1".into());
    create_bucket(&client, &bucket, &region)
        .await
        .expect("create bucket");
    create_bucket(&client, &bucket, &region)
        .await
        .expect("create bucket again");

    let blocks = client
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await
        .expect("public access block")
        .public_access_block_configuration
        .expect("configuration");
    assert_eq!(blocks.block_public_acls, Some(true));
    assert_eq!(blocks.ignore_public_acls, Some(true));
    assert_eq!(blocks.block_public_policy, Some(true));
    assert_eq!(blocks.restrict_public_buckets, Some(true));
    let rules = client
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket encryption")
        .server_side_encryption_configuration
        .expect("configuration")
        .rules;
    assert_eq!(
        rules[0]
            .apply_server_side_encryption_by_default
            .as_ref()
            .map(|d| d.sse_algorithm.clone()),
        Some(ServerSideEncryption::Aes256)
    );

    let blobs = S3Blobs::new(client.clone(), bucket.clone());
    let pdf = b"%PDF-1.7 Rechnung".to_vec();
    blobs
        .put("invoices/2026/11/r-1.pdf", "application/pdf", pdf.clone())
        .await
        .expect("put");
    assert_eq!(
        blobs.get("invoices/2026/11/r-1.pdf").await.expect("get"),
        Some(pdf.clone())
    );
    assert_eq!(blobs.get("invoices/missing.pdf").await.expect("get"), None);

    let head = client
        .head_object()
        .bucket(&bucket)
        .key("invoices/2026/11/r-1.pdf")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.server_side_encryption,
        Some(ServerSideEncryption::Aes256)
    );
    assert_eq!(head.content_type.as_deref(), Some("application/pdf"));

    let url = blobs
        .presign_get("invoices/2026/11/r-1.pdf", Duration::from_secs(24 * 3600))
        .await
        .expect("presign");
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    assert!(url.contains(&format!("/{bucket}/")), "path style: {url}");
    let fetched = praxis_shared::http::client_builder()
        .build()
        .expect("client")
        .get(&url)
        .send()
        .await
        .expect("fetch presigned");
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.bytes().await.expect("bytes").to_vec(), pdf);

    let short = blobs
        .presign_get("invoices/2026/11/r-1.pdf", Duration::from_secs(60))
        .await
        .expect("presign");
    assert!(short.contains("X-Amz-Expires=60"), "{short}");

    // The links-only presigner of `api` and `portal` (no S3 client): its URL fetches the same
    // object, and it neither reads nor writes.
    let links = praxis_shared::adapters::aws::S3Presigner::new(&config, bucket.clone());
    let url = links
        .presign_get("invoices/2026/11/r-1.pdf", Duration::from_secs(24 * 3600))
        .await
        .expect("presign");
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    let fetched = praxis_shared::http::client_builder()
        .build()
        .expect("client")
        .get(&url)
        .send()
        .await
        .expect("fetch presigned");
    assert!(fetched.status().is_success(), "{}", fetched.status());
    assert_eq!(fetched.bytes().await.expect("bytes").to_vec(), pdf);
    assert!(links.get("invoices/2026/11/r-1.pdf").await.is_err());
    assert!(links.put("x", "text/plain", vec![]).await.is_err());
}

/// moto does not check signatures, so the presigner's are checked against the S3 client's
/// own `presigned` (the oracle), for the same credentials, time and key: at AWS
/// (virtual-hosted) and at an emulator's endpoint (path-style), with a session token.
#[tokio::test]
async fn presigned_links_are_signed_as_the_s3_client_signs_them() {
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_sdk_s3::presigning::PresigningConfig;
    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("session/token+with=chars".into()),
        None,
        "test",
    );
    let at = std::time::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let key = "invoices/01M8HD9ZFJ67DX4VJX619DH8AG/2026-11/2026-000123.pdf";
    for endpoint in [None, Some("http://127.0.0.1:5000")] {
        let mut builder = SdkConfig::builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .region(aws_config::Region::new("eu-central-1"))
            .behavior_version(aws_config::BehaviorVersion::latest());
        if let Some(e) = endpoint {
            builder = builder.endpoint_url(e);
        }
        let config = builder.build();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(endpoint.is_some())
                .build(),
        );
        let oracle = s3
            .get_object()
            .bucket("praxis-sms-blobs")
            .key(key)
            .presigned(
                PresigningConfig::builder()
                    .start_time(at)
                    .expires_in(Duration::from_secs(900))
                    .build()
                    .expect("presigning config"),
            )
            .await
            .expect("oracle presign")
            .uri()
            .to_owned();
        let ours = praxis_shared::adapters::aws::S3Presigner::with_endpoint(
            &config,
            "praxis-sms-blobs".into(),
            endpoint.map(str::to_owned),
        )
        .presign_at(key, Duration::from_secs(900), at)
        .await
        .expect("presign");
        let split = |u: &str| {
            let (base, query) = u.split_once('?').expect("a query");
            let mut params: Vec<String> = query.split('&').map(str::to_owned).collect();
            params.sort();
            (base.to_owned(), params)
        };
        assert_eq!(split(&ours), split(&oracle), "ours {ours}\noracle {oracle}");
    }
}
