"""
Fewer indexes written per result and event: a first evaluation of the portfolio stores 240,000
of each. The agreement's own index on each table is dropped (the (agreement, is_current) and
(agreement, created_at) indexes serve the same lookups), and the Borrower and previous result
are indexed only where set (most tests are combined, and a first result has no previous one).
Django drops and re-adds each altered foreign key while changing its index: the constraint is
the same.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0005_agreement_standing"),
        ("covenants", "0010_thresholds_to_six_places"),
        ("parties", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="complianceevent",
            name="agreement",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="compliance_events",
                to="covenants.agreement",
            ),
        ),
        migrations.AlterField(
            model_name="complianceevent",
            name="borrower",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="parties.party",
            ),
        ),
        migrations.AlterField(
            model_name="complianceevent",
            name="previous_result",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="compliance.covenanttestresult",
            ),
        ),
        migrations.AlterField(
            model_name="covenanttestresult",
            name="agreement",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="test_results",
                to="covenants.agreement",
            ),
        ),
        migrations.AlterField(
            model_name="covenanttestresult",
            name="borrower",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="Each-Borrower tests only.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="parties.party",
            ),
        ),
        migrations.AddIndex(
            model_name="complianceevent",
            index=models.Index(
                condition=models.Q(("borrower__isnull", False)), fields=["borrower"], name="event_borrower_set_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="complianceevent",
            index=models.Index(
                condition=models.Q(("previous_result__isnull", False)),
                fields=["previous_result"],
                name="event_previous_result_set_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="covenanttestresult",
            index=models.Index(
                condition=models.Q(("borrower__isnull", False)), fields=["borrower"], name="result_borrower_set_idx"
            ),
        ),
    ]
