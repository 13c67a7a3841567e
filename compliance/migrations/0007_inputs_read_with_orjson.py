# The decoder is Python's reading of the column, not the column: state only, so that SQLite does
# not rebuild the results table for it (its AlterField rebuilds on any change of a field).

import compliance.inputs_json
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0006_indexes_written_per_result"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="covenanttestresult",
                    name="inputs",
                    field=models.JSONField(blank=True, decoder=compliance.inputs_json.InputsDecoder, default=dict),
                ),
            ],
        ),
    ]
