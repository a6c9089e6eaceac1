//! What invoices are priced and issued with: the prices (with per-practice overrides) and the
//! seller's data §14 (4) UStG asks for. Read from JSON (a file or an environment variable, see
//! docs/invoices.md); `BillingConfig::example()` is the documented default,
//! docs/billing.example.json.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::OrgId;
use crate::domain::money::Cents;

/// Net prices in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    /// Grundgebühr, per month.
    pub base_fee: Cents,
    /// Per SMS part handed to a carrier.
    pub per_part: Cents,
    /// Per month, for a practice with a dedicated reply number.
    pub reply_number_fee: Cents,
}

/// A practice's own prices; what is left out is the standard price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    pub base_fee: Option<Cents>,
    pub per_part: Option<Cents>,
    pub reply_number_fee: Option<Cents>,
}

/// Who issues the invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seller {
    pub name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Umsatzsteuer-Identifikationsnummer (`DE123456789`).
    pub vat_id: Option<String>,
    /// Steuernummer, if there is no VAT id (or beside it).
    pub tax_number: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub bank: String,
    pub iban: String,
    pub bic: String,
    /// Days from the invoice date to the due date.
    pub payment_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    pub seller: Seller,
    pub prices: Prices,
    #[serde(default)]
    pub overrides: BTreeMap<OrgId, PriceOverride>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("billing configuration: {0}")]
    Json(#[from] serde_json::Error),
    #[error("billing configuration: {0}")]
    Invalid(&'static str),
}

impl BillingConfig {
    /// Parses and checks a configuration: an invoice without the seller's tax id, a price below
    /// zero or an IBAN without its country would be an invoice a bookkeeper sends back.
    pub fn from_json(json: &str) -> Result<BillingConfig, ConfigError> {
        let c: BillingConfig = serde_json::from_str(json)?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let s = &self.seller;
        let blank = |v: &str| v.trim().is_empty();
        if [
            &s.name,
            &s.street,
            &s.postcode,
            &s.city,
            &s.email,
            &s.bank,
            &s.bic,
        ]
        .iter()
        .any(|v| blank(v))
        {
            return Err(ConfigError::Invalid("every seller field must be filled in"));
        }
        if s.country.len() != 2 || !s.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Invalid("seller.country must be like DE"));
        }
        if s.vat_id.as_deref().is_none_or(blank) && s.tax_number.as_deref().is_none_or(blank) {
            return Err(ConfigError::Invalid(
                "the seller needs a vat_id or a tax_number (§14 UStG)",
            ));
        }
        let iban: String = s.iban.chars().filter(|c| !c.is_whitespace()).collect();
        if iban.len() < 15 || !iban[..2].bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ConfigError::Invalid("seller.iban is not an IBAN"));
        }
        let prices =
            std::iter::once(self.prices).chain(self.overrides.values().map(|o| self.apply(o)));
        for p in prices {
            if p.base_fee < Cents::ZERO
                || p.per_part < Cents::ZERO
                || p.reply_number_fee < Cents::ZERO
            {
                return Err(ConfigError::Invalid("prices must not be negative"));
            }
        }
        Ok(())
    }

    fn apply(&self, o: &PriceOverride) -> Prices {
        Prices {
            base_fee: o.base_fee.unwrap_or(self.prices.base_fee),
            per_part: o.per_part.unwrap_or(self.prices.per_part),
            reply_number_fee: o.reply_number_fee.unwrap_or(self.prices.reply_number_fee),
        }
    }

    /// The prices `org` pays.
    pub fn prices_for(&self, org: OrgId) -> Prices {
        match self.overrides.get(&org) {
            Some(o) => self.apply(o),
            None => self.prices,
        }
    }

    /// The IBAN without spaces, as the e-invoice wants it.
    pub fn iban_compact(&self) -> String {
        self.seller
            .iban
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    }

    /// The documented example (docs/invoices.md): what a local stack invoices with when it is
    /// given no configuration. Not a real company.
    pub fn example() -> BillingConfig {
        BillingConfig {
            seller: Seller {
                name: "praxis-sms GmbH".into(),
                street: "Musterstraße 12".into(),
                postcode: "10115".into(),
                city: "Berlin".into(),
                country: "DE".into(),
                vat_id: Some("DE123456789".into()),
                tax_number: Some("30/123/45678".into()),
                email: "rechnung@praxis-sms.example".into(),
                phone: Some("+49 30 1234567".into()),
                bank: "Musterbank Berlin".into(),
                iban: "DE02 1203 0000 0000 2020 51".into(),
                bic: "BYLADEM1001".into(),
                payment_days: 14,
            },
            prices: Prices {
                base_fee: Cents::new(2900),
                per_part: Cents::new(9),
                reply_number_fee: Cents::new(500),
            },
            overrides: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_a_valid_configuration_and_round_trips() {
        let json = serde_json::to_string(&BillingConfig::example()).expect("serializes");
        assert_eq!(
            BillingConfig::from_json(&json).ok(),
            Some(BillingConfig::example())
        );
    }

    #[test]
    fn the_documented_example_is_the_built_in_one() {
        let documented = include_str!("../../../../docs/billing.example.json");
        assert_eq!(
            BillingConfig::from_json(documented).ok(),
            Some(BillingConfig::example())
        );
    }

    #[test]
    fn a_seller_without_tax_id_is_refused() {
        let mut c = BillingConfig::example();
        c.seller.vat_id = None;
        c.seller.tax_number = Some(" ".into());
        let json = serde_json::to_string(&c).expect("serializes");
        assert!(BillingConfig::from_json(&json).is_err());
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let org = OrgId::new(chrono::Utc::now());
        let json = format!(
            r#"{{"seller":{},"prices":{{"base_fee":2900,"per_part":9,"reply_number_fee":500}},
               "overrides":{{"{org}":{{"per_part":7}}}}}}"#,
            serde_json::to_string(&BillingConfig::example().seller).expect("serializes")
        );
        let c = BillingConfig::from_json(&json).expect("valid");
        assert_eq!(c.prices_for(org).per_part, Cents::new(7));
        assert_eq!(c.prices_for(org).base_fee, Cents::new(2900));
        assert_eq!(
            c.prices_for(OrgId::new(chrono::Utc::now())).per_part,
            Cents::new(9)
        );
        assert!(
            BillingConfig::from_json(&json.replace("\"per_part\":7", "\"per_part\":-7")).is_err()
        );
        assert!(
            BillingConfig::from_json(&json.replace("\"per_part\":7", "\"per_parts\":7")).is_err()
        );
    }
}
