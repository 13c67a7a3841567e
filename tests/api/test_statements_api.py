"""
Financial statements through the API: the same file through the API and the page gives the
same statements and results; errors name row and column and save nothing; Borrowers
submit only for their own entities; JSON records keep money exact; restatements; the
original file comes back byte for byte; results read back with their filters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from compliance.models import CovenantTestResult
from parties.choices import MembershipRole
from statements.choices import StatementStatus
from statements.models import FinancialStatement, StatementUpload
from tests.covenants.helpers import combined_rows, csv_bytes
from tests.factories import member

from .conftest import World

pytestmark = pytest.mark.django_db

D = dt.date
STATEMENTS = reverse("api:financialstatement-list")
RESULTS = reverse("api:covenanttest-list")


def figures(world: World) -> list[tuple[str, ...]]:
    loan = world.seed
    return [
        *combined_rows(loan, D(2000, 3, 31), revenues=23_821_000, ebitda=-13_500_000),
        *combined_rows(loan, D(2000, 6, 30), revenues=30_000_000, ebitda=-11_501_000),
    ]


def xlsx_bytes(rows: list[tuple[str, ...]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["entity", "period_end", "line_item", "amount"])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def snapshot(world: World) -> tuple[list, list]:
    """Statements with their lines, and current results, in a comparable form (no ids, no times)."""
    statements = [
        (
            s.borrower.legal_name,
            s.period_end,
            s.version,
            s.status,
            sorted((line.line_item.code, line.amount) for line in s.lines.all()),
        )
        for s in FinancialStatement.objects.filter(agreement=world.seed.agreement)
        .select_related("borrower")
        .prefetch_related("lines__line_item")
        .order_by("period_end", "borrower__legal_name", "version")
    ]
    results = list(
        CovenantTestResult.objects.filter(agreement=world.seed.agreement, is_current=True)
        .order_by("covenant__section", "test_date", "borrower_id")
        .values_list(
            "covenant__section",
            "test_date",
            "borrower_id",
            "status",
            "value",
            "threshold",
            "headroom",
            "headroom_percent",
            "provisional",
            "explanation",
        )
    )
    return statements, results


@pytest.mark.parametrize(("name", "build"), [("figures.csv", csv_bytes), ("figures.xlsx", xlsx_bytes)])
def test_the_api_and_the_page_record_the_same_file_identically(
    world, client, django_capture_on_commit_callbacks, name, build
):
    content = build(figures(world))
    user = world.users["borrower"]
    snapshots = []
    for path in ("api", "page"):
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):  # the re-evaluation queued on commit
                if path == "api":
                    response = world.client("borrower").post(
                        STATEMENTS,
                        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile(name, content)},
                        format="multipart",
                    )
                    assert response.status_code == 201, response.content
                else:  # the page's journey: check the file, then confirm what was checked
                    client.force_login(user)
                    pk = world.seed.agreement.pk
                    response = client.post(
                        reverse("covenants:statement_upload", args=[pk]), {"file": SimpleUploadedFile(name, content)}
                    )
                    assert response.status_code == 200, response.content
                    response = client.post(
                        reverse("covenants:statement_confirm", args=[pk]),
                        {"sha256": hashlib.sha256(content).hexdigest()},
                    )
                    assert response.status_code == 302, response.content
            assert bytes(StatementUpload.objects.latest("pk").content) == content
            assert StatementUpload.objects.latest("pk").source == path
            snapshots.append(snapshot(world))
            transaction.set_rollback(True)
    api, page = snapshots
    assert api == page
    statements, results = api
    assert len([s for s in statements if s[1] == D(2000, 3, 31)]) == 5
    revenues = {(r[0], r[1]): r for r in results}[("7.01(b)", D(2000, 3, 31))]
    assert revenues[3] == "compliant" and revenues[4] == Decimal("23821000")  # equality passes


def test_a_submission_answers_with_the_statements_it_recorded(world):
    response = world.client("borrower").post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("q1.csv", csv_bytes(figures(world)))},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["upload"]["filename"] == "q1.csv"
    assert body["upload"]["source"] == "api"
    assert body["upload"]["uploaded_by"] == "kmc.api"
    assert body["unchanged"] == []
    assert len(body["statements"]) == 10
    first = body["statements"][0]
    assert first["period_end"] == "2000-03-31"
    assert first["version"] == 1 and first["status"] == "current"
    amounts = {line["line_item"]: line["amount"] for line in first["lines"]}
    assert all(isinstance(a, str) for a in amounts.values())  # money as strings of decimals
    assert set(amounts) == {"ebitda", "revenues"}


def test_errors_name_row_and_column_and_nothing_is_saved(world):
    rows = figures(world)
    rows[1] = (rows[1][0], rows[1][1], rows[1][2], "n/a")
    rows[3] = (rows[3][0], "2000-03-30", rows[3][2], rows[3][3])
    response = world.client("borrower").post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("bad.csv", csv_bytes(rows))},
        format="multipart",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Nothing was saved")
    placed = {(e["row"], e["column"]) for e in body["errors"]}
    assert (3, "amount") in placed and (5, "period_end") in placed
    assert all(e["message"] for e in body["errors"])
    assert not StatementUpload.objects.filter(source="api").exists()


def test_field_errors_come_in_the_same_shape(world):
    response = world.client("borrower").post(STATEMENTS, {"records": []}, format="json")
    assert response.status_code == 400
    columns = {e["column"] for e in response.json()["errors"]}
    assert columns == {"agreement", "records"}
    response = world.client("borrower").generic("POST", STATEMENTS, b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("JSON parse error")


def test_a_borrower_submits_only_for_its_own_entities(world):
    kmc_only = member("kmc.only", MembershipRole.BORROWER, world.seed.borrowers["KMC"])
    world.users["kmc_only"] = kmc_only
    response = world.client("kmc_only").post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("all.csv", csv_bytes(figures(world)))},
        format="multipart",
    )
    assert response.status_code == 400
    refused = [e for e in response.json()["errors"] if e["column"] == "entity"]
    assert any(e["message"].startswith("You may not submit figures for KMC Telecom II, Inc.") for e in refused)
    assert not any("KMC Telecom Inc." in e["message"] for e in refused)
    assert all(e["row"] for e in refused)
    assert not StatementUpload.objects.filter(source="api").exists()


def test_a_lender_may_not_submit_and_an_outsider_may_not_name_the_agreement(world):
    payload = {"agreement": world.seed.agreement.pk, "records": [{"entity": "KMC", "period_end": "2000-03-31"}]}
    response = world.client("lender").post(STATEMENTS, payload, format="json")
    assert response.status_code == 403
    response = world.client("outsider").post(STATEMENTS, payload, format="json")
    assert response.status_code == 400
    nonexistent = world.client("outsider").post(STATEMENTS, {**payload, "agreement": 987654}, format="json")
    # The outsider cannot tell the seed agreement from one that does not exist.
    assert response.json()["errors"][0]["message"].replace(str(world.seed.agreement.pk), "N") == nonexistent.json()[
        "errors"
    ][0]["message"].replace("987654", "N")


def test_json_records_keep_money_exact_and_a_restatement_supersedes(world):
    loan = world.seed
    records = [
        {"entity": term, "period_end": "2000-03-31", "line_item": item, "amount": amount}
        for term in ("KMC", "KMC II", "KMC Virginia", "Leasing I", "Leasing II")
        for item, amount in (("Revenues", "$4,764,200"), ("EBITDA", "(2,700,000)"))
    ]
    client = world.client("borrower")
    first = client.post(STATEMENTS, {"agreement": loan.agreement.pk, "records": records}, format="json")
    assert first.status_code == 201, first.content
    again = client.post(STATEMENTS, {"agreement": loan.agreement.pk, "records": records}, format="json")
    assert again.status_code == 201
    assert again.json()["statements"] == [] and len(again.json()["unchanged"]) == 5
    # A restatement for KMC, its amount a JSON number with cents: no float on the way.
    restated = [dict(r) for r in records if r["entity"] == "KMC"]
    restated[0]["amount"] = 4764200.1
    body = json.dumps({"agreement": loan.agreement.pk, "records": restated})
    assert "4764200.1," in body or "4764200.1}" in body
    response = client.generic("POST", STATEMENTS, body.encode(), content_type="application/json")
    assert response.status_code == 201, response.content
    [statement] = response.json()["statements"]
    assert statement["version"] == 2
    assert {line["line_item"]: line["amount"] for line in statement["lines"]} == {
        "revenues": "4764200.10",
        "ebitda": "-2700000.00",
    }
    old = FinancialStatement.objects.get(pk=statement["supersedes"])
    assert old.status == StatementStatus.SUPERSEDED
    detail = client.get(reverse("api:financialstatement-detail", args=[old.pk])).json()
    assert detail["superseded_by"] == statement["id"] and detail["status"] == "superseded"
    listed = client.get(STATEMENTS, {"agreement": loan.agreement.pk, "status": "current", "page_size": 500}).json()
    assert old.pk not in {s["id"] for s in listed["results"]}


def test_the_original_file_comes_back_byte_for_byte(world):
    content = xlsx_bytes(figures(world))
    client = world.client("borrower")
    response = client.post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("Q1 2000.xlsx", content)},
        format="multipart",
    )
    statement = response.json()["statements"][0]
    download = client.get(statement["file"], HTTP_ACCEPT="text/csv")
    assert download.status_code == 200
    assert download.content == content
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="Q1 2000.xlsx"' in download["Content-Disposition"]
    # Another party's users cannot download it.
    assert world.client("harbor_agent").get(statement["file"]).status_code == 404


def test_results_read_back_with_their_filters(world, django_capture_on_commit_callbacks):
    loan = world.seed
    client = world.client("lender")
    with django_capture_on_commit_callbacks(execute=True):
        response = world.client("borrower").post(
            STATEMENTS,
            {"agreement": loan.agreement.pk, "file": SimpleUploadedFile("q.csv", csv_bytes(figures(world)))},
            format="multipart",
        )
    assert response.status_code == 201
    params = {
        "agreement": loan.agreement.pk,
        "covenant": loan.covenants["7.01(b)"].pk,
        "test_date_after": "2000-03-31",
        "test_date_before": "2000-06-30",
        "ordering": "-test_date",
    }
    rows = client.get(RESULTS, params).json()["results"]
    assert [(r["test_date"], r["status"], r["threshold"]) for r in rows] == [
        ("2000-06-30", "breach", "31338000.000000"),
        ("2000-03-31", "compliant", "23821000.000000"),
    ]
    assert all(r["provisional"] for r in rows)  # Amendment No. 4 is pending its conditions precedent
    assert rows[0]["value"] == "30000000.000000" and rows[0]["headroom"] == "-1338000.000000"
    breaches = client.get(RESULTS, {"agreement": loan.agreement.pk, "status": "breach", "page_size": 500}).json()
    assert breaches["count"] >= 1 and {r["status"] for r in breaches["results"]} == {"breach"}
    both = client.get(RESULTS, {"agreement": loan.agreement.pk, "status": ["breach", "compliant"]}).json()
    assert both["count"] > breaches["count"]
    current = client.get(RESULTS, {"agreement": loan.agreement.pk, "page_size": 500}).json()
    everything = client.get(RESULTS, {"agreement": loan.agreement.pk, "is_current": "all", "page_size": 500}).json()
    replaced = client.get(RESULTS, {"agreement": loan.agreement.pk, "is_current": "false", "page_size": 500}).json()
    assert all(r["is_current"] for r in current["results"])
    assert replaced["count"] > 0 and not any(r["is_current"] for r in replaced["results"])
    assert everything["count"] == current["count"] + replaced["count"]
    assert client.get(RESULTS, {"provisional": "false", "agreement": loan.agreement.pk}).json()["count"] == len(
        [r for r in current["results"] if not r["provisional"]]
    )
    bad = client.get(RESULTS, {"test_date_after": "31/03/2000"})
    assert bad.status_code == 400 and "test_date" in bad.json()


# --- Periods and statements per submission ---------------------------------------------------------

OUTSIDE_SEED = (
    "is outside the periods this agreement's statements may cover: fiscal quarters ending from 1988-12-31 to "
    "2011-03-31, a window around the agreement's life"
)


def test_the_seed_agreements_window_runs_from_ten_years_before_it_to_ten_after_its_last_test_date(world):
    from statements.limits import statement_period_window

    # Dated 1998-12-22; its schedules' last test date is 2001-03-31.
    assert statement_period_window(world.seed.agreement) == (D(1988, 12, 31), D(2011, 3, 31))


def test_quarters_a_thousand_years_off_are_refused_and_nothing_is_saved(world):
    before = FinancialStatement.objects.count()
    records = [
        {"entity": "KMC", "period_end": day, "line_item": item, "amount": "1"}
        for day in ("0001-03-31", "9999-12-31")
        for item in ("Revenues", "EBITDA")
    ]
    response = world.client("borrower").post(
        STATEMENTS, {"agreement": world.seed.agreement.pk, "records": records}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": row, "column": "period_end", "message": f"{day} {OUTSIDE_SEED}"}
        for row, day in ((1, "0001-03-31"), (2, "0001-03-31"), (3, "9999-12-31"), (4, "9999-12-31"))
    ]
    assert FinancialStatement.objects.count() == before


def test_a_file_of_ten_thousand_future_statements_is_refused_and_nothing_is_saved(world):
    """The attack: one CSV (about 900 KB) with every quarter of the years 2100-3349 for two
    Borrowers, which recorded 10,000 statements and 15,015 results."""
    borrowers = [world.seed.borrowers["KMC"].legal_name, world.seed.borrowers["KMC II"].legal_name]
    rows = [
        (name, D(year, month, day).isoformat(), item, "1")
        for year in range(2100, 3350)
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31))
        for name in borrowers
        for item in ("Revenues", "EBITDA")
    ]
    content = csv_bytes(rows)
    assert len(rows) == 20_000 and len(content) < 1024 * 1024
    before = (StatementUpload.objects.count(), FinancialStatement.objects.count(), CovenantTestResult.objects.count())
    response = world.client("borrower").post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("future.csv", content)},
        format="multipart",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == {"row": 2, "column": "period_end", "message": f"2100-03-31 {OUTSIDE_SEED}"}
    assert errors[-1]["message"] == "…and 19,800 more errors"
    after = (StatementUpload.objects.count(), FinancialStatement.objects.count(), CovenantTestResult.objects.count())
    assert after == before


def test_more_statements_than_a_submission_may_carry_are_refused(world, settings):
    settings.STATEMENT_UPLOAD_MAX_STATEMENTS = 9
    response = world.client("borrower").post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("q.csv", csv_bytes(figures(world)))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "row": None,
            "column": None,
            "message": "The file holds 10 statements (one for each Borrower and fiscal quarter), and a file may hold "
            "at most 9; split it into files of at most 9 statements",
        }
    ]
    assert not StatementUpload.objects.filter(source="api").exists()


# --- Errors are JSON, whatever fails ----------------------------------------------------------------


def test_a_database_lost_mid_upload_answers_json_in_the_apis_error_shape(world, monkeypatch):
    from django.db import OperationalError

    from statements import services

    def connection_lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "statements_record", connection_lost)
    client = world.client("borrower")
    client.raise_request_exception = False
    response = client.post(
        STATEMENTS,
        {"agreement": world.seed.agreement.pk, "file": SimpleUploadedFile("q1.csv", csv_bytes(figures(world)))},
        format="multipart",
    )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "Server error: the request could not be completed and nothing it changed was saved; "
        "try again in a moment."
    }
    assert not StatementUpload.objects.filter(source="api").exists()


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-resource/", "/api/v1/financial-statements/1/nothing/", "/api/", "/api"]
)
def test_an_unknown_api_address_answers_json_404(world, path):
    for method in ("get", "post", "delete"):
        response = getattr(world.client("borrower"), method)(path)
        assert response.status_code == 404, (method, path)
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "detail": "Not found: no API endpoint answers at this address; the endpoints are listed at /api/docs/."
        }


def test_pages_keep_their_html_error_pages(world, client):
    client.force_login(world.users["borrower"])
    response = client.get("/agreements/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
