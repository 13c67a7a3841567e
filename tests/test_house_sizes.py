"""The house stays readable: no module of an app over 500 lines unless it is data, and no
function over 60 lines. A module that grows past these splits by job, as the apps did."""

from __future__ import annotations

import ast

from tests.test_import_graph import PACKAGES, ROOT

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def app_modules() -> list:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_module_is_longer_than_a_sitting():
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in app_modules()
        if (lines := path.read_text().count("\n")) > MAX_MODULE_LINES
    ]
    assert long == []


def test_no_function_is_longer_than_a_screen():
    long = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines"
        for path in app_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []
