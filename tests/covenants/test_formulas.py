"""Defined-term formulas (covenants.formulas): parsing, Decimal evaluation, caps, division by zero,
definitions that refer to each other, explanations, limits and hostile text. No database."""

from __future__ import annotations

import contextlib
import copy
import pickle
import re
import time
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from covenants.formula_syntax import BinaryOp, Call, Name, Negate, Node, Number
from covenants.formulas import (
    CONTEXT,
    Formula,
    FormulaError,
    MissingFigure,
    check_definitions,
    evaluate_all,
    explain,
    parse,
)

D = Decimal
EBITDA = (
    "net_income + interest_expense + taxes + depreciation + amortization"
    " + min(addbacks, 5000000, 15% * ebitda_before_addbacks)"
)


def value(text: str, **values: int | str) -> Decimal | None:
    return parse(text).evaluate({name: D(amount) for name, amount in values.items()})


# --- Arithmetic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("10 - 4 - 3", "3"),
        ("10 - (4 - 3)", "9"),
        ("100 / 10 / 5", "2"),
        ("-2 * 3", "-6"),
        ("2 * -3", "-6"),
        ("-(2 + 3)", "-5"),
        ("--2", "2"),
        ("2 - -2", "4"),
        ("50%", "0.5"),
        ("12.5% * 80", "10"),
        ("abs(3 - 10)", "7"),
        ("max(-5, 0)", "0"),
        ("1 / 3", "0.3333333333333333333333333333"),
        ("0.1 + 0.2", "0.3"),
    ],
)
def test_precedence_unary_minus_and_percent(text: str, expected: str) -> None:
    assert value(text) == D(expected)


def test_full_decimal_precision_and_no_float() -> None:
    result = value("a / 7", a="1000000")
    assert isinstance(result, Decimal)
    assert result == D("142857.1428571428571428571429")  # 28 significant digits
    with pytest.raises(TypeError, match="the figure for 'a' is float, not Decimal"):
        parse("a + 1").evaluate({"a": 1.5})


def test_consolidated_ebitda_with_each_cap_binding() -> None:
    base = {"net_income": 1000, "interest_expense": 200, "taxes": 100, "depreciation": 50, "amortization": 100}
    # The 15% cap binds: 15% of 12,000,000 is 1,800,000, below 3,000,000 and 5,000,000.
    assert value(EBITDA, **base, addbacks=3_000_000, ebitda_before_addbacks=12_000_000) == D(1_801_450)
    # The 5,000,000 cap binds: 15% of 50,000,000 is 7,500,000.
    assert value(EBITDA, **base, addbacks=6_000_000, ebitda_before_addbacks=50_000_000) == D(5_001_450)
    # Neither binds.
    assert value(EBITDA, **base, addbacks=1_000_000, ebitda_before_addbacks=50_000_000) == D(1_001_450)


def test_floors() -> None:
    assert value("max(ebitda, 0)", ebitda=-5) == 0
    assert value("max(ebitda, 0)", ebitda=5) == 5


def test_division_by_zero_gives_no_result() -> None:
    fccr = "(ebitda - capex - cash_taxes) / (interest_expense + scheduled_principal)"
    figures = {"ebitda": 10, "capex": 2, "cash_taxes": 1, "interest_expense": 2, "scheduled_principal": 1}
    assert value(fccr, **figures) == D(7) / D(3)
    assert value(fccr, **{**figures, "interest_expense": 0, "scheduled_principal": 0}) is None
    assert value("0 / 0") is None
    assert value("min(a / b, 5) + 1", a=1, b=0) is None
    assert value("-(a / b)", a=1, b=0) is None


def test_a_missing_figure_is_named() -> None:
    with pytest.raises(MissingFigure) as raised:
        parse("cash + availability + other").evaluate({"cash": D(1)})
    assert isinstance(raised.value, KeyError)
    assert raised.value.names == ("availability", "other")
    assert str(raised.value) == "no figure for 'availability', 'other'."


