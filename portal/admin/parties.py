"""
The admin for parties, the people who sign for them, signature blocks and memberships.

Every model that keeps history is registered with ``SimpleHistoryAdmin``, so its "History"
page shows who changed what, when, and the values before and after. Signature blocks are
edited where they stand: inline on the document (``SignatureBlockInline``, used by the
agreements' admin) and, with their "By:" lines, on the block's own page.

Every admin here derives from ``portal.admin.base.ScopedModelAdmin``: a staff user who is
not an administrator sees the parties, people and signature pages of their agreements, and
changes a party or person only where the access rule allows (a party shared with a deal they
do not administer is not theirs to change). Users and memberships decide what everyone sees:
only administrators change them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.contenttypes.admin import BaseGenericInlineFormSet, GenericTabularInline
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from covenants.access import may, visible
from parties.models import (
    Address,
    FormerName,
    Membership,
    Party,
    PartyRelationship,
    Person,
    Signature,
    SignatureBlock,
)
from portal.admin.base import ScopedInlineMixin, ScopedModelAdmin

User = get_user_model()


class ReadOnlyMixin:
    """No adding, changing or deleting here, for anyone: the rows are shown, not edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def admin_link(obj: Any) -> str:
    """A link to ``obj``'s change page in the admin, or its name when it has none there."""
    if obj is None:
        return "—"
    opts = obj._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


def signed_document_models() -> list[type[Model]]:
    """The models of the documents that carry signature blocks (agreements, amendments, ...)."""
    return [
        model
        for model in apps.get_models()
        if any(
            isinstance(field, GenericRelation) and field.related_model is SignatureBlock
            for field in model._meta.private_fields
        )
    ]


def document_key(document_type_id: int, document_id: int) -> str:
    """A document as one choice value: its content type and its id."""
    return f"{document_type_id}-{document_id}"


def document_choices(user: Any) -> list[tuple[str, list[tuple[str, str]]]]:
    """The documents the user may see through the access rule, by name, grouped by kind."""
    groups = []
    for model, content_type in ContentType.objects.get_for_models(*signed_document_models()).items():
        documents = visible(user, model).select_related()
        choices = [(document_key(content_type.pk, document.pk), str(document)) for document in documents]
        if choices:
            groups.append((capfirst(model._meta.verbose_name_plural), choices))
    return groups


# --- Inlines on a party -----------------------------------------------------------


class FormerNameInline(ScopedInlineMixin, admin.TabularInline):
    """Names the party was formerly known as ("f/k/a")."""

    model = FormerName
    extra = 0


class AddressInline(ScopedInlineMixin, admin.TabularInline):
    """The party's office addresses, as the documents give them."""

    model = Address
    extra = 0
    fields = ("label", "street", "suite", "city", "region", "postal_code", "country")


class PartyRelationshipInline(ScopedInlineMixin, admin.TabularInline):
    """How this party stands to others: read as "<this party> is <kind> <other party>"."""

    model = PartyRelationship
    fk_name = "party"
    extra = 0
    autocomplete_fields = ("other",)
    fk_actions = {"other": "change"}
    verbose_name = "relationship"
    verbose_name_plural = "relationships (this party is … the other party)"


class PartyMembershipInline(ScopedInlineMixin, admin.TabularInline):
    """Portal users who belong to this party, and in which role."""

    model = Membership
    fk_name = "party"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Party)
class PartyAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Parties: search by legal name or a former name; filter by kind and jurisdiction."""

    list_display = ("legal_name", "kind", "jurisdiction", "formerly_known_as", "updated_at")
    list_filter = ("kind", "jurisdiction")
    search_fields = ("legal_name", "former_names__name")
    ordering = ("legal_name",)
    readonly_fields = ("description", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("legal_name", "kind", "jurisdiction", "description")}),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (FormerNameInline, AddressInline, PartyRelationshipInline, PartyMembershipInline)
    history_list_display = ("legal_name", "kind", "jurisdiction")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Party]:
        return super().get_queryset(request).prefetch_related("former_names")

    @admin.display(description="Formerly known as")
    def formerly_known_as(self, obj: Party) -> str:
        return "; ".join(former.name for former in obj.former_names.all())

    @admin.display(description="As the documents introduce it")
    def description(self, obj: Party) -> str:
        return obj.description if obj.pk else ""


@admin.register(FormerName)
class FormerNameAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Former names on their own, for search across every party and for their history."""

    list_display = ("name", "party")
    fk_actions = {"party": "change"}
    search_fields = ("name", "party__legal_name")
    autocomplete_fields = ("party",)
    list_select_related = ("party",)


