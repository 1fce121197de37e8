"""The ways Rakuten has been seen to wrap the same answer (docs/rakuten-api.md §2, §3, §7), one ``Envelope`` each.

Rakuten's namespace URI changed host over the years and some answers carry none; documents declare
ISO-8859-1, windows-1252 or nothing; text sits in CDATA, sometimes padded with newlines; an empty value is
written ``<x/>``, ``<x></x>`` or ``<x><![CDATA[]]></x>``; error documents come with HTTP 200 or a 4xx/5xx status.
A client must read them all alike. The simulator serves any of them, per account or for every account, and the
client tests run once per entry of ``ENVELOPES``, so that no parsing assumption can hide behind one of them.

Each variant changes one thing from ``CAPTURED`` (what most captures look like), so a failing test names the
quirk; the HTTP status of errors, which is not a parsing matter, varies alongside on half of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_NAMESPACE = "http://pmcdn.priceminister.com/res/schema/"

Encoding = Literal["iso-8859-1", "windows-1252", "utf-8"]
EmptyForm = Literal["as-captured", "self-closing", "open-close", "cdata"]


@dataclass(frozen=True, slots=True)
class Envelope:
    """How an answer is written; the content never changes.

    ``namespace``: the schema base URI (None: no namespace declaration at all); ``namespace_padding``: spaces
    written before the URI inside ``xmlns="…"``; ``encoding`` of the bytes and whether an XML declaration says
    so (``declared``), with ``standalone="no"`` or not; ``padded_cdata``: every non-empty text value, statuses
    included, in a CDATA section padded with newlines; ``empty_form``: how every empty element is written
    (``as-captured`` mixes the three as captures do); ``errors_http_200``: error documents come with HTTP 200.
    """

    name: str
    namespace: str | None = DEFAULT_NAMESPACE
    namespace_padding: str = ""
    encoding: Encoding = "iso-8859-1"
    declared: bool = True
    standalone: bool = False
    padded_cdata: bool = False
    empty_form: EmptyForm = "as-captured"
    errors_http_200: bool = False

    @property
    def restyles_text(self) -> bool:
        return self.padded_cdata or self.empty_form != "as-captured"

    @property
    def renames_namespace(self) -> bool:
        return self.namespace != DEFAULT_NAMESPACE or bool(self.namespace_padding)


CAPTURED = Envelope("captured")

ENVELOPES: dict[str, Envelope] = {
    envelope.name: envelope
    for envelope in (
        CAPTURED,
        Envelope("no-namespace", namespace=None, errors_http_200=True),
        Envelope("ns-staticpmrk", namespace="http://pmcdn.staticpmrk.com/res/schema/"),
        Envelope("ns-pminteg", namespace="http://akamai.pminteg.fr/res/schema/", errors_http_200=True),
        Envelope("ns-rakuten", namespace="https://fr.shopping.rakuten.com/res/schema/"),
        Envelope(
            "ns-static-rakuten", namespace="https://static.fr.shopping.rakuten.com/res/schema/", errors_http_200=True
        ),
        Envelope("ns-leading-spaces", namespace_padding="  "),
        Envelope("standalone-no", standalone=True, errors_http_200=True),
        Envelope("utf-8-undeclared", encoding="utf-8", declared=False),
        Envelope("windows-1252", encoding="windows-1252", errors_http_200=True),
        Envelope("cdata-padded", padded_cdata=True),
        Envelope("empty-self-closing", empty_form="self-closing", errors_http_200=True),
        Envelope("empty-open-close", empty_form="open-close"),
        Envelope("empty-cdata", empty_form="cdata", errors_http_200=True),
    )
}


def envelope_named(envelope: Envelope | str) -> Envelope:
    if isinstance(envelope, Envelope):
        return envelope
    try:
        return ENVELOPES[envelope]
    except KeyError:
        raise ValueError(f"unknown envelope {envelope!r}; known: {', '.join(ENVELOPES)}") from None
