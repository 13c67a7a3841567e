"""
The API's conventions, named in the REST_FRAMEWORK settings: page-number pagination,
per-user throttling, JSON numbers as Decimal (and nesting refused past a depth), and errors
as JSON naming the field.

Every error under ``/api/`` is JSON in the API's shape, ``{"detail": "..."}``: DRF's views
answer so themselves, and the site's error handlers (``handler404``, ``handler500``... in
``portal.urls``, which Django uses when DEBUG is off) answer so for what never reaches a
view or escapes one: an unknown API address, a database lost mid-request. Pages keep
Django's HTML error pages.

Kept apart from ``portal.api`` because DRF imports these while defining its own views:
this module must not import ``rest_framework.views`` or anything that does.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
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
    "MAX_JSON_DEPTH",
    "DecimalJSONParser",
    "PortalAnonRateThrottle",
    "PortalOrderingFilter",
    "PortalPagination",
    "PortalUserRateThrottle",
    "bad_request",
    "exception_handler",
    "nested_deeper_than",
    "page_not_found",
    "permission_denied",
    "server_error",
]


class PortalPagination(PageNumberPagination):
    """Page numbers, ``page_size`` up to 500."""

    page_size_query_param = "page_size"
    max_page_size = 500


#: Arrays and objects within one another in a request body. The API's requests need three
#: (a submission's object, its list of records, each record); Python's parser fails with a
#: RecursionError at about a thousand, which must never be reached.
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


def nested_deeper_than(text: str, depth: int) -> bool:
    """Whether JSON ``text`` nests arrays and objects more than ``depth`` levels deep, found
    without parsing it: strings taken out, then innermost pairs of brackets removed a level at
    a time, in linear passes (at most ``depth`` of them). Malformed text is left to the parser."""
    if text.count("[") + text.count("{") <= depth:
        return False
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _ in range(depth):
        brackets, removed = _EMPTY_PAIR.subn("", brackets)
        if not brackets or not removed:
            return False
    return True


class DecimalJSONParser(JSONParser):
    """JSON whose numbers with a fraction become Decimal, never float: money stays exact.

    A body nesting arrays and objects more than :data:`MAX_JSON_DEPTH` deep is refused (400)
    before it is parsed: Python's parser would recurse until it failed with a 500."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
        except ValueError as exc:  # UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
        if nested_deeper_than(text, self.max_depth):
            raise ParseError(
                f"JSON parse error - arrays and objects are nested more than {self.max_depth} levels deep; "
                "a request to this API needs at most 3"
            )
        try:
            return json.loads(text, parse_float=Decimal, parse_constant=json.strict_constant)
        except (ValueError, RecursionError) as exc:
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
            return super().allow_request(request, view)
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


# --- The site's error handlers: JSON under /api/, Django's pages elsewhere -----------------------


def _is_api(request: HttpRequest) -> bool:
    return request.path_info == "/api" or request.path_info.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: an address no route answers (or a page raising Http404)."""
    if _is_api(request):
        return JsonResponse(
            {"detail": "Not found: no API endpoint answers at this address; the endpoints are listed at /api/docs/."},
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: an exception no view handled (Django has logged it with its traceback). Every
    request is one transaction (ATOMIC_REQUESTS), so what the request changed was rolled back."""
    if _is_api(request):
        return JsonResponse(
            {
                "detail": "Server error: the request could not be completed and nothing it changed was saved; "
                "try again in a moment."
            },
            status=500,
        )
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 from Django itself (a request too large, a host not allowed), before any view."""
    if _is_api(request):
        return JsonResponse({"detail": "Bad request: the request cannot be read as sent."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403 raised outside DRF's views."""
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)


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
