//! The one thing krilla does not write: the Factur-X entries of the XMP metadata (`fx:`
//! DocumentType, DocumentFileName, Version, ConformanceLevel) and the PDF/A extension schema
//! that declares them, which PDF/A-3 requires for any schema outside its predefined set.
//!
//! The metadata stream of the finished PDF is replaced in place and the cross-reference
//! table's offsets behind it are moved: krilla (pdf-writer) writes one classic xref table and
//! PDF/A keeps the metadata stream unfiltered, so this is text surgery on a known layout. A
//! PDF library (lopdf) would do the same in a reparse and rewrite, at the price of about a
//! dozen more crates (its encryption and compression support) in the Lambda binary.

use super::{DocumentError, XML_NAME};

const FX_NS: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

/// The `fx:` description and its extension schema, inserted before `</rdf:RDF>`.
fn fx_rdf() -> String {
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name>\
             <pdfaProperty:valueType>Text</pdfaProperty:valueType>\
             <pdfaProperty:category>external</pdfaProperty:category>\
             <pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        )
    };
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" \
         xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" \
         xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\
         <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType=\"Resource\">\
         <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\
         <pdfaSchema:namespaceURI>{FX_NS}</pdfaSchema:namespaceURI>\
         <pdfaSchema:prefix>fx</pdfaSchema:prefix>\
         <pdfaSchema:property><rdf:Seq>{}{}{}{}</rdf:Seq></pdfaSchema:property>\
         </rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\
         <rdf:Description rdf:about=\"\" xmlns:fx=\"{FX_NS}\">\
         <fx:DocumentType>INVOICE</fx:DocumentType><fx:DocumentFileName>{XML_NAME}</fx:DocumentFileName>\
         <fx:Version>1.0</fx:Version><fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>\
         </rdf:Description>",
        property("DocumentFileName", "The name of the embedded XML document"),
        property(
            "DocumentType",
            "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"
        ),
        property(
            "Version",
            "The actual version of the standard applying to the embedded XML document"
        ),
        property(
            "ConformanceLevel",
            "The conformance level of the embedded XML document"
        ),
    )
}

fn broken(what: &str) -> DocumentError {
    DocumentError::Pdf(format!("adding the Factur-X metadata: {what}"))
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// The decimal number at `at` and where it ends.
fn number_at(pdf: &[u8], at: usize) -> Option<(usize, usize)> {
    let digits = pdf
        .get(at..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let n = std::str::from_utf8(pdf.get(at..at + digits)?)
        .ok()?
        .parse()
        .ok()?;
    Some((n, at + digits))
}

/// Adds the `fx:` entries to the PDF's XMP metadata.
pub(super) fn declare_factur_x(pdf: Vec<u8>) -> Result<Vec<u8>, DocumentError> {
    // The catalog's metadata object, and where the xref table says it starts.
    let m = find(&pdf, b"/Metadata ", 0).ok_or_else(|| broken("no /Metadata"))?;
    let (object, _) =
        number_at(&pdf, m + b"/Metadata ".len()).ok_or_else(|| broken("/Metadata"))?;
    let sx = rfind(&pdf, b"startxref").ok_or_else(|| broken("no startxref"))?;
    let sx_num = sx + b"startxref".len() + 1;
    let (xref_at, sx_end) = number_at(&pdf, sx_num).ok_or_else(|| broken("startxref"))?;
    if pdf.get(xref_at..xref_at + 5) != Some(b"xref\n") {
        return Err(broken("not a classic xref table"));
    }
    let (first, p) = number_at(&pdf, xref_at + 5).ok_or_else(|| broken("xref"))?;
    let (count, p) = number_at(&pdf, p + 1).ok_or_else(|| broken("xref"))?;
    let entries = p + 1;
    if first != 0
        || object >= count
        || pdf.get(entries + 20 * count..entries + 20 * count + 7) != Some(b"trailer")
    {
        return Err(broken("xref table of more than one section"));
    }
    let entry = |i: usize| number_at(&pdf, entries + 20 * i).map(|(off, _)| off);
    let start = entry(object).ok_or_else(|| broken("metadata offset"))?;
    let end = find(&pdf, b"endobj", start).ok_or_else(|| broken("metadata end"))? + b"endobj".len();

    // The new object: the same dictionary with the new length, the patched XMP.
    let old = &pdf[start..end];
    let s0 = find(old, b"stream\n", 0).ok_or_else(|| broken("metadata stream"))?;
    let s1 = rfind(old, b"\nendstream").ok_or_else(|| broken("metadata stream"))?;
    let xmp = std::str::from_utf8(&old[s0 + 7..s1]).map_err(|_| broken("XMP is not UTF-8"))?;
    let at = xmp
        .rfind("</rdf:RDF>")
        .ok_or_else(|| broken("XMP has no rdf:RDF"))?;
    let patched = format!("{}{}{}", &xmp[..at], fx_rdf(), &xmp[at..]);
    let head = std::str::from_utf8(&old[..s0]).map_err(|_| broken("metadata dictionary"))?;
    let l = head
        .find("/Length ")
        .ok_or_else(|| broken("metadata /Length"))?
        + "/Length ".len();
    let l_end = l + head[l..].bytes().take_while(u8::is_ascii_digit).count();
    let mut object_bytes =
        format!("{}{}{}", &head[..l], patched.len(), &head[l_end..]).into_bytes();
    object_bytes.extend_from_slice(b"stream\n");
    object_bytes.extend_from_slice(patched.as_bytes());
    object_bytes.extend_from_slice(&old[s1..]);
    let delta = object_bytes.len() as i64 - old.len() as i64;
    let moved = |off: usize| {
        if off > start {
            (off as i64 + delta) as usize
        } else {
            off
        }
    };

    let mut out = Vec::with_capacity(pdf.len() + object_bytes.len());
    out.extend_from_slice(&pdf[..start]);
    out.extend_from_slice(&object_bytes);
    out.extend_from_slice(&pdf[end..entries]);
    for i in 0..count {
        let e = &pdf[entries + 20 * i..entries + 20 * (i + 1)];
        if e.get(17) == Some(&b'n') {
            let off = entry(i).ok_or_else(|| broken("xref entry"))?;
            out.extend_from_slice(format!("{:010}", moved(off)).as_bytes());
            out.extend_from_slice(&e[10..]);
        } else {
            out.extend_from_slice(e);
        }
    }
    out.extend_from_slice(&pdf[entries + 20 * count..sx_num]);
    out.extend_from_slice(moved(xref_at).to_string().as_bytes());
    out.extend_from_slice(&pdf[sx_end..]);
    Ok(out)
}
