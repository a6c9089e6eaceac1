//! The AWS SDK clients go through the proxy the environment names (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `NO_PROXY`), as the SDK's default HTTPS client does: an operator behind a
//! proxy can still run `praxis-sms aws bootstrap`. Its own test binary, since it sets the
//! process's environment before anything reads it.

#![cfg(feature = "aws")]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[tokio::test]
async fn sdk_requests_go_through_the_proxy_from_the_environment() {
    // A "proxy" on loopback that records the first request line and answers 503.
    let proxy = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = proxy.local_addr().expect("addr");
    let seen = tokio::spawn(async move {
        let (mut conn, _) = proxy.accept().await.expect("accept");
        let mut buf = vec![0u8; 4096];
        let n = conn.read(&mut buf).await.expect("read");
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        let _ = conn
            .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
            .await;
        head
    });
    // SAFETY: this test binary has one test, and nothing else runs before these are set.
    unsafe {
        for var in [
            "NO_PROXY",
            "no_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("HTTP_PROXY", format!("http://{addr}"));
        std::env::set_var(
            "AWS_ENDPOINT_URL",
            "http://dynamodb.praxis-proxy-test.invalid",
        );
        std::env::set_var("AWS_REGION", "eu-central-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_MAX_ATTEMPTS", "1");
    }
    let config = praxis_shared::adapters::aws::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    // The host does not resolve: without the proxy this fails in DNS, never reaching it.
    let result = client.list_tables().send().await;
    assert!(result.is_err(), "the proxy answered 503");
    let head = tokio::time::timeout(Duration::from_secs(10), seen)
        .await
        .expect("the request reached the proxy")
        .expect("proxy task");
    let first = head.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("POST http://dynamodb.praxis-proxy-test.invalid/"),
        "request line at the proxy: {first:?}"
    );
}
