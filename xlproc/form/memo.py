"""What is worked out once from a form spec or pack, kept on that object.

Rule relations, the compiled default catalogue, the report wording and renderer, the
field layout the culprit finder uses, the reader's field plan and field positions, the
report's per-field facts plan, the district dataset's rules: each depends on one spec (or
pack) only and never changes, so it is stored in the object's own ``__dict__`` (as
``functools.cached_property`` stores its value) and lives and dies with it — no
module-level table keyed by ``id()``, no identity check against a recycled id.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
_STORE = "_xlproc_memo"
_MISSING = object()


def memo(owner: Any, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, once per ``owner`` and ``key``. Two threads asking at once may both make it;
    the value is the same either way and one of them is kept."""
    store = owner.__dict__.get(_STORE)
    if store is None:
        store = owner.__dict__.setdefault(_STORE, {})
    hit = store.get(key, _MISSING)
    if hit is _MISSING:
        hit = store.setdefault(key, make())
    return hit


def remembered(owner: Any) -> list[Hashable]:
    """The keys ``memo`` holds values for on ``owner`` (what has been worked out so far)."""
    return list(owner.__dict__.get(_STORE, {}))
