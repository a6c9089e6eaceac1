//! The invoice computation: a practice's month, its prices and its usage in, the lines and
//! totals out. Pure and in integer cents; the PDF and the e-invoice XML are both printed from
//! what this returns, never computed again.
//!
//! The first 30 days from activation are free (the FAQ: "Der erste Monat wird nicht
//! abgerechnet"): every item of those days still appears, and a credit line below it takes it
//! back, so the practice sees what the month would have cost. Fees are prorated by days: the
//! days of the month the practice was active (from its activation on), and of those, the
//! days outside the free window are charged. docs/invoices.md has the worked examples.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::config::Prices;
use crate::domain::money::Cents;
use crate::domain::month::Month;

/// The free window's length from the activation day (that day included).
pub const FREE_DAYS: i64 = 30;
/// The one VAT rate invoices carry (Regelsteuersatz).
pub const VAT_PERCENT: i64 = 19;

/// SMS parts and messages handed to a carrier on one day (UTC), as the store counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyUsage {
    pub day: NaiveDate,
    pub parts: u64,
    pub messages: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    BaseFee,
    SmsParts,
    ReplyNumber,
    /// Takes back what the free window's days of the item above cost.
    Credit,
}

/// One row of the invoice: `quantity × unit_price = total`, exactly. Credits have a negative
/// quantity and a positive unit price (EN 16931 forbids negative prices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i64,
    /// `Monat` or `SMS-Teil`; the e-invoice's unit code follows from `kind`.
    pub unit: String,
    pub unit_price: Cents,
    pub total: Cents,
}

/// What a practice owes for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Computed {
    pub month: Month,
    /// The service period (Leistungszeitraum): from the month's start or the activation day,
    /// whichever is later, to the month's end.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The last free day, if the free window reaches into this month.
    pub free_until: Option<NaiveDate>,
    pub lines: Vec<Line>,
    pub parts: u64,
    pub messages: u64,
    pub net: Cents,
    pub vat_percent: i64,
    pub vat: Cents,
    pub gross: Cents,
}

/// What [`compute`] needs of a practice.
#[derive(Debug, Clone, Copy)]
pub struct Billed<'a> {
    pub activated_on: NaiveDate,
    pub has_reply_number: bool,
    pub prices: &'a Prices,
}

