"""What the execution pages show: a document's signature blocks (an amendment's, a reaffirmation
of guaranty's, the agreement's own), each with its executions (revoked ones kept, with the reason)
and what the user may do on it; on an amendment's page its conditions precedent as evaluated and
the reaffirmations given for it. Read through the one access rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.urls import reverse

from covenants.access import may, visible
from covenants.models import Agreement, Amendment, Reaffirmation
from documents.models import Document
from execution.conditions import ConditionFindings, amendment_findings
from execution.evidence import signed_version
from execution.models import Execution
from parties.models import Signature, SignatureBlock
from portal.pages.selectors.common import agreement_visible_to

#: A document signature blocks are printed on: what ``SignatureBlock.document`` may point to.
SignedDocument = Agreement | Amendment | Reaffirmation

#: The route of each kind of document's signature page.
_PAGE_ROUTES: dict[type, str] = {
    Amendment: "execution:amendment",
    Reaffirmation: "execution:reaffirmation",
    Agreement: "execution:agreement_signatures",
}


@dataclass
class BlockRow:
    """One block as printed, its executions newest first, and the user's actions on it."""

    block: SignatureBlock
    executions: list[Execution]
    may_execute: bool
    may_upload: bool
    revocable: set[int] = field(default_factory=set)

    @property
    def current(self) -> Execution | None:
        return next((e for e in self.executions if not hasattr(e, "revocation")), None)


@dataclass
class ExecutionPage:
    amendment: Amendment
    version: Document | None
    blocks: list[BlockRow]
    findings: list[ConditionFindings]
    may_record: bool
    reaffirmations: list[Reaffirmation] = field(default_factory=list)


@dataclass
class DocumentPage:
    """The signature page of a document that is not an amendment: it has no conditions precedent."""

    document: Agreement | Reaffirmation
    agreement: Agreement  # the agreement the document belongs to (a reaffirmation's: its guaranty)
    version: Document | None
    blocks: list[BlockRow]


@dataclass(frozen=True)
class SignaturePageLink:
    """A document of an agreement, other than its amendments, whose blocks are signed on its own page."""

    title: str
    url: str


def signature_page_url(document: SignedDocument) -> str:
    """The page where the document's signature blocks are executed (whatever its kind)."""
    return reverse(_PAGE_ROUTES[type(document)], args=[document.pk])


def reaffirmation_title(reaffirmation: Reaffirmation) -> str:
    """As the document reads: "Reaffirmation of Guaranty for Amendment No. 4 to ..." (the
    amendment loaded with it)."""
    return f"{reaffirmation.title} for {reaffirmation.amendment.title}"


def amendment_for(user: Any, pk: int) -> Amendment:
    """An amendment the user may see (404 for anyone else)."""
    return get_object_or_404(visible(user, Amendment).select_related("agreement"), pk=pk)


def reaffirmation_for(user: Any, pk: int) -> Reaffirmation:
    """A reaffirmation of guaranty the user may see, by its guaranty (404 for anyone else)."""
    return get_object_or_404(visible(user, Reaffirmation).select_related("guaranty", "amendment"), pk=pk)


def agreement_for(user: Any, pk: int) -> Agreement:
    """An agreement the user may see (404 for anyone else)."""
    return agreement_visible_to(user, pk)


def block_for(user: Any, pk: int) -> SignatureBlock:
    return get_object_or_404(visible(user, SignatureBlock).select_related("party"), pk=pk)


def execution_for(user: Any, pk: int) -> Execution:
    return get_object_or_404(visible(user, Execution).select_related("block", "party"), pk=pk)


def _ids(rows: Any) -> set[int]:
    return set(rows.values_list("pk", flat=True))


def block_rows(user: Any, document: SignedDocument) -> list[BlockRow]:
    """The document's blocks as the user sees them, in a fixed number of queries, whatever the
    number of blocks and executions."""
    blocks = list(
        visible(user, SignatureBlock)
        .filter(document_type=ContentType.objects.get_for_model(type(document)), document_id=document.pk)
        .select_related("party", "through_party")
        .prefetch_related(
            Prefetch("signatures", queryset=Signature.objects.select_related("person")),
            Prefetch(
                "executions",
                queryset=Execution.objects.select_related("revocation", "signed_by").defer("counterpart")
                .order_by("-sequence"),
            ),
        )
        .order_by("position")
    )  # fmt: skip
    ids = [b.pk for b in blocks]
    executable = _ids(visible(user, SignatureBlock, "execute").filter(pk__in=ids))
    uploadable = _ids(visible(user, SignatureBlock, "upload_counterpart").filter(pk__in=ids))
    revocable = set(visible(user, Execution, "revoke").filter(block__in=blocks).values_list("pk", flat=True))
    return [BlockRow(b, list(b.executions.all()), b.pk in executable, b.pk in uploadable, revocable) for b in blocks]


def with_signature_blocks(model: type) -> Exists:
    """Whether a row of ``model`` (a document) carries signature blocks, as an expression to read
    with it or filter by (the agreement page reads its agreement's with the agreement)."""
    kind = ContentType.objects.get_for_model(model)
    return Exists(SignatureBlock.objects.filter(document_type=kind, document_id=OuterRef("pk")))


def execution_page(user: Any, amendment: Amendment) -> ExecutionPage:
    """The amendment's page: its blocks, its conditions, and the reaffirmations given for it that
    the user may see (each signed on its own page)."""
    reaffirmations = (
        visible(user, Reaffirmation).filter(amendment=amendment).filter(with_signature_blocks(Reaffirmation))
    )
    return ExecutionPage(
        amendment=amendment,
        version=signed_version(amendment),
        blocks=block_rows(user, amendment),
        findings=amendment_findings(amendment),
        may_record=may(user, "administer", amendment.agreement),
        reaffirmations=list(reaffirmations.order_by("pk")),
    )


def document_page(user: Any, document: Agreement | Reaffirmation) -> DocumentPage:
    """The signature page of an agreement itself or of a reaffirmation of guaranty."""
    agreement = document.guaranty if isinstance(document, Reaffirmation) else document
    return DocumentPage(
        document=document, agreement=agreement, version=signed_version(document), blocks=block_rows(user, document)
    )


def signature_pages_of(user: Any, agreement: Agreement, *, has_blocks: bool | None = None) -> list[SignaturePageLink]:
    """The agreement's documents other than its amendments that carry signature blocks, for the
    agreement page: the agreement itself, and the reaffirmations the user may see of it as a
    guaranty or given for one of its amendments (two queries; one when ``has_blocks`` says
    whether the agreement has blocks of its own, read with it by :func:`with_signature_blocks`)."""
    links = []
    if has_blocks is None:
        has_blocks = SignatureBlock.objects.filter(
            document_type=ContentType.objects.get_for_model(Agreement), document_id=agreement.pk
        ).exists()
    if has_blocks:
        links.append(SignaturePageLink(agreement.title or agreement.name, signature_page_url(agreement)))
    reaffirmations = (
        visible(user, Reaffirmation)
        .filter(Q(guaranty=agreement) | Q(amendment__agreement=agreement))
        .filter(with_signature_blocks(Reaffirmation))
        .select_related("amendment")
        .order_by("dated_as_of", "pk")
    )
    links += [SignaturePageLink(reaffirmation_title(r), signature_page_url(r)) for r in reaffirmations]
    return links
