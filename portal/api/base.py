"""
The API's shared machinery: the access rule applied once, NetBox style.

Every model the API serves has a *scope*: the rows that user may see, from the one access
rule (:func:`covenants.access.visible`, registered per model and action in
:mod:`covenants.access.scopes`). Everything the API reads starts from a scope:

- :class:`PortalViewSet` (the base of every resource) starts ``get_queryset`` from the
  scope of its ``model``, so lists, details and custom actions are scoped before any
  filtering, and an object the user may not see is a 404, never a 403;
- :class:`ScopedPrimaryKeyRelatedField` accepts only ids from the scope of its model, so a
  write cannot name, nor an error message confirm, another party's row;
- :func:`scoped_choices` gives django-filter's related filters the same scope;
- nested rows are prefetched through :func:`visible` as well (see each viewset's ``optimize``).

A model with no registered scope cannot be served at all (fail closed). A new resource
registers its scope in :mod:`covenants.access.scopes` and derives from :class:`PortalViewSet`;
writes ask ``covenants.access.may`` once, in the service they call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.contrib.auth import authenticate
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox import views as knox_views
from rest_framework import serializers
from rest_framework.exceptions import APIException, Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet

from covenants import access
from covenants.access import (  # noqa: F401  (the API's names for the rule's scopes)
    parties_attachable_by,
    parties_visible_to,
    people_visible_to,
    register_scope,
    signature_blocks_visible_to,
)
from portal.two_factor import PortalTokenAuthentication

User = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=Model)
Scope = Callable[[Any], QuerySet]

# --- Scopes: what each user may see, per model (the one rule, covenants.access) -----------


def visible(model: type[M], user: User | None, action: str = "view") -> QuerySet[M]:
    """The rows of ``model`` the user may see (or do ``action`` on): ``covenants.access.visible``.
    Fails closed for a model without a rule."""
    return access.visible(user, model, action)


def scoped_choices(model: type[Model]) -> Callable[[HttpRequest | Request | None], QuerySet]:
    """A django-filter ``queryset`` callable: the filter's choices are the rows the user may see."""

    def choices(request: HttpRequest | Request | None) -> QuerySet:
        return visible(model, getattr(request, "user", None))

    return choices


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related field that accepts only rows the requesting user may see: another party's id
    is refused exactly like an id that does not exist."""

    def __init__(self, model: type[Model], scope: Scope | None = None, **kwargs: Any) -> None:
        self.model = model
        self.scope = scope
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model._default_manager.none()  # for the schema; get_queryset scopes
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        user = getattr(self.context.get("request"), "user", None)
        if self.scope is not None:
            return self.scope(user)
        return visible(self.model, user)


# --- The base viewset -----------------------------------------------------------------


class PortalViewSet(GenericViewSet):
    """
    Base of every API resource: ``get_queryset`` starts from the scope of ``model``.

    Subclasses set ``model`` (never ``queryset``, which would bypass the scope) and may
    override :meth:`optimize` to add ``select_related``/``prefetch_related``; nested rows
    prefetched there should come from :func:`visible` too. Filters apply to lists only:
    a detail URL names one row, which the scope alone decides.
    """

    model: ClassVar[type[Model]]
    permission_classes = [IsAuthenticated]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "queryset", None) is not None:
            raise ImproperlyConfigured(f"{cls.__name__} sets queryset: set model, so the access scope applies.")

    @property
    def user(self) -> User:
        return getattr(self.request, "user", None) or AnonymousUser()

    def visible(self, model: type[M], action: str = "view") -> QuerySet[M]:
        """Rows of another model the requesting user may see, or do ``action`` on (for nested
        prefetches, and to load a row through the rule, as a file download does)."""
        return visible(model, self.user, action)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.model._default_manager.none()
        return self.optimize(visible(self.model, self.user))

    def optimize(self, queryset: QuerySet) -> QuerySet:
        """Add the joins and prefetches the serializer needs; a fixed number of queries per page."""
        return queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)


# --- The schema: every operation's error responses --------------------------------


ERROR = inline_serializer("Error", fields={"detail": serializers.CharField()})
VALIDATION_ERROR = OpenApiResponse(
    response={
        "type": "object",
        "description": "Each field with its messages; errors not tied to a field under non_field_errors.",
        "additionalProperties": {},
    },
    description="The request is not valid: each field named with what is wrong.",
)


class PortalAutoSchema(AutoSchema):
    """Documents the error responses every operation can give, with their JSON shape."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        view = self.view
        public = any(p is AllowAny for p in getattr(view, "permission_classes", ()))
        extra: dict[str, Any] = {"400": VALIDATION_ERROR}
        if not public:
            extra["401"] = OpenApiResponse(ERROR, description="No valid token or session.")
            extra["403"] = OpenApiResponse(ERROR, description="Signed in, but the role does not allow this.")
        if "{" in self.path:
            extra["404"] = OpenApiResponse(ERROR, description="No such object, or not one this user may see.")
        extra["429"] = OpenApiResponse(ERROR, description="Too many requests: wait and retry.")
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


