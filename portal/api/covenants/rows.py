"""
Lists served from ``.values()`` rows, with exactly the representation of their read-only
ModelSerializer, without building model instances.

Why: a page of 500 covenant test results through ``ModelSerializer(many=True)`` built 1,500
model instances (the result, its covenant and its Borrower, every column of each, through
``select_related``) and then walked DRF's per-field machinery (``get_attribute`` over each
source, a nested serializer per reference) for every one of the 17 fields of every row: two
thirds of the request's time in Python, for rows the database had already shaped.

Here the serializer is read once per request: each of its fields becomes a ``.values()``
column (a nested reference, the columns of the related row, joined in the same query), and
each row is shaped by the field's own ``to_representation`` (skipped where it is the identity
for what the database returns: integers, text, booleans, JSON), so dates, times in the current
time zone and decimals come out exactly as the serializer gives them. A serializer using
anything else (a method field, a dotted source, a hyperlink) is refused at the first request
rather than served differently: keep such a list on the serializer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import ForeignKey, Model, OneToOneField, QuerySet
from rest_framework import fields as drf_fields
from rest_framework import relations, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

__all__ = ["ValuesListMixin", "ValuesRepresentation"]

# Fields whose to_representation returns what the database driver gives, unchanged
# (int(int), str(str), a bool, decoded JSON): calling them per cell only costs time.
_IDENTITY = (
    drf_fields.IntegerField,
    drf_fields.CharField,
    drf_fields.BooleanField,
    drf_fields.ReadOnlyField,
)
# Fields shaped by their own to_representation (formats, time zone, quantizing).
_FORMATTED = (
    drf_fields.DateTimeField,
    drf_fields.DateField,
    drf_fields.DecimalField,
    drf_fields.ChoiceField,
)


@dataclass(frozen=True)
class _Column:
    """One field of the representation: where it is in a row and how it is shaped."""

    name: str
    key: str  # the .values() column; for a nested reference, its foreign key (null: no row)
    shape: Callable[[Any], Any] | None = None  # None: the value as the driver returns it
    nested: tuple[_Column, ...] | None = None


def _columns(serializer: serializers.Serializer, model: type[Model], prefix: str = "") -> tuple[_Column, ...]:
    columns = []
    for name, field in serializer.fields.items():
        if field.write_only:
            continue
        source = field.source
        where = f"{type(serializer).__name__}.{name}"
        if source == "*" or "." in source:
            raise ImproperlyConfigured(f"{where}: a source of {source!r} cannot be read from .values() rows.")
        model_field = model._meta.get_field(source)
        if not model_field.concrete or model_field.many_to_many:
            # A reverse or many-to-many relation would repeat the row once per related row.
            raise ImproperlyConfigured(f"{where}: {source!r} is not a column of {model.__name__}.")
        if isinstance(field, serializers.BaseSerializer):
            if not isinstance(field, serializers.ModelSerializer) or getattr(field, "many", False):
                raise ImproperlyConfigured(f"{where}: only a nested ModelSerializer of one related row is supported.")
            if not isinstance(model_field, ForeignKey | OneToOneField) or model_field.model is not model:
                raise ImproperlyConfigured(f"{where}: a nested serializer must follow a foreign key of {model}.")
            related = model_field.related_model
            columns.append(
                _Column(name, prefix + source, nested=_columns(field, related, prefix=f"{prefix}{source}__"))
            )
        elif isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None:
            columns.append(_Column(name, prefix + source))  # the foreign key's value is the primary key
        elif isinstance(field, drf_fields.JSONField) and not field.binary:
            columns.append(_Column(name, prefix + source))  # decoded by the model field, as the serializer gets it
        elif type(field) in _IDENTITY:
            columns.append(_Column(name, prefix + source))
        elif type(field) is drf_fields.BigIntegerField:
            # A string when COERCE_BIGINT_TO_STRING (or the field) says so, else the integer.
            coerced = getattr(field, "coerce_to_string", api_settings.COERCE_BIGINT_TO_STRING)
            columns.append(_Column(name, prefix + source, shape=field.to_representation if coerced else None))
        elif type(field) in _FORMATTED:
            columns.append(_Column(name, prefix + source, shape=field.to_representation))
        else:
            raise ImproperlyConfigured(f"{where}: {type(field).__name__} is not supported on .values() rows.")
    return tuple(columns)


def _keys(columns: Sequence[_Column]) -> list[str]:
    keys: list[str] = []
    for column in columns:
        keys.append(column.key)
        if column.nested is not None:
            keys += _keys(column.nested)
    return keys


def _shape(columns: tuple[_Column, ...], row: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for column in columns:
        value = row[column.key]
        if value is None:  # as DRF: a null is never passed to the field
            shaped[column.name] = None
        elif column.nested is not None:
            shaped[column.name] = _shape(column.nested, row)
        elif column.shape is not None:
            shaped[column.name] = column.shape(value)
        else:
            shaped[column.name] = value
    return shaped


class ValuesRepresentation:
    """A read-only ModelSerializer's representation, built from ``.values()`` rows."""

    def __init__(self, serializer: serializers.ModelSerializer) -> None:
        self.columns = _columns(serializer, serializer.Meta.model)
        self.keys = list(dict.fromkeys(_keys(self.columns)))

    def rows(self, queryset: QuerySet) -> QuerySet:
        """The queryset's rows with the columns the representation needs, in one query."""
        return queryset.values(*self.keys)

    def represent(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [_shape(self.columns, row) for row in rows]


class _CountedRows:
    """The ``.values()`` rows to paginate, counted on the queryset they come from: the count
    needs none of the joins the columns add (a nested reference's row)."""

    def __init__(self, counted: QuerySet, rows: QuerySet) -> None:
        self.counted = counted
        self.rows = rows
        self.ordered = rows.ordered

    def count(self) -> int:
        return self.counted.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]


class ValuesListMixin:
    """A list action served from ``.values()`` rows shaped as its serializer would shape them,
    with the same filters, ordering, pagination, queries and body. Details stay on the serializer."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        representation = ValuesRepresentation(self.get_serializer())
        page = self.paginate_queryset(_CountedRows(queryset, representation.rows(queryset)))
        if page is None:
            return Response(representation.represent(representation.rows(queryset)))
        return self.get_paginated_response(representation.represent(page))
