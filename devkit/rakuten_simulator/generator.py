"""Plausible French marketplace orders, reproducible from a seed.

The data is invented and deliberately awkward where Rakuten's is: accented names and streets,
apostrophes, ``&`` and ``<`` in headlines, a few characters that only windows-1252 can encode (€ ’ œ –),
several EANs joined by ``;`` with a trailing ``;``, relay points, prepaid modes that only give a billing
address, foreign buyers, pre-orders, negotiated prices and items fulfilled by Rakuten.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from devkit.rakuten_simulator.state import (
    ItemState,
    SimAddress,
    SimCollectionPoint,
    SimItem,
    SimSale,
    SimTracking,
    paris_time,
)

AddressMode = Literal["delivery", "relay", "billing_only", "none"]

EXPRESS = "Express"
RELAY_MONDIAL = "Point relais Mondial Relay"
PREPAID_MODES = ("So Colissimo", "Chronopost")
HOME_MODES = ("Suivi", "Normal", "Recommandé", EXPRESS)
TODO_CAUSES = ("CLAIM", "UNREAD_MESSAGE_FROM_BUYER", "UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE")

# Non-express shipping types, weighted roughly like a marketplace seller's order mix.
_OTHER_MODES: tuple[tuple[str, int], ...] = (
    ("Suivi", 50),
    ("Normal", 8),
    ("Recommandé", 8),
    (RELAY_MONDIAL, 18),
    ("So Colissimo", 11),
    ("Chronopost", 5),
)
_SHIPPING_PRICE: dict[str, tuple[str, ...]] = {
    "Suivi": ("4.90", "5.50", "6.20"),
    "Normal": ("2.99", "3.50"),
    "Recommandé": ("7.40", "8.90"),
    EXPRESS: ("11.90", "14.50"),
    RELAY_MONDIAL: ("3.90", "4.40"),
    "So Colissimo": ("5.95", "6.95"),
    "Chronopost": ("9.90", "12.00"),
}

_FEMALE_NAMES = (
    "Hélène", "Zoé", "Léa", "Chloé", "Anaïs", "Cécile", "Maëlle", "Aurélie", "Thérèse", "Inès", "Éloïse",
    "Agnès", "Marie", "Camille", "Julie", "Sophie", "Manon", "Noémie", "Françoise",
)
_MALE_NAMES = (
    "Noël", "Joël", "François", "Jérôme", "Benoît", "Gaëtan", "Loïc", "Clément", "Raphaël", "Jean", "Lucas",
    "Paul", "Nicolas", "Thomas", "Hervé", "Anaël",
)
_LAST_NAMES = (
    "Lefèvre", "Dupré", "Bénard", "Gérard", "Mercier", "Moreau", "D'Almeida", "L'Hôte", "Lemaître", "Fourès",
    "Barthélemy", "Béranger", "Grégoire", "Garçon", "Fontaine", "Rousseau", "Da Silva", "N'Diaye", "Lefranc",
    "Martin", "Bernard", "Petit", "Durand", "Leroy", "Faure", "Chevalier", "Noël", "Laîné", "Thiébaut",
)
# (postcode, city, country name, countryalpha2): FX is Rakuten's code for metropolitan France.
_FRENCH_PLACES: tuple[tuple[str, str], ...] = (
    ("75011", "Paris"), ("75018", "Paris"), ("69003", "Lyon"), ("13005", "Marseille"), ("31000", "Toulouse"),
    ("06000", "Nice"), ("44000", "Nantes"), ("34000", "Montpellier"), ("67000", "Strasbourg"),
    ("33000", "Bordeaux"), ("59000", "Lille"), ("35000", "Rennes"), ("42000", "Saint-Étienne"),
    ("38000", "Grenoble"), ("21000", "Dijon"), ("30000", "Nîmes"), ("63000", "Clermont-Ferrand"),
    ("13100", "Aix-en-Provence"), ("25000", "Besançon"), ("45000", "Orléans"), ("33700", "Mérignac"),
    ("91000", "Évry-Courcouronnes"), ("36000", "Châteauroux"), ("34500", "Béziers"), ("69200", "Vénissieux"),
    ("74000", "Annecy"), ("29200", "Brest"), ("80000", "Amiens"), ("57000", "Metz"), ("20000", "Ajaccio"),
)
_FOREIGN_PLACES: tuple[tuple[str, str, str, str, str], ...] = (
    # postcode, city, country, alpha-2, phone prefix
    ("1000", "Bruxelles", "Belgique", "BE", "+32 4"),
    ("4000", "Liège", "Belgique", "BE", "+32 4"),
    ("1201", "Genève", "Suisse", "CH", "+41 7"),
    ("1003", "Lausanne", "Suisse", "CH", "+41 7"),
    ("1611", "Luxembourg", "Luxembourg", "LU", "+352 6"),
    ("97400", "Saint-Denis", "Réunion", "RE", "0692"),
)
_STREET_KINDS = ("rue", "avenue", "boulevard", "allée", "impasse", "place", "chemin", "quai", "cours")
_STREET_NAMES = (
    "de l'Église", "des Châtaigniers", "Saint-Michel", "du Château d'Eau", "Jean-Jaurès", "de la Mairie",
    "Émile Zola", "des Écoliers", "de la Forêt", "Victor Hugo", "du Général de Gaulle", "des Tilleuls",
    "Pasteur", "de la République", "du Maréchal Foch", "des Pêcheurs", "Molière", "de l'Hôtel de Ville",
    "Sainte-Thérèse", "du Moulin à Vent", "Gambetta", "des Acacias", "de Bretagne", "Lamartine",
)
_ADDRESS2 = ("Bâtiment B", "Appartement 12", "Résidence Les Tilleuls", "3e étage, porte gauche", "Chez Mme Noël")
_RELAY_NAMES = (
    "Tabac Presse du Marché", "Boulangerie Pâtisserie Lefèvre", "Le Relais d'Hélène", "Pressing de la Gare",
    "Épicerie Fine Côté Sud", "Fleurs & Créations", "Librairie Le Bouquin d'Or", "Cordonnerie Rémi",
)

_BOOK, _GAME, _TECH, _MISC = "Livres", "Jeux vidéo", "Informatique", "Maison"
# (category, headline, price range in EUR); a few headlines hold € ’ œ – (windows-1252 only) on purpose.
_CATALOG: tuple[tuple[str, str, tuple[int, int]], ...] = (
    (_BOOK, "Les Misérables - Tome 1", (5, 12)),
    (_BOOK, "L'Étranger - Albert Camus (Folio)", (4, 9)),
    (_BOOK, "Astérix & Obélix - L'Intégrale", (25, 60)),
    (_BOOK, "Le Petit Prince (édition illustrée)", (8, 20)),
    (_BOOK, "Candide ou l'Optimisme", (3, 8)),
    (_BOOK, "Mémoires d'Hadrien", (6, 11)),
    (_BOOK, "Le Comte de Monte-Cristo <Coffret 2 volumes>", (14, 30)),
    (_BOOK, "Guide du Routard Côte d'Azur 2024/2025", (10, 16)),
    (_GAME, "The Legend of Zelda : Tears of the Kingdom - Nintendo Switch", (39, 59)),
    (_GAME, "Mario Kart 8 Deluxe - Switch", (35, 55)),
    (_GAME, "EA Sports FC 24 <Édition Ultime> - PS5", (30, 80)),
    (_GAME, "Assassin's Creed Mirage - Xbox Series X", (20, 45)),
    (_GAME, "Manette sans fil DualSense - Blanc Glacier", (49, 69)),
    (_TECH, "Casque Bluetooth sans fil - Réduction de bruit", (29, 199)),
    (_TECH, "Câble USB-C 2 m & adaptateur secteur 20W", (8, 19)),
    (_TECH, "Écouteurs intra-auriculaires <Noir>", (12, 49)),
    (_TECH, "Clé USB 3.0 64 Go", (7, 15)),
    (_TECH, "Chargeur 65W GaN - Compatible MacBook & iPhone", (25, 45)),
    (_TECH, "Disque dur externe 2 To - Sauvegarde & Portabilité", (59, 89)),
    (_MISC, "Coffret Blu-ray Le Seigneur des Anneaux : Trilogie", (25, 45)),
    (_MISC, "Vinyle - Édith Piaf : L'Hymne à l'amour", (18, 30)),
    (_MISC, "Jeu de société - Les Aventuriers du Rail : Europe", (30, 45)),
    (_MISC, "Figurine Pokémon Pikachu 15 cm", (12, 25)),
    (_MISC, "Mug « Café d'abord » 35 cl", (6, 14)),
)
_CP1252_CATALOG: tuple[tuple[str, str, tuple[int, int]], ...] = (
    (_BOOK, "Œuvres complètes de Molière – Tome II", (15, 35)),
    (_BOOK, "L’Écume des jours", (5, 9)),
    (_MISC, "Carte cadeau 25 € - Bœuf & Cie", (25, 25)),
)
_CP1252_SHARE = 0.001
_NEGOTIATION_COMMENTS = (
    "Bonjour, seriez-vous d'accord pour ce prix ? Merci !",
    "Je prends les deux si vous faites un geste :-)",
    "Possible d'envoyer rapidement ? C'est pour un cadeau.",
)


@dataclass(frozen=True, slots=True)
class Person:
    civility: str
    firstname: str
    lastname: str
    login: str
    email: str
    home: SimAddress


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch in "-_."))


def _ean13(first12: str) -> str:
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


class SaleGenerator:
    """Every draw comes from one seeded ``random.Random``: the same seed and calls give the same sales."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._next_purchaseid = self._random.randrange(310_000_000, 690_000_000)
        self._next_itemid = self._random.randrange(1_100_000_000, 1_800_000_000)
        self._next_advertid = self._random.randrange(4_000_000_000, 6_000_000_000)

    @property
    def random(self) -> random.Random:
        return self._random

    # identifiers --------------------------------------------------------------------------------------

    def purchaseid(self) -> str:
        self._next_purchaseid += self._random.randint(1, 41)
        return str(self._next_purchaseid)

    def itemid(self) -> str:
        self._next_itemid += self._random.randint(1, 97)
        return str(self._next_itemid)

    def seller_id(self) -> str:
        return str(self._random.randrange(10_000_000, 99_999_999))

    # dates --------------------------------------------------------------------------------------------

    def purchase_dates(self, count: int, *, newest: datetime, span: timedelta) -> list[datetime]:
        """``count`` purchase dates within ``span`` before ``newest``, oldest first, to the minute."""
        seconds = max(int(span.total_seconds()), 60)
        offsets = sorted((self._random.randrange(seconds) for _ in range(count)), reverse=True)
        return [paris_time(newest - timedelta(seconds=offset)) for offset in offsets]

    # sales --------------------------------------------------------------------------------------------

    def shipping_type(self, *, express_ratio: float) -> str:
        if self._random.random() < express_ratio:
            return EXPRESS
        names, weights = zip(*_OTHER_MODES, strict=True)
        return self._random.choices(names, weights=weights)[0]

    def sale(
        self,
        *,
        login: str,
        purchaseid: str,
        purchase_date: datetime,
        new_itemid: Callable[[], str],
        shipping_type: str,
        address: AddressMode | None = None,
        status: ItemState = ItemState.TO_CONFIRM,
        preorder_ratio: float = 0.05,
        items: list[Mapping[str, Any]] | None = None,
        buyer: Mapping[str, Any] | None = None,
    ) -> SimSale:
        """One sale; ``address`` None picks the blocks the shipping type implies (docs/rakuten-api.md §2.3)."""
        mode = address if address is not None else address_mode_for(shipping_type)
        person = self.person(foreign_ok=mode == "delivery", overrides=buyer)
        specs = items if items is not None else [{} for _ in range(self._item_count())]
        built = tuple(
            self.item(
                purchaseid=purchaseid,
                itemid=str(spec["itemid"]) if "itemid" in spec else new_itemid(),
                status=status,
                shipping_type=shipping_type,
                preorder_ratio=preorder_ratio,
                overrides=spec,
            )
            for spec in specs
        )
        if not built:
            raise ValueError("a sale needs at least one item")
        return SimSale(
            purchaseid=purchaseid,
            login=login,
            purchase_date=paris_time(purchase_date),
            shipping_type=shipping_type,
            buyer_login=person.login,
            buyer_email=person.email,
            items=built,
            delivery_address=person.home if mode == "delivery" else None,
            billing_address=person.home if mode in ("relay", "billing_only") else None,
            collection_point=self.collection_point(person) if mode == "relay" else None,
            prepaid_tracking=self.prepaid_tracking(shipping_type) if shipping_type in PREPAID_MODES else None,
        )

    def _item_count(self) -> int:
        return self._random.choices((1, 2, 3, 4), weights=(42, 30, 16, 12))[0]

    def item(
        self,
        *,
        purchaseid: str,
        itemid: str,
        status: ItemState,
        shipping_type: str,
        preorder_ratio: float,
        overrides: Mapping[str, Any],
    ) -> SimItem:
        unknown = set(overrides) - _ITEM_KEYS
        if unknown:
            raise TypeError(f"unknown item field(s): {', '.join(sorted(unknown))}")
        rng = self._random
        pool = _CP1252_CATALOG if rng.random() < _CP1252_SHARE else _CATALOG
        category, headline, (low, high) = rng.choice(pool)
        price = Decimal(rng.randint(low * 100, high * 100)) / 100
        is_nego = rng.random() < 0.04
        advert_price = (price * Decimal("1.12")).quantize(Decimal("0.01")) if is_nego else price
        ean, isbn = self._codes(category)
        self._next_advertid += rng.randint(1, 500)
        values: dict[str, Any] = {
            "headline": headline,
            "category": category,
            "price": price,
            "advert_price": advert_price,
            "shipping_price": Decimal(rng.choice(_SHIPPING_PRICE.get(shipping_type, ("4.90",)))),
            "advertid": str(self._next_advertid),
            "sku": "" if rng.random() < 0.1 else f"{category[:3].upper()}-{rng.randrange(10_000, 99_999)}",
            "ean": ean,
            "isbn": isbn,
            "is_preorder": rng.random() < preorder_ratio,
            "is_nego": is_nego,
            "negotiation_comment": rng.choice(_NEGOTIATION_COMMENTS) if is_nego else "",
            "is_rsl": rng.random() < 0.04,
            "status": status,
        }
        values.update(overrides)
        values.pop("itemid", None)
        for money in ("price", "advert_price", "shipping_price"):
            values[money] = Decimal(str(values[money]))
        if "price" in overrides and "advert_price" not in overrides:
            values["advert_price"] = values["price"]
        values["status"] = ItemState(values["status"])
        return SimItem(itemid=itemid, purchaseid=purchaseid, **values)

    def _codes(self, category: str) -> tuple[str, str]:
        """EAN field and ISBN: books carry their ISBN-13; some products list two EANs, ``;``-terminated."""
        rng = self._random
        if category == _BOOK:
            isbn = _ean13(f"9782{rng.randrange(10**8):08d}")
            return (f"{isbn};" if rng.random() < 0.3 else isbn), isbn
        first = _ean13(f"{rng.choice(('3', '0', '4', '5'))}{rng.randrange(10**11):011d}")
        roll = rng.random()
        if roll < 0.15:
            second = _ean13(f"{rng.choice(('3', '0'))}{rng.randrange(10**11):011d}")
            return f"{first};{second};", ""
        if roll < 0.3:
            return f"{first};", ""
        return first, ""

    # people and places --------------------------------------------------------------------------------

    def person(self, *, foreign_ok: bool, overrides: Mapping[str, Any] | None = None) -> Person:
        rng = self._random
        if rng.random() < 0.5:
            firstname, civility = rng.choice(_FEMALE_NAMES), rng.choice(("Mme", "Mme", "Mlle"))
        else:
            firstname, civility = rng.choice(_MALE_NAMES), "M."
        lastname = rng.choice(_LAST_NAMES)
        suffix = rng.randrange(10, 9999)
        login = f"{_ascii(firstname).lower()}_{_ascii(lastname).lower()[:6]}{suffix}"
        if foreign_ok and rng.random() < 0.08:
            zipcode, city, country, alpha2, prefix = rng.choice(_FOREIGN_PLACES)
            phone = f"{prefix}{rng.randrange(10**7, 10**8)}"
        else:
            zipcode, city = rng.choice(_FRENCH_PLACES)
            country, alpha2 = "France", "FX"
            phone = f"0{rng.choice('67')}{rng.randrange(10**8):08d}"
        home = {
            "civility": civility,
            "firstname": firstname,
            "lastname": lastname,
            "address1": f"{rng.randint(1, 180)} {rng.choice(_STREET_KINDS)} {rng.choice(_STREET_NAMES)}",
            "address2": rng.choice(_ADDRESS2) if rng.random() < 0.2 else "",
            "zipcode": zipcode,
            "city": city,
            "country": country,
            "country_alpha2": alpha2,
            "phone1": phone if rng.random() < 0.85 else "",
            "phone2": f"0{rng.randrange(1, 6)}{rng.randrange(10**8):08d}" if rng.random() < 0.15 else "",
        }
        identity = {"login": login, "email": f"{login}@acheteurs.example"}
        for key, value in (overrides or {}).items():
            if key in home:
                home[key] = value
            elif key in identity:
                identity[key] = value
            else:
                raise TypeError(f"unknown buyer field: {key}")
        address = SimAddress(**home)
        return Person(
            civility=address.civility,
            firstname=address.firstname,
            lastname=address.lastname,
            login=identity["login"],
            email=identity["email"],
            home=address,
        )

    def collection_point(self, person: Person) -> SimCollectionPoint:
        rng = self._random
        zipcode, city = rng.choice(_FRENCH_PLACES)
        return SimCollectionPoint(
            civility=person.civility,
            firstname=person.firstname,
            lastname=person.lastname,
            point_id=f"FR-{rng.randrange(10**6):06d}",
            name=rng.choice(_RELAY_NAMES),
            address=f"{rng.randint(1, 90)} {rng.choice(_STREET_KINDS)} {rng.choice(_STREET_NAMES)}",
            zipcode=zipcode,
            city=city,
            country="France",
            contract_level="24R",
        )

    def prepaid_tracking(self, shipping_type: str) -> SimTracking:
        rng = self._random
        if shipping_type == "Chronopost":
            number = f"X{rng.choice('JWX')}{rng.randrange(10**9):09d}FR"
            url = f"https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}"
            return SimTracking("Chronopost", number, url)
        number = f"6A{rng.randrange(10**11):011d}"
        return SimTracking("So Colissimo", number, f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}")

    def todo_causes(self) -> tuple[str, ...]:
        count = self._random.choices((1, 2, 3), weights=(6, 3, 1))[0]
        return tuple(sorted(self._random.sample(TODO_CAUSES, count)))


_ITEM_KEYS = frozenset(
    {
        "itemid", "headline", "category", "price", "advert_price", "shipping_price", "advertid", "sku", "ean",
        "isbn", "is_preorder", "is_nego", "negotiation_comment", "is_rsl", "status",
    }
)


def address_mode_for(shipping_type: str) -> AddressMode:
    """Home modes ship to ``deliveryaddress``; prepaid modes give a billing address; relays give both."""
    folded = shipping_type.casefold()
    if "relais" in folded or "relai " in folded or "kiala" in folded:
        return "relay"
    if shipping_type in PREPAID_MODES:
        return "billing_only"
    return "delivery"
