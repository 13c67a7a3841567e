"""
The syntax of defined-term formulas: tokens, the tree, the parser and the canonical text.

Hand-written on purpose: the text comes from users, so nothing of Python's own parser or
``eval`` is used, and hard limits (length, parts, nesting) are checked before any work that
grows with them. covenants.formulas builds on this module; import from there.

Grammar (positions in messages count characters from 1)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := number ["%"] | name | function "(" expression ("," expression)* ")" | "(" expression ")"
    number     := digits ["." digits]          (no underscores, commas or exponents)
    name       := [a-z_][a-z0-9_]*             (line items and other defined terms)
    function   := "min" | "max" | "abs"
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

MAX_LENGTH, MAX_TOKENS, MAX_DEPTH = 2000, 500, 32
FUNCTIONS = {"min": 2, "max": 2, "abs": 1}  # the fewest arguments each takes; abs takes exactly one
NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
_OPERATORS = "+-*/"
_WORD = re.compile(r"[A-Za-z0-9_]*")
_NUMBER = re.compile(r"\d*(?:\.\d*)?")
_THOUSANDS = re.compile(r",\d{3}(?!\d)")


class FormulaError(ValueError):
    """A formula or a set of definitions that cannot be used, with a message naming the problem
    and, where there is one, the position (counting from 1) and the defined term."""

    def __init__(self, message: str, position: int | None = None, term: str | None = None) -> None:
        self.message, self.position, self.term = message, position, term
        super().__init__(message)


# --- The tree ----------------------------------------------------------------------------------
# Positions are where the text put a node, for messages: not part of equality, so that a formula
# equals the parse of its canonical text.


@dataclass(frozen=True)
class Number:
    value: Decimal  # as written: "15%" is 15 with ``percent``
    percent: bool = False
    position: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not self.value.is_finite() or self.value.is_signed():
            raise ValueError(f"a formula's number is a finite Decimal, not negative: {self.value!r}")


@dataclass(frozen=True)
class Name:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Negate:
    operand: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BinaryOp:
    operator: str  # one of + - * /
    left: Node
    right: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    function: str  # one of FUNCTIONS
    args: tuple[Node, ...]
    position: int = field(default=0, compare=False)


Node = Number | Name | Negate | BinaryOp | Call


@dataclass(frozen=True)
class Token:
    kind: str  # "number", "name", an operator, "(", ")", "," or "end"
    text: str
    position: int


# --- Tokens ------------------------------------------------------------------------------------


def tokenize(text: str) -> list[Token]:
    """The formula's tokens, ending with an "end" token; refuses what the grammar does not allow."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula is text, not {type(text).__name__}.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text):,} characters long: at most {MAX_LENGTH:,} are allowed.")
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char in " \t\r\n":
            index += 1
            continue
        if len(tokens) == MAX_TOKENS:
            raise FormulaError(f"the formula has more than {MAX_TOKENS} parts (numbers, names and signs).", index + 1)
        if char.isascii() and (char.isdigit() or char == "."):
            token = _number(text, index)
        elif char.isascii() and (char.isalpha() or char == "_"):
            token = _name(text, index)
        elif char in _OPERATORS or char in "(),":
            token = Token(char, char, index + 1)
        elif char == "%":
            raise FormulaError(f"'%' follows a number only, at position {index + 1}: write 15% or x * 15%.", index + 1)
        else:
            raise FormulaError(f"unexpected character {char!r} at position {index + 1}.", index + 1)
        tokens.append(token)
        index += len(token.text)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _number(text: str, index: int) -> Token:
    match = _NUMBER.match(text, index)
    assert match is not None  # the pattern matches the empty string
    digits, end, position = match.group(), match.end(), index + 1
    whole, _, fraction = digits.partition(".")
    if not whole or ("." in digits and not fraction):
        raise FormulaError(
            f"a number needs digits on both sides of its decimal point at position {position}.", position
        )
    after = text[end : end + 1]
    if after == "_":
        raise FormulaError(f"underscores are not allowed in numbers at position {end + 1}: write 5000000.", end + 1)
    if after == "," and not fraction and not whole.startswith("0") and _THOUSANDS.match(text, end):
        raise FormulaError(
            f"commas are not allowed in numbers at position {end + 1}: write 5000000, not 5,000,000 "
            "(and put a space after a comma between a function's arguments).",
            end + 1,
        )
    if after == ".":
        raise FormulaError(f"unexpected '.' at position {end + 1}: a number has one decimal point.", end + 1)
    if after.isascii() and after.isalpha():
        raise FormulaError(
            f"unexpected {after!r} after a number at position {end + 1}: numbers are digits with an optional "
            "decimal point and %, and a name cannot start with a digit.",
            end + 1,
        )
    if after == "%":
        digits += "%"
    return Token("number", digits, position)


def _name(text: str, index: int) -> Token:
    match = _WORD.match(text, index)
    assert match is not None
    word = match.group()
    if not NAME.match(word):
        raise FormulaError(
            f"names are written in lowercase letters, digits and underscores: {word!r} at position {index + 1}.",
            index + 1,
        )
    return Token("name", word, index + 1)


