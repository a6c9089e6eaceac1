//! SMS: the practice's messages of the last 60 days, newest first, filtered by status, date
//! range and number, paged by the store's cursor; one message with its status history; the
//! filtered list as CSV.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use http::{HeaderValue, header};
use maud::{Markup, html};
use praxis_shared::domain::message::{Message, retention_cutoff};
use praxis_shared::domain::org::Org;
use praxis_shared::domain::{MessageId, PhoneNumber, Status, local_time};
use praxis_shared::ports::{ListQuery, PortResult};
use praxis_shared::services::Services;

use crate::Portal;
use crate::error::PortalError;
use crate::form::Fields;
use crate::layout::{self, Nav, badge};
use crate::session::Signed;

/// Messages on one page of the list, unless `pro_seite` asks for more (up to [`MAX_PAGE`]).
pub const PAGE: usize = 50;
pub const MAX_PAGE: usize = 1000;
/// Rows of one CSV export at most.
pub const CSV_MAX: usize = 20_000;
/// Messages the store reads per query while searching for a number.
const READ_BATCH: usize = 500;

const STATUSES: [Status; 6] = [
    Status::Pending,
    Status::Queued,
    Status::Sent,
    Status::Buffered,
    Status::Delivered,
    Status::Undelivered,
];

/// The list's filters, as the query string carries them.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Digits of the number searched for (any part of it).
    pub number: String,
    pub after: Option<MessageId>,
    /// Messages per page.
    pub per_page: usize,
    /// What the form showed, to fill it in again.
    raw_from: String,
    raw_to: String,
    raw_number: String,
}

impl Filter {
    /// Every message created on or after `day`.
    pub fn since(day: NaiveDate) -> Filter {
        Filter {
            from: Some(day),
            ..Filter::default()
        }
    }

    pub fn parse(query: Option<&str>, org: &Org) -> Filter {
        let q = Fields::parse(query.unwrap_or_default().as_bytes());
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let raw_number = q.get("nummer").trim().to_owned();
        // A whole number is normalised as sending would; a fragment is matched as digits.
        let number = match PhoneNumber::parse(&raw_number, org.region) {
            Ok(n) => n.as_str().trim_start_matches('+').to_owned(),
            Err(_) => raw_number.chars().filter(char::is_ascii_digit).collect(),
        };
        Filter {
            status: q.get("status").parse().ok(),
            from: date(q.get("von")),
            to: date(q.get("bis")),
            number,
            after: MessageId::parse(q.get("nach")).ok(),
            per_page: q
                .get("pro_seite")
                .parse()
                .map_or(PAGE, |n: usize| n.clamp(1, MAX_PAGE)),
            raw_from: q.get("von").to_owned(),
            raw_to: q.get("bis").to_owned(),
            raw_number,
        }
    }

    /// The query string of these filters, continuing after `after`.
    fn query(&self, after: Option<MessageId>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(s) = self.status {
            q.append_pair("status", s.as_str());
        }
        if !self.raw_from.is_empty() {
            q.append_pair("von", &self.raw_from);
        }
        if !self.raw_to.is_empty() {
            q.append_pair("bis", &self.raw_to);
        }
        if !self.raw_number.is_empty() {
            q.append_pair("nummer", &self.raw_number);
        }
        if self.per_page != PAGE {
            q.append_pair("pro_seite", &self.per_page.to_string());
        }
        if let Some(a) = after {
            q.append_pair("nach", &a.to_string());
        }
        q.finish()
    }

    fn matches(&self, m: &Message) -> bool {
        self.number.is_empty() || m.to.as_str().contains(&self.number)
    }
}

