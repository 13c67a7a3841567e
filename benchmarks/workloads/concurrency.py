"""
Workload 6: ten clients at once for 30 seconds against the portal served by gunicorn (two sync
workers, ``DEBUG`` off) and PostgreSQL, all on this machine: the dashboard of the Lender in
1,000 agreements, the agreement page of 40 quarters and the API's covenant-tests list.

Each client is a thread of this process sending one request at a time over HTTP on loopback,
as soon as the previous one is answered (no think time: the most the two workers can be asked),
taking the three requests in turn from a different starting point. The pages are signed in as
workload 3's users (a session made as a browser's), the API with workload 4's user's token.
The portal runs on the real date, as deployed: the dashboard reads the agreements' standings
as the daily refresh leaves them today (compliance.standings), and works out the late financials
of the agreements its first page shows. Reported per request kind: requests per second, median
and 95th percentile (nearest rank) of the time from sending the request to its body read, and
errors (any answer but 200, or no answer).
"""

from __future__ import annotations

import http.client
import math
import os
import statistics
import threading
import time
from dataclasses import dataclass, field

from benchmarks.harness import Check, Context, Section, Value, Workload
from benchmarks.workloads.evaluation import AGREEMENTS

CLIENTS = 10
SECONDS = 30.0
WEB_WORKERS = 2
DASHBOARD_P95_TARGET = 1.0  # seconds, at CLIENTS clients on this machine
API_PAGE_SIZE = 100

SUMMARY = f"""
{CLIENTS} clients at once for {SECONDS:.0f} s against the portal served by **gunicorn** ({WEB_WORKERS} sync
workers, `DEBUG` off, each keeping its database connection between requests as deployed:
`CONN_MAX_AGE`) and PostgreSQL, on this machine with the clients: each client is a thread
sending one request at a time over HTTP on loopback, the next as soon as the previous is answered
(no think time), taking in turn the **dashboard** of the Lender in 1,000 agreements (workload 3's
user, a session as a browser's), the **agreement page** of 40 quarters and the API's
**covenant-tests** list (`GET /api/v1/covenant-tests/?page_size={API_PAGE_SIZE}`, workload 4's
user's token, 24,000 results visible). The portal runs on the real date, as deployed: every
Borrower of the 1,000 agreements owes the quarters since the portfolio's last (some 35,000 late
statements); the dashboard counts them from the agreements' standings, as the daily refresh
leaves them today, and works out by the late rule those of the agreements its first page shows.
Times run from sending the request to its body read; p95 is the
nearest-rank 95th percentile; an error is any answer but 200, or none. Target: the dashboard's
p95 under {DASHBOARD_P95_TARGET:g} s, with no error.
"""


