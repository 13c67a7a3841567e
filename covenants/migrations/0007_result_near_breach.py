"""
Results keep whether they are near breach, as the engine decided it, so that pages, exports,
alerts and the API read one stored flag instead of deciding it again each in its own way.

The backfill decides it for the rows already stored by the engine's own rule
(``compliance.engine.is_near_breach``), with each covenant's warning band. A current result
found near has its fingerprint cleared: the next evaluation then compares it field by field
(near breach included), finds it unchanged and fills in the new fingerprint, rather than
writing it again as a new result.
"""

from django.db import migrations, models

from compliance import engine

_BATCH = 2000


def backfill(apps, schema_editor):
    Result = apps.get_model("covenants", "CovenantTestResult")
    candidates = (
        Result.objects.filter(status=engine.COMPLIANT, headroom__isnull=False, threshold__isnull=False)
        .exclude(threshold=0)
        .order_by("pk")
        .values_list("pk", "status", "headroom", "threshold", "covenant__warning_band_percent")
    )
    near: list[int] = []
    for pk, status, headroom, threshold, band in candidates.iterator(chunk_size=_BATCH):
        if engine.is_near_breach(status=status, headroom=headroom, threshold=threshold, warning_band_percent=band):
            near.append(pk)
    for start in range(0, len(near), _BATCH):
        Result.objects.filter(pk__in=near[start : start + _BATCH]).update(near_breach=True, fingerprint="")


class Migration(migrations.Migration):
    dependencies = [
        ("covenants", "0006_delivery_replay"),
    ]

    operations = [
        migrations.AddField(
            model_name="covenanttestresult",
            name="near_breach",
            field=models.BooleanField(
                db_default=False,
                default=False,
                help_text="Compliant, with headroom under the covenant's warning band, as the engine decided it "
                "(engine.is_near_breach). Pages, exports, alerts and the API read this; none decides it again.",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
