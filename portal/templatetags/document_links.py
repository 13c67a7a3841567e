"""Links from a value on a page to the passage of the stored text it was read from."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Model
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def source_link(sources: dict | None, obj: Model | None, agreement_pk: int, field: str = "") -> SafeString:
    """A "source" link for each passage the row's value (or one field's) was read from; nothing
    when the value was not read from a stored text. ``sources`` is the page's
    :func:`portal.pages.selectors.documents.agreement_sources`."""
    if not sources or obj is None or obj.pk is None:
        return SafeString("")
    found = sources.get((obj._meta.label_lower, obj.pk), [])
    shown = [s for s in found if not field or s.field in (field, "")]
    return format_html_join(
        " ",
        '<a class="source-link" href="{}?span={}-{}#passage" title="{}">source</a>',
        ((_text_url(agreement_pk, s.document_id), s.start, s.end, f"Read from the text: {s.label}") for s in shown),
    )


def _text_url(agreement_pk: int, document_id: int) -> str:
    return reverse("covenants:document_detail", args=[agreement_pk, document_id])


@register.filter
def has_source(sources: dict | None, obj: Any) -> bool:
    """Whether any passage is known for the row."""
    return bool(sources and obj is not None and (obj._meta.label_lower, obj.pk) in sources)
