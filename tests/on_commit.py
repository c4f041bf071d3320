"""On-commit callbacks as the tests count them: the tasks a write queued.

A catalog write also moves the catalog cache's version on once its transaction commits
(``catalog.cache.catalog_changed``); those callbacks are left out, so that a test can say
"classification was queued once" whatever else the commit does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


def tasks(callbacks: Sequence[Callable]) -> list[Callable]:
    return [c for c in callbacks if getattr(c, "__module__", None) != "catalog.cache"]
