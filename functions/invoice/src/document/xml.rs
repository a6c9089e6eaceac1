//! The e-invoice: the invoice as UN/CEFACT Cross Industry Invoice XML in the Factur-X /
//! ZUGFeRD EN 16931 profile, element order as the Factur-X 1.0 XSD wants it. Every figure is
//! the stored invoice's; nothing is computed here but formatting.

use praxis_shared::markup::escape as esc;
use std::fmt::Write as _;

use chrono::NaiveDate;
use praxis_shared::domain::Cents;
use praxis_shared::domain::invoice::{Invoice, LineKind};

/// The Factur-X profile this XML claims (BT-24), as the XMP's `fx:ConformanceLevel` names it.
pub const GUIDELINE: &str = "urn:cen.eu:en16931:2017";

fn date(d: NaiveDate) -> String {
    format!(
        r#"<udt:DateTimeString format="102">{}</udt:DateTimeString>"#,
        d.format("%Y%m%d")
    )
}

fn amount(c: Cents) -> String {
    c.decimal()
}

/// UN/ECE Recommendation 20 unit codes: a month of a fee, a piece (one SMS part).
fn unit_code(kind: LineKind, unit: &str) -> &'static str {
    match (kind, unit) {
        (LineKind::SmsParts, _) | (LineKind::Credit, "SMS-Teil") => "H87",
        _ => "MON",
    }
}

/// The seller's or buyer's address block.
fn address(out: &mut String, lines: &[String], postcode: &str, city: &str, country: &str) {
    out.push_str("<ram:PostalTradeAddress>");
    if !postcode.is_empty() {
        let _ = write!(
            out,
            "<ram:PostcodeCode>{}</ram:PostcodeCode>",
            esc(postcode)
        );
    }
    for (tag, line) in ["LineOne", "LineTwo", "LineThree"].iter().zip(lines) {
        let _ = write!(out, "<ram:{tag}>{}</ram:{tag}>", esc(line));
    }
    if !city.is_empty() {
        let _ = write!(out, "<ram:CityName>{}</ram:CityName>", esc(city));
    }
    let _ = write!(
        out,
        "<ram:CountryID>{}</ram:CountryID></ram:PostalTradeAddress>",
        esc(country)
    );
}

