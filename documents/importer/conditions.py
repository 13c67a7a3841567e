"""Conditions precedent: what must happen before the amendment takes effect, and by when,
with a deadline kept as printed (a blank day stays unknown)."""

from __future__ import annotations

import re

from .text import Flat, squash
from .types import Condition
from .values import DATE_RE, parse_date

CP_HEAD_RE = re.compile(
    r"\b(?:conditions precedent|conditions to (?:effectiveness|closing)|conditions of effectiveness)\b"
    r"|(?<=[0-9]\. )Effectiveness\.",
    re.IGNORECASE,
)
ONLY_IF_RE = re.compile(
    r"\b(?:if, and only if, |if and only if |upon (?:the )?(?=satisfaction|receipt)|subject to |when )", re.IGNORECASE
)
DEADLINE_RE = re.compile(r"\b(?:on or prior to|on or before|no later than|not later than|by) ", re.IGNORECASE)
ITEM_RE = re.compile(r"\(([a-h]|i{1,3}|iv|v|vi)\) ")
END_RE = re.compile(r" (?:SECTION |Section )?\d{1,2}\. [A-Z][A-Za-z ,&]{3,60}?\. ")


def read_conditions(flat: Flat) -> list[Condition]:
    text = flat.text
    out: list[Condition] = []
    last_end = -1
    for head in CP_HEAD_RE.finditer(text):
        if head.start() < last_end:
            continue  # a mention inside the conditions already read
        end_m = END_RE.search(text, head.end(), head.end() + 3000)
        end = end_m.start() if end_m else min(len(text), head.end() + 3000)
        last_end = end
        body = text[head.end() : end]
        start = head.end()
        m = ONLY_IF_RE.search(body)
        if m:
            start += m.end()
            body = body[m.end() :]
        items = list(ITEM_RE.finditer(body))
        parts = [
            (body[i.end() : items[k + 1].start() if k + 1 < len(items) else len(body)], start + i.end())
            for k, i in enumerate(items)
        ] or [(body, start)]
        for part, base in parts:
            out.append(_condition(flat, part, base))
    return out


def _condition(flat: Flat, part: str, base: int) -> Condition:
    deadline, printed, flags = None, None, []
    description = part
    for d in DEADLINE_RE.finditer(part):
        date_m = DATE_RE.match(part, d.end())
        if not date_m:
            continue
        pd = parse_date(date_m)
        printed, deadline, flags = pd.as_printed, pd.value, list(pd.flags)
        description = part[: d.start()]
        break
    span = flat.span(base, base + len(part.rstrip(" .;")))
    if printed and deadline is None:
        reason = "deadline printed with a blank day: kept unknown"
        flags.append("deadline_unknown")
    elif printed:
        reason = "condition with a deadline"
    else:
        reason = "condition without a deadline"
    return Condition(squash(description).rstrip(" ,.;"), deadline, printed, span, 0.85, reason, tuple(flags))
