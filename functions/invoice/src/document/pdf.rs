//! The printed invoice: an A4 page laid out after DIN 5008 (sender line and address field
//! where a window envelope shows them, the invoice details beside them), a table of the
//! lines with credits as negative rows, the totals per VAT rate, the payment terms, and the
//! seller's tax and bank data in the footer. DejaVu Sans, subset into the file by krilla.

use std::sync::OnceLock;

use chrono::{Datelike, Timelike};
use krilla::color::rgb;
use krilla::configure::{Archival, ConfigurationBuilder, PdfVersion};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};
use praxis_shared::domain::invoice::{Invoice, Line};
use skrifa::MetadataProvider;
use skrifa::instance::{LocationRef, Size};

use super::{DocumentError, XML_NAME, payment_terms};

static REGULAR_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// 25 mm left (DIN 5008), 20 mm right.
const LEFT: f32 = 70.9;
const RIGHT: f32 = PAGE_W - 56.7;
/// Rows below this go to a second page; the footer sits under it.
const BODY_BOTTOM: f32 = PAGE_H - 110.0;

const GREY: (u8, u8, u8) = (96, 96, 96);
const RULE: (u8, u8, u8) = (180, 180, 180);
const BLACK: (u8, u8, u8) = (0, 0, 0);

/// A font for krilla and the same font's metrics for measuring text.
struct Face {
    font: Font,
    data: &'static [u8],
}

impl Face {
    fn load(data: &'static [u8]) -> Option<Face> {
        Some(Face {
            font: Font::new(data.into(), 0)?,
            data,
        })
    }

    /// The width of `text` at `size` points (advances only; DejaVu's kerning moves the digits
    /// and letters used here by a fraction of a point at most).
    fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(font) = skrifa::FontRef::new(self.data) else {
            return 0.0;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(size * 0.5)
            })
            .sum()
    }
}

fn faces() -> Result<&'static (Face, Face), DocumentError> {
    static FACES: OnceLock<Option<(Face, Face)>> = OnceLock::new();
    FACES
        .get_or_init(|| Some((Face::load(REGULAR_TTF)?, Face::load(BOLD_TTF)?)))
        .as_ref()
        .ok_or_else(|| DocumentError::Pdf("the embedded font does not load".into()))
}

/// Draws text on the current page, y being the baseline measured from the top.
struct Pen<'a, 'b> {
    surface: &'b mut Surface<'a>,
    regular: &'static Face,
    bold: &'static Face,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

impl Pen<'_, '_> {
    fn color(&mut self, (r, g, b): (u8, u8, u8)) {
        self.surface.set_fill(Some(Fill {
            paint: rgb::Color::new(r, g, b).into(),
            opacity: NormalizedF32::ONE,
            rule: Default::default(),
        }));
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, align: Align, text: &str) {
        let face = if bold { self.bold } else { self.regular };
        let x = match align {
            Align::Left => x,
            Align::Right => x - face.width(text, size),
        };
        self.surface.draw_text(
            Point::from_xy(x, y),
            face.font.clone(),
            size,
            text,
            false,
            TextDirection::LeftToRight,
        );
    }

    fn rule(&mut self, x0: f32, x1: f32, y: f32, width: f32, (r, g, b): (u8, u8, u8)) {
        let mut path = PathBuilder::new();
        path.move_to(x0, y);
        path.line_to(x1, y);
        let Some(path) = path.finish() else { return };
        self.surface.set_fill(None);
        self.surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(r, g, b).into(),
            width,
            ..Default::default()
        }));
        self.surface.draw_path(&path);
        self.surface.set_stroke(None);
        self.color(BLACK);
    }

    fn shade(&mut self, rect: Option<Rect>) {
        let Some(rect) = rect else { return };
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        let Some(path) = path.finish() else { return };
        self.color((238, 241, 245));
        self.surface.draw_path(&path);
        self.color(BLACK);
    }

    /// Splits `text` into lines no wider than `width`, at spaces.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split(' ') {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if !current.is_empty() && self.regular.width(&candidate, size) > width {
                lines.push(std::mem::replace(&mut current, word.to_owned()));
            } else {
                current = candidate;
            }
        }
        lines.push(current);
        lines
    }
}

