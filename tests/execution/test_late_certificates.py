"""A compliance certificate is late by the rule late financials follow: due the reporting
deadline after a period the covenants need, late the day after while none is signed."""

from __future__ import annotations

import datetime as dt

import pytest

from execution.certificate_deadlines import late_certificates
from execution.certificates import certificate_prepare
from tests.execution.test_certificates import QUARTER, sign

pytestmark = pytest.mark.django_db


def test_late_certificates_follow_the_late_financials_rule(deal, officer):
    as_of = QUARTER + dt.timedelta(days=deal.agreement.reporting_deadline_days + 1)
    on_the_day = QUARTER + dt.timedelta(days=deal.agreement.reporting_deadline_days)
    assert QUARTER not in [c.period_end for c in late_certificates([deal.agreement], as_of=on_the_day).get(
        deal.agreement.pk, [])]  # fmt: skip
    late = late_certificates([deal.agreement], as_of=as_of)[deal.agreement.pk]
    assert QUARTER in [c.period_end for c in late]
    sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    late = late_certificates([deal.agreement], as_of=as_of).get(deal.agreement.pk, [])
    assert QUARTER not in [c.period_end for c in late]
