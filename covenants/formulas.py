"""
Defined terms as formulas: "Consolidated EBITDA = net_income + interest_expense + ... +
min(addbacks, 5000000, 15% * ebitda_before_addbacks)".

A small, safe expression language (grammar in covenants.formula_syntax): decimal numbers with an
optional %, lowercase names of line items and other defined terms, + - * /, unary minus,
parentheses, and min, max and abs. Arithmetic is Decimal at 28 significant digits, never float.
A division by zero gives None, "no result", never an exception; a name without a figure raises
MissingFigure. Pure Python: no Django, no clock.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from covenants.formula_syntax import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TOKENS,
    NAME,
    BinaryOp,
    Call,
    FormulaError,
    Name,
    Negate,
    Node,
    Number,
    parse_node,
    precedence,
    to_text,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TOKENS",
    "Formula",
    "FormulaError",
    "MissingFigure",
    "check_definitions",
    "evaluate_all",
    "explain",
    "parse",
]

# Precision 28 is Decimal's default; set here so that no caller's context changes a result.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, DivisionByZero])
Values = Mapping[str, Decimal | None]
_Run = Callable[[Values], Decimal | None]


class MissingFigure(KeyError):
    """A formula names something the values do not hold; ``names`` lists every one missing."""

    def __init__(self, names: frozenset[str] | set[str]) -> None:
        self.names = tuple(sorted(names))
        self.name = self.names[0]
        super().__init__(self.name)

    def __str__(self) -> str:
        return f"no figure for {', '.join(map(repr, self.names))}."


@dataclass(frozen=True)
class Formula:
    """A parsed formula: immutable and hashable; equal when the trees are (whatever the spacing)."""

    root: Node
    # Derived once: evaluation runs the same formula for every Borrower and test date.
    _names: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())
    _run: _Run = field(init=False, repr=False, compare=False)
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", frozenset(node.name for node in _walk(self.root) if isinstance(node, Name)))
        object.__setattr__(self, "_run", _compile(self.root))
        object.__setattr__(self, "_hash", hash(self.root))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Formula], tuple[Node]]:
        # Rebuilt, not restored: the compiled function does not pickle, and string hashes vary by process.
        return Formula, (self.root,)

    def __str__(self) -> str:
        return self.to_text()

    def names(self) -> frozenset[str]:
        """The line items and defined terms the formula reads."""
        return self._names

    def evaluate(self, values: Values) -> Decimal | None:
        """The formula's value; None when a division by zero (or a None value) leaves no result.
        Raises MissingFigure naming every name ``values`` lacks."""
        missing = self._names.difference(values)
        if missing:
            raise MissingFigure(missing)
        return self._run(values)

    def to_text(self) -> str:
        """The canonical text: parse(f.to_text()) == f."""
        return to_text(self.root)

    def is_quotient(self) -> bool:
        """Whether the formula divides at its top ("(ebitda - capex) / fixed_charges"): a ratio."""
        return isinstance(self.root, BinaryOp) and self.root.operator == "/"

    def divisors(self) -> tuple[Formula, ...]:
        """Every denominator, in the order written, each once."""
        found = [
            Formula(node.right) for node in _walk(self.root) if isinstance(node, BinaryOp) and node.operator == "/"
        ]
        return tuple(dict.fromkeys(found))

    def division_warnings(self) -> list[str]:
        """A warning for each denominator that may be zero (a guard such as max(x, 1) or a non-zero
        number is safe), for the page that saves a definition."""
        warnings = []
        for node in _walk(self.root):
            if isinstance(node, BinaryOp) and node.operator == "/" and not _never_zero(node.right):
                warnings.append(
                    f"division by {to_text(node.right)!r} at position {_position(node.right)}, which may be zero: "
                    "guard it with max(...) or accept that a zero gives no result."
                )
        return warnings


def parse(text: str) -> Formula:
    """The formula ``text`` states; raises FormulaError naming the problem and its position."""
    return Formula(parse_node(text))


# --- Evaluation --------------------------------------------------------------------------------


def _walk(node: Node) -> Iterator[Node]:
    """Every node, parents first, in the order written (iterative: sums can be long)."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, BinaryOp):
            stack += (node.right, node.left)
        elif isinstance(node, Negate):
            stack.append(node.operand)
        elif isinstance(node, Call):
            stack.extend(reversed(node.args))


def _position(node: Node) -> int:
    """Where the text of ``node`` starts: a binary operation starts with its left operand."""
    while isinstance(node, BinaryOp):
        node = node.left
    return node.position


