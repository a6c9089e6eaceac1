//! Übersicht: this month's SMS and parts, the delivery rate, and a server-rendered SVG chart
//! of the last 30 days (zugestellt / nicht ausgeliefert / offen per day).

use axum::extract::State;
use chrono::{Duration, NaiveDate};
use maud::{Markup, html};
use praxis_shared::domain::{Month, Status};

use crate::Portal;
use crate::error::PortalError;
use crate::layout::{self, Nav, percent};
use crate::pages::messages::{Filter, find};
use crate::session::Signed;

/// Messages read for the chart at most (a busy practice sends a few hundred a day).
const CHART_MAX: usize = 50_000;
const DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    pub delivered: u32,
    pub undelivered: u32,
    pub open: u32,
}

pub async fn page(State(portal): State<Portal>, signed: Signed) -> Result<Markup, PortalError> {
    let svc = &portal.svc;
    let now = svc.clock.now();
    let today = layout::berlin(now).date();
    let month = Month::of(today);
    let usage = svc.store.usage(signed.org.id, month).await?;
    let (sms, parts) = usage
        .iter()
        .fold((0, 0), |(m, p), d| (m + d.messages, p + d.parts));

    let first = today - Duration::days(DAYS - 1);
    let filter = Filter::since(first);
    let (messages, _) = find(svc, &signed.org, &filter, CHART_MAX).await?;
    let mut days = vec![Day::default(); DAYS as usize];
    for m in &messages {
        let day = layout::berlin(m.created_at).date();
        let Ok(i) = usize::try_from((day - first).num_days()) else {
            continue;
        };
        if let Some(d) = days.get_mut(i) {
            match m.status {
                Status::Delivered => d.delivered += 1,
                Status::Undelivered => d.undelivered += 1,
                _ => d.open += 1,
            }
        }
    }
    let delivered: u64 = days.iter().map(|d| u64::from(d.delivered)).sum();
    let undelivered: u64 = days.iter().map(|d| u64::from(d.undelivered)).sum();
    let content = html! {
        div.stats {
            div.stat { span.value { (sms) } span.label { "SMS im " (month.german()) } }
            div.stat { span.value { (parts) } span.label { "abgerechnete Teile im " (month.german()) } }
            div.stat { span.value { (percent(delivered, delivered + undelivered)) } span.label { "zugestellt (letzte 30 Tage)" } }
        }
        h2 { "Die letzten 30 Tage" }
        figure.chart {
            (layout::svg(chart(&days, first)))
            figcaption {
                span.key.delivered { "zugestellt" }
                span.key.undelivered { "nicht ausgeliefert" }
                span.key.open { "offen" }
            }
        }
        p { a href="/sms" { "Alle SMS ansehen →" } }
    };
    Ok(layout::page("Übersicht", &signed, Nav::Overview, content))
}

/// A stacked bar per day; the numbers are the only input, so the SVG holds nothing a user
/// typed. It carries its own title and a text description for screen readers.
pub fn chart(days: &[Day], first: NaiveDate) -> String {
    use std::fmt::Write as _;
    let (w, h, pad_left, pad_bottom) = (720.0_f64, 220.0_f64, 36.0_f64, 22.0_f64);
    let max = days
        .iter()
        .map(|d| d.delivered + d.undelivered + d.open)
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_h = h - pad_bottom - 8.0;
    let slot = (w - pad_left) / days.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let total: u32 = days
        .iter()
        .map(|d| d.delivered + d.undelivered + d.open)
        .sum();
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-title\" \
         class=\"bars\"><title id=\"chart-title\">SMS pro Tag, \
         letzte 30 Tage: {total} insgesamt</title>"
    );
    for frac in [0.0, 0.5, 1.0] {
        let y = 8.0 + plot_h * (1.0 - frac);
        let label = (f64::from(max) * frac).round();
        let _ = write!(
            s,
            "<line x1=\"{pad_left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{label}</text>",
            pad_left - 6.0,
            y + 4.0
        );
    }
    for (i, d) in days.iter().enumerate() {
        let x = pad_left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = 8.0 + plot_h;
        for (count, class) in [
            (d.delivered, "delivered"),
            (d.undelivered, "undelivered"),
            (d.open, "open"),
        ] {
            if count == 0 {
                continue;
            }
            let bh = plot_h * f64::from(count) / f64::from(max);
            y -= bh;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" class=\"{class}\"/>"
            );
        }
        if i % 5 == 0 || i == days.len() - 1 {
            let day = first + Duration::days(i as i64);
            // The last label ends at its bar, so it stays inside the picture.
            let (anchor, at) = if i == days.len() - 1 {
                ("end", x + bar)
            } else {
                ("middle", x + bar / 2.0)
            };
            let _ = write!(
                s,
                "<text x=\"{at:.1}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"{anchor}\">{}</text>",
                h - 6.0,
                day.format("%d.%m.")
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_per_status_of_a_day() {
        let mut days = vec![Day::default(); 30];
        days[3] = Day {
            delivered: 4,
            undelivered: 1,
            open: 2,
        };
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
        let svg = chart(&days, first);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("7 insgesamt"));
        assert!(svg.contains("01.11."));
    }
}