/// The month's invoice, or `None` if the practice was not yet active in it.
pub fn compute(month: Month, who: Billed<'_>, usage: &[DailyUsage]) -> Option<Computed> {
    if who.activated_on > month.last_day() {
        return None;
    }
    let start = who.activated_on.max(month.first_day());
    let end = month.last_day();
    let last_free = who.activated_on + Duration::days(FREE_DAYS - 1);
    let is_free = |day: NaiveDate| day >= who.activated_on && day <= last_free;
    let month_days = month.days();
    let active_days = (end - start).num_days() + 1;
    let free_days = if last_free < start {
        0
    } else {
        (last_free.min(end) - start).num_days() + 1
    };
    let charged_days = active_days - free_days;
    let free_until = (free_days > 0).then_some(last_free);
    let in_month = usage
        .iter()
        .filter(|u| month.contains(u.day) && u.day >= start);
    let (parts, messages, free_parts) = in_month.fold((0u64, 0u64, 0u64), |(p, m, f), u| {
        (
            p + u.parts,
            m + u.messages,
            f + if is_free(u.day) { u.parts } else { 0 },
        )
    });

    let prorated = || -> String {
        if active_days == month_days {
            String::new()
        } else {
            format!(" (anteilig {active_days} von {month_days} Tagen)")
        }
    };
    let free_note = |what: &str| match free_until {
        Some(until) => format!(
            "Gutschrift erster Monat: {what} bis {}",
            until.format("%d.%m.%Y")
        ),
        None => String::new(),
    };
    let mut lines = Vec::new();
    let fee = |lines: &mut Vec<Line>, kind: LineKind, name: &str, monthly: Cents| {
        let shown = monthly.ratio(active_days, month_days);
        let charged = monthly.ratio(charged_days, month_days);
        lines.push(Line {
            kind,
            description: format!("{name} {}{}", month.german(), prorated()),
            quantity: 1,
            unit: "Monat".into(),
            unit_price: shown,
            total: shown,
        });
        let credit = shown - charged;
        if credit != Cents::ZERO {
            lines.push(Line {
                kind: LineKind::Credit,
                description: format!("{} ({free_days} Tage)", free_note(name)),
                quantity: -1,
                unit: "Monat".into(),
                unit_price: credit,
                total: -credit,
            });
        }
    };
    fee(
        &mut lines,
        LineKind::BaseFee,
        "Grundgebühr",
        who.prices.base_fee,
    );
    let parts_i = i64::try_from(parts).unwrap_or(i64::MAX);
    let free_parts_i = i64::try_from(free_parts).unwrap_or(i64::MAX);
    lines.push(Line {
        kind: LineKind::SmsParts,
        description: format!("SMS-Versand {} ({messages} Nachrichten)", month.german()),
        quantity: parts_i,
        unit: "SMS-Teil".into(),
        unit_price: who.prices.per_part,
        total: who.prices.per_part.times(parts_i),
    });
    if free_parts > 0 {
        lines.push(Line {
            kind: LineKind::Credit,
            description: free_note(&format!("{free_parts} SMS-Teile")),
            quantity: -free_parts_i,
            unit: "SMS-Teil".into(),
            unit_price: who.prices.per_part,
            total: -who.prices.per_part.times(free_parts_i),
        });
    }
    if who.has_reply_number {
        fee(
            &mut lines,
            LineKind::ReplyNumber,
            "Antwort-Rufnummer",
            who.prices.reply_number_fee,
        );
    }

    let net: Cents = lines.iter().map(|l| l.total).sum();
    let vat = net.percent(VAT_PERCENT);
    Some(Computed {
        month,
        period_start: start,
        period_end: end,
        free_until,
        lines,
        parts,
        messages,
        net,
        vat_percent: VAT_PERCENT,
        vat,
        gross: net + vat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn month(s: &str) -> Month {
        Month::parse(s).expect("month")
    }

    const PRICES: Prices = Prices {
        base_fee: Cents::new(2900),
        per_part: Cents::new(9),
        reply_number_fee: Cents::new(500),
    };

    fn billed(activated_on: NaiveDate, reply: bool) -> Billed<'static> {
        Billed {
            activated_on,
            has_reply_number: reply,
            prices: &PRICES,
        }
    }

    fn usage(day: NaiveDate, parts: u64, messages: u64) -> DailyUsage {
        DailyUsage {
            day,
            parts,
            messages,
        }
    }

    fn kinds(c: &Computed) -> Vec<(LineKind, i64, i64)> {
        c.lines
            .iter()
            .map(|l| (l.kind, l.quantity, l.total.get()))
            .collect()
    }

    fn assert_consistent(c: &Computed) {
        for l in &c.lines {
            assert_eq!(l.unit_price.times(l.quantity), l.total, "{l:?}");
            assert!(l.unit_price >= Cents::ZERO, "{l:?}");
        }
        assert_eq!(c.lines.iter().map(|l| l.total).sum::<Cents>(), c.net);
        assert_eq!(c.net + c.vat, c.gross);
    }

    #[test]
    fn a_long_active_practice_pays_base_fee_parts_and_reply_number() {
        let used = [usage(d(2026, 11, 3), 1, 1), usage(d(2026, 11, 20), 3, 2)];
        let c = compute(month("2026-11"), billed(d(2024, 1, 1), true), &used).expect("active");
        assert_eq!(
            kinds(&c),
            [
                (LineKind::BaseFee, 1, 2900),
                (LineKind::SmsParts, 4, 36),
                (LineKind::ReplyNumber, 1, 500)
            ]
        );
        assert_eq!((c.parts, c.messages), (4, 3));
        assert_eq!((c.net.get(), c.vat.get(), c.gross.get()), (3436, 653, 4089)); // VAT 652.84
        assert_eq!(
            (c.period_start, c.period_end),
            (d(2026, 11, 1), d(2026, 11, 30))
        );
        assert_eq!(c.free_until, None);
        assert_consistent(&c);
    }

    #[test]
    fn a_practice_activated_mid_month_gets_everything_credited() {
        let used = [usage(d(2026, 11, 15), 5, 5), usage(d(2026, 11, 30), 2, 1)];
        let c = compute(month("2026-11"), billed(d(2026, 11, 15), true), &used).expect("active");
        // 16 of 30 days: 29.00 × 16/30 = 15.4667 → 15.47; reply number 5.00 × 16/30 → 2.67.
        assert_eq!(
            kinds(&c),
            [
                (LineKind::BaseFee, 1, 1547),
                (LineKind::Credit, -1, -1547),
                (LineKind::SmsParts, 7, 63),
                (LineKind::Credit, -7, -63),
                (LineKind::ReplyNumber, 1, 267),
                (LineKind::Credit, -1, -267),
            ]
        );
        assert_eq!(
            (c.net, c.vat, c.gross),
            (Cents::ZERO, Cents::ZERO, Cents::ZERO)
        );
        assert_eq!(c.period_start, d(2026, 11, 15));
        assert_eq!(c.free_until, Some(d(2026, 12, 14)));
        assert!(
            c.lines[0].description.contains("anteilig 16 von 30 Tagen"),
            "{:?}",
            c.lines[0]
        );
        assert!(
            c.lines[1].description.contains("bis 14.12.2026"),
            "{:?}",
            c.lines[1]
        );
        assert_consistent(&c);
    }

    #[test]
    fn the_month_the_free_window_ends_in_charges_the_days_after_it() {
        // Free until 14 December: 14 of 31 days credited, 17 charged.
        let used = [usage(d(2026, 12, 14), 10, 10), usage(d(2026, 12, 15), 3, 3)];
        let c = compute(month("2026-12"), billed(d(2026, 11, 15), false), &used).expect("active");
        let charged_base = Cents::new(2900).ratio(17, 31); // 15.90
        assert_eq!(charged_base, Cents::new(1590));
        assert_eq!(
            kinds(&c),
            [
                (LineKind::BaseFee, 1, 2900),
                (LineKind::Credit, -1, -(2900 - 1590)),
                (LineKind::SmsParts, 13, 117),
                (LineKind::Credit, -10, -90),
            ]
        );
        assert_eq!(c.net, Cents::new(1590 + 27));
        assert_consistent(&c);
    }

    #[test]
    fn free_window_across_a_leap_day() {
        // Activated 1 February 2028 (29 days): the window is 1 Feb to 1 March.
        let feb = compute(month("2028-02"), billed(d(2028, 2, 1), false), &[]).expect("active");
        assert_eq!(feb.net, Cents::ZERO);
        assert_eq!(feb.free_until, Some(d(2028, 3, 1)));
        let mar = compute(
            month("2028-03"),
            billed(d(2028, 2, 1), false),
            &[usage(d(2028, 3, 1), 2, 1)],
        )
        .expect("active");
        // 1 of 31 days free; the parts of 1 March free.
        assert_eq!(
            kinds(&mar)[..2],
            [(LineKind::BaseFee, 1, 2900), (LineKind::Credit, -1, -94)]
        );
        assert_eq!(mar.net, Cents::new(2900 - 94));
        // In a common year the same activation's window runs to 2 March.
        let mar_common =
            compute(month("2026-03"), billed(d(2026, 2, 1), false), &[]).expect("active");
        assert_eq!(mar_common.free_until, Some(d(2026, 3, 2)));
        assert_consistent(&mar);
    }

    #[test]
    fn activation_on_the_last_day_of_a_month() {
        let c = compute(month("2026-01"), billed(d(2026, 1, 31), false), &[]).expect("active");
        assert_eq!(
            (c.period_start, c.period_end),
            (d(2026, 1, 31), d(2026, 1, 31))
        );
        assert_eq!(kinds(&c)[0], (LineKind::BaseFee, 1, 94)); // 29.00 / 31
        assert_eq!(c.net, Cents::ZERO);
        // February 2026: the window (31 Jan to 1 Mar) covers it all.
        let feb = compute(month("2026-02"), billed(d(2026, 1, 31), false), &[]).expect("active");
        assert_eq!(feb.net, Cents::ZERO);
        assert_eq!(
            kinds(&feb)[..2],
            [(LineKind::BaseFee, 1, 2900), (LineKind::Credit, -1, -2900)]
        );
    }

    #[test]
    fn no_usage_at_all_is_the_base_fee_alone() {
        let c = compute(month("2026-11"), billed(d(2025, 5, 5), false), &[]).expect("active");
        assert_eq!(
            kinds(&c),
            [(LineKind::BaseFee, 1, 2900), (LineKind::SmsParts, 0, 0)]
        );
        assert_eq!((c.net.get(), c.vat.get(), c.gross.get()), (2900, 551, 3451));
    }

    #[test]
    fn a_practice_activated_after_the_month_gets_no_invoice() {
        assert_eq!(
            compute(month("2026-11"), billed(d(2026, 12, 1), true), &[]),
            None
        );
        assert!(compute(month("2026-11"), billed(d(2026, 11, 30), true), &[]).is_some());
    }

    #[test]
    fn usage_of_other_months_is_not_billed() {
        let used = [
            usage(d(2026, 10, 31), 100, 100),
            usage(d(2026, 12, 1), 100, 100),
        ];
        let c = compute(month("2026-11"), billed(d(2024, 1, 1), false), &used).expect("active");
        assert_eq!(c.parts, 0);
    }
}