fn german_date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// Quantities as Germans write them: `1.234`.
fn german_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Table columns: position, description, quantity, unit, unit price, amount (right edges for
/// the numbers).
const COL_POS: f32 = LEFT;
const COL_DESC: f32 = LEFT + 26.0;
const COL_DESC_W: f32 = 215.0;
const COL_QTY_R: f32 = LEFT + 290.0;
const COL_UNIT: f32 = LEFT + 296.0;
const COL_PRICE_R: f32 = LEFT + 408.0;
const COL_TOTAL_R: f32 = RIGHT;

fn table_header(pen: &mut Pen<'_, '_>, y: f32) -> f32 {
    pen.shade(Rect::from_ltrb(LEFT - 4.0, y - 11.0, RIGHT + 4.0, y + 5.0));
    for (x, align, label) in [
        (COL_POS, Align::Left, "Pos."),
        (COL_DESC, Align::Left, "Beschreibung"),
        (COL_QTY_R, Align::Right, "Menge"),
        (COL_UNIT, Align::Left, "Einheit"),
        (COL_PRICE_R, Align::Right, "Einzelpreis"),
        (COL_TOTAL_R, Align::Right, "Betrag"),
    ] {
        pen.text(x, y, 8.5, true, align, label);
    }
    y + 20.0
}

/// One table row; returns the baseline of the next.
fn table_row(pen: &mut Pen<'_, '_>, y: f32, pos: usize, line: &Line) -> f32 {
    let size = 9.0;
    let desc = pen.wrap(&line.description, size, COL_DESC_W);
    pen.text(COL_POS, y, size, false, Align::Left, &pos.to_string());
    for (i, part) in desc.iter().enumerate() {
        pen.text(
            COL_DESC,
            y + i as f32 * 11.5,
            size,
            false,
            Align::Left,
            part,
        );
    }
    pen.text(
        COL_QTY_R,
        y,
        size,
        false,
        Align::Right,
        &german_int(line.quantity),
    );
    pen.text(COL_UNIT, y, size, false, Align::Left, &line.unit);
    pen.text(
        COL_PRICE_R,
        y,
        size,
        false,
        Align::Right,
        &line.unit_price.german(),
    );
    pen.text(
        COL_TOTAL_R,
        y,
        size,
        false,
        Align::Right,
        &line.total.german(),
    );
    let bottom = y + (desc.len() as f32 - 1.0) * 11.5 + 6.0;
    pen.rule(LEFT, RIGHT, bottom, 0.4, RULE);
    bottom + 13.0
}

fn footer(pen: &mut Pen<'_, '_>, invoice: &Invoice, page: usize, pages: usize) {
    let s = &invoice.doc.seller;
    let top = PAGE_H - 78.0;
    pen.rule(LEFT, RIGHT, top - 10.0, 0.5, RULE);
    pen.color(GREY);
    let mut tax = Vec::new();
    if let Some(v) = s.vat_id.as_deref().filter(|v| !v.trim().is_empty()) {
        tax.push(format!("USt-IdNr.: {v}"));
    }
    if let Some(t) = s.tax_number.as_deref().filter(|t| !t.trim().is_empty()) {
        tax.push(format!("Steuernummer: {t}"));
    }
    let columns: [(f32, Vec<String>); 3] = [
        (
            LEFT,
            vec![
                s.name.clone(),
                s.street.clone(),
                format!("{} {}", s.postcode, s.city),
            ],
        ),
        (LEFT + 160.0, {
            let mut c = tax;
            c.push(s.email.clone());
            if let Some(p) = &s.phone {
                c.push(format!("Tel. {p}"));
            }
            c
        }),
        (
            LEFT + 320.0,
            vec![
                s.bank.clone(),
                format!("IBAN {}", s.iban),
                format!("BIC {}", s.bic),
            ],
        ),
    ];
    for (x, lines) in columns {
        for (i, l) in lines.iter().enumerate() {
            pen.text(x, top + i as f32 * 10.0, 7.5, false, Align::Left, l);
        }
    }
    pen.text(
        RIGHT,
        PAGE_H - 30.0,
        7.5,
        false,
        Align::Right,
        &format!("Seite {page} von {pages}"),
    );
    pen.color(BLACK);
}

/// The first page's head: sender line, address field, details, title and introduction.
fn head(pen: &mut Pen<'_, '_>, invoice: &Invoice) -> f32 {
    let doc = &invoice.doc;
    let s = &doc.seller;
    let c = &doc.computed;
    // The seller, top right.
    pen.text(RIGHT, 60.0, 15.0, true, Align::Right, &s.name);
    pen.color(GREY);
    for (i, l) in [
        s.street.clone(),
        format!("{} {}", s.postcode, s.city),
        s.email.clone(),
    ]
    .iter()
    .enumerate()
    {
        pen.text(RIGHT, 76.0 + i as f32 * 11.0, 8.5, false, Align::Right, l);
    }
    // The sender line above the address field (45 mm from the top).
    pen.text(
        LEFT,
        138.0,
        7.0,
        false,
        Align::Left,
        &format!("{} · {} · {} {}", s.name, s.street, s.postcode, s.city),
    );
    pen.color(BLACK);
    pen.rule(LEFT, LEFT + 240.0, 141.5, 0.4, RULE);
    let b = &doc.buyer;
    let mut address = vec![b.name.clone()];
    if let Some(a) = &b.address {
        address.extend(a.lines.iter().cloned());
        address.push(format!("{} {}", a.postcode, a.city));
    }
    if b.country != "DE" {
        address.push(
            match b.country.as_str() {
                "AT" => "ÖSTERREICH",
                "CH" => "SCHWEIZ",
                other => other,
            }
            .to_owned(),
        );
    }
    for (i, l) in address.iter().enumerate() {
        pen.text(LEFT, 160.0 + i as f32 * 13.0, 10.0, false, Align::Left, l);
    }
    // The details, right of the address field.
    let details = [
        ("Rechnungsnummer", invoice.number.to_string()),
        ("Rechnungsdatum", german_date(doc.issue_date)),
        (
            "Leistungszeitraum",
            format!(
                "{} – {}",
                german_date(c.period_start),
                german_date(c.period_end)
            ),
        ),
        ("Kundennummer", b.org_id.to_string()),
        ("Fällig am", german_date(doc.due_date)),
    ];
    let label_x = LEFT + 250.0;
    for (i, (label, value)) in details.iter().enumerate() {
        let y = 160.0 + i as f32 * 13.0;
        pen.color(GREY);
        pen.text(label_x, y, 8.5, false, Align::Left, label);
        pen.color(BLACK);
        pen.text(
            RIGHT,
            y,
            if *label == "Kundennummer" { 7.5 } else { 9.0 },
            false,
            Align::Right,
            value,
        );
    }
    pen.text(
        LEFT,
        290.0,
        16.0,
        true,
        Align::Left,
        &format!("Rechnung {}", invoice.number),
    );
    pen.text(
        LEFT,
        312.0,
        9.5,
        false,
        Align::Left,
        &format!(
            "Für die Nutzung von praxis-sms im {} berechnen wir Ihnen:",
            c.month.german()
        ),
    );
    336.0
}

/// The totals block and the closing text below the table; returns where it ends.
fn totals(pen: &mut Pen<'_, '_>, invoice: &Invoice, y: f32) -> f32 {
    let c = &invoice.doc.computed;
    let label_x = LEFT + 250.0;
    let rows = [
        ("Summe netto", c.net.german(), false),
        (
            &*format!("zzgl. {} % USt. auf {}", c.vat_percent, c.net.german()),
            c.vat.german(),
            false,
        ),
    ];
    let mut y = y + 4.0;
    for (label, value, bold) in rows {
        pen.text(label_x, y, 9.0, bold, Align::Left, label);
        pen.text(RIGHT, y, 9.0, bold, Align::Right, &value);
        y += 14.0;
    }
    pen.rule(label_x, RIGHT, y - 8.0, 0.8, BLACK);
    pen.text(label_x, y + 4.0, 10.5, true, Align::Left, "Rechnungsbetrag");
    pen.text(RIGHT, y + 4.0, 10.5, true, Align::Right, &c.gross.german());
    pen.rule(label_x, RIGHT, y + 10.0, 0.8, BLACK);
    y += 40.0;
    let mut notes = Vec::new();
    if let Some(until) = c.free_until {
        notes.push(format!(
            "Der erste Monat ab Freischaltung ist kostenlos: Grundgebühr, SMS und Antwort-Rufnummer bis einschließlich {} werden als Gutschrift abgezogen.",
            german_date(until)
        ));
    }
    notes.push(payment_terms(invoice));
    if c.gross.get() > 0 {
        let s = &invoice.doc.seller;
        notes.push(format!(
            "Bankverbindung: {}, IBAN {}, BIC {}.",
            s.bank, s.iban, s.bic
        ));
    }
    notes.push(format!(
        "Diese Rechnung ist zugleich eine elektronische Rechnung (ZUGFeRD/Factur-X, EN 16931); die Rechnungsdaten liegen der PDF-Datei als {XML_NAME} bei."
    ));
    for note in notes {
        for line in pen.wrap(&note, 9.0, RIGHT - LEFT) {
            pen.text(LEFT, y, 9.0, false, Align::Left, &line);
            y += 12.0;
        }
        y += 5.0;
    }
    y
}

/// How much room the totals and notes take, so they are never split from the table's end.
const CLOSING_HEIGHT: f32 = 190.0;

fn pdf_time(t: chrono::DateTime<chrono::Utc>) -> DateTime {
    DateTime::new(t.year().clamp(0, 9999) as u16)
        .month(t.month() as u8)
        .day(t.day() as u8)
        .hour(t.hour() as u8)
        .minute(t.minute() as u8)
        .second(t.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

pub(super) fn render(invoice: &Invoice, xml: Vec<u8>) -> Result<Vec<u8>, DocumentError> {
    let (regular, bold) = faces()?;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .with_version(PdfVersion::Pdf17)
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("PDF/A-3b configuration: {e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: false,
        ..Default::default()
    };
    let mut document = Document::new_with(settings);
    let created = pdf_time(invoice.created_at);
    document.set_metadata(
        Metadata::new()
            .title(format!("Rechnung {}", invoice.number))
            .authors(vec![invoice.doc.seller.name.clone()])
            .language("de-DE".into())
            .creator("praxis-sms".into())
            .creation_date(created)
            .document_id(invoice.id.to_string()),
    );
    document
        .embed_file(EmbeddedFile {
            path: XML_NAME.into(),
            mime_type: MimeType::new("text/xml"),
            description: Some("Factur-X/ZUGFeRD-Rechnung (EN 16931)".into()),
            association_kind: AssociationKind::Alternative,
            data: xml.into(),
            modification_date: Some(created),
            compress: Some(true),
            location: None,
        })
        .ok_or_else(|| DocumentError::Pdf("a file is embedded twice".into()))?;

    // Lay the rows out into pages first, so each page knows how many there are.
    let lines = &invoice.doc.computed.lines;
    let mut pages: Vec<Vec<usize>> = vec![Vec::new()];
    {
        let mut y = 336.0 + 20.0;
        for (i, line) in lines.iter().enumerate() {
            let rows = 1.0 + (line.description.chars().count() / 45) as f32;
            let height = rows * 11.5 + 19.0;
            let last = i + 1 == lines.len();
            let needed = height + if last { CLOSING_HEIGHT } else { 0.0 };
            if y + needed > BODY_BOTTOM && !pages.last().is_none_or(Vec::is_empty) {
                pages.push(Vec::new());
                y = 80.0 + 20.0;
            }
            y += height;
            if let Some(p) = pages.last_mut() {
                p.push(i);
            }
        }
    }
    let page_count = pages.len();
    for (n, rows) in pages.iter().enumerate() {
        let mut page = document.start_page_with(
            PageSettings::from_wh(PAGE_W, PAGE_H)
                .ok_or_else(|| DocumentError::Pdf("page size".into()))?,
        );
        let mut surface = page.surface();
        let mut pen = Pen {
            surface: &mut surface,
            regular,
            bold,
        };
        pen.color(BLACK);
        let mut y = if n == 0 {
            head(&mut pen, invoice)
        } else {
            pen.text(
                LEFT,
                60.0,
                10.0,
                true,
                Align::Left,
                &format!("Rechnung {} (Fortsetzung)", invoice.number),
            );
            80.0
        };
        y = table_header(&mut pen, y);
        for &i in rows {
            y = table_row(&mut pen, y, i + 1, &lines[i]);
        }
        if n + 1 == page_count {
            totals(&mut pen, invoice, y);
        }
        footer(&mut pen, invoice, n + 1, page_count);
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}