@admin.register(Address)
class AddressAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Office addresses on their own, for search by city or state and for their history."""

    list_display = ("party", "label", "street", "suite", "city", "region", "postal_code", "country")
    fk_actions = {"party": "change"}
    list_filter = ("region", "country")
    search_fields = ("party__legal_name", "street", "city", "region", "postal_code")
    autocomplete_fields = ("party",)
    list_select_related = ("party",)


@admin.register(PartyRelationship)
class PartyRelationshipAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Relationships between parties, read as "<party> is <kind> <other>"."""

    list_display = ("party", "kind", "other")
    fk_actions = {"party": "change", "other": "change"}
    list_filter = ("kind",)
    search_fields = ("party__legal_name", "other__legal_name")
    autocomplete_fields = ("party", "other")
    list_select_related = ("party", "other")


# --- People and what they signed --------------------------------------------------


class PersonSignatureInline(ReadOnlyMixin, ScopedInlineMixin, admin.TabularInline):
    """The signatures a person made: a record of the documents, listed here, edited on the block."""

    model = Signature
    fk_name = "person"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "signature made"
    verbose_name_plural = "signatures made"
    fields = ("document", "party", "party_name_as_printed", "title_shown", "officer_of", "conformed")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Signature]:
        return (
            super()
            .get_queryset(request)
            .select_related("block__party", "block__document_type", "for_party")
            .prefetch_related("block__document")
        )

    @admin.display(description="Document")
    def document(self, obj: Signature) -> str:
        return admin_link(obj.block.document)

    @admin.display(description="Party")
    def party(self, obj: Signature) -> str:
        return admin_link(obj.block.party)

    @admin.display(description="As officer of")
    def officer_of(self, obj: Signature) -> str:
        if obj.for_party_id is None:
            return ""
        return f"{obj.for_party}, {obj.for_party_capacity}" if obj.for_party_capacity else str(obj.for_party)

    @admin.display(description="Block heading as printed")
    def party_name_as_printed(self, obj: Signature) -> str:
        return obj.block.party_name_as_printed

    @admin.display(description="Title as printed")
    def title_shown(self, obj: Signature) -> str:
        return obj.title_as_printed or obj.title


@admin.register(Person)
class PersonAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """People who sign for parties, with every signature they made."""

    list_display = ("full_name", "email", "signature_count")
    search_fields = ("full_name", "email")
    readonly_fields = ("created_at", "updated_at")
    inlines = (PersonSignatureInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Person]:
        return super().get_queryset(request).annotate(signature_total=Count("signatures"))

    @admin.display(description="Signatures", ordering="signature_total")
    def signature_count(self, obj: Person) -> int:
        return obj.signature_total


# --- Signature blocks ---------------------------------------------------------------