# --- Text and structure --------------------------------------------------------------------------


def test_canonical_text() -> None:
    assert parse("  a+b*c ").to_text() == "a + b * c"
    assert parse("((a + b)) * c").to_text() == "(a + b) * c"
    assert parse("a - (b - c)").to_text() == "a - (b - c)"
    assert parse("(a - b) - c").to_text() == "a - b - c"
    assert parse("a / (b * c)").to_text() == "a / (b * c)"
    assert parse("-(a * b)").to_text() == "-(a * b)"
    assert parse("min(a,b,  15%)").to_text() == "min(a, b, 15%)"
    assert parse("a + b") == parse("a+b") and hash(parse("a + b")) == hash(parse("a+b"))
    assert parse("a + b") != parse("b + a")


def test_names_and_divisors() -> None:
    formula = parse("(ebitda - capex) / (interest + principal) + cash / 4 + x / max(y, 1)")
    assert formula.names() == {"ebitda", "capex", "interest", "principal", "cash", "x", "y"}
    assert [d.to_text() for d in formula.divisors()] == ["interest + principal", "4", "max(y, 1)"]
    assert formula.division_warnings() == [
        "division by 'interest + principal' at position 21, which may be zero: "
        "guard it with max(...) or accept that a zero gives no result."
    ]
    assert parse("a / (1 + abs(b))").division_warnings() == []
    assert len(parse("a / min(b, 1)").division_warnings()) == 1


def test_a_formula_pickles_and_copies() -> None:
    formula = parse(EBITDA)
    again = pickle.loads(pickle.dumps(formula))
    assert again == formula and hash(again) == hash(formula) and copy.deepcopy(formula) == formula
    assert again.evaluate(dict.fromkeys(again.names(), D(1))) == D("5.15")  # the 15% cap binds


# --- Errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "the formula is empty", 1),
        ("a +", "the formula ends too early at position 4", 4),
        ("(a + b", "unbalanced parenthesis at position 1: it is not closed", 1),
        ("min(a, b", "unbalanced parenthesis at position 4", 4),
        ("a + b)", "unbalanced parenthesis at position 6: nothing to close", 6),
        ("5,000,000", "commas are not allowed in numbers at position 2", 2),
        ("min(a, 1,000)", "commas are not allowed in numbers", 9),
        ("5_000_000", "underscores are not allowed in numbers at position 2", 2),
        ("1e6", "unexpected 'e' after a number at position 2", 2),
        ("1.", "digits on both sides of its decimal point", 1),
        ("1.2.3", "unexpected '.' at position 4", 4),
        ("Net_Income", "names are written in lowercase", 1),
        ("a % b", "'%' follows a number only, at position 3", 3),
        ("foo(a)", "unknown function 'foo' at position 1", 1),
        ("min(a)", "min takes at least two arguments, not 1", 1),
        ("abs(a, b)", "abs takes one argument, not 2", 1),
        ("max + 1", "max is a function at position 1", 1),
        ("a b", "expected an operator at position 3, found 'b'", 3),
        ("a * * b", "expected a number, a name or '(' at position 5, found '*'", 5),
        ("min(a b)", "expected ',' or ')' at position 7, found 'b'", 7),
        ("(a, b)", "expected ')' at position 3, found ','", 3),
        ("a + $", "unexpected character '$' at position 5", 5),
        ("__import__('os')", 'unexpected character "\'"', 12),
    ],
)
def test_errors_name_the_problem_and_position(text: str, message: str, position: int) -> None:
    with pytest.raises(FormulaError, match=re.escape(message)) as raised:
        parse(text)
    assert raised.value.position == position
    assert isinstance(raised.value, ValueError)


