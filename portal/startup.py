"""What a web process does once the application is loaded, before its first request."""

from __future__ import annotations

import gc


def freeze_what_startup_loaded() -> None:
    """Load the URLconf, then keep every object alive now out of the garbage collector's way.

    A served process holds some 150,000 objects from its start (modules, classes, models, the
    URLconf) that live as long as it does. Every full collection walked all of them, 30 to 60 ms
    landing on whichever request's allocations set it off: the agreement page's slowest requests
    in the benchmark (docs/benchmarks.md, workload 3). Frozen (``gc.freeze``), they are never
    examined again; what requests allocate is collected as before."""
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 - loads every URL pattern, as the first request would
    gc.collect()
    gc.freeze()
