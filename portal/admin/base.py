"""
The admin, held to the access rule: the base of every ``ModelAdmin`` and inline.

Django's model permissions say which kinds of row a staff user may work on; the access rule
says which rows. Both are needed: a staff user who is not an administrator sees in the
admin only what ``visible(user, Model)`` gives them (the rows of their agreements), changes
a row only where ``may(user, "change", row)`` holds, before and after the change, and is
offered in every choice (foreign keys, autocompletes, filters) only rows they may use.
Administrators (superusers, Administrator memberships) see and change everything their
model permissions allow.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import RelatedFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import PROTECT, ForeignKey, ManyToManyField, Model, QuerySet
from django.http import HttpRequest

from covenants.access.rule import _RULES, is_administrator, may, visible
from portal.admin.history import HistoryDisplayMixin

#: Foreign keys naming the row a new row belongs to: choosing one is changing it, so only the
#: rows the user may change are offered. Any other foreign key offers the rows they see.
OWNER_FIELDS = {
    "agreement": "administer",
    "covenant": "change",
    "amendment": "change",
    "terms": "change",
    "guaranty": "change",
    "block": "change",
}


def _has_rule(model: type[Model], action: str) -> bool:
    return (model, action) in _RULES


def _choices(user: Any, model: type[Model], action: str) -> QuerySet | None:
    """The rows of ``model`` the user may pick for a field; None where any may be picked."""
    if model is ContentType:  # kinds of document, not rows of a deal
        return None
    if not _has_rule(model, action):
        action = "view"
    if not _has_rule(model, "view"):
        return model._default_manager.none()  # fail closed
    return visible(user, model, action)


class ScopedAdminMixin(BaseModelAdmin):
    """Scopes rows, permissions and choices by the access rule (see the module)."""

    #: field name -> action the user needs on the row chosen there (added to OWNER_FIELDS).
    fk_actions: dict[str, str] = {}

    def _restricted(self, request: HttpRequest) -> bool:
        return not is_administrator(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        rows = super().get_queryset(request)
        if not self._restricted(request):
            return rows
        return rows.filter(pk__in=visible(request.user, self.model).values("pk"))

    def _may(self, request: HttpRequest, action: str, obj: Any) -> bool:
        return not self._restricted(request) or may(request.user, action, obj)

    def _field_action(self, name: str) -> str:
        return {**OWNER_FIELDS, **self.fk_actions}.get(name, "view")

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        if self._restricted(request) and "queryset" not in kwargs:
            rows = _choices(request.user, db_field.remote_field.model, self._field_action(db_field.name))
            if rows is not None:
                kwargs["queryset"] = rows
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any) -> Any:
        if self._restricted(request) and "queryset" not in kwargs:
            rows = _choices(request.user, db_field.remote_field.model, "view")
            if rows is not None:
                kwargs["queryset"] = rows
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def check_change(self, request: HttpRequest, obj: Model) -> None:
        """The row as it will be saved must be one the user may change (it may have been moved
        to another agreement or party by the form)."""
        if self._restricted(request) and not may(request.user, "change", obj):
            raise PermissionDenied("This row belongs to an agreement or party you may not change.")


#: What Django's admin loads on every page for ``prepopulated_fields`` (a slug typed from a
#: name): XRegExp alone weighs 160 KiB minified, 320 KiB in DEBUG.
PREPOPULATE_SCRIPTS = ("admin/js/urlify.js", "admin/js/prepopulate.js", "admin/js/vendor/xregexp/")


def without_prepopulate(media: forms.Media) -> forms.Media:
    """``media`` without the scripts that only fill in prepopulated fields."""

    def needed(script: Any) -> bool:
        path = script if isinstance(script, str) else script.path
        return not any(name in path for name in PREPOPULATE_SCRIPTS)

    return forms.Media(css=media._css, js=[script for script in media._js if needed(script)])


class ScopedModelAdmin(HistoryDisplayMixin, ScopedAdminMixin):
    """Mixed into every ``ModelAdmin`` (before ``admin.ModelAdmin`` or ``SimpleHistoryAdmin``);
    its history page, where it keeps one, shows labels rather than stored values."""

    @property
    def media(self) -> forms.Media:
        # Django's admin loads the prepopulate scripts on every page of every model; only
        # pages with a prepopulated field (here or on an inline) need them.
        media = super().media
        if self.prepopulated_fields or any(inline.prepopulated_fields for inline in self.inlines):
            return media
        return without_prepopulate(media)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_view_permission(request, obj)
        return allowed and (obj is None or self._may(request, "view", obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._may(request, "change", obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._may(request, "change", obj))

    def has_add_permission(self, request: HttpRequest) -> bool:
        allowed = super().has_add_permission(request)
        action = "add" if _has_rule(self.model, "add") else "change"
        return allowed and self._may(request, action, self.model)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A filter by a related row lists only the rows the scoped list holds, not every
        # agreement or party in the portal.
        filters = super().get_list_filter(request)
        if not self._restricted(request):
            return filters
        scoped = []
        for entry in filters:
            name, kind = (
                (entry, None) if isinstance(entry, str) else (entry if isinstance(entry, tuple) else (None, entry))
            )
            related = (
                isinstance(name, str)
                and kind in (None, RelatedFieldListFilter)
                and get_fields_from_path(self.model, name)[-1].is_relation
            )
            if related:
                entry = (name, RelatedOnlyFieldListFilter)
            scoped.append(entry)
        return scoped

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        # Refused for want of the model permission before the row is looked up, as the change
        # page is: a row outside the user's scope and one that does not exist answer alike.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        self.check_change(request, obj)
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.check_change(request, obj)
        super().delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Each inline row, as it will be saved (or as it was, when deleted).
        for inline_form in formset.forms:
            if inline_form.instance.pk is not None or inline_form.has_changed():
                self.check_change(request, inline_form.instance)
        super().save_formset(request, form, formset, change)


class ScopedInlineMixin(ScopedAdminMixin):
    """Mixed into every inline: its rows and choices scoped; adding, changing or deleting one
    needs ``change`` on the row the page edits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Tabular rows without the whitespace between their tags (see the template).
        if self.template == "admin/edit_inline/tabular.html":
            self.template = "admin/edit_inline/tabular_compact.html"

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        # No "delete the chosen row" link on each inline row where the row holds its choice on
        # PROTECT (a party, a person, an amendment): the deletion would be refused, and the
        # link, repeated on every row, weighs a good part of the page.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper) and db_field.remote_field.on_delete is PROTECT:
            widget.can_delete_related = False
        return formfield

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_add_permission(request, obj)
        return allowed and (obj is None or self._may(request, "change", obj))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._may(request, "change", obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._may(request, "change", obj))


def unscoped_admins(site: Any, apps: tuple[str, ...]) -> list[str]:
    """Admins of these apps' models that do not derive from the scoped bases (for a test)."""
    missing = []
    for model, model_admin in site._registry.items():
        if model._meta.app_label not in apps:
            continue
        if not isinstance(model_admin, ScopedModelAdmin):
            missing.append(type(model_admin).__name__)
        for inline in model_admin.inlines:
            if not issubclass(inline, ScopedInlineMixin):
                missing.append(inline.__name__)
    return missing
