"""What the execution page shows: an amendment's signature blocks, each with its executions
(revoked ones kept, with the reason) and what the user may do on it, and its conditions
precedent as evaluated. Read through the one access rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from covenants.access import may, visible
from covenants.models import Amendment
from documents.models import Document
from execution.conditions import ConditionFindings, amendment_findings
from execution.evidence import signed_version
from execution.models import Execution
from parties.models import Signature, SignatureBlock


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


def amendment_for(user: Any, pk: int) -> Amendment:
    """An amendment the user may see (404 for anyone else)."""
    return get_object_or_404(visible(user, Amendment).select_related("agreement"), pk=pk)


def block_for(user: Any, pk: int) -> SignatureBlock:
    return get_object_or_404(visible(user, SignatureBlock).select_related("party"), pk=pk)


def execution_for(user: Any, pk: int) -> Execution:
    return get_object_or_404(visible(user, Execution).select_related("block", "party"), pk=pk)


def _ids(rows: Any) -> set[int]:
    return set(rows.values_list("pk", flat=True))


def execution_page(user: Any, amendment: Amendment) -> ExecutionPage:
    """The page's rows in a fixed number of queries, whatever the number of blocks."""
    blocks = list(
        visible(user, SignatureBlock)
        .filter(document_type=ContentType.objects.get_for_model(Amendment), document_id=amendment.pk)
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
    rows = [BlockRow(b, list(b.executions.all()), b.pk in executable, b.pk in uploadable, revocable) for b in blocks]
    return ExecutionPage(
        amendment=amendment,
        version=signed_version(amendment),
        blocks=rows,
        findings=amendment_findings(amendment),
        may_record=may(user, "administer", amendment.agreement),
    )