class SignatureBlockFormSet(BaseGenericInlineFormSet):
    """Refuses two blocks at one position on a document with a sentence, before the database does."""

    def clean(self) -> None:
        super().clean()
        positions = Counter(
            form.cleaned_data["position"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("position") is not None
        )
        taken = sorted(position for position, count in positions.items() if count > 1)
        if taken:
            listed = ", ".join(str(position) for position in taken)
            raise ValidationError(f"Two signature blocks stand at the same position on the document: {listed}.")


class SignatureBlockInline(ScopedInlineMixin, GenericTabularInline):
    """The signature blocks of a document (agreement, amendment, reaffirmation), as printed."""

    model = SignatureBlock
    formset = SignatureBlockFormSet
    ct_field = "document_type"
    ct_fk_field = "document_id"
    extra = 0
    show_change_link = True
    autocomplete_fields = ("party", "through_party")
    fields = (
        "position",
        "party_name_as_printed",
        "party",
        "capacity_as_printed",
        "through_party",
        "through_capacity",
        "signers",
    )
    readonly_fields = ("signers",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SignatureBlock]:
        return (
            super()
            .get_queryset(request)
            .select_related("party", "through_party")
            .prefetch_related("signatures__person")
        )

    @admin.display(description="Signed by (edit on the block's page)")
    def signers(self, obj: SignatureBlock) -> str:
        if obj.pk is None:
            return ""
        return "; ".join(str(signature) for signature in obj.signatures.all()) or "no signature lines"


class SignatureInline(ScopedInlineMixin, admin.TabularInline):
    """The "By:" lines of a block; a blank line is kept, since it is part of the document as executed."""

    model = Signature
    fk_name = "block"
    extra = 0
    autocomplete_fields = ("person", "for_party")
    fields = ("position", "person", "title", "title_as_printed", "for_party", "for_party_capacity", "conformed")


class SignatureBlockForm(forms.ModelForm):
    """A block's document chosen by name among those the user sees, stored as content type and id."""

    signed_document = forms.ChoiceField(
        label="Document",
        help_text="The agreement, amendment or reaffirmation whose signature pages print this block.",
        error_messages={
            "required": "Choose the document whose signature pages print this block.",
            "invalid_choice": "Choose one of the documents listed: that one is not on file or not yours to see.",
        },
    )
    #: The user the choices are for: set by ``SignatureBlockAdmin.get_form``.
    user: Any = None

    class Meta:
        model = SignatureBlock
        # The document's content type and id are set from ``signed_document``.
        fields = (
            "position",
            "party_name_as_printed",
            "party",
            "capacity_as_printed",
            "through_party",
            "through_capacity",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signed_document"].choices = [("", "---------"), *document_choices(self.user)]
        if self.instance.pk is not None:
            self.initial.setdefault(
                "signed_document", document_key(self.instance.document_type_id, self.instance.document_id)
            )

    def clean_signed_document(self) -> Model:
        type_id, document_id = (int(part) for part in self.cleaned_data["signed_document"].split("-"))
        document = ContentType.objects.get_for_id(type_id).get_object_for_this_type(pk=document_id)
        if not may(self.user, "change", document):
            raise ValidationError("You may see this document but not change its signature pages.")
        return document

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        document, position = cleaned.get("signed_document"), cleaned.get("position")
        if document is None:
            return cleaned
        self.instance.document = document
        # The form does not hold the stored content type and id, so Django would not check
        # the constraint on them: checked here, with its sentence, before the database does.
        taken = (
            SignatureBlock.objects.filter(
                document_type_id=self.instance.document_type_id,
                document_id=self.instance.document_id,
                position=position,
            )
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if position is not None and taken:
            self.add_error("position", "Another block already stands at this position on the document.")
        return cleaned


@admin.register(SignatureBlock)
class SignatureBlockAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """One party's block on an executed document, with its signature lines."""

    list_display = ("party_name_as_printed", "party", "document", "position", "through_party", "signature_lines")
    list_filter = ("document_type",)
    search_fields = ("party_name_as_printed", "party__legal_name", "through_party__legal_name")
    autocomplete_fields = ("party", "through_party")
    list_select_related = ("party", "through_party", "document_type")
    form = SignatureBlockForm
    readonly_fields = ("document_link", "created_at", "updated_at")
    fieldsets = (
        ("Document", {"fields": ("document_link", "signed_document", "position")}),
        (
            "As printed",
            {"fields": ("party_name_as_printed", "party", "capacity_as_printed", "through_party", "through_capacity")},
        ),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (SignatureInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SignatureBlock]:
        return super().get_queryset(request).prefetch_related("document", "signatures__person")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        # A class of its own per request: the choices are the user's documents.
        return type(form.__name__, (form,), {"user": request.user})

    @admin.display(description="Document")
    def document(self, obj: SignatureBlock) -> str:
        return str(obj.document) if obj.document is not None else "(document missing)"

    @admin.display(description="Document")
    def document_link(self, obj: SignatureBlock) -> str:
        if obj.pk is None:
            return "Choose the document below."
        return admin_link(obj.document)

    @admin.display(description="Signature lines")
    def signature_lines(self, obj: SignatureBlock) -> str:
        return "; ".join(str(signature) for signature in obj.signatures.all())


@admin.register(Signature)
class SignatureAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Signature lines on their own: search by signer, title or block."""

    list_display = ("__str__", "person", "block_party", "title_as_printed", "for_party", "conformed")
    list_filter = ("conformed",)
    search_fields = ("person__full_name", "title", "title_as_printed", "block__party_name_as_printed")
    autocomplete_fields = ("block", "person", "for_party")
    list_select_related = ("person", "block__party", "for_party")
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description="Block's party", ordering="block__party__legal_name")
    def block_party(self, obj: Signature) -> str:
        return str(obj.block.party)


# --- Memberships ----------------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(ScopedModelAdmin, SimpleHistoryAdmin):
    """Which user belongs to which party, and in which role: this scopes what they see."""

    list_display = ("user", "party", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name", "party__legal_name")
    autocomplete_fields = ("user", "party")
    list_select_related = ("user", "party")
    date_hierarchy = "created_at"


class UserMembershipInline(ScopedInlineMixin, admin.TabularInline):
    """The parties a user belongs to, on the user's page."""

    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("party",)
    fields = ("party", "role", "created_at")
    readonly_fields = ("created_at",)


class PortalUserAdmin(ScopedModelAdmin, UserAdmin):
    """Django's user admin, with the user's memberships in parties."""

    inlines = (*UserAdmin.inlines, UserMembershipInline)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)
