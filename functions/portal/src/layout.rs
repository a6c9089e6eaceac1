//! The page shell: head, navigation (what the account's role may see), main content, and the
//! German formatting of times, numbers and statuses every page shares.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use praxis_shared::domain::{Region, Status, local_time};

use crate::session::Signed;

/// The pages of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Messages,
    Replies,
    Invoices,
    ApiKey,
    Settings,
    Checker,
}

const NAV: [(Nav, &str, &str, bool); 7] = [
    (Nav::Overview, "/", "Übersicht", false),
    (Nav::Messages, "/sms", "SMS", false),
    (Nav::Replies, "/antworten", "Antworten", false),
    (Nav::Invoices, "/rechnungen", "Rechnungen", true),
    (
        Nav::ApiKey,
        "/organization/apikey",
        "Zugang > API-Key",
        true,
    ),
    (Nav::Settings, "/einstellungen", "Einstellungen", true),
    (Nav::Checker, "/textpruefer", "Textprüfer", false),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – praxis-sms" }
            link rel="stylesheet" href="/assets/portal.css";
            script src="/assets/portal.js" defer {}
        }
    }
}

/// A page of a signed-in account.
pub fn page(title: &str, signed: &Signed, active: Nav, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="de" {
            (head(title))
            body {
                a.skip href="#inhalt" { "Zum Inhalt springen" }
                header.top {
                    div.brand {
                        span.logo aria-hidden="true" { "✉" }
                        span { "praxis-sms" }
                        span.practice { (signed.org.name.as_str()) }
                    }
                    nav aria-label="Hauptnavigation" {
                        ul {
                            @for (nav, href, label, owner_only) in NAV {
                                @if !owner_only || signed.is_owner() {
                                    li {
                                        @if nav == active {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form.signout method="post" action="/abmelden" {
                        input type="hidden" name="csrf" value=(signed.csrf());
                        span.who { (signed.account.email.as_str()) }
                        button.link type="submit" { "Abmelden" }
                    }
                }
                main id="inhalt" {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="de" {
            (head(title))
            body.bare {
                main id="inhalt" .card.narrow {
                    p.brand { span.logo aria-hidden="true" { "✉" } " praxis-sms" }
                    (content)
                }
            }
        }
    }
}

/// A hidden CSRF field for a signed-in form.
pub fn csrf(signed: &Signed) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed.csrf()); }
}

/// A notice above a page's content: `ok` green, else red.
pub fn notice(text: &str, ok: bool) -> Markup {
    html! {
        @if ok {
            p.notice.ok role="status" { (text) }
        } @else {
            p.notice.error role="alert" { (text) }
        }
    }
}

/// Times as a practice in Germany reads them: local time (Europe/Berlin offset by the simple
/// EU rule), `28.11.2026, 14:05`.
pub fn time(t: DateTime<Utc>) -> String {
    berlin(t).format("%d.%m.%Y, %H:%M").to_string()
}

pub fn date(t: DateTime<Utc>) -> String {
    berlin(t).format("%d.%m.%Y").to_string()
}

/// The wall clock of the practices (Germany, Austria and Switzerland keep the same one).
pub fn berlin(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    local_time::local_time(Region::DE, t)
}

/// A status as the FAQ names it, as a badge.
pub fn badge(status: Status) -> Markup {
    html! { span class={ "badge " (status.as_str()) } { (status.label_de()) } }
}

/// 0.956 → "95,6 %".
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    let tenths = (part * 1000 + whole / 2) / whole;
    format!("{},{} %", tenths / 10, tenths % 10)
}

/// Inline SVG is markup we build from numbers only; nothing of the user's is in it.
pub fn svg(s: String) -> Markup {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn german_times_follow_summer_time() {
        let winter = Utc
            .with_ymd_and_hms(2026, 11, 28, 13, 5, 0)
            .single()
            .expect("t");
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 1, 13, 5, 0)
            .single()
            .expect("t");
        assert_eq!(time(winter), "28.11.2026, 14:05");
        assert_eq!(time(summer), "01.07.2026, 15:05");
        assert_eq!(percent(956, 1000), "95,6 %");
    }
}
