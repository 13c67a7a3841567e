"""
Workload 5: from a statement uploaded through the API to its breach alert stored.

A Borrowers' user of one agreement of the portfolio sends a quarterly package as an
integration does: ``POST /api/v1/financial-statements/`` (multipart: the agreement and a CSV
file), with a knox token, to the portal served by gunicorn on a loopback port. The upload is
stored and its evaluation queued (on commit) on the portal's default queue, where real Celery
worker processes take it; the evaluation raises the alerts in its own transaction. Each upload
restates the covenant's latest quarter, alternately under the minimum (a breach) and over it
(the breach cured): the time measured runs from the request's start to that alert's row being
committed, seen by polling the database, beside the upload request alone (its response). Only
the latest quarter is turned: a restatement of a quarter long past is history, recorded and not
alerted (alerts.history, docs/alerts.md), and the portfolio's quarters end in 2024.

The web server and the workers use a Redis database of their own (the portal's default queue
on it is theirs alone), so no other worker on the machine's Redis takes the task.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from benchmarks.harness import Check, Context, Figure, Ratio, Sample, Section, Value, Workload
from benchmarks.workloads.evaluation import AGREEMENTS

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from benchmarks.workers import TaskTiming, Workers

UPLOADS = 50
EVALUATION_TASK = "covenants.tasks.evaluate_agreement"
DELIVERY_TASK = "covenants.tasks.deliver_alert"
USERNAME = "bench.borrower"
POLL_SECONDS = 0.005  # how often the database is asked whether the alert is there
ALERT_TIMEOUT = 60.0  # a single upload's alert must come within this
# The two quarters each package holds: the last two of the portfolio's eight, each with a
# minimum-revenues test. Only the latest is turned (see the module's docstring).
QUARTERS = ("2024-09-30", "2024-12-31")
TURNED = QUARTERS[-1]
REVENUES_COVENANT = "7.01(b)"

SUMMARY = """
A Borrowers' user (a member of the five Borrowers of one agreement of the portfolio) uploads a
quarterly package as an integration does: `POST /api/v1/financial-statements/`, multipart, the
agreement's id and a CSV file of 30 rows (five Borrowers, two fiscal quarters, revenues, EBITDA
and total debt), with a knox token, over HTTP to the portal served by **gunicorn** (one sync
worker, `DEBUG` off) on a loopback port. The upload stores the restated statements and queues
the agreement's evaluation on commit; **two real Celery worker processes**
(`celery -A portal worker --concurrency=1`) on a Redis database of their own take it from the
portal's default queue, and the evaluation stores its alerts in its own transaction. Each upload
restates both quarters (EBITDA and total debt as on file); the latest quarter's revenues are
alternately far under the minimum and twice it, so each upload turns its minimum-revenues test to
a breach or cures it: every upload raises one alert, a breach or a cure, delivered as by default to
the Borrowers' user's inbox and by e-mail (Django's dummy backend), which the workers send
meanwhile. (Only the latest quarter is turned: the portfolio's quarters end in 2024, and a
restatement of a quarter long past is history, recorded and not alerted; see docs/alerts.md.)
**Upload to alert** runs from the request's start until this process, polling the
database every 5 ms, sees that alert's row committed; **upload alone** is the same request
until its response has been read. Both are taken from the same 50 uploads, one after the other
(the next starts once the alert is seen); p95 is the nearest-rank 95th percentile. The CPU
column is n/a: the work is done in the server's and the workers' processes.
"""

NOTES = """
Where the time goes (profiled in-process with cProfile while building this benchmark, and from
the workers' task events above): the upload request is some 40 ms of the portal's own work,
30 queries of which 14 ms in the database (authentication, the access rule, parsing and
checking the 30 rows, the file and the 10 restated statements with their lines stored in one
transaction, the evaluation queued at its commit with one Redis publish, the recorded
statements read back for the answer), plus HTTP and multipart over loopback. The evaluation task
starts within a few milliseconds of the answer (it is queued before the answer is sent) and
re-evaluates the agreement's three covenants as of today, storing the changed results, their
events, the breach and cure alerts and their deliveries in one transaction. No target is set
for this workload; nothing in either step stood out to fix.
"""


@dataclass
class Upload:
    """One upload's figures: its request's time, from its start to its alert (breach or cure), and when
    (wall clock, to place the workers' task events) it started and the alert was seen."""

    request: float
    to_alert: float
    started_at: float
    seen_at: float
    quarter: str  # the quarter turned
    alert_quarter: str


def upload_redis_url() -> str:
    """The Redis database the web server and workers of this workload use (BENCH_UPLOAD_REDIS_URL,
    else database 9 of the benchmark's Redis server)."""
    import os

    from benchmarks.database import redis_url

    explicit = os.environ.get("BENCH_UPLOAD_REDIS_URL", "")
    if explicit:
        return explicit
    parts = urlsplit(redis_url())
    return urlunsplit((parts.scheme, parts.netloc, "/9", parts.query, ""))


def _database(url: str, number: int) -> str:
    parts = urlsplit(url)
    current = int(parts.path.lstrip("/") or 0)
    return urlunsplit((parts.scheme, parts.netloc, f"/{current + number}", parts.query, ""))


def chosen_agreement(ids: list[int]) -> int:
    """The portfolio's last agreement whose eight quarters are all on file, once, with every line
    item: nothing missing or restated beforehand (and whose Lender is not workload 4's)."""
    from benchmarks.generate import BORROWERS_PER_AGREEMENT, LINE_ITEMS, QUARTERS, plan_agreement

    for index in range(len(ids) - 1, -1, -1):
        if index % 10 == 0:
            continue
        plan = plan_agreement(index)
        plain = len(plan.statements) == BORROWERS_PER_AGREEMENT * len(QUARTERS) and all(
            len(versions) == 1 and len(versions[0]) == len(LINE_ITEMS) for versions in plan.statements.values()
        )
        if plain:
            return ids[index]
    raise RuntimeError("No agreement of the portfolio has every statement on file.")


@dataclass
class Package:
    """What the uploads of one agreement need: its Borrowers, the figures on file, the minimums."""

    agreement_id: int
    borrowers: list[tuple[int, str]]  # (party id, legal name)
    on_file: dict[tuple[int, str, str], Decimal]  # (party, quarter, line item code) -> amount
    minimums: dict[str, Decimal]  # quarter -> minimum revenues

    def csv(self, breach_quarter: str | None) -> bytes:
        """The package: revenues far under the minimum in ``breach_quarter``, twice it in the other
        quarter (None: twice it in both); EBITDA and total debt as on file."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["entity", "period_end", "line_item", "amount"])
        share = len(self.borrowers)
        for quarter in QUARTERS:
            combined = self.minimums[quarter] * (Decimal("0.5") if quarter == breach_quarter else Decimal(2))
            revenues = (combined / share).quantize(Decimal("1"))
            for party_id, name in self.borrowers:
                writer.writerow([name, quarter, "Revenues", f"{revenues:f}"])
                writer.writerow([name, quarter, "EBITDA", f"{self.on_file[(party_id, quarter, 'ebitda')]:f}"])
                writer.writerow([name, quarter, "Total debt", f"{self.on_file[(party_id, quarter, 'total_debt')]:f}"])
        return out.getvalue().encode()


def package_for(agreement_id: int) -> Package:
    """The agreement's Borrowers, its figures on file for the two quarters, and their minimum revenues."""
    import datetime as dt

    from covenants.choices import Role
    from covenants.models import AgreementRole, ThresholdStep
    from statements.choices import StatementStatus
    from statements.models import StatementLine

    borrowers = list(
        AgreementRole.objects.filter(agreement_id=agreement_id, role=Role.BORROWER)
        .order_by("party__legal_name")
        .values_list("party_id", "party__legal_name")
    )
    days = [dt.date.fromisoformat(q) for q in QUARTERS]
    on_file = {
        (party, period.isoformat(), code): amount
        for party, period, code, amount in StatementLine.objects.filter(
            statement__agreement_id=agreement_id,
            statement__status=StatementStatus.CURRENT,
            statement__period_end__in=days,
        ).values_list("statement__borrower_id", "statement__period_end", "line_item__code", "amount")
    }
    minimums = {
        day.isoformat(): threshold
        for day, threshold in ThresholdStep.objects.filter(
            terms__covenant__agreement_id=agreement_id, terms__covenant__section=REVENUES_COVENANT, test_date__in=days
        ).values_list("test_date", "threshold")
    }
    if len(minimums) != len(QUARTERS):
        raise RuntimeError(f"Agreement {agreement_id} has no minimum revenues for {', '.join(QUARTERS)}.")
    return Package(agreement_id, borrowers, on_file, minimums)


def borrower_user(package: Package) -> AbstractBaseUser:
    """The benchmark's Borrowers' user, a member of the agreement's five Borrowers (made once)."""
    from benchmarks.api_setup import user_with_membership
    from parties.choices import MembershipRole

    return user_with_membership(USERNAME, MembershipRole.BORROWER, [party for party, _ in package.borrowers])


def nearest_rank(values: list[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with ``percent`` of the values at or under it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def run(ctx: Context) -> Section:
    import requests

    from alerts.choices import AlertKind
    from alerts.models import Alert
    from benchmarks.api_server import WebServer
    from benchmarks.api_setup import PASSWORD
    from benchmarks.workers import Workers
    from covenants.models import Agreement

    section = Section(5, "Upload to alert", summary=SUMMARY)
    ids = ctx.portfolio(AGREEMENTS)
    agreement_id = chosen_agreement(ids)
    package = package_for(agreement_id)
    borrower_user(package)

    redis = upload_redis_url()
    environment = {
        "REDIS_URL": redis,
        # The cache (throttling and sign-in counters) in the next database, not the shared default.
        "CACHE_URL": _database(redis, 1),
        # Alerts are stored and their deliveries recorded; no e-mail leaves the machine.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    alerts = Alert.objects.filter(agreement_id=agreement_id, kind__in=(AlertKind.BREACH, AlertKind.CURE))
    pending = Agreement.objects.filter(pk=agreement_id, evaluation_requested_at__isnull=False)
    uploads: list[Upload] = []
    began = time.perf_counter()
    ctx.log(f"starting gunicorn and two Celery workers on {redis}")
    with (
        WebServer(workers=1, environment=environment) as server,
        Workers(count=2, concurrency=1, queues="celery", redis=redis, environment=environment) as workers,
        requests.Session() as http,
    ):
        base = f"{server.url}/api/v1"
        signed_in = http.post(f"{base}/auth/token/", json={"username": USERNAME, "password": PASSWORD}, timeout=60)
        signed_in.raise_for_status()
        http.headers["Authorization"] = f"Token {signed_in.json()['token']}"

        def upload(breach_quarter: str | None) -> tuple[float, float]:
            content = package.csv(breach_quarter)
            started = time.perf_counter()
            response = http.post(
                f"{base}/financial-statements/",
                data={"agreement": str(agreement_id)},
                files={"file": ("quarterly-package.csv", content, "text/csv")},
                timeout=60,
            )
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(f"The upload was refused: {response.status_code} {response.text[:500]}")
            return started, elapsed

        def settle(deadline: float) -> None:
            while pending.exists():
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"The evaluation did not finish:\n{workers.log_tail()}")
                time.sleep(POLL_SECONDS)

        # Untimed: both quarters compliant (the starting point every run), which also warms the
        # server's and the workers' processes.
        upload(None)
        settle(time.perf_counter() + ALERT_TIMEOUT)
        ctx.log(f"warmed up in {time.perf_counter() - began:.1f} s; {UPLOADS} uploads")

        for number in range(UPLOADS):
            last = alerts.order_by("-pk").values_list("pk", flat=True).first() or 0
            breach_quarter = TURNED if number % 2 == 0 else None
            expected = AlertKind.BREACH if breach_quarter else AlertKind.CURE
            started_at = time.time()
            started, request = upload(breach_quarter)
            deadline = started + ALERT_TIMEOUT
            while not (seen := list(alerts.filter(pk__gt=last).values_list("test_date", "kind"))):
                if time.perf_counter() > deadline:
                    raise RuntimeError(
                        f"Upload {number + 1}: no {expected.label.lower()} alert within {ALERT_TIMEOUT:.0f} s:\n"
                        f"{workers.log_tail()}"
                    )
                time.sleep(POLL_SECONDS)
            to_alert = time.perf_counter() - started
            alerted = seen[0][0].isoformat() if seen[0][1] == expected else f"{seen[0][0].isoformat()} ({seen[0][1]})"
            uploads.append(Upload(request, to_alert, started_at, started_at + to_alert, TURNED, alerted))
            settle(deadline)  # the evaluation's transaction is the alert's: already done
            if (number + 1) % 10 == 0:
                ctx.log(f"  {number + 1} uploads: last {request:.3f} s request, {to_alert:.3f} s to alert")
        # The last evaluation's events arrive just after its commit, which the poll may have seen first.
        settle_events = time.perf_counter() + 5
        while time.perf_counter() < settle_events and not evaluation_heard(workers, since=uploads[-1].started_at):
            time.sleep(0.05)
        tasks = [t for t in workers.tasks.values() if t.runtime is not None]
        stopping = time.perf_counter()
    ctx.log(f"workers and server stopped in {time.perf_counter() - stopping:.1f} s")

    to_alert = Figure("upload to breach or cure alert committed", [Sample(u.to_alert) for u in uploads])
    alone = Figure("upload request alone (until its response is read)", [Sample(u.request) for u in uploads])
    section.figures += [to_alert, alone]
    section.values += [
        Value("upload to breach or cure alert, 95th percentile", nearest_rank([u.to_alert for u in uploads], 95), "s"),
        Value("upload request alone, 95th percentile", nearest_rank([u.request for u in uploads], 95), "s"),
    ]
    section.values += stages(uploads, tasks)
    section.ratios.append(Ratio("upload to alert / upload request alone", to_alert, alone))
    right = sum(1 for u in uploads if u.alert_quarter == u.quarter)
    section.checks.append(
        Check(
            "every upload raised its alert (a breach, then a cure, in turn) for the quarter it turned",
            len(uploads) == UPLOADS and right == UPLOADS,
            f"{len(uploads)} of {UPLOADS} uploads answered 201 with an alert, {right} of the right kind and quarter",
        )
    )
    section.notes.append(NOTES)
    return section


def evaluation_heard(workers: Workers, *, since: float) -> bool:
    """The workers' events told of an evaluation received since ``since`` (wall clock) and done."""
    return any(
        t.name == EVALUATION_TASK and t.succeeded is not None and (t.received or 0) >= since
        for t in list(workers.tasks.values())
    )


def stages(uploads: list[Upload], tasks: list[TaskTiming]) -> list[Value]:
    """Where the time goes, from the workers' task events: each upload's evaluation task is the one
    received between the upload's start and its alert being seen."""
    evaluations = sorted(
        (t for t in tasks if t.name == EVALUATION_TASK and t.started is not None and t.succeeded is not None),
        key=lambda t: t.received or t.started,
    )
    waits, runs = [], []
    for u in uploads:
        task = next((t for t in evaluations if u.started_at <= (t.received or t.started) <= u.seen_at), None)
        if task is None:
            continue
        waits.append(task.started - u.started_at)
        runs.append(task.runtime or (task.succeeded - task.started))
    values = [
        Value(
            "from the response to the alert seen (median of the differences)",
            statistics.median(u.to_alert - u.request for u in uploads),
            "s",
        )
    ]
    if runs:
        values += [
            Value("from the request's start to its evaluation task starting (median)", statistics.median(waits), "s"),
            Value(
                "evaluation task run time (median)",
                statistics.median(runs),
                "s",
                note=f"{EVALUATION_TASK}, one agreement, {len(runs)} of {len(uploads)} uploads matched",
            ),
        ]
    deliveries = [t for t in tasks if t.name == DELIVERY_TASK]
    if deliveries:
        values.append(
            Value(
                "alert deliveries sent by the workers meanwhile",
                f"{len(deliveries)} (e-mails to the Borrowers' user, breach and cure)",
            )
        )
    return values


WORKLOAD = Workload(number=5, title="Upload to alert", run=run, run_order=50)
