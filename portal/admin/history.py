"""
The "History" pages (django-simple-history) in words: a choice shows its label ("National
bank", not ``national_bank``), a value left empty, a change with no reason and a change made
by no user (a data migration, a script) show "—" rather than "None".

Mixed into ``portal.admin.base.ScopedModelAdmin``, so every admin that keeps history (with
``SimpleHistoryAdmin``) shows its history so. Its list is rendered by
``templates/admin/history_list.html``, which reads the values prepared here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import display_for_field, display_for_value, label_for_field
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest
from django.utils.text import capfirst
from simple_history.template_utils import HistoricalRecordContextHelper

EMPTY = "—"


def is_empty(value: Any) -> bool:
    return value is None or value == ""


class LabelledHistoryHelper(HistoricalRecordContextHelper):
    """The changes of one record with each choice's label, and "—" for an empty value."""

    def prepare_delta_change_value(self, change: Any, value: Any) -> Any:
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if is_empty(value):
            return EMPTY
        if field.flatchoices and not isinstance(value, list):
            return dict(field.flatchoices).get(value, value)
        return value


class HistoryDisplayMixin:
    """Labels, not stored values, on the history page; "—" for nothing."""

    object_history_list_template = "admin/history_list.html"

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any) -> Any:
        return LabelledHistoryHelper(self.model, historical_record)

    def history_column_value(self, record: Any, name: str) -> Any:
        """One column of ``history_list_display`` for one record, as the change list shows it."""
        value = getattr(record, name, None)
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return EMPTY if is_empty(value) else display_for_value(value, EMPTY)
        return display_for_field(value, field, EMPTY)

    def render_history_view(self, request: HttpRequest, template: str, context: dict[str, Any], **kwargs: Any) -> Any:
        columns = context.get("history_list_display") or ()
        context["history_list_columns"] = [capfirst(label_for_field(name, self.model, self)) for name in columns]
        page = context.get("page_obj")  # absent on the page of one historical record
        for record in page.object_list if page is not None else ():
            record.history_list_values = [self.history_column_value(record, name) for name in columns]
            reason = record.history_change_reason
            record.history_change_reason_shown = EMPTY if is_empty(reason) else reason
        return super().render_history_view(request, template, context, **kwargs)
