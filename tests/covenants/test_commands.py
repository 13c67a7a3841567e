"""The command-line import and evaluation."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from statements.models import FinancialStatement

from .helpers import combined_rows, csv_bytes, seed_loan

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan():
    return seed_loan()


def test_import_statement_by_title_then_evaluate_as_json(loan, tmp_path):
    path = tmp_path / "q4.csv"
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-20_000_000)
    rows += combined_rows(loan, dt.date(1999, 9, 30), revenues=17_000_000, ebitda=-20_000_000)
    path.write_bytes(csv_bytes(rows))
    out = StringIO()
    call_command("import_statement", str(path), agreement="Loan and Security Agreement", stdout=out)
    assert "Recorded statement: KMC Telecom Inc., quarter ending 1999-12-31" in out.getvalue()
    assert FinancialStatement.objects.count() == 10

    out = StringIO()
    call_command(
        "evaluate_covenants", agreement=str(loan.agreement.pk), json=True, as_of=dt.date(2026, 1, 1), stdout=out
    )
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    by_key = {(r["section"], r["test_date"]): r for r in results}
    revenue = by_key[("7.01(b)", "1999-12-31")]
    assert {"agreement", "section", "test_date", "status", "value", "threshold", "headroom", "provisional"} <= set(
        revenue
    )
    assert revenue["status"] == "compliant"
    assert revenue["value"] == "18000000" and revenue["threshold"] == "18000000" and revenue["headroom"] == "0"
    assert revenue["provisional"] is True
    assert by_key[("7.01(c)(i)", "1999-12-31")]["value"] == "-40000000"
    assert by_key[("7.01(b)", "2000-03-31")]["status"] == "incomplete"


def test_import_statement_refuses_a_bad_file_and_saves_nothing(loan, tmp_path):
    path = tmp_path / "bad.csv"
    rows = combined_rows(loan, dt.date(1999, 12, 31), revenues=18_000_000, ebitda=-1)
    rows[0] = ("KMC Telecom III, Inc.", *rows[0][1:])
    path.write_bytes(csv_bytes(rows))
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was saved"):
        call_command("import_statement", str(path), agreement=str(loan.agreement.pk), stderr=err)
    assert "Row 2, column entity" in err.getvalue()
    assert "KMC Telecom III, Inc." in err.getvalue()
    assert FinancialStatement.objects.count() == 0


def test_an_unknown_agreement_is_named(loan, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"entity,period_end,line_item,amount\n")
    with pytest.raises(CommandError, match="No agreement is named or titled 'Nonexistent'"):
        call_command("import_statement", str(path), agreement="Nonexistent")
