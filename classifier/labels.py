"""The classes a model knows, with the store's Spanish and English names and default category.

The served model's card is the source of truth (``model_labels``): a retrained model may have
more classes than this code knows of, e.g. a store category learned from the shop's own photos.
The card lists each class as ``{"index", "name"}`` and, optionally, ``"slug"`` (the store
category it files into; ``""`` says none: products whose top class it is go to review),
``"name_es"`` and ``"name_en"``. A field the card leaves out is filled from ``KNOWN``, the names
of the classes this code has met (Fashion-MNIST's ten, then the garments learned from photos);
a class unknown to both gets its dataset name in both languages and no category.

``LABELS`` is that table in the committed model's order: the fallback when a card lists no
classes, and what ``ml_training`` trains towards. No Django here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from classifier.predictor import card_groups, read_model_card


@dataclass(frozen=True)
class Label:
    index: int
    name: str  # the dataset's own English name
    name_es: str
    name_en: str
    slug: str  # the default store category; "" for none (held for review)


LABELS: tuple[Label, ...] = (
    Label(0, "T-shirt/top", "Camisetas y tops", "T-shirts & tops", "camisetas"),
    Label(1, "Trouser", "Pantalones", "Trousers", "pantalones"),
    Label(2, "Pullover", "Jerséis", "Pullovers", "jerseis"),
    Label(3, "Dress", "Vestidos", "Dresses", "vestidos"),
    Label(4, "Coat", "Abrigos", "Coats", "abrigos"),
    Label(5, "Sandal", "Sandalias", "Sandals", "sandalias"),
    Label(6, "Shirt", "Camisas", "Shirts", "camisas"),
    Label(7, "Sneaker", "Zapatillas", "Sneakers", "zapatillas"),
    Label(8, "Bag", "Bolsos", "Bags", "bolsos"),
    Label(9, "Ankle boot", "Botines", "Ankle boots", "botines"),
    # Learned from real photos (no Fashion-MNIST class, no store category by default): a model
    # that knows them says "a hat" instead of forcing a hat into Bags, and the store holds it
    # for review until a card maps the class to a category (``manage.py sync_model_classes``).
    Label(10, "Hat", "Sombreros", "Hats", ""),
    Label(11, "Shorts", "Pantalones cortos", "Shorts", ""),
    Label(12, "Skirt", "Faldas", "Skirts", ""),
)
# the names and default category of each class this code knows, by the dataset's name
KNOWN: dict[str, Label] = {label.name: label for label in LABELS}
# the classes the committed model files into by default; any other top class goes to review
STORE_CLASSES = frozenset(label.index for label in LABELS if label.slug)
CLASS_NAMES = tuple(label.name for label in LABELS)


def label_from_entry(entry: Mapping, index: int | None = None) -> Label:
    """One class as a card lists it (``{"index", "name", …}``, or a bare name at ``index``),
    with the fields it leaves out filled from ``KNOWN``."""
    if isinstance(entry, str):
        entry = {"name": entry}
    name = str(entry["name"])
    known = KNOWN.get(name)
    return Label(
        index=int(entry.get("index", index)),
        name=name,
        name_es=entry.get("name_es") or (known.name_es if known else name),
        name_en=entry.get("name_en") or (known.name_en if known else name),
        # absent: the table's default; "" in the card: deliberately no store category
        slug=entry.get("slug", known.slug if known else "") or "",
    )


def labels_from_card(card: dict) -> tuple[Label, ...]:
    """The classes of a model card, in index order, with missing names filled from ``KNOWN``.

    A card without classes (an old export, or none at all) means the committed table.
    """
    classes = card.get("classes") or []
    if not classes:
        return LABELS
    return tuple(
        label_from_entry(entry) for entry in sorted(classes, key=lambda c: int(c["index"]))
    )


def model_labels(model_path: str | Path) -> tuple[Label, ...]:
    """The classes of the model at ``model_path``, from the card next to it.

    Read again whenever the card file changes (promotion replaces it under a running store), and
    otherwise served from memory: the admin asks for a name per probability shown.
    """
    return _card_facts(model_path)[0]


def model_groups(model_path: str | Path) -> tuple[frozenset[int], ...]:
    """The classes the model at ``model_path`` files as one group (``predictor.card_groups``),
    read as its classes are: once per version of the card."""
    return _card_facts(model_path)[1]


CardFacts = tuple[tuple[Label, ...], tuple[frozenset[int], ...]]


def _card_facts(model_path: str | Path) -> CardFacts:
    card_path = Path(model_path).parent / "model_card.json"
    try:
        stat = card_path.stat()
    except OSError:
        return LABELS, ()
    return _facts_of_card(str(model_path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _facts_of_card(model_path: str, _mtime_ns: int, _size: int) -> CardFacts:
    try:
        card = read_model_card(Path(model_path))
        return labels_from_card(card), card_groups(card)
    except (OSError, ValueError):  # half-written during a promotion: the table until it is whole
        return LABELS, ()


def find_label(labels: tuple[Label, ...], index: int) -> Label | None:
    """The class ``index`` among ``labels``; a label from another model (a product classified
    before a promotion) is looked up in the table of known classes; None if neither has it."""
    if 0 <= index < len(labels) and labels[index].index == index:
        return labels[index]
    for label in (*labels, *LABELS):
        if label.index == index:
            return label
    return None


def label_for(labels: tuple[Label, ...], index: int) -> Label:
    """As ``find_label``, with the bare number as name for a class nobody knows."""
    return find_label(labels, index) or Label(index, str(index), str(index), str(index), "")