def test_limits() -> None:
    parse("(" * 32 + "a" + ")" * 32)
    with pytest.raises(FormulaError, match="nests deeper than 32 levels at position 33"):
        parse("(" * 33 + "a" + ")" * 33)
    with pytest.raises(FormulaError, match="nests deeper than 32 levels"):
        parse("-" * 40 + "a")
    with pytest.raises(FormulaError, match="nests deeper than 32 levels"):
        parse("abs(" * 40 + "a" + ")" * 40)
    with pytest.raises(FormulaError, match="2,001 characters long: at most 2,000"):
        parse("a" * 2001)
    with pytest.raises(FormulaError, match="more than 500 parts"):
        parse("a+" * 250 + "a")


def test_the_longest_sum_allowed_still_works() -> None:
    formula = parse(" + ".join(["a"] * 250))  # 499 parts: the deepest tree the limits allow
    assert formula.evaluate({"a": D(2)}) == 500
    assert parse(formula.to_text()) == formula
    assert hash(formula) == hash(parse(formula.to_text()))
    assert explain(formula, {"a": D(2)}).endswith("= 500")


def test_hostile_text_is_refused_quickly() -> None:
    for text in ["(" * 10_000, "x" * 1_000_000, "(" * 1000 + "a" + ")" * 999, "-" * 1999 + "1", "1" * 1999 + "%"]:
        started = time.perf_counter()
        with contextlib.suppress(FormulaError):
            parse(text).evaluate({})
        assert time.perf_counter() - started < 0.5
    with pytest.raises(FormulaError, match="a formula is text"):
        parse(b"a + b")


# --- Defined terms -------------------------------------------------------------------------------

LINE_ITEMS = {"net_income", "interest_expense", "taxes", "depreciation", "amortization", "cash", "availability"}


def test_definitions_come_back_in_dependency_order_and_evaluate() -> None:
    formulas = check_definitions(
        {
            "leverage_check": "ebitda / interest_expense",
            "ebitda": "net_income + interest_expense + taxes + depreciation + amortization",
            "liquidity": "cash + availability",
        },
        LINE_ITEMS,
    )
    assert list(formulas) == ["ebitda", "leverage_check", "liquidity"]
    figures = {item: D(100) for item in LINE_ITEMS}
    assert evaluate_all(formulas, figures) == {"ebitda": D(500), "leverage_check": D(5), "liquidity": D(200)}
    figures["interest_expense"] = D(0)
    assert evaluate_all(formulas, figures)["leverage_check"] is None


def test_a_term_reading_a_term_without_result_has_none() -> None:
    formulas = check_definitions({"ratio": "cash / availability", "twice": "ratio * 2"}, LINE_ITEMS)
    assert evaluate_all(formulas, {"cash": D(1), "availability": D(0)}) == {"ratio": None, "twice": None}


