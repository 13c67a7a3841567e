"""Forms repeated on one page (a form per signature block, per execution, per condition) with ids of
their own, so each label names its own row's field rather than the first of that name on the page."""

from __future__ import annotations

import copy

from django import forms, template

register = template.Library()


@register.filter
def ids_for(form: forms.BaseForm, key: object) -> forms.BaseForm:
    """The same form with ids of its own: ``id_<form>_<key>_<field>`` (names, and so what is posted,
    unchanged). The form's class is in the id, so two kinds of form in one row differ too."""
    shown = copy.copy(form)
    shown.auto_id = f"id_{type(form).__name__.lower()}_{key}_%s"
    shown._bound_fields_cache = {}  # bound fields remember their ids: a fresh cache for the copy
    return shown
