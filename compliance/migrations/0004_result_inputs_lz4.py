"""
A result's inputs (about 1.8 KB of JSON each) are compressed with LZ4 instead of PostgreSQL's
default pglz, where the server has it: a first evaluation writes 240,000 of them at portfolio
scale, and pglz compressing them was about a third of the server's work inserting results
(docs/benchmarks.md). Values already stored keep their compression; both are read alike.
Nothing to do on other databases.
"""

from django.db import migrations

_LZ4_AVAILABLE = "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"


def _set_compression(method: str):
    def apply(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            cursor.execute(_LZ4_AVAILABLE)
            if cursor.fetchone() is None:
                return
        table = apps.get_model("compliance", "CovenantTestResult")._meta.db_table
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(table)} ALTER COLUMN inputs SET COMPRESSION {method}"
        )

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_evaluated_inputs"),
    ]

    operations = [
        migrations.RunPython(_set_compression("lz4"), _set_compression("pglz")),
    ]
