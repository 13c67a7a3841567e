"""Template filters for amounts, ratios and statuses, written as the agreements write them.

The status badge and a result's explanation are tags that build their HTML in Python: pages
show them once per result (the agreement page of a long agreement, hundreds of times, with
thousands of figures), and an included template per row cost more than the rest of the page.
Every value is escaped as the template would escape it.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from django import template
from django.conf import settings
from django.template.base import render_value_in_context
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone, is_aware

from compliance import formatting
from portal.templatetags.document_links import source_link

if TYPE_CHECKING:
    from covenants.models import CovenantTerms
    from portal.pages.selectors import FigureUsed, PageOf, ResultView
    from portal.pages.selectors.documents import Source

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    """$18,000,000; negatives in parentheses: ($4,157,000)."""
    return formatting.money(value)


@register.filter
def figure(value: Decimal | None, is_ratio: bool = False) -> str:
    """An amount, or a ratio (5.75 to 1.00) when the covenant tests a ratio."""
    return formatting.figure(value, is_ratio=is_ratio)


@register.filter
def headroom(value: Decimal | None, is_ratio: bool = False) -> str:
    """Headroom as an amount, or for a ratio as a plain number; negative means short of the threshold."""
    return formatting.headroom(value, is_ratio=is_ratio)


@register.filter
def percent(value: Decimal | None) -> str:
    """12.34%."""
    return formatting.percent(value)


@register.filter
def long_date(value: dt.date | None) -> str:
    """December 31, 1999, as the agreements (and the alerts, e-mails and explanations) write a date."""
    return formatting.long_date(value) if isinstance(value, dt.date) else ""


@register.filter
def isodate(value: dt.date | None) -> str:
    """2001-03-31: what ``date:"Y-m-d"`` gives, without the localisation machinery it goes through."""
    return value.isoformat() if isinstance(value, dt.date) else ""


# --- Statuses and explanations ------------------------------------------------------------------

_STATUS_MARKS = {"breach": "✕", "near_breach": "!", "compliant": "✓", "waived": "~", "incomplete": "?"}
_PROVISIONAL = mark_safe(
    ' <small class="provisional" title="Computed under an amendment still pending its conditions precedent">'
    "provisional</small>"
)


@register.simple_tag
def status_badge(status: str, label: str, provisional: bool = False) -> SafeString:
    """A status as colour (the class) and word together, never colour alone, and whether it is provisional."""
    return _badge(str(status), str(label), bool(provisional))


@lru_cache(maxsize=64)
def _badge(status: str, label: str, provisional: bool) -> SafeString:
    # A handful of statuses and labels, written once each: a long agreement's page has hundreds of
    # badges, and format_html escapes through Django's lazy-string wrappers.
    badge = format_html(
        '<span class="status status-{}"><span class="status-mark" aria-hidden="true">{}</span> {}</span>',
        status,
        _STATUS_MARKS.get(status, "–"),
        label,
    )
    return badge + _PROVISIONAL if provisional else badge


def _quarters(days: list[dt.date]) -> str:
    return ", ".join(day.isoformat() for day in days)


@register.simple_tag(takes_context=True)
def explanation(context: template.Context, view: ResultView) -> SafeString:
    """How a result was computed: its explanation in words, the quarters of its window, every
    figure used (whose, which quarter, which statement version and file) and what is missing.

    A figure's row is written once per page: the results of a page share their figures (a
    quarter's figure is in every window that covers it), and the rows are kept for the render."""
    # The standard library's escape, as Django's does it, without its lazy-string wrapper (it
    # runs for every cell of every figure).
    escape = html.escape
    rows: dict[int, tuple[FigureUsed, str]] = context.render_context.setdefault("explanation_rows", {})
    sources: dict[tuple, str] = context.render_context.setdefault("explanation_sources", {})
    if "explanation_zone" not in context.render_context:
        # Looked up once per render, not once per statement.
        context.render_context["explanation_zone"] = get_current_timezone()
    zone = context.render_context["explanation_zone"]
    parts = ['<div class="explanation">\n  <p>', escape(view.result.explanation), "</p>\n"]
    if view.window:
        parts += ["  <p><strong>Quarters:</strong> ", _quarters(view.window)]
        if view.denominator_window and view.denominator_window != view.window:
            parts += ["; denominator: ", _quarters(view.denominator_window)]
        parts.append(".</p>\n")
    if view.figures:
        parts.append(
            '  <table class="figures">\n'
            f"    <caption>Figures used ({len(view.figures)}), from the current version of each Borrower's "
            "statement</caption>\n"
            '    <thead><tr><th scope="col">Borrower</th><th scope="col">Quarter</th><th scope="col">Line item</th>'
            '<th scope="col" class="num">Amount</th><th scope="col">Statement</th></tr></thead>\n    <tbody>\n    '
        )
        for f in view.figures:
            # Keyed by the figure object, kept alive beside its row so that its id is not reused.
            held = rows.get(id(f))
            if held is None or held[0] is not f:
                held = rows[id(f)] = (f, _figure_row(f, sources, zone))
            parts.append(held[1])
        parts.append("\n    </tbody>\n  </table>\n")
    if view.missing:
        parts.append("  <p><strong>Missing:</strong></p>\n  <ul>")
        for m in view.missing:
            parts += ["<li>", escape(str(m["name"])), ", fiscal quarter ending ", m["period_end"].isoformat()]
            if m["line_item"]:
                parts += [" (", escape(str(m["line_item"])), ")"]
            parts.append("</li>")
        parts.append("</ul>\n")
    parts.append("</div>")
    # Every value above was escaped; the rest is this function's own markup.
    return mark_safe("".join(parts))  # noqa: S308


