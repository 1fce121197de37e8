"""Bytes as Rakuten sends them -> a safe lxml tree with local names only."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from rakuten.errors import MalformedResponseError
from rakuten.xmlsafe import parse_xml

ACTION = "getnewsales"


def _headline(root: etree._Element) -> str | None:
    element = root.find(".//headline")
    assert element is not None, etree.tostring(root)
    return element.text


def _document(headline: str, *, declaration: str = "ISO-8859-1") -> str:
    return (
        f'<?xml version="1.0" encoding="{declaration}"?>\n'
        '<getnewsalesresult xmlns="http://pmcdn.priceminister.com/res/schema/getnewsales">'
        f"<response><sales><sale><items><item><headline><![CDATA[{headline}]]></headline>"
        "</item></items></sale></sales></response></getnewsalesresult>"
    )


# ------------------------------------------------------------------------------------------ encodings


def test_iso_8859_1_bytes_are_decoded() -> None:
    body = _document("Les Misérables, Hugo à l'école").encode("latin-1")
    assert _headline(parse_xml(body, action=ACTION)) == "Les Misérables, Hugo à l'école"


def test_windows_1252_characters_behind_an_iso_8859_1_declaration() -> None:
    body = _document("Livre à 10 € – l’œuvre complète").encode("cp1252")
    assert {b"\x80", b"\x92", b"\x9c"} <= {bytes([byte]) for byte in body}
    assert _headline(parse_xml(body, action=ACTION)) == "Livre à 10 € – l’œuvre complète"


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin_1() -> None:
    body = _document("a\x81b").encode("latin-1")
    assert _headline(parse_xml(body, action=ACTION)) == "a\x81b"


def test_utf8_body_is_read_as_utf8_even_when_it_declares_iso_8859_1() -> None:
    body = _document("Crème brûlée € ’").encode("utf-8")
    assert _headline(parse_xml(body, action=ACTION)) == "Crème brûlée € ’"


def test_utf8_bom_is_stripped() -> None:
    body = b"\xef\xbb\xbf" + _document("Noël", declaration="UTF-8").encode("utf-8")
    assert _headline(parse_xml(body, action=ACTION)) == "Noël"


def test_utf16_with_bom_is_read() -> None:
    body = _document("Noël", declaration="UTF-16").encode("utf-16")
    assert _headline(parse_xml(body, action=ACTION)) == "Noël"


def test_pure_ascii_body_without_declaration() -> None:
    body = b"<getnewsalesresult><response><sellerid>42</sellerid></response></getnewsalesresult>"
    assert parse_xml(body, action=ACTION).findtext("response/sellerid") == "42"


def test_cdata_whitespace_reaches_the_parser_untouched() -> None:
    body = _document("\n   Le Petit Prince  \n").encode("latin-1")
    assert _headline(parse_xml(body, action=ACTION)) == "\n   Le Petit Prince  \n"


# -------------------------------------------------------------------------------- illegal characters


def test_illegal_control_character_in_a_headline_is_removed() -> None:
    body = _document("Zelda\x19 Breath of the Wild\x0b").encode("latin-1")
    assert _headline(parse_xml(body, action=ACTION)) == "Zelda Breath of the Wild"


def test_illegal_control_character_in_a_utf8_body_is_removed() -> None:
    body = _document("Café\x01 noir\x1f").encode("utf-8")
    assert _headline(parse_xml(body, action=ACTION)) == "Café noir"


def test_tab_cr_lf_are_kept() -> None:
    body = _document("a\tb\nc").encode("latin-1")
    assert _headline(parse_xml(body, action=ACTION)) == "a\tb\nc"


def test_noncharacters_fffe_ffff_are_removed() -> None:
    body = _document("ab\ufffec\uffff").encode("utf-8")
    assert _headline(parse_xml(body, action=ACTION)) == "abc"


def test_character_references_to_illegal_characters_are_removed() -> None:
    body = (
        b"<getnewsalesresult><response><headline>a&#25;b&#x1F;c&#x0;d&#9;e&#233;</headline>"
        b"</response></getnewsalesresult>"
    )
    assert _headline(parse_xml(body, action=ACTION)) == "abcd\te\u00e9"


# -------------------------------------------------------------------------------------- namespaces

NAMESPACE_URIS = [
    "http://pmcdn.priceminister.com/res/schema/getnewsales",
    "http://pmcdn.staticpmrk.com/res/schema/getnewsales",
    "http://akamai.pminteg.fr/res/schema/getnewsales",
    "http://fr.shopping.rakuten.com/res/schema/getnewsales",
    "https://static.fr.shopping.rakuten.com/res/schema/getnewsales",
]


@pytest.mark.parametrize("uri", NAMESPACE_URIS)
def test_every_known_namespace_uri_gives_local_names(uri: str) -> None:
    body = f'<getnewsalesresult xmlns="{uri}"><response><sellerid>7</sellerid></response></getnewsalesresult>'
    root = parse_xml(body.encode(), action=ACTION)
    assert root.tag == "getnewsalesresult"
    assert [element.tag for element in root.iter()] == ["getnewsalesresult", "response", "sellerid"]


def test_prefixed_namespace_is_stripped() -> None:
    body = (
        b'<pm:getnewsalesresult xmlns:pm="http://pmcdn.priceminister.com/res/schema/getnewsales">'
        b"<pm:response><pm:sellerid>7</pm:sellerid></pm:response></pm:getnewsalesresult>"
    )
    root = parse_xml(body, action=ACTION)
    assert [element.tag for element in root.iter()] == ["getnewsalesresult", "response", "sellerid"]
    assert root.nsmap == {}


def test_schema_location_attribute_and_its_declaration_go() -> None:
    body = (
        b'<getnewsalesresult xmlns="http://pmcdn.priceminister.com/res/schema/getnewsales" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://pmcdn.priceminister.com/res/schema/getnewsales x.xsd">'
        b"<response><sellerid>7</sellerid></response></getnewsalesresult>"
    )
    root = parse_xml(body, action=ACTION)
    assert root.tag == "getnewsalesresult"
    assert root.findtext("response/sellerid") == "7"


def test_prefix_still_used_inside_keeps_the_document_valid() -> None:
    body = (
        b'<getnewsalesresult xmlns="urn:a" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<response><sellerid xsi:nil="true"/></response></getnewsalesresult>'
    )
    root = parse_xml(body, action=ACTION)
    seller = root.find("response/sellerid")
    assert seller is not None
    assert seller.get("nil") == "true"


def test_inner_default_namespace_is_stripped_too() -> None:
    body = (
        b'<getnewsalesresult xmlns="urn:outer"><response xmlns="urn:inner"><sellerid>7</sellerid>'
        b"</response></getnewsalesresult>"
    )
    root = parse_xml(body, action=ACTION)
    assert root.findtext("response/sellerid") == "7"


def test_errorresponse_namespace_is_stripped() -> None:
    body = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>'
        b'<errorresponse xmlns="http://pmcdn.priceminister.com/res/schema/error">'
        b"<error><type>Sender</type><code>InvalidUserConnection</code></error></errorresponse>"
    )
    root = parse_xml(body, action=ACTION)
    assert root.tag == "errorresponse"
    assert root.findtext("error/code") == "InvalidUserConnection"


def test_comments_and_processing_instructions_are_dropped() -> None:
    body = b"<!-- generated --><?pm x?><r><!-- note --><a>1</a><?pi y?></r>"
    root = parse_xml(body, action=ACTION)
    assert [child.tag for child in root] == ["a"]


# ----------------------------------------------------------------------------------------------- size


def test_a_response_over_10_mb_with_a_text_node_over_10_mb_parses() -> None:
    sale = (
        "<sale><purchaseid>{n}</purchaseid><items><item><itemid>{n}</itemid>"
        "<headline><![CDATA[Un titre assez long pour remplir la page, é è à]]></headline></item></items></sale>"
    )
    sales = "".join(sale.format(n=n) for n in range(60_000))
    long_text = "x" * 10_500_000
    body = (
        f'<?xml version="1.0" encoding="ISO-8859-1"?><getcurrentsalesresult xmlns="urn:x"><response>'
        f"<note>{long_text}</note><sales>{sales}</sales></response></getcurrentsalesresult>"
    ).encode("latin-1")
    assert len(body) > 15_000_000
    root = parse_xml(body, action="getcurrentsales")
    assert len(root.findtext("response/note") or "") == 10_500_000
    assert len(root.findall("response/sales/sale")) == 60_000


# ------------------------------------------------------------------------------------------- hardening

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<getnewsalesresult><response><sellerid>&lol9;</sellerid></response></getnewsalesresult>"""