def _compile(node: Node) -> _Run:
    """The node as a function of the values: the tree is walked once, not at every evaluation."""
    if isinstance(node, Number):
        value = node.value.scaleb(-2, CONTEXT) if node.percent else node.value
        return lambda values: value
    if isinstance(node, Name):
        return _reader(node.name)
    if isinstance(node, Negate):
        operand = _compile(node.operand)
        return lambda values: None if (v := operand(values)) is None else CONTEXT.minus(v)
    if isinstance(node, Call):
        return _call(node.function, tuple(_compile(arg) for arg in node.args))
    left, right, operate = _compile(node.left), _compile(node.right), _OPERATIONS[node.operator]

    def binary(values: Values) -> Decimal | None:
        a, b = left(values), right(values)
        if a is None or b is None or (node.operator == "/" and not b):
            return None
        return operate(a, b)

    return binary


_OPERATIONS: dict[str, Callable[[Decimal, Decimal], Decimal]] = {
    "+": CONTEXT.add,
    "-": CONTEXT.subtract,
    "*": CONTEXT.multiply,
    "/": CONTEXT.divide,
}


def _reader(name: str) -> _Run:
    def read(values: Values) -> Decimal | None:
        value = values[name]
        if value is not None and not isinstance(value, Decimal):
            raise TypeError(f"the figure for {name!r} is {type(value).__name__}, not Decimal.")
        return value

    return read


def _call(function: str, args: tuple[_Run, ...]) -> _Run:
    def run(values: Values) -> Decimal | None:
        found = []
        for arg in args:
            result = arg(values)
            if result is None:
                return None
            found.append(result)
        if function == "abs":
            return CONTEXT.abs(found[0])
        return min(found) if function == "min" else max(found)

    return run


def _never_zero(node: Node) -> bool:
    low, high = _signs(node)
    return low == 1 or high == -1


def _signs(node: Node) -> tuple[int, int]:
    """The lowest and highest sign (-1, 0 or 1) the node can have whatever the figures: an
    interval, so that a guard such as 1 + abs(x) or max(x, 1) counts as never zero."""
    if isinstance(node, Number):
        return (1, 1) if node.value else (0, 0)
    if isinstance(node, Name):
        return -1, 1
    if isinstance(node, Negate):
        low, high = _signs(node.operand)
        return -high, -low
    if isinstance(node, Call):
        bounds = [_signs(arg) for arg in node.args]
        if node.function == "abs":
            low, high = bounds[0]
            return (1 if low == 1 or high == -1 else 0), max(abs(low), abs(high))
        pick = min if node.function == "min" else max
        return pick(low for low, _ in bounds), pick(high for _, high in bounds)
    (a_low, a_high), (b_low, b_high) = _signs(node.left), _signs(node.right)
    if node.operator in "*/":
        products = (a_low * b_low, a_low * b_high, a_high * b_low, a_high * b_high)
        return min(products), max(products)
    if node.operator == "-":
        b_low, b_high = -b_high, -b_low
    if a_low >= 0 and b_low >= 0:
        return max(a_low, b_low), max(a_high, b_high)
    if a_high <= 0 and b_high <= 0:
        return min(a_low, b_low), min(a_high, b_high)
    return -1, 1


# --- Explanations ------------------------------------------------------------------------------

_SYMBOLS = {"+": "+", "-": "-", "*": "×", "/": "/"}
_DISPLAY = Context(prec=60, rounding=ROUND_HALF_EVEN)


def explain(formula: Formula, values: Values, *, labels: bool = True, places: int = 4) -> str:
    """The formula with each name's value in place, for the page: "cash 1,000 + availability 500
    = 1,500". A cap shows its arguments and what it came to: "min(3,000,000, 5,000,000, 15% ×
    12,000,000 = 1,800,000) = 1,800,000". ``labels`` names each figure before its value; values
    are shown to at most ``places`` decimals (the arithmetic keeps every digit)."""
    missing = formula.names().difference(values)
    if missing:
        raise MissingFigure(missing)
    root = formula.root
    text = _explained(root, values, labels, places)
    if isinstance(root, BinaryOp | Negate):
        text += f" = {amount(formula.evaluate(values), places)}"
    return text


def amount(value: Decimal | None, places: int = 4) -> str:
    """A value as the page shows it: thousands separated, at most ``places`` decimals, "no result" for None."""
    if value is None:
        return "no result"
    if value == value.to_integral_value():
        value = value.to_integral_value()
    else:
        value = value.quantize(Decimal(1).scaleb(-places), context=_DISPLAY).normalize(_DISPLAY)
    return format(value if value else Decimal(0), ",f")


