"""Every read of the catalog that views, the API and commands share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext, ngettext

from catalog.models import Category, Product, in_language
from catalog.search import search_filter
from classifier.labels import Label, label_for, model_groups, model_labels

SORTS = {"newest": ("-created_at", "-id"), "price": ("price", "id"), "-price": ("-price", "id")}


def category_with_descendants_ids(category: Category) -> list[int]:
    """The category and all categories below it (the tree is shallow; one query per level).

    A node of ``category_tree()`` already holds its sub-categories: then no query at all (the
    storefront's category page has the tree loaded for its navigation anyway).
    """
    if hasattr(category, "subcategories"):
        below = (category_with_descendants_ids(child) for child in category.subcategories)
        return [category.pk, *(pk for ids in below for pk in ids)]
    ids, frontier = [category.pk], [category.pk]
    while frontier:
        frontier = list(
            Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def product_list(
    *,
    category: Category | None = None,
    published_only: bool = True,
    search: str = "",
    status: str = "",
    sort: str = "newest",
) -> QuerySet[Product]:
    """Products for a listing; published_only means what customers may see (published + filed)."""
    qs = Product.objects.select_related("category")
    if published_only:
        qs = qs.filter(is_published=True, category__isnull=False)
    if category is not None:
        qs = qs.filter(category_id__in=category_with_descendants_ids(category))
    if search:
        # every word must be found, in any order, accents, case and plurals aside; the names
        # of the product's category count too (catalog/search.py)
        qs = qs.filter(search_filter(search))
    if status:
        qs = qs.filter(classification_status=status)
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def product_with_photo(digest: str, excluding: int | None = None) -> Product | None:
    """The newest product (other than ``excluding``) whose photo has these bytes
    (``catalog.photos.photo_digest``)."""
    if not digest:
        return None
    return Product.objects.filter(photo_sha256=digest).exclude(pk=excluding).order_by("-id").first()


def classification_outcome(product_ids: Iterable[int]) -> dict[str, int]:
    """How many of these products stand at each classification status (one query): what an
    import or a bulk upload reports once the model has answered (tasks run in-process)."""
    counts = dict.fromkeys(Product.Status.values, 0)
    rows = Product.objects.filter(pk__in=list(product_ids)).values_list("classification_status")
    for (state,) in rows:
        counts[state] += 1
    return counts


def classification_summary(product_ids: Sequence[int]) -> str:
    """What the model did with products just created, for the person who made them: where
    they went once it has answered (tasks in-process), that it is at work (a worker), or that
    it could not be loaded (they wait, and say why)."""
    outcome = classification_outcome(product_ids)
    pending = outcome[Product.Status.PENDING]
    if pending:
        waiting = Product.objects.filter(
            pk__in=list(product_ids), classification_status=Product.Status.PENDING
        ).exclude(classification_error="")
        if waiting.count() == pending:  # tasks.waiting_reason: the model could not be loaded
            return gettext(
                "The model could not be loaded: they wait, pending, and are classified as soon "
                "as it can be (their classification error says why)."
            )
        return gettext("The model is filing them.")
    filed, review, failed = (
        outcome[status]
        for status in (
            Product.Status.CLASSIFIED,
            Product.Status.NEEDS_REVIEW,
            Product.Status.FAILED,
        )
    )
    parts = [
        ngettext("The model filed %(count)d", "The model filed %(count)d", filed),
        ngettext(
            "%(count)d waits in the review queue", "%(count)d wait in the review queue", review
        ),
        ngettext("%(count)d could not be read", "%(count)d could not be read", failed),
    ]
    counts = (filed, review, failed)
    parts = [part % {"count": count} for part, count in zip(parts, counts, strict=True)]
    return "; ".join(parts) + "."


def products_by_photo(digests: Iterable[str]) -> dict[str, str]:
    """Photo digest → the name of a product that has that photo, for the digests the store
    has: one query, however many photos."""
    found = Product.objects.filter(photo_sha256__in=set(digests) - {""})
    return dict(found.order_by("-id").values_list("photo_sha256", "name"))


def category_tree() -> list[Category]:
    """Top-level categories, each with ``children`` and ``product_count`` (published products,
    sub-categories included), in two queries."""
    counts = dict(
        Product.objects.filter(is_published=True, category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    categories = list(Category.objects.all())
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)

    def fill(category: Category) -> int:
        category.subcategories = by_parent.get(category.pk, [])
        category.product_count = counts.get(category.pk, 0) + sum(
            fill(child) for child in category.subcategories
        )
        return category.product_count

    roots = by_parent.get(None, [])
    for root in roots:
        fill(root)
    return roots


def tree_path(
    roots: Iterable[Category], slug: str, trail: tuple[Category, ...] = ()
) -> tuple[Category, tuple[Category, ...]] | None:
    """The node of ``category_tree()`` with that slug (counts and children attached) and its
    ancestors, top first; no query: the tree is already loaded for the navigation."""
    for category in roots:
        if category.slug == slug:
            return category, trail
        if found := tree_path(category.subcategories, slug, (*trail, category)):
            return found
    return None


def tree_node(roots: Iterable[Category], slug: str) -> Category | None:
    """The node of ``category_tree()`` with that slug, or None."""
    found = tree_path(roots, slug)
    return found[0] if found else None


def review_queue() -> QuerySet[Product]:
    """Products waiting for a person: low-confidence suggestions and failures."""
    return Product.objects.filter(
        classification_status__in=[Product.Status.NEEDS_REVIEW, Product.Status.FAILED]
    ).order_by("created_at")


def category_samples(roots: list[Category]) -> dict[int, Product]:
    """The newest customer-visible product of each category of ``category_tree()`` (its
    sub-categories included), keyed by category id: the storefront's sample photos in one query
    instead of one per card."""
    newest_first = Window(
        RowNumber(),
        partition_by=F("category_id"),
        order_by=[F("created_at").desc(), F("id").desc()],
    )
    per_category = {
        p.category_id: p
        for p in product_list(published_only=True).annotate(rank=newest_first).filter(rank=1)
    }
    samples: dict[int, Product] = {}

    def pick(category: Category) -> Product | None:
        found = [per_category.get(category.pk), *(pick(c) for c in category.subcategories)]
        best = max((p for p in found if p), key=lambda p: (p.created_at, p.pk), default=None)
        if best is not None:
            samples[category.pk] = best
        return best

    for root in roots:
        pick(root)
    return samples


def labelled_products() -> QuerySet[Product]:
    """Products whose category a person set or confirmed: the store's own training examples."""
    return (
        Product.objects.filter(
            category_source=Product.CategorySource.PERSON, category__isnull=False
        )
        .select_related("category")
        .order_by("category__slug", "pk")
    )


def served_labels() -> tuple[Label, ...]:
    """The classes of the model the store serves (``PERCHA["MODEL_PATH"]``), from its card:
    after a promotion the store names and files the new model's classes without a deploy."""
    return model_labels(settings.PERCHA["MODEL_PATH"])


def class_name(label: int) -> str:
    """The served model's class in the request's language ("Sombreros"), from its card."""
    found = label_for(served_labels(), label)
    return in_language(found.name_es, found.name_en)


def filing_categories(labels: Iterable[int]) -> dict[int, Category]:
    """Class → the category a confident answer of it files the product into: the category of
    that class, or, for a class the served model knows only as one of a group
    (``predictor.card_groups``: sandal, sneaker and ankle boot, which the photos taught as one
    "shoes" folder), the parent the group's categories share (Calzado). A group whose categories
    do not share one parent files by class. Two queries at most, however many labels."""
    labels = set(labels)
    served = model_groups(settings.PERCHA["MODEL_PATH"])
    groups = [group for group in served if group & labels]
    found = Category.objects.filter(classifier_label__in=labels.union(*groups))
    by_label = {c.classifier_label: c for c in found.select_related("parent")}
    filed = {label: by_label[label] for label in labels if label in by_label}
    for group in groups:
        parents = {by_label[label].parent for label in group if label in by_label}
        if len(parents) == 1 and None not in parents and group <= by_label.keys():
            filed.update(dict.fromkeys(group & labels, parents.pop()))
    return filed


def labelled_counts() -> list[Category]:
    """Every category with ``labelled`` (how many of its products a person filed: training
    examples) and ``new_class`` (enough of them, and the model has no class for it yet)."""
    counts = dict(
        labelled_products()
        .order_by()
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    needed = settings.PERCHA["NEW_CLASS_MIN_EXAMPLES"]
    categories = list(Category.objects.select_related("parent"))
    groups = category_groups(categories)
    for category in categories:
        category.labelled = counts.get(category.pk, 0)
        category.group = groups.get(category.pk, ())
        category.new_class = (
            category.classifier_label is None and not category.group and category.labelled >= needed
        )
    return categories


def category_groups(categories: Iterable[Category]) -> dict[int, tuple[int, ...]]:
    """Category id → the classes of its sub-categories, for a category without a class of its
    own whose sub-categories have some (Calzado: sandal, sneaker, ankle boot). A photo a person
    filed there is one of those classes, which one unsaid: it trains them as a group, never a
    class of its own that would overlap theirs."""
    labels: dict[int, list[int]] = {}
    for category in categories:
        if category.parent_id is not None and category.classifier_label is not None:
            labels.setdefault(category.parent_id, []).append(category.classifier_label)
    own = {c.pk for c in categories if c.classifier_label is not None}
    return {pk: tuple(sorted(found)) for pk, found in labels.items() if pk not in own}