# --- Auth: tokens that expire, revocable -------------------------------------------


class SignInUnavailable(APIException):
    """The sign-in throttle's counters do not answer: no password is checked until they do."""

    status_code = 503
    default_detail = "Signing in is unavailable for a moment: try again shortly."
    default_code = "sign_in_unavailable"
    wait = 5  # sent as Retry-After


class PortalTokenScheme(KnoxTokenScheme):
    """The schema describes the portal's tokens as knox's (they are). Every view authenticates
    with the portal's class (logging out too), so the scheme has one identity."""

    target_class = "portal.two_factor.PortalTokenAuthentication"


class TokenRequestSerializer(serializers.Serializer):
    """A username and password (and the two-factor code, for an account that uses one), exchanged
    for a token. Failed attempts count towards the same lockout as the sign-in page."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, write_only=True)
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The current code from the authenticator app, or a recovery code (accounts with two-factor only).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from portal import login_throttle, two_factor
        from portal.models import lock_account

        request = self.context.get("request")
        django_request = getattr(request, "_request", request)
        username = attrs["username"]
        user = authenticate(request=django_request, username=username, password=attrs["password"])
        refused = login_throttle.refusal(django_request)
        if refused is not None:
            if refused.locked:
                raise Throttled(wait=login_throttle.lockout_seconds(), detail=refused.message)
            raise SignInUnavailable(refused.message)
        if user is None or not user.is_active:
            raise ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: ["Unable to sign in with the username and password given."]},
                code="authorization",
            )
        # Held until the token is saved: two-factor authentication turned on meanwhile is either
        # seen here or revokes this token with the others.
        lock_account(user)
        attrs["second_factor"] = False
        if two_factor.user_has_device(user):
            if not attrs.get("otp"):
                raise ValidationError(
                    {"otp": ["This account uses two-factor authentication: send the current code as otp."]}
                )
            if not two_factor.verify_code(user, attrs["otp"]):  # the attempt stays counted
                raise ValidationError({"otp": ["That code is not valid; codes change every 30 seconds."]})
            login_throttle.record_success(username, django_request)
            attrs["second_factor"] = True
        elif two_factor.two_factor_required(user):
            raise ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        "This account must set up two-factor authentication in the portal before using the API."
                    ]
                }
            )
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    """A token to send as ``Authorization: Token <token>``, and when it expires."""

    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class TokenObtainView(knox_views.LoginView):
    """Exchange a username and password for a token that expires (only its digest is stored)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer},
        auth=[],
    )
    def post(self, request: Request, format: str | None = None) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        request.user = serializer.validated_data["user"]
        self.second_factor = serializer.validated_data["second_factor"]
        return super().post(request, format=format)

    def create_token(self) -> tuple[Any, str]:
        """The token, marked when it was issued after a verified two-factor code."""
        from portal.models import TokenSecondFactor

        instance, token = super().create_token()
        if getattr(self, "second_factor", False):
            TokenSecondFactor.objects.create(token=instance)
        return instance, token


class TokenRevokeView(knox_views.LogoutView):
    """Revoke the token this request is made with."""

    authentication_classes = [PortalTokenAuthentication]

    @extend_schema(tags=["auth"], operation_id="auth_logout", request=None, responses={204: None})
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format=format)


class TokenRevokeAllView(knox_views.LogoutAllView):
    """Revoke every token of the user this request is made for."""

    authentication_classes = [PortalTokenAuthentication]

    @extend_schema(tags=["auth"], operation_id="auth_logout_all", request=None, responses={204: None})
    def post(self, request: Request, format: str | None = None) -> Response:
        return super().post(request, format=format)