@register.simple_tag(takes_context=True)
def result_row(context: template.Context, view: ResultView, each_borrower: bool = False) -> SafeString:
    """A result's row on the agreement page: test date, (Borrower,) value, threshold, headroom,
    status, and its explanation on demand. Written here rather than in the template: a long
    agreement has hundreds of results, and a dozen template variables with filters per row
    cost more than the page's queries."""
    escape = html.escape
    r = view.result
    ratio = view.is_ratio
    day = r.test_date.isoformat()
    headroom_text = headroom(r.headroom, ratio)
    if r.headroom_percent is not None:
        headroom_text += f"<br><small>{percent(r.headroom_percent)}</small>"
    borrower = f"<td>{escape(str(view.borrower_name))}</td>" if each_borrower else ""
    note = f'<br><small class="date-read">{escape(view.date_note)}</small>' if view.date_note else ""
    row = (
        f'<tr class="row-{escape(str(view.status))}" id="result-{r.pk}">\n'
        f"        <td>{day}{note}</td>\n        {borrower}\n"
        f'        <td class="num">{escape(figure(r.value, ratio))}</td>\n'
        f'        <td class="num">{escape(figure(r.threshold, ratio))}</td>\n'
        f'        <td class="num">{headroom_text}</td>\n'
        f"        <td>{status_badge(view.status, view.status_label, r.provisional)}</td>\n"
        '        <td class="explain">\n          <details>\n'
        f'            <summary>Explain<span class="visually-hidden"> the result of {day}</span></summary>\n'
        f"            {explanation(context, view)}\n          </details>\n        </td>\n      </tr>"
    )
    # The values were escaped (the badge and explanation escape their own); the rest is markup.
    return mark_safe(row)  # noqa: S308


def _figure_row(f: FigureUsed, sources: dict[tuple, str], zone: dt.tzinfo) -> str:
    """A figure's row in an explanation's table, its values escaped. ``sources`` keeps each
    statement's file and day, written once per page (a statement carries several figures);
    ``zone`` is the site's time zone, where the day is read."""
    escape = html.escape
    key = (f.statement_id, f.filename, f.submitted_at)
    source = sources.get(key)
    if source is None:
        source = ""
        if f.filename:
            # The day as the date filter shows it: in the site's time zone.
            day = f", {_local_day(f.submitted_at, zone).isoformat()}" if f.submitted_at else ""
            source = f"<br><small>{escape(str(f.filename))}{day}</small>"
        sources[key] = source
    return (
        f"<tr><td>{escape(str(f.borrower))}</td><td>{f.period_end.isoformat()}</td><td>{escape(str(f.line_item))}"
        f'</td><td class="num">{escape(formatting.money(f.amount))}</td><td>#{f.statement_id} version {f.version}'
        f"{' (restated)' if f.version > 1 else ''}{source}</td></tr>"
    )


def _local_day(moment: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The day of ``moment`` in ``zone``, as the date filter finds it (``template_localtime``)."""
    return moment.astimezone(zone).date() if settings.USE_TZ and is_aware(moment) else moment.date()


# --- A covenant's schedule ------------------------------------------------------------------------

_THEREAFTER = {"month": " and each fiscal month thereafter", "year": " and each fiscal year thereafter"}


@register.simple_tag(takes_context=True)
def schedule_rows(
    context: template.Context,
    terms: CovenantTerms,
    is_ratio: bool,
    sources: dict[tuple[str, int], list[Source]] | None,
    agreement_pk: int,
) -> SafeString:
    """The rows of a covenant's schedule on the agreement page: test date (with each fiscal period
    thereafter, and the date as printed when it was read), the threshold as printed with its
    source, and the comparison. A tag for the same reason as :func:`result_row`: a schedule of
    forty quarters was forty rows of a dozen template variables, on every agreement page."""
    escape = html.escape
    thereafter = _THEREAFTER.get(terms.frequency, " and each fiscal quarter thereafter")
    direction = escape(str(terms.get_direction_display()))
    rows = []
    for step in terms.schedule.all():
        day = isodate(step.test_date)
        if step.applies_thereafter:
            day += thereafter
        if step.date_reading:
            day += (
                f'<br><small class="date-read">date as printed: {escape(str(step.date_as_printed))} '
                f"({escape(str(step.date_reading))})</small>"
            )
        if step.threshold_state != "set":
            printed = escape(str(step.get_threshold_state_display()))
        elif step.amount_as_printed:
            printed = escape(str(step.amount_as_printed))
        else:  # the threshold as the template would write a bare value
            printed = render_value_in_context(step.threshold, context)
        comparison = direction
        if step.threshold is not None:
            comparison += f" {escape(figure(step.threshold, is_ratio))}"
        rows.append(
            f'<tr><td>{day}</td><td class="num">{printed} {source_link(sources, step, agreement_pk)}</td>'
            f"<td>{comparison}</td></tr>"
        )
    # Every value above was escaped (the source links by format_html); the rest is markup.
    return mark_safe("".join(rows))  # noqa: S308


# --- Pages of long tables ------------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def page_link(context: template.Context, page: PageOf, number: int) -> str:
    """The query string of another page of a table: this page's filters and the other tables'
    pages kept, only this table's page changed."""
    query = context["request"].GET.copy()
    if number > 1:
        query[page.param] = str(number)
    else:
        query.pop(page.param, None)
    return "?" + query.urlencode() if query else "?"
