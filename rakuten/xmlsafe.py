"""Turn the bytes Rakuten sends into a safe, namespace-free lxml tree.

Rakuten declares ISO-8859-1 yet sometimes sends windows-1252 or UTF-8, slips characters that XML 1.0
forbids into free text, and has changed its namespace URIs over the years (docs/rakuten-api.md §2, §7).
This module absorbs all of that so the parser only ever sees local element names, and refuses any
document type declaration so entity expansion (billion laughs) and external entities (XXE) cannot happen.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from rakuten.errors import MalformedResponseError

__all__ = ["parse_xml"]

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _cp1252_table() -> str:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; read those as Latin-1 so no byte ever fails.
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars)


_CP1252_LENIENT = _cp1252_table()

# XML 1.0 allows TAB, LF, CR and everything from U+0020 except the surrogates and U+FFFE/U+FFFF.
_C0_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_UTF8_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF
# The same characters written as character references, which libxml2 rejects just as firmly.
_ILLEGAL_CHAR_REFS = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]|[fF]{3}[eEfF])|0*(?:[0-8]|1[1-2]|1[4-9]|2[0-9]|3[01]|6553[45]));"
)
_XML_DECLARATION = re.compile(rb"\A\s*<\?xml[^>]*\?>")
_QUOTED_VALUE = rb"""\s*=\s*(?:"[^"]*"|'[^']*')"""
_DEFAULT_NAMESPACE_ATTR = re.compile(rb"\s+xmlns" + _QUOTED_VALUE)
_PREFIXED_NAMESPACE_ATTR = re.compile(rb"\sxmlns:([\w.\-]+)\s*=")
_ROOT_NAME = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_HTML_DOCTYPE = re.compile(rb"<!doctype\s+html", re.IGNORECASE)
_HTML_HINT = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SECRET_LIKE = re.compile(r"(?:pwd|password|token)=[^&\s\"'<>]*|[A-Za-z0-9_\-]{20,}", re.IGNORECASE)
_XML_WHITESPACE = b" \t\r\n"
_HEAD_BYTES = 8192
_EXCERPT_LIMIT = 120


def parse_xml(body: bytes, *, action: str) -> etree._Element:
    """Parse a Rakuten answer into its root element, every tag reduced to its local name.

    Raises MalformedResponseError for anything that is not a complete, safe XML document.
    """
    # The work stays on bytes, re-encoded as UTF-8 when needed: handing lxml a decoded str costs more than
    # the whole parse of a multi-megabyte page.
    data = _as_utf8(body)
    data = _XML_DECLARATION.sub(b"", data, count=1)  # the encoding is resolved; a stale declaration would mislead
    root_start = _check_shape(data, action=action)
    data, namespaced = _drop_root_namespaces(data, root_start)
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as first_error:
        # Characters XML 1.0 forbids are rare: look for them only once libxml2 has refused the document,
        # so a clean page is never scanned or copied for them.
        cleaned = _without_illegal_characters(data)
        if len(cleaned) == len(data):
            raise MalformedResponseError(_describe_syntax_error(data, first_error), action=action) from None
        try:
            root = etree.fromstring(cleaned, _hardened_parser())
        except etree.XMLSyntaxError as second_error:
            raise MalformedResponseError(_describe_syntax_error(cleaned, second_error), action=action) from None
    if root.getroottree().docinfo.internalDTD is not None:
        # Unreachable while _check_shape refuses every declaration; kept as a second line of defence.
        raise MalformedResponseError("the document type declaration was refused", action=action)
    if namespaced:
        _strip_namespaces(root)
    return root


def _as_utf8(body: bytes) -> bytes:
    """The body without its BOM, as UTF-8: kept as is when it already is, else read as windows-1252."""
    if body.startswith(_UTF16_BOMS):
        return body.decode("utf-16", errors="replace").encode("utf-8")
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM) :]
    if body.isascii():
        return body
    try:
        # Genuine Latin-1 French text is practically never valid UTF-8 once it holds high bytes.
        body.decode("utf-8")
    except UnicodeDecodeError:
        # windows-1252 is a superset of the ISO-8859-1 Rakuten declares. Transcoding here is faster than
        # libxml2's own windows-1252 decoder, which would also fail on the five bytes cp1252 leaves undefined.
        return codecs.charmap_decode(body, "strict", _CP1252_LENIENT)[0].encode("utf-8")
    return body


def _without_illegal_characters(data: bytes) -> bytes:
    # Deleting C0 bytes is safe in UTF-8: there they only ever mean themselves, never part of a sequence.
    data = data.translate(None, _C0_CONTROL_BYTES)
    for noncharacter in _UTF8_NONCHARACTERS:
        data = data.replace(noncharacter, b"")
    return _ILLEGAL_CHAR_REFS.sub(b"", data)


