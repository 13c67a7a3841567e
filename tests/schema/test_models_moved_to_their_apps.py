"""
Statements, results and alerts moved out of the covenants app into their own apps. Their
tables keep every row: proved by taking a database holding the seed agreement, the demo
figures, their results and alerts back to the schema before the move (the covenants_* tables)
and forward again, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.models import Agreement

MOVED = {
    "statements": ["statementupload", "financialstatement", "statementline"],
    "compliance": ["covenanttestresult", "complianceevent"],
    "alerts": ["alert", "alertdelivery", "notificationpreference", "webhooksubscription", "webhookattempt"],
}
BEFORE_THE_MOVE = [
    ("covenants", "0007_result_near_breach"),
    ("statements", None),
    ("compliance", None),
    ("alerts", None),
]

pytestmark = pytest.mark.django_db(transaction=True)


def rows(table: str) -> list[dict[str, object]]:
    """Every row by column name: a migration that rebuilds a table on SQLite (to change an index
    or a foreign key) may put its columns in another order, which changes no row."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY id")  # noqa: S608 (our names)
        names = [column[0] for column in cursor.description]
        return [
            {name: bytes(v) if isinstance(v, memoryview) else v for name, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]


def tables() -> set[str]:
    return set(connection.introspection.table_names())


def content_type_ids() -> dict[str, int]:
    return dict(ContentType.objects.filter(model__in=sum(MOVED.values(), [])).values_list("model", "pk"))


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()


def test_the_moved_tables_keep_every_row_back_to_the_old_schema_and_forward_again():
    call_command("load_seed_documents", stdout=StringIO())
    call_command("load_demo_figures", stdout=StringIO())
    agreement = Agreement.objects.get(name__icontains="Loan")
    agreement_evaluate(agreement_id=agreement.pk)
    new_tables = {f"{app}_{model}": model for app, models in MOVED.items() for model in models}
    held = {table: rows(table) for table in new_tables}
    assert held["statements_financialstatement"] and held["compliance_covenanttestresult"] and held["alerts_alert"]
    type_ids = content_type_ids()
    current = CovenantTestResult.objects.filter(agreement=agreement, is_current=True).count()

    migrate(BEFORE_THE_MOVE)
    assert not tables() & set(new_tables)
    for table, model in new_tables.items():
        assert rows(f"covenants_{model}") == held[table], model
    assert ContentType.objects.filter(app_label="covenants", model__in=list(new_tables.values())).count() == len(
        type_ids
    )

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    assert not {f"covenants_{model}" for model in new_tables.values()} & tables()
    for table in new_tables:
        assert rows(table) == held[table], table
    assert content_type_ids() == type_ids
    for app, models in MOVED.items():
        assert set(
            ContentType.objects.filter(pk__in=[type_ids[m] for m in models]).values_list("app_label", flat=True)
        ) == {app}
    # The ORM reads them where they are now: evaluating again finds nothing to change.
    assert agreement_evaluate(agreement_id=agreement.pk).changed == 0
    assert CovenantTestResult.objects.filter(agreement=agreement, is_current=True).count() == current
