//! Monthly invoices: the computation (`compute`), the prices and seller (`config`), and the
//! stored invoice: its number, the practice and seller as they were when it was issued, and
//! the computed lines. A stored invoice is never rewritten; its PDF and e-invoice are printed
//! from it alone, so printing it again gives the same document.

pub mod compute;
pub mod config;

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use compute::{Billed, Computed, DailyUsage, Line, LineKind, compute};
pub use config::{BillingConfig, PriceOverride, Prices, Seller};

use super::ids::{InvoiceId, OrgId};
use super::month::Month;
use super::org::{Org, PostalAddress};

/// `2026-000123`: the year of issue and a counter that runs through the year. Numbers are
/// allocated in the same write that stores the invoice, so none is used twice and none is
/// skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvoiceNumber {
    year: i32,
    seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an invoice number like 2026-000123")]
pub struct InvalidInvoiceNumber;

impl InvoiceNumber {
    pub fn new(year: i32, seq: u64) -> InvoiceNumber {
        InvoiceNumber { year, seq }
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn seq(self) -> u64 {
        self.seq
    }
    pub fn parse(s: &str) -> Result<InvoiceNumber, InvalidInvoiceNumber> {
        let (y, n) = s.split_once('-').ok_or(InvalidInvoiceNumber)?;
        if y.len() != 4 || n.len() < 6 || !y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(InvalidInvoiceNumber);
        }
        Ok(InvoiceNumber {
            year: y.parse().map_err(|_| InvalidInvoiceNumber)?,
            seq: n.parse().map_err(|_| InvalidInvoiceNumber)?,
        })
    }
}

impl fmt::Display for InvoiceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:06}", self.year, self.seq)
    }
}

impl TryFrom<String> for InvoiceNumber {
    type Error = InvalidInvoiceNumber;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        InvoiceNumber::parse(&s)
    }
}

impl From<InvoiceNumber> for String {
    fn from(n: InvoiceNumber) -> String {
        n.to_string()
    }
}

/// The buyer as the invoice names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub org_id: OrgId,
    pub name: String,
    pub email: String,
    /// `None` for a practice created without `--address`: the invoice then names the
    /// practice only, which §14 does not accept for amounts over 250 € (docs/invoices.md).
    pub address: Option<PostalAddress>,
    /// ISO 3166-1 alpha-2, from the practice's region.
    pub country: String,
}

/// Everything the document shows, fixed when the invoice is issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDoc {
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub seller: Seller,
    pub buyer: Buyer,
    pub computed: Computed,
}

/// An invoice before the store gives it its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub id: InvoiceId,
    pub org_id: OrgId,
    pub month: Month,
    pub created_at: DateTime<Utc>,
    pub doc: InvoiceDoc,
}

/// A stored invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: InvoiceId,
    pub org_id: OrgId,
    pub month: Month,
    pub number: InvoiceNumber,
    pub created_at: DateTime<Utc>,
    pub doc: InvoiceDoc,
    /// When its PDF was stored and its e-mail handed to the mailer.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Invoice {
    /// Where its PDF is kept: under the practice and the month.
    pub fn pdf_key(&self) -> String {
        format!(
            "invoices/{}/{}/{}.pdf",
            self.org_id, self.month, self.number
        )
    }

    pub fn net(&self) -> crate::domain::money::Cents {
        self.doc.computed.net
    }
}

impl NewInvoice {
    /// The invoice of `org` for `month` issued at `now`, or `None` if the practice was not
    /// yet active in that month.
    pub fn issue(
        org: &Org,
        month: Month,
        config: &BillingConfig,
        usage: &[DailyUsage],
        now: DateTime<Utc>,
    ) -> Option<NewInvoice> {
        let prices = config.prices_for(org.id);
        let who = Billed {
            activated_on: org.activated_on,
            has_reply_number: org.reply_number.is_some(),
            prices: &prices,
        };
        let computed = compute(month, who, usage)?;
        let issue_date = now.date_naive();
        Some(NewInvoice {
            id: InvoiceId::new(now),
            org_id: org.id,
            month,
            created_at: now,
            doc: InvoiceDoc {
                issue_date,
                due_date: issue_date + Duration::days(i64::from(config.seller.payment_days)),
                seller: config.seller.clone(),
                buyer: Buyer {
                    org_id: org.id,
                    name: org.name.as_str().to_owned(),
                    email: org.email.as_str().to_owned(),
                    address: org.address.clone(),
                    country: org.region.as_str().to_owned(),
                },
                computed,
            },
        })
    }

    pub fn numbered(self, number: InvoiceNumber) -> Invoice {
        Invoice {
            id: self.id,
            org_id: self.org_id,
            month: self.month,
            number,
            created_at: self.created_at,
            doc: self.doc,
            delivered_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_year_and_six_digits() {
        assert_eq!(InvoiceNumber::new(2026, 123).to_string(), "2026-000123");
        assert_eq!(
            InvoiceNumber::new(2026, 1_234_567).to_string(),
            "2026-1234567"
        );
        assert_eq!(
            InvoiceNumber::parse("2026-000123"),
            Ok(InvoiceNumber::new(2026, 123))
        );
        assert!(InvoiceNumber::parse("2026-12").is_err());
        assert!(InvoiceNumber::parse("x026-000123").is_err());
    }
}
