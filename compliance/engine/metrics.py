"""Defined terms a covenant tests: the formula evaluated on the window sums of the line items
it names ("min(addbacks, 5000000)" caps the window's add-backs; a ratio divides window sums).

Each metric is parsed once (cached by its definition). A division by zero gives no value: the
test is then undecided, never compliant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from covenants.formula_syntax import BinaryOp
from covenants.formulas import Formula, evaluate_all, explain, parse

from .types import MetricSpec


@dataclass(frozen=True)
class ParsedMetric:
    """A metric's formula and the definitions it reads, in dependency order, with the line items
    (names that are not defined terms) it needs."""

    formula: Formula
    definitions: tuple[tuple[str, Formula], ...]
    line_items: tuple[str, ...]
    # A formula that is a quotient at its top ("(ebitda - capex) / fixed_charges") is a ratio.
    numerator: Formula | None
    denominator: Formula | None


@lru_cache(maxsize=4096)
def parsed(metric: MetricSpec) -> ParsedMetric:
    """The metric parsed (once per definition): only the definitions it reads, directly or not."""
    formula = parse(metric.formula)
    available = {name: text for name, text in metric.definitions if name != metric.name}
    needed: dict[str, Formula] = {}
    pending = sorted(formula.names())
    items: set[str] = set()
    while pending:
        name = pending.pop()
        if name in needed or name in items:
            continue
        if name in available:
            needed[name] = parse(available[name])
            pending.extend(sorted(needed[name].names()))
        else:
            items.add(name)
    root = formula.root
    quotient = root if formula.is_quotient() and isinstance(root, BinaryOp) else None
    return ParsedMetric(
        formula=formula,
        definitions=tuple(needed.items()),
        line_items=tuple(sorted(items)),
        numerator=Formula(quotient.left) if quotient is not None else None,
        denominator=Formula(quotient.right) if quotient is not None else None,
    )


def is_ratio(metric: MetricSpec) -> bool:
    """Whether the metric is a ratio (a quotient at its top): shown "1.25 to 1.00", rounded against compliance."""
    return parsed(metric).denominator is not None


def values_of(metric: MetricSpec, sums: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
    """The line items' sums with every definition the metric reads evaluated on them."""
    definitions = dict(parsed(metric).definitions)
    values: dict[str, Decimal | None] = dict(sums)
    values.update(evaluate_all(definitions, sums) if definitions else {})
    return values


def quotient_parts(metric: MetricSpec, values: Mapping[str, Decimal | None]) -> tuple[Decimal | None, Decimal | None]:
    """A ratio metric's numerator and denominator, evaluated."""
    shape = parsed(metric)
    assert shape.numerator is not None and shape.denominator is not None
    return shape.numerator.evaluate(values), shape.denominator.evaluate(values)


def flow_value(metric: MetricSpec, values: Mapping[str, Decimal | None]) -> Decimal | None:
    """The metric's value; None when a division by zero leaves it without one."""
    return parsed(metric).formula.evaluate(values)


def explained(metric: MetricSpec, values: Mapping[str, Decimal | None], *, labels: bool = True) -> str:
    """The formula with its values in place (covenants.formulas.explain); ``labels`` names each figure."""
    return explain(parsed(metric).formula, values, labels=labels)


def explained_definitions(metric: MetricSpec, values: Mapping[str, Decimal | None]) -> dict[str, str]:
    """Each definition the metric reads, with its values in place, by name."""
    return {name: explain(formula, values) for name, formula in parsed(metric).definitions}
