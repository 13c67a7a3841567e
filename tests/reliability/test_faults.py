"""
Faults survived: real processes broken while they work.

Every test runs on a private PostgreSQL cluster and Redis server started for the session
(see ``conftest.py``), with real Celery workers as separate processes, and checks what users
would see afterwards against one uninterrupted evaluation of the same portfolio (``control``):
the same results, the same status changes, the same alerts, each e-mail sent once.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from threading import Thread

import pytest
from django.conf import settings

from .conftest import PORTFOLIO, last_json, snapshot
from .scenario import BORROWER_USER, NAME, QUARTERS, combined_figures, csv_for, minimum_revenues
from .stack import VISIBILITY_TIMEOUT, ResultWritesHeld, Stack, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.worker]

SUCCEEDED = r"evaluate_agreements\[[0-9a-f-]+\] succeeded"


def report(what: str, seconds: float) -> None:
    """Measured figures, printed for docs/reliability.md (shown with ``-s`` or ``-rP``)."""
    print(f"[reliability] {what}: {seconds:.1f} s")


def results_stored(stack: Stack) -> int:
    return stack.scalar("SELECT count(*) FROM compliance_covenanttestresult")


#: Waits for liveness, not speed (the figures are reported, not asserted): a worker started while
#: the other test process runs the rest of the suite on the same two cores took over 60 s to
#: take its first task or to send its e-mails.
EVALUATION_STARTS = 180
EMAILS_SETTLE = 180


def emails_settled(stack: Stack, mailbox) -> bool:
    """Every e-mail delivery has been sent, and the SMTP server holds one message per delivery."""
    pending = stack.scalar("SELECT count(*) FROM alerts_alertdelivery WHERE channel = 'email' AND status <> 'sent'")
    sent = stack.scalar("SELECT count(*) FROM alerts_alertdelivery WHERE channel = 'email'")
    return pending == 0 and mailbox.count() >= sent


def assert_exactly_once(stack: Stack, control: dict, mailbox) -> None:
    """What the faulted run stored is what one uninterrupted evaluation stores, and each
    e-mail went out once."""
    ended = snapshot(stack)
    assert len(ended["results"]) == len(control["results"]) > 0
    assert ended["results"] == control["results"]  # no result lost, none different
    assert ended["superseded_results"] == 0  # nothing of the killed attempt survived
    assert ended["events"] == control["events"]  # every status change once
    assert all(row[-1] == 1 for row in ended["alerts"])
    assert ended["alerts"] == control["alerts"]  # every alert once
    assert ended["deliveries"] == control["deliveries"]
    emails = stack.scalar("SELECT count(*) FROM alerts_alertdelivery WHERE channel = 'email'")
    assert emails > 0
    assert mailbox.count() == emails
    assert stack.scalar("SELECT max(attempts) FROM alerts_alertdelivery WHERE channel = 'email'") == 1


def start_chunk_and_catch_it_running(stack: Stack) -> ResultWritesHeld:
    """Queue the nightly chunk of the whole portfolio and return once a worker is inside its
    database transaction, held at its first write of a result (it has locked the agreements and
    evaluated): the fault then lands on an evaluation that cannot have committed. The caller
    releases the hold once the fault is injected."""
    held = stack.hold_result_writes()
    queued = last_json(stack.script("queue-chunk"))
    assert queued["agreements"] == PORTFOLIO
    wait_for(stack.worker_waiting_on_a_lock, timeout=EVALUATION_STARTS, interval=0.05, what="the evaluation to start")
    return held


def test_a_worker_process_killed_mid_evaluation_redoes_it_without_doubling_anything(stack, control, mailbox):
    worker = stack.start_worker(**mailbox.env)
    held = start_chunk_and_catch_it_running(stack)

    killed = worker.kill_children()
    killed_at = time.monotonic()
    held.release()
    assert killed
    # Killed mid-way: the evaluation's transaction never committed.
    assert results_stored(stack) == 0

    wait_for(lambda: worker.count(SUCCEEDED) >= 1, timeout=120, what="the redelivered evaluation")
    report("SIGKILL of the pool process: kill to evaluation finished", time.monotonic() - killed_at)
    assert worker.count(r"signal 9 \(SIGKILL\)") >= 1, worker.text()[-3000:]
    wait_for(lambda: emails_settled(stack, mailbox), timeout=EMAILS_SETTLE, what="the alerts' e-mails")
    assert_exactly_once(stack, control, mailbox)

    # A worker that dies after committing but before acknowledging: the chunk runs again.
    # The second run finds every result unchanged and raises nothing.
    stack.script("queue-chunk")
    wait_for(lambda: worker.count(SUCCEEDED) >= 2, timeout=120, what="the repeated evaluation")
    assert worker.count(r"Task covenants\.tasks\.deliver_alert\[[0-9a-f-]+\] received") == mailbox.count()
    assert_exactly_once(stack, control, mailbox)


def test_a_whole_worker_killed_mid_evaluation_is_redelivered_to_another_after_the_visibility_timeout(
    stack, control, mailbox
):
    first = stack.start_worker(name="doomed", **mailbox.env)
    held = start_chunk_and_catch_it_running(stack)

    first.kill()  # main process and pool together: no one is left to requeue the message
    killed_at = time.monotonic()
    held.release()
    assert results_stored(stack) == 0

    second = stack.start_worker(name="successor", **mailbox.env)
    wait_for(
        lambda: second.count(SUCCEEDED) >= 1,
        timeout=VISIBILITY_TIMEOUT + 90,
        what="the message to come back after the visibility timeout",
    )
    elapsed = time.monotonic() - killed_at
    report("SIGKILL of the whole worker: kill to evaluation finished by another worker", elapsed)
    wait_for(lambda: emails_settled(stack, mailbox), timeout=EMAILS_SETTLE, what="the alerts' e-mails")
    assert_exactly_once(stack, control, mailbox)


def test_postgresql_restarted_under_a_running_evaluation_is_retried_until_it_completes(stack, control, mailbox):
    worker = stack.start_worker(**mailbox.env)
    held = start_chunk_and_catch_it_running(stack)

    restarted_at = time.monotonic()
    stack.postgres.restart()  # -m fast: every session is ended mid-transaction, the hold's too
    held.release()
    report("pg_ctl restart -m fast", time.monotonic() - restarted_at)

    wait_for(lambda: worker.count(SUCCEEDED) >= 1, timeout=120, what="the retried evaluation")
    report("PostgreSQL restart: restart to evaluation finished", time.monotonic() - restarted_at)
    log = worker.text()
    assert worker.count(r"evaluate_agreements\[[0-9a-f-]+\] retry: Retry in") >= 1, log[-3000:]
    wait_for(lambda: emails_settled(stack, mailbox), timeout=EMAILS_SETTLE, what="the alerts' e-mails")
    assert_exactly_once(stack, control, mailbox)


# --- Redis down while borrowers upload ---------------------------------------------------------

LAST = QUARTERS[-1]
LAST_MINIMUM = minimum_revenues(len(QUARTERS) - 1)


def giving_up_quickly() -> int:
    """The connections to Redis queuing a task may try while Redis is down: a first attempt and
    the retries the portal's policies allow, for the message and for the result backend."""
    publish = settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"]
    backend = settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["retry_policy"]["max_retries"]
    return (1 + publish) + (1 + backend)