@dataclass
class Kind:
    """One kind of request the clients send, and what they measured of it."""

    label: str
    path: str
    headers: dict[str, str]
    times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _session_cookie(username: str) -> str:
    """A signed-in session of the user, stored as a browser's is, as a Cookie header."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _kinds() -> list[Kind]:
    """The three requests, their users made (and their agreements evaluated) as workloads 3 and 4 do."""
    from django.test import Client
    from django.utils import timezone

    from benchmarks import pages_setup
    from benchmarks.api_setup import api_token
    from benchmarks.api_setup import ensure_results as ensure_api_results
    from benchmarks.generate import AS_OF
    from benchmarks.workloads import api

    big, _ = pages_setup.lenders()
    pages_user, long_id, _ = pages_setup.quarters_agreements()
    pages_setup.ensure_results([*big.agreement_ids, long_id])
    # On the real date, as deployed: the standings as the daily refresh leaves them today.
    pages_setup.standings_as_of([big.username], timezone.localdate())
    api_user = api.lender_user()
    ensure_api_results(big.agreement_ids, as_of=AS_OF)
    token = api_token(Client(), api_user.get_username())
    return [
        Kind("dashboard, Lender in 1,000 agreements", "/", {"Cookie": _session_cookie(big.username)}),
        Kind("agreement page, 40 quarters", f"/agreements/{long_id}/", {"Cookie": _session_cookie(pages_user)}),
        Kind(
            f"API list, covenant-tests page of {API_PAGE_SIZE}",
            f"/api/v1/covenant-tests/?page_size={API_PAGE_SIZE}",
            {"Authorization": f"Token {token}"},
        ),
    ]


def _get(port: int, kind: Kind) -> tuple[float, str | None]:
    """One request: its time to the body read, and what went wrong (None: a 200)."""
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", kind.path, headers={"Host": "127.0.0.1", **kind.headers})
        response = connection.getresponse()
        response.read()
        error = None if response.status == 200 else f"answered {response.status}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    return time.perf_counter() - began, error


def _clients(port: int, kinds: list[Kind]) -> float:
    """CLIENTS threads sending requests for SECONDS; returns the wall time they ran."""
    lock = threading.Lock()
    stop_at = time.perf_counter() + SECONDS

    def client(number: int) -> None:
        turn = number
        while time.perf_counter() < stop_at:
            kind = kinds[turn % len(kinds)]
            turn += 1
            elapsed, error = _get(port, kind)
            with lock:
                kind.times.append(elapsed)
                if error:
                    kind.errors.append(error)

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,), name=f"client-{n}") for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def run(ctx: Context) -> Section:
    from benchmarks.api_server import WebServer

    ctx.portfolio(AGREEMENTS)
    kinds = _kinds()
    section = Section(6, f"{CLIENTS} clients at once against gunicorn and PostgreSQL", summary=SUMMARY)
    ctx.log(f"{CLIENTS} clients for {SECONDS:.0f} s against gunicorn ({WEB_WORKERS} workers)")
    with WebServer(workers=WEB_WORKERS) as server:
        for kind in kinds:  # each worker's first requests (imports, connections): not counted
            for _ in range(WEB_WORKERS):
                _, error = _get(server.port, kind)
                if error:
                    raise RuntimeError(f"{kind.label}: {error}\n{server.log_tail()}")
        load = os.getloadavg()[0]
        wall = _clients(server.port, kinds)
    _report(section, kinds, wall)
    section.notes.append(
        f"Load average (1 min) of the machine as the clients started: {load:.2f}, and {os.getloadavg()[0]:.2f} "
        f"as they stopped, on {os.cpu_count()} cores. With {CLIENTS} clients that never wait and "
        f"{WEB_WORKERS} workers, a request queues behind about {CLIENTS // WEB_WORKERS - 1} others in its "
        f"worker, so each kind's median is about {CLIENTS // WEB_WORKERS} times the mix's mean service time: "
        "the p95 target holds only when a dashboard, an agreement page and an API page together cost the "
        "two workers well under half a second on cores they have to themselves."
    )
    return section


def _report(section: Section, kinds: list[Kind], wall: float) -> None:
    total = sum(len(k.times) for k in kinds)
    errors = sum(len(k.errors) for k in kinds)
    section.values.append(Value("requests answered, all kinds", f"{total:,} in {wall:.1f} s: {total / wall:.1f} per s"))
    for kind in kinds:
        times = kind.times or [math.nan]
        section.values.append(
            Value(
                kind.label,
                f"{len(kind.times) / wall:.1f} requests/s, p50 {statistics.median(times):.3f} s, "
                f"p95 {_nearest_rank(times, 0.95):.3f} s, max {max(times):.3f} s, {len(kind.errors)} errors",
            )
        )
    dashboard = kinds[0]
    p95 = _nearest_rank(dashboard.times, 0.95) if dashboard.times else math.inf
    section.checks.append(
        Check(
            f"{CLIENTS} clients: the dashboard's p95 under {DASHBOARD_P95_TARGET:g} s",
            p95 < DASHBOARD_P95_TARGET,
            f"{p95:.3f} s over {len(dashboard.times)} requests",
        )
    )
    first_errors = sorted({e for k in kinds for e in k.errors})[:3]
    section.checks.append(
        Check(
            f"{CLIENTS} clients: every request answered 200",
            errors == 0 and total > 0,
            f"{errors} errors of {total:,} requests" + (f" ({'; '.join(first_errors)})" if first_errors else ""),
        )
    )


WORKLOAD = Workload(number=6, title="Ten clients at once", run=run, run_order=60)
