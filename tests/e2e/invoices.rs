//! Monthly invoices end to end: messages sent through the API are counted once, `praxis-sms
//! invoices run` makes one invoice per practice whose totals agree in the JSON, the API, the
//! PDF's text and its Factur-X XML; a second run changes nothing; the PDF comes through a
//! presigned URL (moto's S3 on `--backend aws`), to its practice only; the e-mail's link works
//! without an API key.

use std::path::Path;
use std::process::Command;

use chrono::Utc;
use praxis_shared::domain::Month;
use serde_json::{Value, json};

use crate::helpers::{SETTLE, Stack, id_of, on_aws, parse_eml};

/// `pdf` as a file, for the tools that read files.
fn pdf_file(pdf: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rechnung.pdf");
    std::fs::write(&path, pdf).expect("write");
    (dir, path)
}

/// The text of a PDF, as `pdftotext` (poppler) reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let (_dir, path) = pdf_file(pdf);
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

/// tests/facturx_check.py's report on the PDF, unless skipped on purpose.
fn facturx(pdf: &[u8]) -> Option<Value> {
    if std::env::var("PRAXIS_SKIP_ORACLES").as_deref() == Ok("1") {
        return None;
    }
    let python = std::env::var("PRAXIS_FACTURX_PYTHON")
        .expect("PRAXIS_FACTURX_PYTHON (scripts/test.sh sets it), or PRAXIS_SKIP_ORACLES=1");
    let (_dir, path) = pdf_file(pdf);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/facturx_check.py");
    let out = Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .expect("run the check");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no report: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "Factur-X check failed: {report:#}");
    Some(report)
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    praxis_shared::http::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `GET path` with the practice's key, redirects not followed.
async fn get_pdf(stack: &Stack, key: &str, path: &str) -> reqwest::Response {
    no_redirects()
        .get(format!("{}{path}", stack.url))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
}

/// Follows a 302 by hand (the client does not follow redirects) and returns the PDF.
async fn download(res: reqwest::Response) -> Vec<u8> {
    assert_eq!(res.status().as_u16(), 302, "{:?}", res.headers());
    let location = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    if on_aws() {
        // The API hands out S3's own presigned URL (moto's endpoint here), not ours.
        let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
        assert!(location.starts_with(&endpoint), "{location}");
        assert!(location.contains("X-Amz-Signature"), "{location}");
    }
    let got = no_redirects()
        .get(&location)
        .send()
        .await
        .expect("presigned GET");
    assert_eq!(got.status().as_u16(), 200, "{location}");
    let bytes = got.bytes().await.expect("body").to_vec();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    bytes
}

/// An address no other test's practice has: moto's SES records every stack's mail together.
fn unique_email() -> String {
    let mut raw = [0u8; 4];
    getrandom::fill(&mut raw).expect("random");
    format!("rechnung-{}@example.org", hex::encode(raw))
}

