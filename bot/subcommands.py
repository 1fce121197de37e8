"""The ``/rakuten`` subcommands: one table that the listener dispatches on, the help text lists, and a test
holds the manifest's usage hint and the README to.

Each has its English name and French aliases (sellers and packers type ``/rakuten expedier``); a name is
matched without case or accents, so ``Expédier`` works too.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Sub(StrEnum):
    CONNECT = "connect"
    STATUS = "status"
    ORDERS = "orders"
    SHIP = "ship"
    SETTINGS = "settings"
    DISCONNECT = "disconnect"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class Subcommand:
    sub: Sub
    aliases: tuple[str, ...] = ()  # French names, typed without accents
    arguments: str = ""  # as the usage line shows them, in English (the help translates its own line)
    admin_only: bool = False


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(Sub.CONNECT, ("connecter",), admin_only=True),
    Subcommand(Sub.STATUS, ("statut", "etat")),
    Subcommand(Sub.ORDERS, ("commandes",)),
    Subcommand(Sub.SHIP, ("expedier",), arguments="ORDER CARRIER TRACKING [URL]"),
    Subcommand(Sub.SETTINGS, ("reglages", "parametres"), admin_only=True),
    Subcommand(Sub.DISCONNECT, ("deconnecter",), admin_only=True),
    Subcommand(Sub.HELP, ("aide",)),
)

_BY_NAME: dict[str, Sub] = {
    name: entry.sub for entry in SUBCOMMANDS for name in (entry.sub.value, *entry.aliases)
}


def fold(word: str) -> str:
    """``Expédier`` -> ``expedier``: lower case, accents dropped."""
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def find_subcommand(word: str) -> Sub | None:
    """The subcommand ``word`` names (an empty word is help), or None for an unknown one."""
    if not word.strip():
        return Sub.HELP
    return _BY_NAME.get(fold(word))


def usage_hint() -> str:
    """The manifest's usage hint: every subcommand with its arguments, English names."""
    return " | ".join(f"{entry.sub.value} {entry.arguments}".strip() for entry in SUBCOMMANDS)
