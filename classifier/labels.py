"""The classes the model knows (Fashion-MNIST's ten, then those learned from photos).

Each with the store's Spanish and English names.

The index is the model's output position; ``slug`` is the default store category it files into.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    index: int
    name: str  # the dataset's own English name
    name_es: str
    name_en: str
    slug: str


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
    # Learned from real photos (no Fashion-MNIST class, no store category): a model that knows
    # them says "a hat" instead of forcing a hat into Bags, and the store holds it for review.
    Label(10, "Hat", "Sombreros", "Hats", ""),
    Label(11, "Shorts", "Pantalones cortos", "Shorts", ""),
    Label(12, "Skirt", "Faldas", "Skirts", ""),
)
# the classes the store files into by default; any other top class goes to review
STORE_CLASSES = frozenset(label.index for label in LABELS if label.slug)
CLASS_NAMES = tuple(label.name for label in LABELS)


def label_name(index: int) -> str:
    return LABELS[index].name