def statement_file(tmp_path, name: str, revenues: Decimal, ebitda: Decimal = Decimal(-900_000)) -> str:
    path = tmp_path / f"{name}.csv"
    path.write_text(csv_for(LAST, revenues, ebitda))
    return str(path)


def agreement_id(stack: Stack, index: int) -> int:
    return stack.scalar("SELECT id FROM covenants_agreement WHERE name = %s", (NAME.format(index),))


def requested(stack: Stack, index: int) -> bool:
    sql = "SELECT evaluation_requested_at IS NOT NULL FROM covenants_agreement WHERE id = %s"
    return stack.scalar(sql, (agreement_id(stack, index),))


def revenue_result(stack: Stack, index: int) -> tuple | None:
    rows = stack.query(
        "SELECT r.status, r.value FROM compliance_covenanttestresult r"
        " JOIN covenants_covenant c ON c.id = r.covenant_id"
        " WHERE r.agreement_id = %s AND c.section = '6.1' AND r.test_date = %s AND r.is_current",
        (agreement_id(stack, index), LAST),
    )
    return rows[0] if rows else None


def current_revenues(stack: Stack, index: int) -> Decimal:
    return stack.scalar(
        "SELECT sum(l.amount) FROM statements_statementline l"
        " JOIN statements_financialstatement s ON s.id = l.statement_id"
        " JOIN covenants_lineitem i ON i.id = l.line_item_id"
        " WHERE s.agreement_id = %s AND s.period_end = %s AND s.status = 'current' AND i.code = 'revenues'",
        (agreement_id(stack, index), LAST),
    )