# --- The parser --------------------------------------------------------------------------------


def parse_node(text: str) -> Node:
    """The tree of ``text``; raises FormulaError naming the problem and its position."""
    tokens = tokenize(text)
    if len(tokens) == 1:
        raise FormulaError("the formula is empty.", 1)
    return _Parser(tokens).parse()


def _shown(token: Token) -> str:
    return "the end of the formula" if token.kind == "end" else repr(token.text)


class _Parser:
    """Recursive descent; only parentheses, calls and unary minus recurse, and no deeper than MAX_DEPTH."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens, self.index, self.depth = tokens, 0, 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    @contextmanager
    def nested(self, token: Token) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError(
                f"the formula nests deeper than {MAX_DEPTH} levels at position {token.position}.", token.position
            )
        yield
        self.depth -= 1

    def parse(self) -> Node:
        node = self.expression()
        token = self.peek()
        if token.kind == ")":
            raise FormulaError(
                f"unbalanced parenthesis at position {token.position}: nothing to close.", token.position
            )
        if token.kind != "end":
            raise FormulaError(
                f"expected an operator at position {token.position}, found {_shown(token)}.", token.position
            )
        return node

    def expression(self) -> Node:
        node = self.term()
        while self.peek().kind in ("+", "-"):
            token = self.take()
            node = BinaryOp(token.kind, node, self.term(), token.position)
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().kind in ("*", "/"):
            token = self.take()
            node = BinaryOp(token.kind, node, self.unary(), token.position)
        return node

    def unary(self) -> Node:
        if self.peek().kind == "-":
            token = self.take()
            with self.nested(token):
                return Negate(self.unary(), token.position)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            percent = token.text.endswith("%")
            return Number(Decimal(token.text.rstrip("%")), percent, token.position)
        if token.kind == "name":
            if self.peek().kind == "(":
                return self.call(token)
            if token.text in FUNCTIONS:
                message = f"{token.text} is a function at position {token.position}: write {token.text}(a, b)."
                raise FormulaError(message, token.position)
            return Name(token.text, token.position)
        if token.kind == "(":
            with self.nested(token):
                node = self.expression()
            self.close(token)
            return node
        if token.kind == "end" and token.position > 1:
            message = f"the formula ends too early at position {token.position}: expected a number, a name or '('."
        elif token.kind == ",":
            message = f"unexpected ',' at position {token.position}: commas separate a function's arguments."
        else:
            message = f"expected a number, a name or '(' at position {token.position}, found {_shown(token)}."
        raise FormulaError(message, token.position)

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            message = f"unknown function {name.text!r} at position {name.position}: use min, max or abs."
            raise FormulaError(message, name.position)
        opening = self.take()
        args: list[Node] = []
        with self.nested(opening):
            if self.peek().kind != ")":
                args.append(self.expression())
                while self.peek().kind == ",":
                    self.take()
                    args.append(self.expression())
        self.close(opening, in_call=True)
        fewest = FUNCTIONS[name.text]
        if len(args) < fewest or (name.text == "abs" and len(args) > 1):
            wanted = "one argument" if name.text == "abs" else "at least two arguments"
            message = f"{name.text} takes {wanted}, not {len(args)}, at position {name.position}."
            raise FormulaError(message, name.position)
        return Call(name.text, tuple(args), name.position)

    def close(self, opening: Token, in_call: bool = False) -> None:
        token = self.take()
        if token.kind == ")":
            return
        if token.kind == "end":
            message = f"unbalanced parenthesis at position {opening.position}: it is not closed."
            raise FormulaError(message, opening.position)
        expected = "',' or ')'" if in_call else "')'"
        message = f"expected {expected} at position {token.position}, found {_shown(token)}."
        raise FormulaError(message, token.position)


# --- Canonical text ----------------------------------------------------------------------------

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def precedence(node: Node) -> int:
    """How tightly a node binds: sums 1, products 2, negation 3, numbers, names and calls 4."""
    if isinstance(node, BinaryOp):
        return _PRECEDENCE[node.operator]
    return 3 if isinstance(node, Negate) else 4


def number_text(node: Number) -> str:
    return format(node.value, "f") + ("%" if node.percent else "")


def to_text(node: Node) -> str:
    """The canonical text: single spaces around operators, only the parentheses the tree needs."""
    if isinstance(node, Number):
        return number_text(node)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Call):
        return f"{node.function}({', '.join(to_text(arg) for arg in node.args)})"
    if isinstance(node, Negate):
        inner = to_text(node.operand)
        return f"-({inner})" if precedence(node.operand) < 3 else f"-{inner}"
    left, right = to_text(node.left), to_text(node.right)
    if precedence(node.left) < precedence(node):
        left = f"({left})"
    # Operators group from the left: a right operand of the same precedence keeps its parentheses.
    if precedence(node.right) <= precedence(node):
        right = f"({right})"
    return f"{left} {node.operator} {right}"
