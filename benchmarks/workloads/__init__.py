"""
The workloads, one module each. A module defines ``WORKLOAD = Workload(...)`` (see
``benchmarks.harness``) and is found by :func:`discover`: adding a workload is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from benchmarks.harness import Workload


def discover(only: set[int] | None = None) -> list[Workload]:
    """Every workload in this package, in the order they run (``run_order``), optionally only some numbers."""
    found: list[Workload] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        workload = getattr(module, "WORKLOAD", None)
        if isinstance(workload, Workload) and (only is None or workload.number in only):
            found.append(workload)
    return sorted(found, key=lambda w: (w.run_order, w.number))
