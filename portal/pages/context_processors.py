"""Template context for every page: the signed-in user's unread alert count."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from alerts.inbox import unread_count


def unread_alerts(request: HttpRequest) -> dict[str, object]:
    """``unread_alert_count``: the user's unread inbox entries, counted in one query, and only
    when a template shows it (a page that does not pays nothing, not even the user's lookup)."""

    def count() -> int:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return 0
        return unread_count(user)

    return {"unread_alert_count": SimpleLazyObject(count)}
