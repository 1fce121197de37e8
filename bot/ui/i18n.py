"""The bot's languages: message catalogues and locale-aware formatting of money, dates and numbers.

Every sentence the bot shows is written once, in English, where it is used (``t.gettext("Order {order}
accepted.", order=...)``): that text is the message id. ``bot/ui/locales/<lang>/LC_MESSAGES/messages.po`` holds
its translation; ``make messages`` extracts new ids into the catalogues and a test fails while any id lacks a
translation or a translation's placeholders differ from its id's. Sentences are never built by concatenation:
a whole sentence with named placeholders is one message, so a translator can reorder it.

Catalogues are read from the ``.po`` files with Babel at start (a few hundred messages: milliseconds), so there
is no compiled file to forget to rebuild. Times are shown in Europe/Paris, Rakuten France's time, whatever the
language.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

from bot.domain.deadlines import as_paris
from bot.domain.sentences import Sentence
from rakuten.models import Money

SUPPORTED_LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def normalise_locale(value: str | None) -> str | None:
    """``fr``, ``fr-FR``, ``fr_CA``, ``EN-us``… to a supported language code, or None when not supported."""
    if not value:
        return None
    language = value.strip().replace("-", "_").split("_", 1)[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def read_catalogue(locale: str, directory: Path = LOCALES_DIR) -> gettext.NullTranslations:
    """``<directory>/<locale>/LC_MESSAGES/messages.po`` as gettext translations (its plural rule included); a
    missing file translates nothing. Fuzzy and empty entries fall back to the English message id."""
    path = directory / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        po = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, po)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def default_catalogue(locale: str) -> gettext.NullTranslations:
    """The shipped catalogue of ``locale`` (read once per process: it never changes while the bot runs)."""
    return read_catalogue(locale)


class Translator:
    """Messages and formats in one language. ``gettext``/``ngettext`` are the names Babel extracts."""

    def __init__(self, locale: str, catalogue: gettext.NullTranslations | None = None) -> None:
        self.locale = normalise_locale(locale) or DEFAULT_LOCALE
        self._catalogue = catalogue if catalogue is not None else default_catalogue(self.locale)
        self._babel = Locale.parse(self.locale)

    def __repr__(self) -> str:
        return f"Translator({self.locale!r})"

    # --- messages ------------------------------------------------------------------------------------------

    def gettext(self, message: str, /, **params: Any) -> str:
        """``message`` in this language, its ``{placeholders}`` filled from ``params``."""
        text = self._catalogue.gettext(message)
        return text.format(**params) if params else text

    def say(self, sentence: Sentence | str, /) -> str:
        """A service's ``Sentence`` in this language (its values too, when they are sentences); a plain string
        is our own English message id, or data that has no translation and is shown as it is."""
        if isinstance(sentence, str):
            return self._catalogue.gettext(sentence)
        values = {
            name: self.say(value) if isinstance(value, Sentence) else value for name, value in sentence.params.items()
        }
        if sentence.plural is not None:
            count = values.pop("count")
            return self.ngettext(sentence.msgid, sentence.plural, count, **values)
        return self.gettext(sentence.msgid, **values) if values else self._catalogue.gettext(sentence.msgid)

    def ngettext(self, singular: str, plural: str, count: int, /, **params: Any) -> str:
        """The form for ``count`` by the catalogue's plural rule (French says "0 commande", English "0 orders");
        ``{count}`` is the count formatted for the language, other placeholders come from ``params``."""
        return self._catalogue.ngettext(singular, plural, count).format(count=self.number(count), **params)

    # --- formats -------------------------------------------------------------------------------------------

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self._babel)

    def money(self, amount: Money | None) -> str:
        """``12,50 €`` in French, ``€12.50`` in English; an em dash when unknown."""
        if amount is None:
            return "—"
        return format_currency(amount.amount, amount.currency, locale=self._babel)

    def date(self, moment: datetime) -> str:
        """``1 déc. 2026`` / ``Dec 1, 2026``, in Paris time."""
        return format_date(as_paris(moment), "medium", locale=self._babel)

    def time(self, moment: datetime) -> str:
        """``14:05`` / ``2:05 PM``, in Paris time."""
        return format_time(as_paris(moment), "short", locale=self._babel)

    def datetime(self, moment: datetime) -> str:
        """``1 déc. 2026 à 14:05`` / ``Dec 1, 2026 at 2:05 PM``, in Paris time."""
        return self.gettext("{date} at {time}", date=self.date(moment), time=self.time(moment))

    def short_datetime(self, moment: datetime) -> str:
        """``1 déc. 14:05`` / ``Dec 1, 2:05 PM``: a recent moment, year left out."""
        day = format_skeleton("MMMd", as_paris(moment), locale=self._babel)
        return self.gettext("{day}, {time}", day=day, time=self.time(moment))

    def when(self, moment: datetime | None, now: datetime) -> str:
        """``14:05`` for a moment on today's Paris date, ``1 déc. 14:05`` for another day, "never" for None."""
        if moment is None:
            return self.gettext("never")
        if as_paris(moment).date() == as_paris(now).date():
            return self.time(moment)
        return self.short_datetime(moment)

    def ago(self, moment: datetime | None, now: datetime) -> str:
        """``1 déc. 14:05 (il y a 12 min)`` / ``Dec 1, 2:05 PM (12 min ago)``, or "never"."""
        if moment is None:
            return self.gettext("never")
        span = as_paris(now) - as_paris(moment)
        return self.gettext("{when} ({duration} ago)", when=self.when(moment, now), duration=self.duration(span))

    def duration(self, span: timedelta) -> str:
        """A rounded, human duration: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h`` (``2 j 4 h``)."""
        seconds = max(0, int(span.total_seconds()))
        if seconds < 60:
            return self.gettext("{seconds} s", seconds=seconds)
        minutes = seconds // 60
        if minutes < 60:
            return self.gettext("{minutes} min", minutes=minutes)
        hours, minutes = divmod(minutes, 60)
        if hours < 48:
            if minutes:
                return self.gettext("{hours} h {minutes} min", hours=hours, minutes=f"{minutes:02d}")
            return self.gettext("{hours} h", hours=hours)
        days, hours = divmod(hours, 24)
        if hours:
            return self.gettext("{days} d {hours} h", days=days, hours=hours)
        return self.gettext("{days} d", days=days)


@cache
def _shipped_translator(locale: str) -> Translator:
    return Translator(locale)


def translator(locale: str | None, default: str = DEFAULT_LOCALE) -> Translator:
    """The translator for ``locale`` (any spelling ``normalise_locale`` knows), ``default``'s otherwise."""
    return _shipped_translator(normalise_locale(locale) or normalise_locale(default) or DEFAULT_LOCALE)


class Languages:
    """Which language each surface speaks.

    A channel (cards, alerts, burst summaries) speaks its account's language, set in ``/rakuten settings``; a
    person (private answers, modals, the Home tab) is answered in their own Slack language, looked up by
    ``user_locale`` (Slack's ``users.info``, cached); anything unknown falls back to the bot's default.
    """

    def __init__(self, default: str = DEFAULT_LOCALE, user_locale: Callable[[str], str | None] | None = None) -> None:
        self.default = normalise_locale(default) or DEFAULT_LOCALE
        self._user_locale = user_locale

    def channel(self, language: str | None) -> Translator:
        """For an account's channel: ``language`` is its setting (None: not chosen yet)."""
        return translator(language, self.default)

    def user(self, user_id: str | None) -> Translator:
        locale = self._user_locale(user_id) if (self._user_locale and user_id) else None
        return translator(locale, self.default)
