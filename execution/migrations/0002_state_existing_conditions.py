"""The conditions precedent already stored (the seed's, for Amendment No. 4) are read for who
must execute the document, as every condition stored from now on is (execution.signals): the
seed keeps meaning what it did (the condition open, the amendment pending), and is now
evaluated from the executions. Nothing is marked satisfied here."""

from django.db import migrations


def state_terms(apps, schema_editor):
    from execution.reading import read_condition

    ConditionPrecedent = apps.get_model("covenants", "ConditionPrecedent")
    ExecutionCondition = apps.get_model("execution", "ExecutionCondition")
    SignerRequirement = apps.get_model("execution", "SignerRequirement")
    for condition in ConditionPrecedent.objects.select_related("amendment").order_by("pk"):
        read = read_condition(condition.description)
        if read is None or ExecutionCondition.objects.filter(condition=condition).exists():
            continue
        as_of = condition.amendment.dated_as_of if read.as_of_date_above_written else read.as_of
        terms = ExecutionCondition.objects.create(condition=condition, effective_as_of=as_of)
        for position, requirement in enumerate(read.requirements, start=1):
            SignerRequirement.objects.create(
                terms=terms, position=position, role=requirement.role, vote=requirement.vote, words=requirement.words
            )


class Migration(migrations.Migration):
    dependencies = [("execution", "0001_executions_and_conditions")]

    operations = [migrations.RunPython(state_terms, migrations.RunPython.noop)]