/// Up to `limit` messages matching `filter`, and where the next page starts. The number
/// search reads on through the store's pages until it has found enough or the window ends.
pub async fn find(
    svc: &Services,
    org: &Org,
    filter: &Filter,
    limit: usize,
) -> PortResult<(Vec<Message>, Option<MessageId>)> {
    let now = svc.clock.now();
    let cutoff = retention_cutoff(now);
    // The days are the practice's: from its midnight to the last instant before the next.
    let since = filter
        .from
        .map(|d| local_time::start_of_local_day(org.region, d))
        .map_or(cutoff, |d: DateTime<Utc>| d.max(cutoff));
    let until = filter
        .to
        .and_then(|d| d.succ_opt())
        .map(|d| local_time::start_of_local_day(org.region, d) - chrono::Duration::milliseconds(1));
    let mut found = Vec::new();
    let mut after = filter.after;
    loop {
        let want = if filter.number.is_empty() {
            limit - found.len()
        } else {
            READ_BATCH
        };
        let page = svc
            .store
            .list_messages(
                org.id,
                &ListQuery {
                    status: filter.status,
                    since,
                    until,
                    after,
                    limit: want,
                },
            )
            .await?;
        for m in page.items {
            after = Some(m.id);
            if filter.matches(&m) {
                found.push(m.as_seen_at(now));
                if found.len() == limit {
                    // More may follow: continue after the last one shown.
                    return Ok((found, after));
                }
            }
        }
        if page.next.is_none() {
            return Ok((found, None));
        }
        after = page.next;
    }
}