def _check_shape(data: bytes, *, action: str) -> int:
    """Refuse bodies that are not XML, and any DTD; return the byte offset where the root element starts."""
    head = data[:_HEAD_BYTES].lstrip(_XML_WHITESPACE)
    if not head:
        if not data.strip():
            raise MalformedResponseError("answered with an empty body", action=action)
        head = data.lstrip()[:_HEAD_BYTES]
    first = head[:1]
    if first in (b"{", b"["):
        raise MalformedResponseError("answered with JSON instead of XML", action=action)
    if first != b"<":
        if _HTML_HINT.search(head) is not None:
            raise _html_page(head, action=action)
        raise _not_xml(head, action=action)
    position = _skip_prolog(data, action=action)
    if data.startswith(b"<!", position):
        if _HTML_DOCTYPE.match(data, position) is not None:
            raise _html_page(head, action=action)
        raise MalformedResponseError(
            "the document type declaration was refused (DTDs and entities are never accepted)", action=action
        )
    root = _ROOT_NAME.match(data, position)
    if root is None:
        raise _not_xml(head, action=action)
    if root.group(1).lower() == b"html":
        raise _html_page(head, action=action)
    return position


def _skip_prolog(data: bytes, *, action: str) -> int:
    """Offset of the first markup after leading whitespace, comments and processing instructions."""
    position = 0
    length = len(data)
    while True:
        while position < length and data[position] in _XML_WHITESPACE:
            position += 1
        for opener, closer in ((b"<!--", b"-->"), (b"<?", b"?>")):
            if data.startswith(opener, position):
                end = data.find(closer, position + len(opener))
                if end < 0:
                    raise MalformedResponseError("answered with truncated XML", action=action)
                position = end + len(closer)
                break
        else:
            return position


def _html_page(head: bytes, *, action: str) -> MalformedResponseError:
    title = _html_title(head.decode("utf-8", errors="replace"))
    return MalformedResponseError(f"answered with an HTML page (maintenance?){title}", action=action)


def _not_xml(head: bytes, *, action: str) -> MalformedResponseError:
    excerpt = _excerpt(head[: _EXCERPT_LIMIT * 4].decode("utf-8", errors="replace"))
    return MalformedResponseError(f"answered with something that is not XML: {excerpt}", action=action)


def _drop_root_namespaces(data: bytes, root_start: int) -> tuple[bytes, bool]:
    """Remove namespace declarations from the root start tag; say whether any namespace is left after that.

    Editing one start tag is far cheaper than renaming every element after parsing. A prefixed declaration
    (``xmlns:xsi`` for ``xsi:schemaLocation``) goes too, with the root's attributes in that prefix, when
    the prefix is used nowhere else: removing a prefix still in use would make the document invalid.
    """
    tag_end = data.find(b">", root_start)
    if tag_end < 0:
        return data, b"xmlns" in data
    start_tag = data[root_start : tag_end + 1]
    inner_declarations = data.find(b"xmlns", tag_end) >= 0
    if b"xmlns" not in start_tag:
        return data, inner_declarations
    cleaned = _DEFAULT_NAMESPACE_ATTR.sub(b"", start_tag)
    for prefix in _PREFIXED_NAMESPACE_ATTR.findall(cleaned):
        if data.find(prefix + b":", tag_end) < 0:
            escaped = re.escape(prefix)
            declaration_or_attribute = rb"\s+(?:xmlns:" + escaped + rb"|" + escaped + rb":[\w.\-]+)" + _QUOTED_VALUE
            cleaned = re.sub(declaration_or_attribute, b"", cleaned)
    data = b"".join((data[:root_start], cleaned, data[tag_end + 1 :]))
    return data, inner_declarations or b"xmlns" in cleaned


def _strip_namespaces(root: etree._Element) -> None:
    for element in root.iter(etree.Element):
        tag = element.tag
        if tag[0] == "{":
            element.tag = tag.rpartition("}")[2]
        if element.attrib:
            for name in [name for name in element.attrib if name[0] == "{"]:
                value = element.attrib.pop(name)
                element.attrib[name.rpartition("}")[2]] = value
    etree.cleanup_namespaces(root)


def _hardened_parser() -> etree.XMLParser:
    # A fresh parser per document: lxml parsers serialise concurrent use, and building one costs microseconds.
    return etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
        # Indentation between elements is not data; dropping it makes both parsing and reading faster.
        remove_blank_text=True,
    )


def _describe_syntax_error(data: bytes, exc: etree.XMLSyntaxError) -> str:
    reason = (exc.msg or str(exc)).splitlines()[0]
    ends_cleanly = data[-256:].rstrip().endswith(b">")
    if "Premature end of data" in reason or "EndTag: '</' not found" in reason or not ends_cleanly:
        return "answered with truncated XML"
    return f"answered with malformed XML ({_cap(reason)})"


def _html_title(text: str) -> str:
    match = _HTML_TITLE.search(text)
    if match is None:
        return ""
    title = " ".join(match.group(1).split())
    return f": {_excerpt(title)}" if title else ""


def _excerpt(text: str) -> str:
    """A short, single-line, secret-free glimpse of an unexpected body, for logs and error messages."""
    flat = " ".join(text[: _EXCERPT_LIMIT * 4].split())
    return repr(_cap(_SECRET_LIKE.sub("…", flat)))


def _cap(text: str) -> str:
    return text if len(text) <= _EXCERPT_LIMIT else f"{text[: _EXCERPT_LIMIT - 1]}…"