/// The invoice as `factur-x.xml`.
pub fn cii(invoice: &Invoice) -> String {
    let doc = &invoice.doc;
    let c = &doc.computed;
    let seller = &doc.seller;
    let mut x = String::with_capacity(8 * 1024);
    x.push_str(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100" "#,
        r#"xmlns:qdt="urn:un:unece:uncefact:data:standard:QualifiedDataType:100" "#,
        r#"xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100" "#,
        r#"xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">"#,
    ));
    let _ = write!(
        x,
        "<rsm:ExchangedDocumentContext><ram:GuidelineSpecifiedDocumentContextParameter>\
         <ram:ID>{GUIDELINE}</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter>\
         </rsm:ExchangedDocumentContext>"
    );
    let _ = write!(
        x,
        "<rsm:ExchangedDocument><ram:ID>{}</ram:ID><ram:TypeCode>380</ram:TypeCode>\
         <ram:IssueDateTime>{}</ram:IssueDateTime>",
        invoice.number,
        date(doc.issue_date)
    );
    if let Some(until) = c.free_until {
        let _ = write!(
            x,
            "<ram:IncludedNote><ram:Content>{}</ram:Content></ram:IncludedNote>",
            esc(&format!(
                "Der erste Monat ab Freischaltung (bis {}) wird nicht berechnet.",
                until.format("%d.%m.%Y")
            ))
        );
    }
    x.push_str("</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>");

    for (i, line) in c.lines.iter().enumerate() {
        let _ = write!(
            x,
            "<ram:IncludedSupplyChainTradeLineItem>\
             <ram:AssociatedDocumentLineDocument><ram:LineID>{}</ram:LineID></ram:AssociatedDocumentLineDocument>\
             <ram:SpecifiedTradeProduct><ram:Name>{}</ram:Name></ram:SpecifiedTradeProduct>\
             <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice>\
             <ram:ChargeAmount>{}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>\
             <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode=\"{}\">{}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>\
             <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>\
             <ram:CategoryCode>S</ram:CategoryCode><ram:RateApplicablePercent>{}</ram:RateApplicablePercent></ram:ApplicableTradeTax>\
             <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{}</ram:LineTotalAmount>\
             </ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>\
             </ram:IncludedSupplyChainTradeLineItem>",
            i + 1,
            esc(&line.description),
            amount(line.unit_price),
            unit_code(line.kind, &line.unit),
            line.quantity,
            c.vat_percent,
            amount(line.total),
        );
    }

    let b = &doc.buyer;
    let _ = write!(
        x,
        "<ram:ApplicableHeaderTradeAgreement><ram:BuyerReference>{}</ram:BuyerReference>\
         <ram:SellerTradeParty><ram:Name>{}</ram:Name>",
        b.org_id,
        esc(&seller.name)
    );
    address(
        &mut x,
        std::slice::from_ref(&seller.street),
        &seller.postcode,
        &seller.city,
        &seller.country,
    );
    let _ = write!(
        x,
        "<ram:URIUniversalCommunication><ram:URIID schemeID=\"EM\">{}</ram:URIID></ram:URIUniversalCommunication>",
        esc(&seller.email)
    );
    if let Some(vat_id) = seller.vat_id.as_deref().filter(|v| !v.trim().is_empty()) {
        let _ = write!(
            x,
            "<ram:SpecifiedTaxRegistration><ram:ID schemeID=\"VA\">{}</ram:ID></ram:SpecifiedTaxRegistration>",
            esc(vat_id.trim())
        );
    }
    if let Some(tax_no) = seller
        .tax_number
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        let _ = write!(
            x,
            "<ram:SpecifiedTaxRegistration><ram:ID schemeID=\"FC\">{}</ram:ID></ram:SpecifiedTaxRegistration>",
            esc(tax_no.trim())
        );
    }
    let _ = write!(
        x,
        "</ram:SellerTradeParty><ram:BuyerTradeParty><ram:Name>{}</ram:Name>",
        esc(&b.name)
    );
    match &b.address {
        Some(a) => address(&mut x, &a.lines, &a.postcode, &a.city, &b.country),
        None => address(&mut x, &[], "", "", &b.country),
    }
    let _ = write!(
        x,
        "<ram:URIUniversalCommunication><ram:URIID schemeID=\"EM\">{}</ram:URIID></ram:URIUniversalCommunication>\
         </ram:BuyerTradeParty></ram:ApplicableHeaderTradeAgreement>",
        esc(&b.email)
    );
    // The service was rendered over the period (BG-14 below); its last day stands as the
    // delivery date, so the element is not empty (PEPPOL-EN16931-R008).
    let _ = write!(
        x,
        "<ram:ApplicableHeaderTradeDelivery><ram:ActualDeliverySupplyChainEvent>\
         <ram:OccurrenceDateTime>{}</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent>\
         </ram:ApplicableHeaderTradeDelivery>",
        date(c.period_end)
    );

    let _ = write!(
        x,
        "<ram:ApplicableHeaderTradeSettlement><ram:PaymentReference>{number}</ram:PaymentReference>\
         <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>\
         <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>\
         <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{iban}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>\
         <ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>{bic}</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>\
         </ram:SpecifiedTradeSettlementPaymentMeans>\
         <ram:ApplicableTradeTax><ram:CalculatedAmount>{vat}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>\
         <ram:BasisAmount>{net}</ram:BasisAmount><ram:CategoryCode>S</ram:CategoryCode>\
         <ram:RateApplicablePercent>{rate}</ram:RateApplicablePercent></ram:ApplicableTradeTax>\
         <ram:BillingSpecifiedPeriod><ram:StartDateTime>{start}</ram:StartDateTime>\
         <ram:EndDateTime>{end}</ram:EndDateTime></ram:BillingSpecifiedPeriod>\
         <ram:SpecifiedTradePaymentTerms><ram:Description>{terms}</ram:Description>\
         <ram:DueDateDateTime>{due}</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>\
         <ram:SpecifiedTradeSettlementHeaderMonetarySummation>\
         <ram:LineTotalAmount>{net}</ram:LineTotalAmount><ram:TaxBasisTotalAmount>{net}</ram:TaxBasisTotalAmount>\
         <ram:TaxTotalAmount currencyID=\"EUR\">{vat}</ram:TaxTotalAmount>\
         <ram:GrandTotalAmount>{gross}</ram:GrandTotalAmount><ram:DuePayableAmount>{gross}</ram:DuePayableAmount>\
         </ram:SpecifiedTradeSettlementHeaderMonetarySummation></ram:ApplicableHeaderTradeSettlement>",
        number = invoice.number,
        iban = esc(&seller
            .iban
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()),
        bic = esc(seller.bic.trim()),
        vat = amount(c.vat),
        net = amount(c.net),
        rate = c.vat_percent,
        start = date(c.period_start),
        end = date(c.period_end),
        terms = esc(&super::payment_terms(invoice)),
        due = date(doc.due_date),
        gross = amount(c.gross),
    );
    x.push_str("</rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>\n");
    x
}
