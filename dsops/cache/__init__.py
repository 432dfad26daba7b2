"""The local cache: verified objects, materialized views, stat cache, eviction."""

from __future__ import annotations

from dsops.cache.local import EvictResult, LocalCache
from dsops.cache.objects import FetchResult, ObjectCache
from dsops.cache.views import materialize

__all__ = ["EvictResult", "FetchResult", "LocalCache", "ObjectCache", "materialize"]
