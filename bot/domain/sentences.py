"""Sentences for people, before they are in anyone's language.

A service that has something to tell a person (why a click is refused, what to fix in a form) returns a
``Sentence``: the English message id and its values. The UI says it in the reader's language
(``Translator.say``), from the message catalogues; ``make messages`` finds every ``said("…")`` in the code.
A value may itself be a Sentence (said in the same language), or data such as Rakuten's own words, shown as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class Sentence:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    plural: str | None = None  # the English plural form, when the sentence is counted (``params["count"]``)

    def __str__(self) -> str:
        """The English sentence (logs, tests)."""
        values = {name: str(value) for name, value in self.params.items()}
        text = self.plural if self.plural is not None and self.params.get("count") != 1 else self.msgid
        return text.format(**values) if values else text


def said(msgid: str, /, **params: Any) -> Sentence:
    """A sentence to be said later in the reader's language (``msgid`` is the English text, with ``{names}``)."""
    return Sentence(msgid, MappingProxyType(dict(params)))


def counted(singular: str, plural: str, count: int, /, **params: Any) -> Sentence:
    """A sentence whose form depends on ``count`` (``{count}`` in both forms), by each language's plural rule."""
    return Sentence(singular, MappingProxyType({**params, "count": count}), plural)


def verbatim(text: str) -> Sentence:
    """Words that are data, not ours (Rakuten's message): shown as they are, in every language."""
    return Sentence("{text}", MappingProxyType({"text": text}))
