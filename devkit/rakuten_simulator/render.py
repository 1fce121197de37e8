"""XML exactly as Rakuten's ``sales_ws`` writes it (docs/rakuten-api.md §2, §3, §7).

Shape: an XML declaration, a root named after the action's result with a default namespace and an
``xsi:schemaLocation``, a ``<request>`` echo, then ``<response>``. Free text sits in CDATA; amounts use a
dot and as few decimals as Rakuten does (``23.9``, ``13.0``).

Encoding: documents are ISO-8859-1 bytes. When a text holds a character only windows-1252 has
(€ ’ œ – …), the whole document is encoded windows-1252 and says so in its declaration, while the HTTP
header keeps announcing ISO-8859-1, a mismatch real captures show. Characters neither encoding has
become character references, written outside the CDATA section that would otherwise swallow them.
Characters XML forbids (C0 controls) go through untouched, as Rakuten lets them through.

Documents are built from f-strings and one join: tens of thousands of sales must render in well under
a second. That is the ``CAPTURED`` envelope; any other (``envelopes.py``) is dressed from it afterwards by
``dress``, which only the tests' small documents go through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from devkit.rakuten_simulator.envelopes import CAPTURED, DEFAULT_NAMESPACE, Envelope
from devkit.rakuten_simulator.state import (
    VAT_RATE,
    BillingLine,
    SimAddress,
    SimCollectionPoint,
    SimItem,
    SimSale,
    SimTracking,
)

CONTENT_TYPE = "text/xml;charset=ISO-8859-1"
NAMESPACE_BASE = DEFAULT_NAMESPACE
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DECLARATION_LATIN1 = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
_DECLARATION_CP1252 = b'<?xml version="1.0" encoding="windows-1252"?>\n'

# Kept verbatim: ASCII, Latin-1's printable upper half and the 27 extra characters windows-1252 encodes.
_NEEDS_REFERENCE = re.compile("[^\x00-\x7f\xa0-\xff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


def _reference(match: re.Match[str]) -> str:
    return f"&#x{ord(match.group()):X};"


def _cdata_reference(match: re.Match[str]) -> str:
    return f"]]>&#x{ord(match.group()):X};<![CDATA["


def cdata(value: str) -> str:
    """A CDATA section holding ``value`` verbatim, ``]]>`` included."""
    if "]]>" in value:
        value = value.replace("]]>", "]]]]><![CDATA[>")
    if not value.isascii():
        value = _NEEDS_REFERENCE.sub(_cdata_reference, value)
    return f"<![CDATA[{value}]]>"


def text(value: str) -> str:
    """Character data outside CDATA: markup characters escaped."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if not value.isascii():
        value = _NEEDS_REFERENCE.sub(_reference, value)
    return value


def amount(value: Decimal) -> str:
    """Rakuten's variable precision: ``23.9``, ``13.0``, ``2.66``."""
    formatted = f"{value:.2f}"
    return formatted[:-1] if formatted[-1] == "0" else formatted


def flag(value: bool) -> str:
    return "Y" if value else "N"