class WebProcess:
    """The long-lived process that serves upload pages (scenario ``serve-uploads``)."""

    def __init__(self, stack: Stack) -> None:
        self.process = stack.start_script("serve-uploads")

    def upload(self, index: int, path: str) -> dict:
        request = {"agreement": NAME.format(index), "file": path, "user": BORROWER_USER}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the web process died"
        return json.loads(line)


def test_uploads_are_saved_while_redis_is_down_and_evaluated_once_it_is_back(stack, mailbox, tmp_path):
    worker = stack.start_worker(**mailbox.env)
    web = WebProcess(stack)

    # Before the outage: the web process has its connection to Redis, and an upload is evaluated at once.
    sent = web.upload(5, statement_file(tmp_path, "before", LAST_MINIMUM * 2))
    assert sent["confirmed"] == 302
    wait_for(lambda: revenue_result(stack, 5), timeout=60, what="the evaluation of the upload before the outage")
    started = time.monotonic()
    stack.manage("import_statement", "--agreement", NAME.format(6), statement_file(tmp_path, "baseline", LAST_MINIMUM))
    baseline = time.monotonic() - started

    stack.redis.stop()
    # A breach for a watched agreement (its Lender's user is e-mailed), through the page...
    page = web.upload(0, statement_file(tmp_path, "page", LAST_MINIMUM - 1))
    # ...and a restatement from the command line.
    started = time.monotonic()
    restatement = statement_file(tmp_path, "command", LAST_MINIMUM + 7)
    command = stack.script("manage", "import_statement", "--agreement", NAME.format(1), restatement)
    outage_command = time.monotonic() - started
    report("page upload and confirmation with Redis down", page["seconds"])
    report(f"import_statement with Redis down (with Redis up: {baseline:.1f} s)", outage_command)

    # Accepted and saved, without waiting long for the broker: queuing the evaluation tried
    # Redis as often as the publish and result-backend retry policies allow, and gave up
    # (Celery's own policies try 22 times over 19 s).
    assert page["checked"] == 200 and page["confirmed"] == 302, page
    assert 0 < page["redis_connections"] <= giving_up_quickly(), page
    assert "Recorded restatement (version 2)" in command
    assert 0 < last_json(command)["redis_connections"] <= giving_up_quickly(), command
    assert current_revenues(stack, 0) == LAST_MINIMUM - 1
    assert current_revenues(stack, 1) == LAST_MINIMUM + 7
    assert requested(stack, 0) and requested(stack, 1)
    assert revenue_result(stack, 0) is None and revenue_result(stack, 1) is None

    stack.redis.start()
    # The web process reconnects by itself: an upload after the outage is queued at once.
    after = web.upload(2, statement_file(tmp_path, "after", LAST_MINIMUM * 3))
    assert after["confirmed"] == 302
    wait_for(lambda: revenue_result(stack, 2), timeout=90, what="the evaluation of the upload after the outage")
    # The evaluations asked for during the outage were never sent; nobody uploads again.
    assert requested(stack, 0) and requested(stack, 1)

    # The sweep (beat sends it every minute) queues what has waited EVALUATION_SWEEP_AFTER_SECONDS
    # (SWEEP_AFTER here): sent, as beat would, until the evaluations have run.
    def swept() -> bool:
        if not requested(stack, 0) and not requested(stack, 1):
            return True
        stack.call_task("covenants.tasks.sweep_evaluation_requests")
        return False

    wait_for(swept, timeout=90, interval=1, what="the swept evaluations")
    assert revenue_result(stack, 0) == ("breach", LAST_MINIMUM - 1)
    assert revenue_result(stack, 1) == ("compliant", LAST_MINIMUM + 7)
    breach = "Breach of Section 6.1 (Minimum revenues) as of December 31, 2024"
    assert stack.scalar("SELECT count(*) FROM alerts_alert WHERE title LIKE %s", (breach + "%",)) == 1
    wait_for(lambda: emails_settled(stack, mailbox), timeout=EMAILS_SETTLE, what="the alerts' e-mails")
    assert [m for m in mailbox.messages if breach in m[2]] != [], mailbox.messages
    names = [NAME.format(i) for i in (0, 1, 2, 5, 6)]
    checked = last_json(stack.script("check", *names))
    assert checked["mismatch_count"] == 0, checked
    assert checked["fresh_evaluation_changed"] == 0
    assert worker.process.poll() is None  # the worker rode out the outage


