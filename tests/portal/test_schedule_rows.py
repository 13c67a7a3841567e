"""
The schedule table of the agreement page is written by a tag (``schedule_rows``) rather than a
loop of template variables: it must write what the template wrote, row for row, for every kind
of row (a date read from what was printed, thereafter in each frequency, a threshold to be set
or redacted, one printed or not, none at all) and escape what a filing put in it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from covenants.choices import ThresholdState
from covenants.models import CovenantTerms, ThresholdStep
from portal.pages.selectors.documents import Source

# The loop the agreement page had, as it was.
FORMER = Template(
    "{% load portal_format document_links %}"
    '{% for step in terms.schedule.all %}<tr><td>{{ step.test_date|isodate }}{% if step.applies_thereafter %} and each fiscal {% if terms.frequency == "month" %}month{% elif terms.frequency == "year" %}year{% else %}quarter{% endif %} thereafter{% endif %}{% if step.date_reading %}<br><small class="date-read">date as printed: {{ step.date_as_printed }} ({{ step.date_reading }})</small>{% endif %}</td><td class="num">{% if step.threshold_state == "set" %}{{ step.amount_as_printed|default:step.threshold }}{% else %}{{ step.get_threshold_state_display }}{% endif %} {% source_link sources step agreement_pk %}</td><td>{{ terms.get_direction_display }}{% if step.threshold is not None %} {{ step.threshold|figure:is_ratio }}{% endif %}</td></tr>{% endfor %}'  # noqa: E501
)
NOW = Template("{% load portal_format %}{% schedule_rows terms is_ratio sources agreement_pk %}")


def terms_with(steps: list[ThresholdStep], *, frequency: str, direction: str) -> CovenantTerms:
    """Terms with their schedule prefetched, as on the page, without a database."""
    terms = CovenantTerms(pk=1, frequency=frequency, direction=direction)
    terms._prefetched_objects_cache = {"schedule": steps}
    return terms


STEPS = [
    ThresholdStep(pk=1, test_date=dt.date(2019, 3, 31), threshold=Decimal("1000000"), amount_as_printed="$1,000,000"),
    ThresholdStep(
        pk=2,
        test_date=dt.date(2019, 6, 30),
        threshold=Decimal("1250000.000000"),
        amount_as_printed="",
        applies_thereafter=True,
        date_as_printed="June, 2019 <b>",
        date_reading="no day printed: read as the quarter's end & kept",
    ),
    ThresholdStep(pk=3, test_date=dt.date(2019, 9, 30), threshold=None, threshold_state=ThresholdState.TO_BE_SET),
    ThresholdStep(
        pk=4,
        test_date=dt.date(2019, 12, 31),
        threshold=Decimal("4.25"),
        threshold_state=ThresholdState.REDACTED,
        amount_as_printed="<script>x</script>",
    ),
    ThresholdStep(pk=5, test_date=dt.date(2020, 3, 31), threshold=None, amount_as_printed=""),
    ThresholdStep(pk=6, test_date=dt.date(2020, 6, 30), threshold=Decimal("3.5"), amount_as_printed="3.50 to 1.00"),
]


@pytest.mark.parametrize("frequency", ["quarter", "month", "year"])
@pytest.mark.parametrize("is_ratio", [False, True])
@pytest.mark.parametrize("with_sources", [False, True])
def test_the_schedule_rows_are_those_the_template_wrote(frequency, is_ratio, with_sources):
    terms = terms_with(STEPS, frequency=frequency, direction="at_most" if is_ratio else "at_least")
    sources = (
        {
            ("covenants.thresholdstep", 2): [Source(7, 10, 20, "7.11(a) for June 30, 2019", "")],
            ("covenants.thresholdstep", 6): [Source(7, 30, 40, 'the "ratio" row', ""), Source(8, 1, 2, "again", "")],
        }
        if with_sources
        else {}
    )
    context = {"terms": terms, "is_ratio": is_ratio, "sources": sources, "agreement_pk": 42}
    former, now = FORMER.render(Context(context)), NOW.render(Context(context))
    assert now == former
    assert "&lt;script&gt;" not in now  # a redacted threshold shows the state, not what was printed
    assert "June, 2019 &lt;b&gt;" in now and "&amp; kept" in now
    if with_sources:
        assert reverse("covenants:document_detail", args=[42, 7]) in now