def purchase_date(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y-%H:%M")


def encode_document(document: str) -> bytes:
    try:
        return _DECLARATION_LATIN1 + document.encode("iso-8859-1")
    except UnicodeEncodeError:
        # Only windows-1252's extra characters can get here: every other one became a reference.
        return _DECLARATION_CP1252 + document.encode("cp1252")


def result_document(
    root: str,
    schema: str,
    *,
    version: str,
    user: str,
    params: Sequence[tuple[str, str]],
    response: str | None,
    envelope: Envelope = CAPTURED,
) -> bytes:
    """A whole answer: declaration, namespaced root, request echo, then the pre-rendered response body
    (``response`` None: no ``<response>`` element at all)."""
    namespace = f"{NAMESPACE_BASE}{schema}"
    echo = "".join(f"\n    <{name}>{text(value)}</{name}>" for name, value in params)
    answer = f"  <response>{response}\n  </response>\n" if response is not None else ""
    document = (
        f'<{root} xmlns="{namespace}" xmlns:xsi="{_XSI}" '
        f'xsi:schemaLocation="{namespace} {namespace}/{schema}.{version}.xsd">\n'
        f"  <request>\n    <version>{text(version)}</version>\n    <user>{text(user)}</user>{echo}\n  </request>\n"
        f"{answer}</{root}>\n"
    )
    return dress(document, envelope)


def error_document(
    error_type: str, code: str, message: str, details: Iterable[str], *, envelope: Envelope = CAPTURED
) -> bytes:
    namespace = f"{NAMESPACE_BASE}error"
    # Rakuten pads the detail CDATA with whitespace and newlines; parsers have to strip it.
    lines = "".join(f"\n      <detail>\n        {cdata(f' {detail} ')}\n      </detail>" for detail in details)
    document = (
        f'<errorresponse xmlns="{namespace}" xmlns:xsi="{_XSI}" '
        f'xsi:schemaLocation="{namespace} {namespace}/error.xsd">\n'
        f"  <error>\n    <type>{text(error_type)}</type>\n    <code>{text(code)}</code>\n"
        f"    <message>{text(message)}</message>\n    <details>{lines}\n    </details>\n  </error>\n"
        f"</errorresponse>\n"
    )
    return dress(document, envelope)


# envelopes ---------------------------------------------------------------------------------------------

# A CDATA section ends at its first "]]>"; markup never holds ">" inside attribute values here; the rest is text.
_TOKEN = re.compile(r"<!\[CDATA\[.*?\]\]>|<[^>]*>|[^<]+", re.DOTALL)
_TAG_NAME = re.compile(r"</?([^\s/>]+)")
_REFERENCE = re.compile(r"&(#[xX][0-9A-Fa-f]+|#\d+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def dress(document: str, envelope: Envelope) -> bytes:
    """``document`` (rendered as captured, without declaration) as ``envelope`` writes it, in bytes."""
    if envelope.restyles_text:
        document = _restyle(document, envelope)
    if envelope.renames_namespace:
        document = _renamespace(document, envelope)
    if envelope is CAPTURED or (envelope.encoding == "iso-8859-1" and envelope.declared and not envelope.standalone):
        return encode_document(document)
    standalone = ' standalone="no"' if envelope.standalone else ""
    if envelope.encoding == "utf-8":
        body, label = document.encode("utf-8"), "UTF-8"
    elif envelope.encoding == "windows-1252":
        body, label = document.encode("cp1252"), "windows-1252"
    else:
        try:
            body, label = document.encode("iso-8859-1"), "ISO-8859-1"
        except UnicodeEncodeError:
            body, label = document.encode("cp1252"), "windows-1252"
    if not envelope.declared:
        return body
    return f'<?xml version="1.0" encoding="{label}"{standalone}?>\n'.encode("ascii") + body


def _restyle(document: str, envelope: Envelope) -> str:
    """Rewrite every leaf element's value: padded CDATA for text, the envelope's form for empty values."""
    out: list[str] = []
    pending: list[str] = []  # a start tag and the character data after it, while it may still be a leaf
    for match in _TOKEN.finditer(document):
        token = match.group()
        if token.startswith("<![CDATA[") or not token.startswith("<"):
            if pending:
                pending.append(token)
            else:
                out.append(token)
            continue
        if token.startswith("</") and pending:
            out.append(_leaf(pending, envelope))
            pending = []
            continue
        out.extend(pending)
        pending = []
        if token.endswith("/>"):
            out.append(_empty(_tag_name(token), token, envelope))
        elif token.startswith(("<?", "<!", "</")):
            out.append(token)
        else:
            pending = [token]
    out.extend(pending)
    return "".join(out)


def _leaf(tokens: list[str], envelope: Envelope) -> str:
    start, content = tokens[0], tokens[1:]
    name = _tag_name(start)
    value = "".join(_character_data(token) for token in content).strip()
    if not value:
        original = f"{''.join(tokens)}</{name}>"
        return _empty(name, original, envelope, start=start)
    if envelope.padded_cdata:
        padded = f"\n    {value}\n  "
        return f"{start}{cdata(padded)}</{name}>"
    return f"{''.join(tokens)}</{name}>"


def _empty(name: str, original: str, envelope: Envelope, *, start: str | None = None) -> str:
    form = envelope.empty_form
    if form == "as-captured":
        return original
    start = start or f"<{name}>"
    if form == "self-closing":
        return f"{start[:-1]}/>"
    if form == "open-close":
        return f"{start}</{name}>"
    return f"{start}<![CDATA[]]></{name}>"


def _tag_name(tag: str) -> str:
    match = _TAG_NAME.match(tag)
    return match.group(1) if match else ""


def _character_data(token: str) -> str:
    if token.startswith("<![CDATA["):
        return token[9:-3]
    return _REFERENCE.sub(_dereference, token) if "&" in token else token


def _dereference(match: re.Match[str]) -> str:
    entity = match.group(1)
    if entity[0] == "#":
        return chr(int(entity[2:], 16) if entity[1] in "xX" else int(entity[1:]))
    return _NAMED[entity]


def _renamespace(document: str, envelope: Envelope) -> str:
    """Change the namespace declarations of the root start tag (the only one that carries any)."""
    end = document.index(">") + 1
    start_tag = document[:end]
    if envelope.namespace is None:
        start_tag = re.sub(r'\s+(?:xmlns(?::xsi)?|xsi:schemaLocation)="[^"]*"', "", start_tag)
    else:
        start_tag = start_tag.replace(NAMESPACE_BASE, envelope.namespace)
        start_tag = start_tag.replace('xmlns="', f'xmlns="{envelope.namespace_padding}', 1)
    return start_tag + document[end:]


# sales ------------------------------------------------------------------------------------------------


def sales_response(
    sales: Iterable[SimSale], *, last_version: str, seller_id: str, next_token: str | None = None
) -> str:
    """``<response>`` body of getnewsales / getcurrentsales; ``next_token`` None leaves the element out."""
    head = f"\n    <lastversion>{last_version}</lastversion>"
    if next_token is not None:
        head += f"\n    <nexttoken>{text(next_token)}</nexttoken>" if next_token else "\n    <nexttoken/>"
    head += f"\n    <sellerid>{seller_id}</sellerid>"
    body = "".join(map(_sale, sales))
    return f"{head}\n    <sales>{body}\n    </sales>" if body else f"{head}\n    <sales/>"


def _sale(sale: SimSale) -> str:
    addresses = ""
    if sale.delivery_address is not None:
        addresses += _address("deliveryaddress", sale.delivery_address, "        ")
    if sale.billing_address is not None:
        addresses += _address("billingaddress", sale.billing_address, "        ")
    if sale.collection_point is not None:
        addresses += _collection_point(sale.collection_point)
    items = "".join(map(_item, sale.items))
    return (
        f"\n      <sale>"
        f"\n        <purchasedate>{purchase_date(sale.purchase_date)}</purchasedate>"
        f"\n        <purchaseid>{sale.purchaseid}</purchaseid>"
        f"\n        <deliveryinformation>"
        f"\n          <shippingtype>{text(sale.shipping_type)}</shippingtype>"
        f"\n          <isfullrsl>{flag(sale.is_full_rsl)}</isfullrsl>"
        f"\n          <purchasebuyerlogin>\n            {cdata(sale.buyer_login)}\n          </purchasebuyerlogin>"
        f"\n          <purchasebuyeremail>{text(sale.buyer_email)}</purchasebuyeremail>"
        f"{addresses}"
        f"\n        </deliveryinformation>"
        f"\n        <items>{items}\n        </items>"
        f"\n      </sale>"
    )


def _item(item: SimItem) -> str:
    comment = f"<negotiationcomment>{cdata(item.negotiation_comment)}</negotiationcomment>"
    return (
        f"\n          <item>"
        f"\n            <sku>{cdata(item.sku)}</sku>"
        f"\n            <advertid>{item.advertid}</advertid>"
        f"\n            <advertpricelisted><amount>{amount(item.advert_price)}</amount>"
        f"<currency>EUR</currency></advertpricelisted>"
        f"\n            <itemid>{item.itemid}</itemid>"
        f"\n            <headline>{cdata(item.headline)}</headline>"
        f"\n            <itemstatus>{cdata(item.status)}</itemstatus>"
        f"\n            <ispreorder>{flag(item.is_preorder)}</ispreorder>"
        f"\n            <isnego>{flag(item.is_nego)}</isnego>"
        f"\n            {comment if item.negotiation_comment else '<negotiationcomment/>'}"
        f"\n            <price><amount>{amount(item.price)}</amount><currency>EUR</currency></price>"
        f"\n            <isrsl>{flag(item.is_rsl)}</isrsl>"
        f"\n            <isbn>{item.isbn}</isbn>"
        f"\n            <ean>{text(item.ean)}</ean>"
        f"\n            <paymentstatus>{item.payment_status}</paymentstatus>"
        f"\n            <sellerscore/>"
        f"\n          </item>"
    )


def _address(tag: str, address: SimAddress, pad: str) -> str:
    return (
        f"\n{pad}  <{tag}>"
        f"\n{pad}    <civility>{text(address.civility)}</civility>"
        f"\n{pad}    <lastname>{cdata(address.lastname)}</lastname>"
        f"\n{pad}    <firstname>{cdata(address.firstname)}</firstname>"
        f"\n{pad}    <address1>{cdata(address.address1)}</address1>"
        f"\n{pad}    <address2>{cdata(address.address2)}</address2>"
        f"\n{pad}    <zipcode>{text(address.zipcode)}</zipcode>"
        f"\n{pad}    <city>{cdata(address.city)}</city>"
        f"\n{pad}    <country>{cdata(address.country)}</country>"
        f"\n{pad}    <countryalpha2>{text(address.country_alpha2)}</countryalpha2>"
        f"\n{pad}    <phonenumber1>{text(address.phone1)}</phonenumber1>"
        f"\n{pad}    <phonenumber2>{text(address.phone2)}</phonenumber2>"
        f"\n{pad}  </{tag}>"
    )


def _collection_point(point: SimCollectionPoint) -> str:
    return (
        "\n          <collectionpointaddress>"
        f"\n            <civility>{text(point.civility)}</civility>"
        f"\n            <lastname>{cdata(point.lastname)}</lastname>"
        f"\n            <firstname>{cdata(point.firstname)}</firstname>"
        f"\n            <id>{text(point.point_id)}</id>"
        f"\n            <name>{cdata(point.name)}</name>"
        f"\n            <address>{cdata(point.address)}</address>"
        f"\n            <zipcode>{text(point.zipcode)}</zipcode>"
        f"\n            <city>{cdata(point.city)}</city>"
        f"\n            <country>{cdata(point.country)}</country>"
        f"\n            <contractlevel>{text(point.contract_level)}</contractlevel>"
        "\n          </collectionpointaddress>"
    )


# per-item actions, to-do list, billing, shipping ---------------------------------------------------------


def status_response(*, last_version: str, status: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    fields = "".join(f"\n    <{name}>{text(value)}</{name}>" for name, value in extra)
    return f"\n    <lastversion>{last_version}</lastversion>\n    <status>{text(status)}</status>{fields}"


def todo_response(
    entries: Iterable[tuple[str, Sequence[str]]], *, last_version: str, seller_id: str
) -> str:
    items = "".join(
        f"\n      <item>\n        <itemid>{itemid}</itemid>\n        <causes>"
        + "".join(f"\n          <cause>{text(cause)}</cause>" for cause in causes)
        + "\n        </causes>\n      </item>"
        for itemid, causes in entries
    )
    listing = f"\n    <items>{items}\n    </items>" if items else "\n    <items/>"
    return f"\n    <lastversion>{last_version}</lastversion>\n    <sellerid>{seller_id}</sellerid>{listing}"


def _money(tag: str, value: Decimal, pad: str) -> str:
    return f"\n{pad}<{tag}>\n{pad}  <amount>{amount(value)}</amount>\n{pad}  <currency>EUR</currency>\n{pad}</{tag}>"


def billing_response(
    purchaseid: str, lines: Iterable[BillingLine], *, last_version: str, seller_id: str
) -> str:
    pad = "          "
    rows = []
    for line in lines:
        item = line.item
        rows.append(
            "\n        <item>"
            f"\n{pad}<itemid>{item.itemid}</itemid>"
            f"\n{pad}<sku>{cdata(item.sku)}</sku>"
            f"\n{pad}<headline>{cdata(item.headline)}</headline>"
            f"\n{pad}<category>{cdata(item.category)}</category>"
            f"\n{pad}<itemstatus>{item.status}</itemstatus>"
            f"{_money('itemsaleprice', item.price, pad)}"
            f"{_money('shippingsaleprice', item.shipping_price, pad)}"
            f"\n{pad}<itemcommissionvatrate>{VAT_RATE}</itemcommissionvatrate>"
            f"{_money('itemcommissionexcltax', line.item_commission_excl_tax, pad)}"
            f"{_money('itemcommissionvat', line.item_commission_vat, pad)}"
            f"\n{pad}<shippingcommissionvatrate>{VAT_RATE}</shippingcommissionvatrate>"
            f"{_money('shippingcommissionexcltax', line.shipping_commission_excl_tax, pad)}"
            f"{_money('shippingcommissionvat', line.shipping_commission_vat, pad)}"
            f"{_money('paymentamount', line.payment_amount, pad)}"
            "\n        </item>"
        )
    return (
        f"\n    <lastversion>{last_version}</lastversion>\n    <sellerid>{seller_id}</sellerid>"
        f"\n    <billinginformation>\n      <purchaseid>{purchaseid}</purchaseid>"
        f"\n      <items>{''.join(rows)}\n      </items>\n    </billinginformation>"
    )


def shipping_response(sale: SimSale, *, last_version: str, seller_id: str) -> str:
    billing = sale.billing_address or sale.delivery_address
    billing_block = _address("billingaddress", billing, "    ") if billing is not None else ""
    return (
        f"\n    <lastversion>{last_version}</lastversion>\n    <sellerid>{seller_id}</sellerid>"
        f"\n    <shippinginformation>"
        f"\n      <shippingtype>{text(sale.shipping_type)}</shippingtype>"
        f"{_prepaid_label(sale.prepaid_tracking)}"
        f"{_money('purchaseshippingcostprice', sale.shipping_cost, '      ')}"
        f"\n      <purchasebuyerlogin>{cdata(sale.buyer_login)}</purchasebuyerlogin>"
        f"\n      <purchasebuyeremail>{text(sale.buyer_email)}</purchasebuyeremail>"
        f"{billing_block}"
        f"\n    </shippinginformation>"
    )


def _prepaid_label(tracking: SimTracking | None) -> str:
    if tracking is None:
        return (
            "\n      <prepaidlabel>\n        <available>N</available>"
            "\n        <availabilitydetail>No prepaid label for this shipping type.</availabilitydetail>"
            "\n      </prepaidlabel>"
        )
    label_url = f"https://etiquettes.example/{tracking.number}.pdf"
    return (
        "\n      <prepaidlabel>\n        <available>Y</available>"
        "\n        <availabilitydetail>Prepaid label available.</availabilitydetail>"
        f"\n        <prepaidlabelurl>{cdata(label_url)}</prepaidlabelurl>"
        "\n        <trackinginformation>"
        f"\n          <trackingnumber>{text(tracking.number)}</trackingnumber>"
        f"\n          <trackingurl>{cdata(tracking.url or '')}</trackingurl>"
        "\n        </trackinginformation>\n      </prepaidlabel>"
    )
