//! Money: integer euro cents and the one rounding rule every amount is computed with (half
//! away from zero, as commercial rounding in Germany). No floating point anywhere in the money
//! path: a price, a prorated fee and the VAT are all cents from start to end.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Neg, Sub};

use serde::{Deserialize, Serialize};

/// An amount in euro cents; negative for credits.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Cents(i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn new(cents: i64) -> Cents {
        Cents(cents)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// `self × count`, e.g. a unit price times a quantity.
    pub fn times(self, count: i64) -> Cents {
        Cents(self.0 * count)
    }

    /// `self × numerator / denominator`, rounded half away from zero: a fee prorated by days.
    /// `denominator` must not be zero (a month has days; a caller with zero has a bug).
    pub fn ratio(self, numerator: i64, denominator: i64) -> Cents {
        assert!(denominator > 0, "a ratio needs a positive denominator");
        Cents(div_round_half_away(
            i128::from(self.0) * i128::from(numerator),
            i128::from(denominator),
        ))
    }

    /// `percent` % of the amount, rounded half away from zero: the VAT of a net amount.
    pub fn percent(self, percent: i64) -> Cents {
        self.ratio(percent, 100)
    }

    /// `12.34`, `-0.50`: the decimal form e-invoices (CII) and machines read.
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// `1.234,56 €`, `-0,50 €`: how a German reader expects an amount.
    pub fn german(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let euros = (abs / 100).to_string();
        let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
        for (i, c) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped},{:02}\u{a0}€", abs % 100)
    }
}

/// `n / d` rounded half away from zero, for `d > 0`.
fn div_round_half_away(n: i128, d: i128) -> i64 {
    let q = (2 * n.abs() + d) / (2 * d);
    let q = if n < 0 { -q } else { q };
    // Amounts here are fees and counts of SMS parts; an i64 of cents is 92 quadrillion euros.
    i64::try_from(q).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
}

impl Add for Cents {
    type Output = Cents;
    fn add(self, o: Cents) -> Cents {
        Cents(self.0 + o.0)
    }
}

impl Sub for Cents {
    type Output = Cents;
    fn sub(self, o: Cents) -> Cents {
        Cents(self.0 - o.0)
    }
}

impl Neg for Cents {
    type Output = Cents;
    fn neg(self) -> Cents {
        Cents(-self.0)
    }
}

impl Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Add::add)
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.german())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_round_half_away_from_zero() {
        assert_eq!(Cents::new(2900).ratio(16, 30), Cents::new(1547)); // 1546.67
        assert_eq!(Cents::new(1).ratio(1, 2), Cents::new(1)); // 0.5 up
        assert_eq!(Cents::new(-1).ratio(1, 2), Cents::new(-1)); // -0.5 away from zero
        assert_eq!(Cents::new(3).ratio(1, 3), Cents::new(1));
        assert_eq!(Cents::new(2900).ratio(0, 31), Cents::ZERO);
        assert_eq!(Cents::new(2900).ratio(31, 31), Cents::new(2900));
    }

    #[test]
    fn vat_is_rounded_to_the_cent() {
        assert_eq!(Cents::new(4236).percent(19), Cents::new(805)); // 804.84
        assert_eq!(Cents::new(50).percent(19), Cents::new(10)); // 9.5 up
        assert_eq!(Cents::ZERO.percent(19), Cents::ZERO);
    }

    #[test]
    fn amounts_print_for_machines_and_for_germans() {
        assert_eq!(Cents::new(123456).decimal(), "1234.56");
        assert_eq!(Cents::new(-50).decimal(), "-0.50");
        assert_eq!(Cents::new(5).decimal(), "0.05");
        assert_eq!(Cents::new(123456).german(), "1.234,56\u{a0}€");
        assert_eq!(Cents::new(-50).german(), "-0,50\u{a0}€");
        assert_eq!(Cents::new(100_000_000).german(), "1.000.000,00\u{a0}€");
        assert_eq!(Cents::ZERO.german(), "0,00\u{a0}€");
    }
}