XXE = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<getnewsalesresult><response><sellerid>&xxe;</sellerid></response></getnewsalesresult>"""

XXE_PARAMETER = b"""<!DOCTYPE foo [ <!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote; ]>
<getnewsalesresult/>"""

EXTERNAL_DTD = b"""<!DOCTYPE getnewsalesresult SYSTEM "http://127.0.0.1:9/x.dtd"><getnewsalesresult/>"""

DOCTYPE_AFTER_COMMENT = b"""<!-- <a> --><!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>"""


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, XXE, XXE_PARAMETER, EXTERNAL_DTD, DOCTYPE_AFTER_COMMENT],
    ids=["billion-laughs", "xxe", "xxe-parameter-entity", "external-dtd", "doctype-after-comment"],
)
def test_document_type_declarations_are_refused(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedResponseError, match="document type declaration was refused") as caught:
        parse_xml(body, action=ACTION)
    assert time.perf_counter() - started < 1.0
    assert caught.value.retryable
    assert "passwd" not in str(caught.value)


def test_undeclared_entity_is_malformed_not_expanded() -> None:
    with pytest.raises(MalformedResponseError, match="malformed XML"):
        parse_xml(b"<r>&undefined;</r>", action=ACTION)


# ------------------------------------------------------------------------------------- not XML at all


MAINTENANCE_PAGE = b"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>  Rakuten -
 Maintenance en cours </title></head><body><h1>Nous revenons vite</h1></body></html>"""


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (MAINTENANCE_PAGE, "answered with an HTML page (maintenance?): 'Rakuten - Maintenance en cours'"),
        (b"\n  <html><body>down</body></html>", "answered with an HTML page (maintenance?)"),
        (b"<HTML><HEAD><TITLE>503</TITLE></HEAD></HTML>", "answered with an HTML page (maintenance?): '503'"),
        (b"Service unavailable <body>x</body>", "answered with an HTML page (maintenance?)"),
        (b"", "answered with an empty body"),
        (b"  \r\n\t ", "answered with an empty body"),
        (b'{"error": "quota"}', "answered with JSON instead of XML"),
        (b"[1, 2]", "answered with JSON instead of XML"),
        (b"503 Service Temporarily Unavailable", "answered with something that is not XML: '503 Service"),
        (b"<getnewsalesresult><response><sales><sale><purch", "answered with truncated XML"),
        (b"<getnewsalesresult><response>", "answered with truncated XML"),
        (b"<!-- cut", "answered with truncated XML"),
        (b"<a><b></a>", "answered with malformed XML (Opening and ending tag mismatch"),
        (b"<a></a><b></b>", "answered with malformed XML (Extra content at the end of the document"),
    ],
    ids=[
        "maintenance-page",
        "html-no-title",
        "upper-case-html",
        "text-then-html",
        "empty",
        "whitespace",
        "json-object",
        "json-array",
        "plain-text",
        "truncated-mid-tag",
        "truncated-open-elements",
        "truncated-comment",
        "mismatched-tags",
        "two-roots",
    ],
)
def test_non_xml_bodies_are_malformed_responses(body: bytes, expected: str) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        parse_xml(body, action=ACTION)
    error = caught.value
    assert expected in error.message
    assert str(error).startswith(f"{ACTION}: ")
    assert error.action == ACTION
    assert error.retryable


def test_excerpt_of_an_unexpected_body_is_short_and_keeps_no_secret() -> None:
    body = b"Proxy error for /sales_ws?action=getnewsales&login=shop&pwd=0123456789abcdef0123456789abcdef " + (
        b"blah " * 500
    )
    with pytest.raises(MalformedResponseError) as caught:
        parse_xml(body, action=ACTION)
    message = caught.value.message
    assert "0123456789abcdef" not in message
    assert "pwd=" not in message
    assert len(message) < 200


def test_long_html_title_is_capped() -> None:
    body = b"<html><head><title>" + b"Maintenance " * 100 + b"</title></head></html>"
    with pytest.raises(MalformedResponseError) as caught:
        parse_xml(body, action=ACTION)
    assert len(caught.value.message) < 200