pub async fn list(
    State(portal): State<Portal>,
    signed: Signed,
    RawQuery(q): RawQuery,
) -> Result<Markup, PortalError> {
    let filter = Filter::parse(q.as_deref(), &signed.org);
    let (messages, next) = find(&portal.svc, &signed.org, &filter, filter.per_page).await?;
    let region = signed.org.region;
    let content = html! {
        p.lead { "Ihre SMS der vergangenen 60 Tage, die neuesten zuerst. Ältere SMS zeigen wir nicht an." }
        form.filters method="get" action="/sms" role="search" {
            div {
                label for="status" { "Status" }
                select id="status" name="status" {
                    option value="" { "alle" }
                    @for s in STATUSES {
                        option value=(s.as_str()) selected[filter.status == Some(s)] { (s.label_de()) }
                    }
                }
            }
            div {
                label for="von" { "von" }
                input id="von" name="von" type="date" value=(filter.raw_from);
            }
            div {
                label for="bis" { "bis" }
                input id="bis" name="bis" type="date" value=(filter.raw_to);
            }
            div {
                label for="nummer" { "Rufnummer" }
                input id="nummer" name="nummer" type="search" inputmode="tel" value=(filter.raw_number) placeholder="z. B. 0176 …";
            }
            div.actions {
                button type="submit" { "Filtern" }
                a.button.secondary href={ "/sms/export.csv?" (filter.query(None)) } download { "Als CSV" }
            }
        }
        @if messages.is_empty() {
            p.empty { "Keine SMS gefunden." }
        } @else {
            div.table-wrap {
                table.messages {
                    caption.visually-hidden { "SMS" }
                    thead { tr {
                        th scope="col" { "Gesendet" }
                        th scope="col" { "An" }
                        th scope="col" { "Text" }
                        th scope="col" { "Teile" }
                        th scope="col" { "Status" }
                    } }
                    tbody {
                        @for m in &messages {
                            tr {
                                td data-label="Gesendet" { a href={ "/sms/" (m.id) } { (layout::time(m.created_at)) } }
                                td data-label="An" { (m.to.display_for(region)) }
                                td.text data-label="Text" { (preview(&m.text)) }
                                td data-label="Teile" { (m.segments) }
                                td data-label="Status" { (badge(m.status)) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Seiten" {
            @if filter.after.is_some() {
                a href={ "/sms?" (filter.query(None)) } { "← Neueste" }
            }
            @if let Some(next) = next {
                a href={ "/sms?" (filter.query(Some(next))) } rel="next" { "Ältere →" }
            }
        }
    };
    Ok(layout::page("SMS", &signed, Nav::Messages, content))
}

fn preview(text: &str) -> String {
    let mut s: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        s.push('…');
    }
    s
}

pub async fn detail(
    State(portal): State<Portal>,
    signed: Signed,
    id: Result<Path<String>, PathRejection>,
) -> Result<Markup, PortalError> {
    let id = id
        .ok()
        .and_then(|Path(id)| MessageId::parse(&id).ok())
        .ok_or(PortalError::NotFound)?;
    let now = portal.svc.clock.now();
    let m = portal
        .svc
        .store
        .get_message(id)
        .await?
        .filter(|m| m.org_id == signed.org.id && m.is_visible_at(now))
        .ok_or(PortalError::NotFound)?
        .as_seen_at(now);
    let region = signed.org.region;
    let content = html! {
        p { a href="/sms" { "← Alle SMS" } }
        dl.facts {
            dt { "Status" } dd { (badge(m.status)) @if let Some(r) = m.reason { " (" (reason_de(r)) ")" } }
            dt { "An" } dd { (m.to.display_for(region)) }
            dt { "Absender" } dd { (m.sender.as_str()) }
            dt { "Gesendet" } dd { (layout::time(m.created_at)) }
            dt { "Teile" } dd { (m.segments) " (" (m.encoding.as_str()) ")" }
            @if let Some(r) = &m.reference { dt { "Referenz" } dd { (r) } }
        }
        h2 { "Text" }
        p.sms-text { (m.text) }
        h2 { "Statusverlauf" }
        ol.history {
            @for h in &m.history {
                li { (badge(h.status)) " " time datetime=(h.at.to_rfc3339()) { (layout::time(h.at)) } }
            }
        }
    };
    Ok(layout::page(
        "SMS im Detail",
        &signed,
        Nav::Messages,
        content,
    ))
}

/// Why a message was not delivered, in the FAQ's words.
pub fn reason_de(r: praxis_shared::domain::Reason) -> &'static str {
    use praxis_shared::domain::Reason;
    match r {
        Reason::UnknownSubscriber => "Zielrufnummer fehlerhaft",
        Reason::Rejected => "vom Netz abgelehnt",
        Reason::Expired => "binnen 3 Tagen nicht zugestellt",
        Reason::NetworkError => "netzinterne Gründe",
        Reason::OptedOut => "Empfänger hat SMS abbestellt",
    }
}

pub async fn csv(
    State(portal): State<Portal>,
    signed: Signed,
    RawQuery(q): RawQuery,
) -> Result<Response, PortalError> {
    let mut filter = Filter::parse(q.as_deref(), &signed.org);
    filter.after = None;
    let (messages, _) = find(&portal.svc, &signed.org, &filter, CSV_MAX).await?;
    let mut out = String::from("id;gesendet;an;absender;status;grund;teile;kodierung;text\r\n");
    for m in &messages {
        let row = [
            m.id.to_string(),
            m.created_at.to_rfc3339(),
            m.to.as_str().to_owned(),
            m.sender.as_str().to_owned(),
            m.status.label_de().to_owned(),
            m.reason
                .map(|r| reason_de(r).to_owned())
                .unwrap_or_default(),
            m.segments.to_string(),
            m.encoding.as_str().to_owned(),
            m.text.clone(),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"sms.csv\""),
            ),
        ],
        // A BOM, so that spreadsheet programs read the umlauts as UTF-8.
        format!("\u{feff}{out}"),
    )
        .into_response())
}

/// One CSV cell: quoted when it needs to be; a text that a spreadsheet would take for a
/// formula gets a leading apostrophe.
fn cell(v: &str) -> String {
    let v = if v.starts_with(['=', '@'])
        || (v.starts_with(['-', '+']) && !v[1..].chars().all(|c| c.is_ascii_digit()))
    {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("Hallo; \"Welt\""), "\"Hallo; \"\"Welt\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("+4917612345678"), "+4917612345678");
    }
}
