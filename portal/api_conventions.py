"""
The API's conventions, named in the REST_FRAMEWORK settings: page-number pagination,
per-user throttling, JSON numbers as Decimal, and errors as JSON naming the field.

Kept apart from ``portal.api`` because DRF imports these while defining its own views:
this module must not import ``rest_framework.views`` or anything that does.
"""

from __future__ import annotations

import codecs
import logging
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.utils import json

logger = logging.getLogger(__name__)

__all__ = [
    "DecimalJSONParser",
    "PortalAnonRateThrottle",
    "PortalOrderingFilter",
    "PortalPagination",
    "PortalUserRateThrottle",
    "exception_handler",
]


class PortalPagination(PageNumberPagination):
    """Page numbers, ``page_size`` up to 500."""

    page_size_query_param = "page_size"
    max_page_size = 500


class DecimalJSONParser(JSONParser):
    """JSON whose numbers with a fraction become Decimal, never float: money stays exact."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            return json.load(
                codecs.getreader(encoding)(stream), parse_float=Decimal, parse_constant=json.strict_constant
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class _RateFromSettings:
    """DRF reads the rates once at import; read them per request, so the environment (and tests)
    can change them. The counters live in the cache (Redis in production): if it does not
    answer, requests go through (and it is logged) rather than failing with a 500, so an
    upload is not lost to a cache outage."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except Exception:
            logger.warning("API throttling unavailable: the cache does not answer")
            return True


class PortalUserRateThrottle(_RateFromSettings, UserRateThrottle):
    """Requests per signed-in user (per address for anonymous ones)."""


class PortalAnonRateThrottle(_RateFromSettings, AnonRateThrottle):
    """Requests per address before signing in: the token request, the schema and its docs."""


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a model or service's ValidationError as a 400 naming the field."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(
                {
                    (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
                    for field, messages in exc.message_dict.items()
                }
            )
        else:
            exc = ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})
    from rest_framework.views import exception_handler as drf_exception_handler

    return drf_exception_handler(exc, context)


class PortalOrderingFilter(OrderingFilter):
    """``?ordering=field`` or ``-field``, the fields each list accepts named in the schema.

    The id breaks ties, so a client paging through rows with equal values sees each row once."""

    def get_ordering(self, request: Any, queryset: Any, view: Any) -> Any:
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not {"id", "-id", "pk", "-pk"} & set(ordering):
            ordering = [*ordering, "id"]
        return ordering

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        fields = [f for f in getattr(view, "ordering_fields", None) or [] if isinstance(f, str) and f != "__all__"]
        if fields:
            default = ", ".join(getattr(view, "ordering", None) or [])
            parameters[0]["description"] = (
                f"Order by one of these fields, descending with a leading '-'. Default: {default}."
            )
            parameters[0]["schema"] = {"type": "string", "enum": [p + f for f in fields for p in ("", "-")]}
        return parameters