def test_evaluate_all_names_every_missing_figure() -> None:
    formulas = check_definitions({"a": "cash + taxes", "b": "a + availability"}, LINE_ITEMS)
    with pytest.raises(MissingFigure) as raised:
        evaluate_all(formulas, {"cash": D(1)})
    assert raised.value.names == ("availability", "taxes")


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        ({"ebitda": "net_income + ebitdaa"}, r"in 'ebitda': unknown name 'ebitdaa' at position 14"),
        ({"x": "net_incme"}, r"unknown name 'net_incme' at position 1 \(did you mean 'net_income'\?\)"),
        ({"ebitda": "ebitda + 1"}, "'ebitda' refers to itself at position 1"),
        (
            {"ebitda": "adjusted_ebitda - 1", "adjusted_ebitda": "ebitda + cash"},
            "the definitions go round in a circle: ebitda -> adjusted_ebitda -> ebitda",
        ),
        ({"a": "b", "b": "c", "c": "a"}, "a circle: a -> b -> c -> a"),
        ({"x": "cash +"}, "in 'x': the formula ends too early at position 7"),
        ({"Adjusted EBITDA": "cash"}, "a defined term's name is lowercase"),
        ({"min": "cash"}, "'min' is a function's name"),
        ({"cash": "availability"}, "'cash' is a line item's name"),
    ],
)
def test_bad_definitions_are_refused_with_a_reason(definitions: dict[str, str], message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        check_definitions(definitions, LINE_ITEMS)


def test_evaluate_all_refuses_a_circle_it_was_given() -> None:
    circle = {"a": parse("b + 1"), "b": parse("a + 1")}
    with pytest.raises(FormulaError, match="a -> b -> a"):
        evaluate_all(circle, {})


# --- Explanations --------------------------------------------------------------------------------


def test_a_cap_explained() -> None:
    cap = parse("min(addbacks, 5000000, 15% * ebitda_before_addbacks)")
    figures = {"addbacks": D(3_000_000), "ebitda_before_addbacks": D(12_000_000)}
    assert explain(cap, figures, labels=False) == "min(3,000,000, 5,000,000, 15% × 12,000,000 = 1,800,000) = 1,800,000"
    assert explain(cap, figures).startswith("min(addbacks 3,000,000, 5,000,000, 15% × ebitda before addbacks")


def test_a_sum_and_a_ratio_explained() -> None:
    assert explain(parse("cash + availability"), {"cash": D(1000), "availability": D(450)}) == (
        "cash 1,000 + availability 450 = 1,450"
    )
    fccr = parse("(ebitda - capex) / (interest + principal)")
    figures = {"ebitda": D(10), "capex": D(2), "interest": D(2), "principal": D(1)}
    assert explain(fccr, figures) == "(ebitda 10 - capex 2 = 8) / (interest 2 + principal 1 = 3) = 2.6667"
    figures["interest"] = figures["principal"] = D(0)
    assert explain(fccr, figures).endswith("/ (interest 0 + principal 0 = 0) = no result")
    assert explain(parse("a + max(b, 0)"), {"a": D(-1500), "b": D(-3)}, labels=False) == (
        "-1,500 + (max(-3, 0) = 0) = -1,500"
    )


# --- Properties ----------------------------------------------------------------------------------

_NAMES = ["a", "b", "net_income", "x1", "_tmp"]
_numbers = st.builds(
    Number,
    st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False).map(D.copy_abs),
    st.booleans(),
)
_leaves = _numbers | st.builds(Name, st.sampled_from(_NAMES))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return (
        st.builds(Negate, children)
        | st.builds(BinaryOp, st.sampled_from("+-*/"), children, children)
        | st.builds(Call, st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=4).map(tuple))
        | st.builds(lambda child: Call("abs", (child,)), children)
    )


_formulas = st.recursive(_leaves, _extend, max_leaves=16).map(Formula)
_values = st.fixed_dictionaries(
    {name: st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False) for name in _NAMES}
)


def _parsed(text: str) -> Formula:
    try:
        return parse(text)
    except FormulaError as error:  # a generated tree may nest deeper than the limit allows
        assume("nests deeper" not in error.message)
        raise


@given(_formulas)
def test_a_formula_is_the_parse_of_its_text(formula: Formula) -> None:
    again = _parsed(formula.to_text())
    assert again == formula
    assert again.to_text() == formula.to_text()


@given(_formulas, _formulas, _values)
def test_a_sum_evaluates_to_the_sum_of_its_parts(left: Formula, right: Formula, values: dict[str, Decimal]) -> None:
    total = _parsed(f"({left.to_text()}) + ({right.to_text()})").evaluate(values)
    a, b = left.evaluate(values), right.evaluate(values)
    assert total == (None if a is None or b is None else CONTEXT.add(a, b))


@given(st.lists(_values.map(lambda values: values["a"]), min_size=1, max_size=30))
def test_a_long_sum_equals_the_running_total(amounts: list[Decimal]) -> None:
    names = {f"p{index}": amount for index, amount in enumerate(amounts)}
    total = Decimal(0)
    for amount in amounts:
        total = CONTEXT.add(total, amount)
    assert parse(" + ".join(names)).evaluate(names) == total


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_with_a_formula_error(text: str) -> None:
    try:
        parse(text)
    except FormulaError as error:
        assert error.position is None or 1 <= error.position <= len(text) + 1
