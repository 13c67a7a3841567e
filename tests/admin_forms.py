"""Helpers for admin tests: the POST data a browser would send back from a rendered change form."""

from __future__ import annotations

from typing import Any

from django.forms import BaseForm
from django.http import HttpResponse


def _add_form(data: dict[str, Any], form: BaseForm) -> None:
    for bound in form:
        value = bound.value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
            continue
        if isinstance(value, list | tuple):
            data[bound.html_name] = [str(item) for item in value]
        else:
            data[bound.html_name] = str(value)


def change_form_data(response: HttpResponse) -> dict[str, Any]:
    """The main form's and every inline's current values, management forms included, as POST data."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def inline_prefix(response: HttpResponse, model: type) -> str:
    """The form prefix of the inline editing ``model`` on a rendered change form."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.model is model:
            return inline.formset.prefix
    raise AssertionError(f"No inline for {model.__name__} on this page.")