#[tokio::test]
async fn a_month_is_invoiced_once_with_totals_that_agree_everywhere() {
    let stack = Stack::start();
    let email = unique_email();
    let old = stack.cli(&[
        "org",
        "create",
        "--name",
        "Zahnarztpraxis Dr. Müller",
        "--email",
        &email,
        "--reply-number",
        "0151 12349876",
        "--activated",
        "2024-01-01",
        "--address",
        "Königsallee 1, 40212 Düsseldorf",
    ]);
    let key = old["api_key"].as_str().expect("key").to_owned();
    let today = Utc::now().date_naive().to_string();
    let new = stack.cli(&[
        "org",
        "create",
        "--name",
        "Praxis Neu",
        "--email",
        &unique_email(),
        "--sender",
        "PraxisNeu",
        "--activated",
        &today,
        "--address",
        "Ring 2, 12345 Neustadt",
    ]);
    let new_key = new["api_key"].as_str().expect("key").to_owned();

    // Three messages of 1, 2 and 1 parts.
    let long = "Terminerinnerung: ".to_owned() + &"x".repeat(200);
    let mut ids = Vec::new();
    for text in ["Hallo", long.as_str(), "Bis morgen"] {
        let m = stack
            .post_as(
                &key,
                "/v1/messages",
                &json!({"to": "0176 12345678", "text": text}),
            )
            .await
            .expect(202);
        ids.push(id_of(&m));
    }
    let m = stack
        .post_as(
            &new_key,
            "/v1/messages",
            &json!({"to": "0176 12345679", "text": "Hallo"}),
        )
        .await
        .expect(202);
    ids.push(id_of(&m));
    for id in &ids[..3] {
        stack
            .wait_for_status_as(&key, id, |s| s == "delivered", SETTLE)
            .await;
    }
    stack
        .wait_for_status_as(&new_key, &ids[3], |s| s == "delivered", SETTLE)
        .await;

    let month = Month::of(Utc::now().date_naive()).to_string();
    // Only this test's practices: the demo practice's address is every stack's.
    let (old_id, new_id) = (
        old["id"].as_str().expect("id").to_owned(),
        new["id"].as_str().expect("id").to_owned(),
    );
    let run_args = [
        "invoices",
        "run",
        "--month",
        &month,
        "--public-url",
        &stack.url,
        "--org",
        &old_id,
        "--org",
        &new_id,
    ];
    let run = stack.cli_lines(&run_args);
    let summary = run.last().expect("summary");
    assert_eq!(summary["event"], "invoices_run");
    let of = |org: &Value| {
        run.iter()
            .find(|o| o["invoice"]["org_id"] == org["id"])
            .unwrap_or_else(|| panic!("no invoice for {org} in {run:?}"))
            .clone()
    };
    let inv = of(&old);
    assert_eq!(inv["outcome"], "created", "{inv}");
    // 4 parts × 0.09 + 29.00 base fee + 5.00 reply number = 34.36; 19 % = 6.53.
    assert_eq!(
        (
            &inv["invoice"]["net_cents"],
            &inv["invoice"]["vat_cents"],
            &inv["invoice"]["gross_cents"]
        ),
        (&json!(3436), &json!(653), &json!(4089)),
        "{inv}"
    );
    let fresh = of(&new);
    assert_eq!(fresh["invoice"]["gross_cents"], 0, "{fresh}");

    // The API lists it with the same figures.
    let list = stack.get_as(&key, "/v1/invoices").await.expect(200);
    let listed = &list["invoices"][0];
    assert_eq!(list["invoices"].as_array().map(Vec::len), Some(1), "{list}");
    for field in [
        "id",
        "number",
        "month",
        "net_cents",
        "vat_cents",
        "gross_cents",
    ] {
        assert_eq!(listed[field], inv["invoice"][field], "{field}: {list}");
    }
    assert!(listed["created_at"].is_string());
    let id = listed["id"].as_str().expect("id").to_owned();
    let number = listed["number"].as_str().expect("number").to_owned();

    // The PDF, through the API's redirect: German, names the practice, the same totals.
    let res = get_pdf(&stack, &key, &format!("/v1/invoices/{id}/pdf")).await;
    let pdf = download(res).await;
    let text = pdf_text(&pdf);
    for expected in [
        &format!("Rechnung {number}") as &str,
        "Zahnarztpraxis Dr. Müller",
        "Königsallee 1",
        "Leistungszeitraum",
        "Grundgebühr",
        "Antwort-Rufnummer",
        "34,36 €",
        "6,53 €",
        "40,89 €",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    if let Some(report) = facturx(&pdf) {
        assert_eq!(report["number"], number.as_str());
        assert_eq!(
            (
                report["net_cents"].clone(),
                report["vat_cents"].clone(),
                report["gross_cents"].clone()
            ),
            (json!(3436), json!(653), json!(4089))
        );
        assert_eq!(report["schematron_failed"], 0);
    }

    // The free month: 0,00 € with the credits.
    let fresh_list = stack.get_as(&new_key, "/v1/invoices").await.expect(200);
    let fresh_id = fresh_list["invoices"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let res = get_pdf(&stack, &new_key, &format!("/v1/invoices/{fresh_id}/pdf")).await;
    let fresh_text = pdf_text(&download(res).await);
    assert!(
        fresh_text.contains("Gutschrift erster Monat"),
        "{fresh_text}"
    );
    assert!(
        fresh_text.contains("Es ist nichts zu zahlen."),
        "{fresh_text}"
    );

    // Another practice's invoice is not found; neither is a malformed id.
    stack
        .get_as(&new_key, &format!("/v1/invoices/{id}/pdf"))
        .await
        .expect(404);
    stack
        .get_as(&key, "/v1/invoices/nonsense/pdf")
        .await
        .expect(404);

    // A second run changes nothing.
    let again = stack.cli_lines(&run_args);
    assert_eq!(again.last().expect("summary")["created"], 0, "{again:?}");
    let relisted = stack.get_as(&key, "/v1/invoices").await.expect(200);
    assert_eq!(relisted, list);

    // The e-mail's link downloads the PDF without an API key.
    let mails = stack.emails_to(&email).await;
    let mail = mails
        .iter()
        .map(|m| parse_eml(m))
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains(&number)))
        .unwrap_or_else(|| panic!("no e-mail for {number}"));
    assert_eq!(
        mails
            .iter()
            .filter(|m| parse_eml(m)["subject"] == mail["subject"])
            .count(),
        1
    );
    let body = mail["text"].as_str().expect("text");
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with(&stack.url) && w.contains("/invoices/"))
        .unwrap_or_else(|| panic!("no link in {body}"));
    let res = no_redirects().get(link).send().await.expect("link");
    assert_eq!(download(res).await, pdf);
    // A tampered link is refused.
    let tampered = link.replace("signature=", "signature=00");
    let res = no_redirects().get(tampered).send().await.expect("link");
    assert_eq!(res.status().as_u16(), 403);
}