def _explained(node: Node, values: Values, labels: bool, places: int) -> str:
    if isinstance(node, Number):
        return format(node.value, ",f") + ("%" if node.percent else "")
    if isinstance(node, Name):
        shown = amount(values[node.name], places)
        return f"{node.name.replace('_', ' ')} {shown}" if labels else shown
    if isinstance(node, Call):
        args = ", ".join(
            _explained(arg, values, labels, places) + (_equals(arg, values, places) if precedence(arg) < 4 else "")
            for arg in node.args
        )
        return f"{node.function}({args}){_equals(node, values, places)}"
    if isinstance(node, Negate):
        return f"-{_operand(node.operand, 3, values, labels, places)}"
    left = _operand(node.left, precedence(node), values, labels, places)
    right = _operand(node.right, precedence(node) + 1, values, labels, places)
    return f"{left} {_SYMBOLS[node.operator]} {right}"


def _operand(node: Node, binds: int, values: Values, labels: bool, places: int) -> str:
    # Grouped as the canonical text groups it; a group, or a cap inside a sum, shows its value.
    text = _explained(node, values, labels, places)
    if precedence(node) < binds:
        return f"({text}{_equals(node, values, places)})"
    return f"({text})" if isinstance(node, Call) else text


def _equals(node: Node, values: Values, places: int) -> str:
    return f" = {amount(_compile(node)(values), places)}"


# --- Defined terms -----------------------------------------------------------------------------


def check_definitions(definitions: Mapping[str, str], known_line_items: AbstractSet[str]) -> dict[str, Formula]:
    """Each defined term's formula, in dependency order (a term after those it reads). Raises
    FormulaError for a bad name or formula, an unknown name, a term that refers to itself, or
    terms that refer to each other in a circle."""
    parsed: dict[str, Formula] = {}
    for term, text in definitions.items():
        _check_term_name(term, known_line_items)
        try:
            parsed[term] = parse(text)
        except FormulaError as error:
            raise FormulaError(f"in {term!r}: {error.message}", error.position, term) from None
    known = set(known_line_items) | set(parsed)
    for term, formula in parsed.items():
        for node in _walk(formula.root):
            if not isinstance(node, Name):
                continue
            if node.name == term:
                raise FormulaError(f"{term!r} refers to itself at position {node.position}.", node.position, term)
            if node.name not in known:
                close = difflib.get_close_matches(node.name, sorted(known), n=1, cutoff=0.8)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"in {term!r}: unknown name {node.name!r} at position {node.position}{hint}."
                raise FormulaError(message, node.position, term)
    return {term: parsed[term] for term in _dependency_order(parsed)}


def evaluate_all(definitions: Mapping[str, Formula], figures: Values) -> dict[str, Decimal | None]:
    """Every defined term's value, each computed once, in dependency order. Raises MissingFigure
    naming every figure the terms need and ``figures`` lacks, FormulaError for a circle."""
    order = _dependency_order(definitions)
    needed = set().union(*(formula.names() for formula in definitions.values())) - set(definitions)
    missing = needed.difference(figures)
    if missing:
        raise MissingFigure(missing)
    values: dict[str, Decimal | None] = dict(figures)
    results: dict[str, Decimal | None] = {}
    for term in order:
        results[term] = values[term] = definitions[term]._run(values)
    return results


def _check_term_name(term: str, known_line_items: AbstractSet[str]) -> None:
    if not isinstance(term, str) or not NAME.match(term):
        raise FormulaError(
            f"a defined term's name is lowercase letters, digits and underscores, not {term!r}.", term=term
        )
    if term in FUNCTIONS:
        raise FormulaError(f"{term!r} is a function's name: a defined term needs another.", term=term)
    if term in known_line_items:
        raise FormulaError(f"{term!r} is a line item's name: a defined term needs one of its own.", term=term)


def _dependency_order(formulas: Mapping[str, Formula]) -> list[str]:
    """The terms, each after the terms it reads (depth first, without recursion: chains can be long)."""
    order: list[str] = []
    done: set[str] = set()
    for start in formulas:
        if start in done:
            continue
        path = [start]
        stack = [iter(sorted(formulas[start].names()))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                done.add(path[-1])
                order.append(path.pop())
            elif child in path:
                circle = " -> ".join([*path[path.index(child) :], child])
                raise FormulaError(f"the definitions go round in a circle: {circle}.", term=child)
            elif child in formulas and child not in done:
                path.append(child)
                stack.append(iter(sorted(formulas[child].names())))
    return order
