"""The agreements admin: pages open, records of fact stay read-only, execution check and downloads work."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent, CovenantTestResult
from covenants.choices import AgreementKind, AmendmentStatus, Role, TermsAction
from covenants.models import (
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Covenant,
    CovenantTerms,
    LineItem,
    Reaffirmation,
    ThresholdStep,
    Waiver,
)
from parties.choices import EntityKind, MembershipRole
from parties.models import Membership, Party, Person, Signature, SignatureBlock
from statements.choices import UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload
from tests.admin_forms import change_form_data, inline_prefix

pytestmark = pytest.mark.django_db

User = get_user_model()

RECORDS_OF_FACT = [FinancialStatement, StatementLine, StatementUpload, CovenantTestResult, ComplianceEvent]
EDITABLE = [
    LineItem,
    Agreement,
    AgreementRole,
    Amendment,
    ConditionPrecedent,
    Reaffirmation,
    Covenant,
    CovenantTerms,
    ThresholdStep,
    Waiver,
]
DOCUMENTS = [Agreement, Amendment, Reaffirmation]
ALL_SIGNED = "Every party to this document has signed."
CSV_BYTES = b'entity,period_end,revenues\r\nKMC Telecom Inc.,1999-12-31,"18,000,000"\r\n'


# --- Small factories ----------------------------------------------------------------


def make_party(legal_name: str, kind: str = EntityKind.CORPORATION) -> Party:
    return Party.objects.create(legal_name=legal_name, kind=kind, jurisdiction="Delaware")


def make_agreement(name: str = "KMC Loan and Security Agreement", **fields: object) -> Agreement:
    fields.setdefault("kind", AgreementKind.LOAN_AND_SECURITY_AGREEMENT)
    fields.setdefault("title", "Loan and Security Agreement")
    fields.setdefault("dated_as_of", dt.date(1998, 12, 22))
    return Agreement.objects.create(name=name, **fields)


def make_amendment(agreement: Agreement, number: int = 4, **fields: object) -> Amendment:
    fields.setdefault("title", f"Amendment No. {number}")
    fields.setdefault("dated_as_of", dt.date(1999, 12, 31))
    return Amendment.objects.create(agreement=agreement, number=number, **fields)


def sign(document: models.Model, position: int, party: Party, signer: Person | None, title: str = "") -> SignatureBlock:
    block = SignatureBlock.objects.create(
        document=document, position=position, party=party, party_name_as_printed=party.legal_name.upper()
    )
    Signature.objects.create(block=block, person=signer, title=title, title_as_printed=title)
    return block


def make_upload(agreement: Agreement, user: User, content: bytes = CSV_BYTES) -> StatementUpload:
    return StatementUpload.objects.create(
        agreement=agreement,
        uploaded_by=user,
        filename="KMC Q4 1999 financials.csv",
        content_type="text/csv",
        format=UploadFormat.CSV,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser("e.elmore", "e.elmore@example.com", None)


@pytest.fixture
def client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def world(superuser: User) -> SimpleNamespace:
    """One row of every model: the Loan Agreement, Amendment No. 4, 7.01(b), a statement and its result."""
    revenues = LineItem.objects.create(code="revenues", name="Revenues")
    kmc = make_party("KMC Telecom Inc.")
    leasing_ii = make_party("KMC Telecom Leasing II LLC", kind=EntityKind.LIMITED_LIABILITY_COMPANY)
    holdings = make_party("KMC Telecom Holdings, Inc.")
    grenfell = Person.objects.create(full_name="James D. Grenfell")

    loan = make_agreement()
    loan.required_line_items.add(revenues)
    role = AgreementRole.objects.create(agreement=loan, party=kmc, role=Role.BORROWER, defined_term="KMC")
    AgreementRole.objects.create(agreement=loan, party=leasing_ii, role=Role.BORROWER, defined_term="Leasing II")
    guaranty = make_agreement("KMC Guaranty", kind=AgreementKind.GUARANTY, title="Guaranty", guaranteed_agreement=loan)
    AgreementRole.objects.create(agreement=guaranty, party=holdings, role=Role.GUARANTOR)

    amendment = make_amendment(loan, status=AmendmentStatus.PENDING, effective_on=dt.date(1999, 12, 31))
    condition = ConditionPrecedent.objects.create(
        amendment=amendment,
        description="The Agents have executed originals from the Borrowers, the Requisite Lenders and the Agents.",
        deadline_as_printed="January __, 2000",
    )
    reaffirmation = Reaffirmation.objects.create(
        guaranty=guaranty, amendment=amendment, dated_as_of=dt.date(1999, 12, 31)
    )
    # As printed: a block for KMC only; Leasing II has none.
    sign(amendment, 1, kmc, grenfell, "CFO")
    sign(reaffirmation, 1, holdings, grenfell, "CFO, Executive Vice President and Secretary")

    covenant = Covenant.objects.create(agreement=loan, section="7.01(b)", name="Minimum Revenues")
    terms = CovenantTerms.objects.create(
        covenant=covenant,
        amendment=amendment,
        action=TermsAction.REPLACE,
        effective_from=dt.date(1999, 12, 31),
        line_item=revenues,
    )
    step = ThresholdStep.objects.create(
        terms=terms, test_date=dt.date(1999, 12, 31), threshold=Decimal("18000000"), amount_as_printed="$18,000,000"
    )

    upload = make_upload(loan, superuser)
    statement = FinancialStatement.objects.create(
        agreement=loan, borrower=kmc, period_end=dt.date(1999, 12, 31), upload=upload, submitted_by=superuser
    )
    line = StatementLine.objects.create(statement=statement, line_item=revenues, amount=Decimal("18000000.00"))
    result = CovenantTestResult.objects.create(
        agreement=loan,
        covenant=covenant,
        terms=terms,
        test_date=dt.date(1999, 12, 31),
        status=ResultStatus.INCOMPLETE,
        threshold=Decimal("18000000"),
        provisional=True,
        explanation="KMC Telecom Leasing II LLC has not reported Revenues for the quarter ending 1999-12-31.",
        evaluated_at=timezone.now(),
    )
    event = ComplianceEvent.objects.create(
        agreement=loan, covenant=covenant, test_date=dt.date(1999, 12, 31), result=result, to_status=result.status
    )
    waiver = Waiver.objects.create(
        agreement=loan,
        covenant=covenant,
        test_date=dt.date(1999, 9, 30),
        instrument="Waiver and Amendment No. 3",
        recorded_by=superuser,
    )
    return SimpleNamespace(
        loan=loan,
        kmc=kmc,
        leasing_ii=leasing_ii,
        holdings=holdings,
        grenfell=grenfell,
        amendment=amendment,
        reaffirmation=reaffirmation,
        covenant=covenant,
        terms=terms,
        upload=upload,
        rows={
            LineItem: revenues,
            Agreement: loan,
            AgreementRole: role,
            Amendment: amendment,
            ConditionPrecedent: condition,
            Reaffirmation: reaffirmation,
            Covenant: covenant,
            CovenantTerms: terms,
            ThresholdStep: step,
            Waiver: waiver,
            StatementUpload: upload,
            FinancialStatement: statement,
            StatementLine: line,
            CovenantTestResult: result,
            ComplianceEvent: event,
        },
    )


def admin_url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def execution_check_text(response: HttpResponse) -> str:
    """The contents of the read-only "Execution check" field on a change page."""
    match = re.search(r'field-execution_check.*?<div class="readonly">(.*?)</div>', response.content.decode(), re.S)
    assert match, "The change page has no execution check."
    return match.group(1)


# --- Every page opens ---------------------------------------------------------------


DEAL_APPS = ("covenants", "documents", "statements", "compliance", "alerts")


def test_every_model_of_a_deal_is_in_the_admin() -> None:
    models_of_app = {
        model
        for label in DEAL_APPS
        for model in apps.get_app_config(label).get_models()
        if not model.__name__.startswith("Historical") and not model._meta.auto_created
    }
    registered = {model for model in admin.site._registry if model._meta.app_label in DEAL_APPS}
    assert models_of_app - registered == set()
    assert set(EDITABLE + RECORDS_OF_FACT) <= registered


def test_models_with_history_use_the_history_admin() -> None:
    for model in EDITABLE:
        if hasattr(model, "history"):
            assert isinstance(admin.site._registry[model], SimpleHistoryAdmin), model.__name__
    for model in RECORDS_OF_FACT:
        assert not isinstance(admin.site._registry[model], SimpleHistoryAdmin), model.__name__


@pytest.mark.parametrize("model", EDITABLE, ids=lambda model: model.__name__)
def test_editable_changelist_add_and_change_pages_open(client: Client, world: SimpleNamespace, model: type) -> None:
    row = world.rows[model]
    changelist = client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert row in list(changelist.context["cl"].result_list)
    assert client.get(admin_url(model, "changelist"), {"q": "KMC"}).status_code == 200
    assert client.get(admin_url(model, "add")).status_code == 200
    assert client.get(admin_url(model, "change", row.pk)).status_code == 200
    if hasattr(model, "history"):
        assert client.get(admin_url(model, "history", row.pk)).status_code == 200


@pytest.mark.parametrize("model", RECORDS_OF_FACT, ids=lambda model: model.__name__)
def test_records_of_fact_are_shown_and_never_changed(
    client: Client, world: SimpleNamespace, model: type[models.Model]
) -> None:
    row = world.rows[model]
    changelist = client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [row]
    assert not changelist.context["has_add_permission"]
    assert admin_url(model, "add") not in changelist.content.decode()
    assert "delete_selected" not in changelist.content.decode()

    change = client.get(admin_url(model, "change", row.pk))
    assert change.status_code == 200
    assert not change.context["has_change_permission"]
    assert 'name="_save"' not in change.content.decode()
    assert admin_url(model, "delete", row.pk) not in change.content.decode()

    assert client.get(admin_url(model, "add")).status_code == 403
    assert client.post(admin_url(model, "add"), {}).status_code == 403
    assert client.post(admin_url(model, "change", row.pk), {}).status_code == 403
    assert client.get(admin_url(model, "delete", row.pk)).status_code == 403
    assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_results_filter_by_status_provisional_and_current(client: Client, world: SimpleNamespace) -> None:
    url = admin_url(CovenantTestResult, "changelist")
    provisional = client.get(url, {"provisional__exact": "1", "status__exact": ResultStatus.INCOMPLETE})
    assert list(provisional.context["cl"].result_list) == [world.rows[CovenantTestResult]]
    assert list(client.get(url, {"is_current__exact": "0"}).context["cl"].result_list) == []
    assert list(client.get(url, {"status__exact": ResultStatus.COMPLIANT}).context["cl"].result_list) == []


def test_statements_filter_by_borrower_and_period(client: Client, world: SimpleNamespace, superuser: User) -> None:
    leasing = FinancialStatement.objects.create(
        agreement=world.loan,
        borrower=world.leasing_ii,
        period_end=dt.date(2000, 3, 31),
        upload=world.upload,
        submitted_by=superuser,
    )
    url = admin_url(FinancialStatement, "changelist")
    by_kmc = client.get(url, {"borrower__id__exact": world.kmc.pk, "period_end__year": 1999})
    assert list(by_kmc.context["cl"].result_list) == [world.rows[FinancialStatement]]
    by_leasing = client.get(url, {"borrower__id__exact": world.leasing_ii.pk})
    assert list(by_leasing.context["cl"].result_list) == [leasing]
    assert list(client.get(url, {"period_end__year": 2000}).context["cl"].result_list) == [leasing]


# --- Uploads: the original file, never its bytes on a page ----------------------------


def test_upload_pages_never_show_the_bytes_and_link_the_original(client: Client, world: SimpleNamespace) -> None:
    download = admin_url(StatementUpload, "download", world.upload.pk)
    for url in (admin_url(StatementUpload, "changelist"), admin_url(StatementUpload, "change", world.upload.pk)):
        page = client.get(url).content.decode()
        assert "18,000,000" not in page
        assert "KMC Telecom Inc.,1999-12-31" not in page
        assert download in page
    page = client.get(admin_url(StatementUpload, "change", world.upload.pk)).content.decode()
    assert world.upload.sha256 in page
    assert "KMC Q4 1999 financials.csv" in page


def test_upload_download_returns_the_original_bytes(client: Client, world: SimpleNamespace) -> None:
    response = client.get(admin_url(StatementUpload, "download", world.upload.pk))
    assert response.status_code == 200
    assert response.content == CSV_BYTES
    assert hashlib.sha256(response.content).hexdigest() == world.upload.sha256
    assert response["Content-Disposition"] == 'attachment; filename="KMC Q4 1999 financials.csv"'
    assert response["Content-Type"].startswith("text/csv")


def test_upload_download_needs_view_permission_and_the_agreement(world: SimpleNamespace) -> None:
    """The model permission says the clerk works on uploads; the access rule, whose: a clerk of
    no party to the agreement gets nothing, whatever their permissions."""
    clerk = User.objects.create_user("clerk", password=None, is_staff=True)
    client = Client()
    client.force_login(clerk)
    url = admin_url(StatementUpload, "download", world.upload.pk)
    assert client.get(url).status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_statementupload"))
    clerk = User.objects.get(pk=clerk.pk)  # permissions are cached on the user object
    client.force_login(clerk)
    response = client.get(url)
    assert response.status_code == 404
    assert CSV_BYTES not in response.content
    Membership.objects.create(user=clerk, party=world.kmc, role=MembershipRole.BORROWER)
    assert client.get(url).content == CSV_BYTES
    assert client.get(admin_url(StatementUpload, "download", 999999)).status_code == 404


def test_upload_download_is_for_staff_only(world: SimpleNamespace) -> None:
    borrower_user = User.objects.create_user("borrower", password=None)
    client = Client()
    client.force_login(borrower_user)
    response = client.get(admin_url(StatementUpload, "download", world.upload.pk))
    assert response.status_code == 302
    assert CSV_BYTES not in response.content


# --- Execution check ------------------------------------------------------------------


def test_execution_check_names_the_party_without_a_block(client: Client, world: SimpleNamespace) -> None:
    from covenants.execution import check_execution

    response = client.get(admin_url(Amendment, "change", world.amendment.pk))
    check = html.unescape(execution_check_text(response))
    assert "KMC Telecom Leasing II LLC" in check
    assert "no signature block" in check
    assert ALL_SIGNED not in check
    assert "KMC Telecom Inc." not in check
    for message in check_execution(world.amendment).messages():
        assert message in check


def test_execution_check_once_every_party_has_signed(client: Client, world: SimpleNamespace) -> None:
    sign(world.amendment, 2, world.leasing_ii, world.grenfell, "CFO")
    response = client.get(admin_url(Amendment, "change", world.amendment.pk))
    assert execution_check_text(response).strip() == ALL_SIGNED


def test_execution_check_on_agreement_and_reaffirmation_pages(client: Client, world: SimpleNamespace) -> None:
    reaffirmation = client.get(admin_url(Reaffirmation, "change", world.reaffirmation.pk))
    assert execution_check_text(reaffirmation).strip() == ALL_SIGNED
    # The Loan Agreement's own signature pages are not on file: nothing to check, and the page says so.
    agreement = execution_check_text(client.get(admin_url(Agreement, "change", world.loan.pk)))
    assert "No signature blocks are recorded" in agreement
    sign(world.loan, 1, world.kmc, world.grenfell, "CFO")
    agreement = html.unescape(execution_check_text(client.get(admin_url(Agreement, "change", world.loan.pk))))
    assert "KMC Telecom Leasing II LLC" in agreement


def test_amendment_changelist_shows_whether_every_party_signed(client: Client, world: SimpleNamespace) -> None:
    signed = make_amendment(world.loan, number=5, title="Amendment No. 5", dated_as_of=dt.date(2000, 3, 31))
    sign(signed, 1, world.kmc, world.grenfell, "CFO")
    sign(signed, 2, world.leasing_ii, world.grenfell, "CFO")
    page = client.get(admin_url(Amendment, "changelist")).content.decode()
    rows = {}
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        for title in re.findall(r"Amendment No\. \d", row):
            rows[title] = row
    assert 'alt="False"' in rows["Amendment No. 4"]
    assert 'alt="True"' in rows["Amendment No. 5"]


# --- Inlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "inlines"),
    [
        (Agreement, {AgreementRole, Amendment, SignatureBlock}),
        (Amendment, {ConditionPrecedent, SignatureBlock}),
        (Reaffirmation, {SignatureBlock}),
        (Covenant, {CovenantTerms}),
        (CovenantTerms, {ThresholdStep}),
        (FinancialStatement, {StatementLine}),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
def test_change_pages_carry_their_inlines(
    client: Client, world: SimpleNamespace, model: type[models.Model], inlines: set[type]
) -> None:
    response = client.get(admin_url(model, "change", world.rows[model].pk))
    assert {inline.formset.model for inline in response.context["inline_admin_formsets"]} == inlines


def test_covenant_page_lists_its_terms_with_a_link_to_each(client: Client, world: SimpleNamespace) -> None:
    page = client.get(admin_url(Covenant, "change", world.covenant.pk)).content.decode()
    assert admin_url(CovenantTerms, "change", world.terms.pk) in page
    assert f"{admin_url(CovenantTerms, 'add')}?covenant={world.covenant.pk}" in page


def test_schedule_rows_are_added_on_the_terms_page(client: Client, world: SimpleNamespace) -> None:
    url = admin_url(CovenantTerms, "change", world.terms.pk)
    response = client.get(url)
    data = change_form_data(response)
    prefix = inline_prefix(response, ThresholdStep)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-1-test_date": "2000-03-31",
            f"{prefix}-1-threshold": "23821000",
            f"{prefix}-1-threshold_state": "set",
            f"{prefix}-1-amount_as_printed": "$23,821,000",
        }
    )
    assert client.post(url, data).status_code == 302
    assert list(world.terms.schedule.values_list("test_date", "threshold")) == [
        (dt.date(1999, 12, 31), Decimal("18000000.0000")),
        (dt.date(2000, 3, 31), Decimal("23821000.0000")),
    ]


def test_signature_blocks_at_one_position_are_refused_with_a_sentence(client: Client, world: SimpleNamespace) -> None:
    url = admin_url(Amendment, "change", world.amendment.pk)
    response = client.get(url)
    data = change_form_data(response)
    prefix = inline_prefix(response, SignatureBlock)
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "2",
            f"{prefix}-1-position": "1",
            f"{prefix}-1-party": str(world.leasing_ii.pk),
            f"{prefix}-1-party_name_as_printed": "KMC TELECOM LEASING II LLC",
        }
    )
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Two signature blocks stand at the same position on the document: 1." in refused.content.decode()
    assert world.amendment.signature_blocks.count() == 1

    data[f"{prefix}-1-position"] = "2"
    assert client.post(url, data).status_code == 302
    assert world.amendment.signature_blocks.count() == 2


def test_an_amendment_is_marked_effective_only_once_its_conditions_are_satisfied(
    client: Client, world: SimpleNamespace
) -> None:
    url = admin_url(Amendment, "change", world.amendment.pk)
    response = client.get(url)
    data = change_form_data(response)
    prefix = inline_prefix(response, ConditionPrecedent)
    data["status"] = AmendmentStatus.EFFECTIVE
    refused = client.post(url, data)
    assert refused.status_code == 200
    text = html.unescape(refused.content.decode())
    assert "cannot be marked effective: 1 of its conditions precedent is not satisfied" in text
    world.amendment.refresh_from_db()
    assert world.amendment.status == AmendmentStatus.PENDING

    # Satisfied in the same save: accepted.
    data[f"{prefix}-0-satisfied_on"] = "2000-02-01"
    assert client.post(url, data).status_code == 302
    world.amendment.refresh_from_db()
    assert world.amendment.status == AmendmentStatus.EFFECTIVE


def test_agreement_change_is_in_its_history_with_the_user(client: Client, world: SimpleNamespace) -> None:
    url = admin_url(Agreement, "change", world.loan.pk)
    data = change_form_data(client.get(url))
    data["reporting_deadline_days"] = "60"
    assert client.post(url, data).status_code == 302
    history = client.get(admin_url(Agreement, "history", world.loan.pk)).content.decode()
    (row,) = [row for row in re.findall(r"<tr>.*?</tr>", history, re.S) if "Reporting deadline days" in row]
    assert "e.elmore" in row
    assert re.search(r"45\s*&nbsp;&rarr;&nbsp;&nbsp;60", row)


def test_waiver_is_recorded_by_the_user_who_saves_it(client: Client, world: SimpleNamespace, superuser: User) -> None:
    response = client.post(
        admin_url(Waiver, "add"),
        {
            "agreement": world.loan.pk,
            "covenant": world.covenant.pk,
            "test_date": "2000-03-31",
            "instrument": "Waiver letter",
        },
    )
    assert response.status_code == 302
    assert Waiver.objects.get(test_date=dt.date(2000, 3, 31)).recorded_by == superuser


def test_the_waiver_admin_refuses_a_second_waiver_of_the_same_test(client: Client, world: SimpleNamespace) -> None:
    """Recorded through the waiver service: what it refuses, the admin refuses, in its words."""
    data = {"agreement": world.loan.pk, "covenant": world.covenant.pk, "test_date": "1999-09-30"}
    response = client.post(admin_url(Waiver, "add"), {**data, "instrument": "Another letter"})
    assert response.status_code == 200
    assert "7.01(b) on 1999-09-30 is already waived." in response.content.decode()
    assert Waiver.objects.filter(covenant=world.covenant).count() == 1