def test_an_api_upload_is_saved_while_redis_is_down(stack, tmp_path):
    stack.redis.stop()
    sent = last_json(
        stack.script("upload-api", NAME.format(3), statement_file(tmp_path, "api", LAST_MINIMUM), BORROWER_USER)
    )
    assert sent["status"] == 201, sent
    assert requested(stack, 3)


# --- Restatements during the nightly re-evaluation ---------------------------------------------


def test_restatements_during_the_nightly_reevaluation_end_consistent_with_the_latest_figures(stack, tmp_path):
    workers = [stack.start_worker(name=f"nightly-{n}") for n in range(2)]
    stack.script("queue-chunks", "10")
    wait_for(lambda: sum(w.count(SUCCEEDED) for w in workers) >= PORTFOLIO // 10, timeout=120, what="first night")
    first_night = snapshot(stack)["results"]
    assert first_night

    # Each restated agreement gets three files in a row, the last figures differing from the
    # first; the agreements are spread over every chunk. Four web processes upload at once.
    restated = list(range(0, PORTFOLIO, 7))
    plans = {index: [combined_figures(index + 1 + n, len(QUARTERS) - 1 - n) for n in range(3)] for index in restated}
    webs = [WebProcess(stack) for _ in range(4)]
    failures: list[str] = []
    latencies: list[float] = []

    def restate(web: WebProcess, indexes: list[int]) -> None:
        for index in indexes:
            for n, (revenues, ebitda) in enumerate(plans[index]):
                out = web.upload(index, statement_file(tmp_path, f"restate-{index}-{n}", revenues, ebitda))
                latencies.append(out["seconds"])
                if out["confirmed"] != 302:
                    failures.append(f"{index}: {out}")

    # The nightly run (every agreement in one chunk) and smaller overlapping chunks, while restating.
    stack.call_task("covenants.tasks.reevaluate_all_agreements")
    threads = [Thread(target=restate, args=(web, restated[n::4])) for n, web in enumerate(webs)]
    for thread in threads:
        thread.start()
    stack.script("queue-chunks", "7")
    stack.call_task("covenants.tasks.reevaluate_all_agreements")
    stack.script("queue-chunks", "13")
    for thread in threads:
        thread.join(timeout=300)
    assert failures == []
    assert len(latencies) == 3 * len(restated)
    report(f"slowest of {len(latencies)} uploads during the nightly re-evaluation", max(latencies))

    def settled() -> bool:
        return (
            stack.scalar("SELECT count(*) FROM covenants_agreement WHERE evaluation_requested_at IS NOT NULL") == 0
            and stack.broker_idle()
            and not stack.worker_in_transaction()
        )

    wait_for(settled, timeout=180, what="the workers to finish")
    for index in restated:
        assert current_revenues(stack, index) == plans[index][-1][0]
    checked = last_json(stack.script("check"))
    assert checked["mismatch_count"] == 0, checked
    assert checked["fresh_evaluation_changed"] == 0
    assert snapshot(stack)["results"] != first_night  # the restatements moved results
    logs = "".join(w.text() for w in workers)
    assert "deadlock detected" not in logs
    assert "raised unexpected" not in logs
    versions = stack.query(
        "SELECT agreement_id, borrower_id, period_end, array_agg(version ORDER BY version)"
        " FROM statements_financialstatement GROUP BY 1, 2, 3 HAVING count(*) > 1"
    )
    assert versions and all(v[3] == list(range(1, len(v[3]) + 1)) for v in versions)
