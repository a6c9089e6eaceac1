//! The "Key-Check" button and key rotation: which keys open the API and which get 401.

use reqwest::Method;

use crate::helpers::{Stack, send};

#[tokio::test]
async fn key_check_names_the_practice_for_bearer_and_x_api_key() {
    let stack = Stack::start();
    let bearer = stack.get("/v1/key-check").await.expect(200);
    assert_eq!(bearer["name"], "Demo-Praxis", "{bearer}");
    assert_eq!(bearer["default_sender"], "DemoPraxis", "{bearer}");

    let header = send(
        stack
            .unauthenticated(Method::GET, "/v1/key-check")
            .header("X-Api-Key", &stack.key),
    )
    .await
    .expect(200);
    assert_eq!(header["name"], "Demo-Praxis", "{header}");
    assert_eq!(header["default_sender"], "DemoPraxis", "{header}");
}

#[tokio::test]
async fn key_check_refuses_missing_malformed_and_unknown_keys() {
    let stack = Stack::start();
    // Same shape as a real key, one character changed.
    let mut unknown = stack.key.clone();
    let last = unknown.pop().expect("key");
    unknown.push(if last == 'A' { 'B' } else { 'A' });

    let calls = [
        (
            "no key",
            stack.unauthenticated(Method::GET, "/v1/key-check"),
        ),
        (
            "empty bearer",
            stack
                .unauthenticated(Method::GET, "/v1/key-check")
                .header("Authorization", "Bearer "),
        ),
        (
            "basic auth",
            stack
                .unauthenticated(Method::GET, "/v1/key-check")
                .basic_auth("praxis", Some(&stack.key)),
        ),
        (
            "malformed bearer",
            stack.req_as("not-a-key", Method::GET, "/v1/key-check"),
        ),
        (
            "malformed x-api-key",
            stack
                .unauthenticated(Method::GET, "/v1/key-check")
                .header("X-Api-Key", "pxs_short"),
        ),
        (
            "unknown bearer",
            stack.req_as(&unknown, Method::GET, "/v1/key-check"),
        ),
        (
            "unknown x-api-key",
            stack
                .unauthenticated(Method::GET, "/v1/key-check")
                .header("X-Api-Key", &unknown),
        ),
    ];
    for (what, rb) in calls {
        let r = send(rb).await;
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(r.error()["code"], "unauthorized", "{what}: {}", r.body);
    }
}

#[tokio::test]
async fn a_revoked_key_gets_401_and_a_second_key_keeps_working() {
    let stack = Stack::start();
    let org = stack.org_create("Praxis Dr. Weiß", &["--sender", "PraxisWeiss"]);
    let first = org["api_key"].as_str().expect("api_key").to_owned();
    let first_id = org["api_key_id"].as_str().expect("api_key_id").to_owned();
    let org_id = org["id"].as_str().expect("id").to_owned();

    let check = stack.get_as(&first, "/v1/key-check").await.expect(200);
    assert_eq!(check["name"], "Praxis Dr. Weiß", "{check}");
    assert_eq!(check["default_sender"], "PraxisWeiss", "{check}");

    let second = stack.cli(&["key", "create", "--org", &org_id]);
    let second = second["api_key"].as_str().expect("api_key").to_owned();
    assert_ne!(second, first);
    let check = stack.get_as(&second, "/v1/key-check").await.expect(200);
    assert_eq!(check["name"], "Praxis Dr. Weiß", "{check}");

    stack.cli(&["key", "revoke", "--key-id", &first_id]);
    let r = stack.get_as(&first, "/v1/key-check").await;
    assert_eq!(r.status, 401, "revoked key still accepted: {}", r.body);
    r.error();
    let r = stack.get_as(&first, "/v1/messages").await;
    assert_eq!(r.status, 401, "revoked key still lists: {}", r.body);

    stack.get_as(&second, "/v1/key-check").await.expect(200);
    // The demo practice's key is untouched by another practice's rotation.
    stack.get("/v1/key-check").await.expect(200);
}
