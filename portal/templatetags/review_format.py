"""Review items' values as a reader sees them: blanks named, lists and objects as short text."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def plain(value: Any) -> str:
    """None as "blank", a list as its entries joined by "; ", an object as "field: value" pairs."""
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(plain(v) for v in value) if value else "none"
    return str(value)


@register.filter
def field_name(name: str) -> str:
    return str(name).replace("_", " ")


@register.filter
def who(user: Any) -> str:
    """A person by name (or username); a decision taken by no user, such as the seed documents'
    stored decisions, is the system's."""
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()
