"""Hostile input: oversized and binary documents are refused fast, HTML never leaks script or
markup, and no regular expression in the importer backtracks catastrophically."""

from __future__ import annotations

import ast
import html
import importlib
import pkgutil
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

import documents.importer as importer
from documents.importer import MAX_CHARS, DocumentRefused, read_document

from .scoring import facts_of
from .seed_facts import AMENDMENT_4, SEED_DIR

PACKAGE_DIR = Path(importer.__file__).parent
SEED = (Path(SEED_DIR) / AMENDMENT_4).read_text()


def test_ten_megabytes_refused_fast() -> None:
    text = "x" * (10 * 1024 * 1024)
    start = time.perf_counter()
    with pytest.raises(DocumentRefused, match="limit"):
        read_document(text)
    with pytest.raises(DocumentRefused, match="limit"):
        read_document(text.encode())
    assert time.perf_counter() - start < 1.0


def test_just_over_the_limit_refused_and_the_refusal_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=str(MAX_CHARS)):
        read_document("a" * (MAX_CHARS + 1))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "NUL"),
        (b"%PDF-1.4\n\xe2\xe3\xcf\xd3 caf\xe9", "undecodable"),
        ("AMENDMENT NO. 1\x00\x00", "NUL"),
        ("AMENDMENT \ud800 NO. 1", "undecodable"),
        ("\x01\x02\x03\x04" * 20, "control"),
    ],
    ids=["png", "latin-1-bytes", "nul-in-text", "lone-surrogate", "control-characters"],
)
def test_binary_refused(data: str | bytes, words: str) -> None:
    with pytest.raises(DocumentRefused, match=words):
        read_document(data)


HOSTILE_PAGE = """<!DOCTYPE html><html><head><title>10-K exhibit</title>
<script>document.write("SECRET-SCRIPT"); var x = "<b>Section 9.9 is hereby amended</b>";</script>
<style>p { color: red } /* SECRET-STYLE */</style></head>
<body><script type="text/javascript">alert('SECRET-BODY-SCRIPT')</script>
<p align="center"><b>AMENDMENT NO. 1 TO CREDIT AGREEMENT</b></p>
<p>AMENDMENT NO. 1 TO CREDIT AGREEMENT (this &quot;Amendment&quot;) dated as of June&nbsp;30, 2021, among
ORCHARD &amp; VINE LLC, a Delaware limited liability company (the &quot;Borrower&quot;), and
HALYARD BANK, N.A., as administrative agent (the &quot;Agent&quot;).</p>
<p>1. Section 6.1 of the Credit Agreement is hereby amended by replacing &quot;4.00 to 1.00&quot; with
&quot;3.50 to 1.00&quot;.</p><noscript>SECRET-NOSCRIPT</noscript>
<table><tr><td>ignored</td><td onclick="evil()">cell</td></tr></table>
</body></html>"""


def test_html_script_and_style_never_reach_the_text() -> None:
    p = read_document(HOSTILE_PAGE, filename="ex10-1.htm")
    for secret in ("SECRET", "document.write", "color: red", "alert(", "evil()"):
        assert secret not in p.text
    dumped = repr(p.to_dict())
    assert "SECRET" not in dumped
    assert not re.search(r"<[a-zA-Z/!]", p.text), "markup left in the converted text"
    assert not re.search(r"<[a-zA-Z/!]", dumped), "markup in the proposal"
    # The page still reads: spans point into the converted text.
    assert p.instrument and p.instrument.dated and p.instrument.dated.value.isoformat() == "2021-06-30"
    (cov,) = p.covenants
    assert cov.replaces and p.text[cov.replaces.span[0] : cov.replaces.span[1]] == "4.00 to 1.00"
    borrower = next(x for x in p.parties if x.name.startswith("ORCHARD"))
    assert borrower.name == "ORCHARD & VINE LLC" and borrower.jurisdiction == "Delaware"


def test_seed_as_filed_html_reads_as_the_text_does() -> None:
    page = (
        "<html><head><title>EX-10.1</title><script>var a='AMENDMENT NO. 9';</script></head>"
        f"<body><document><type>EX-10.1<text><pre>{html.escape(SEED)}</pre></text></document></body></html>"
    )
    from_html = read_document(page, filename="ex10.htm")
    assert facts_of(from_html) == facts_of(read_document(SEED))
    row = from_html.covenants[1].rows[0]
    assert from_html.text[row.threshold.span[0] : row.threshold.span[1]] == "($50,400,000)"


TABLE_PAGE = """<html><body>
<p align="center">FIRST AMENDMENT TO LOAN AGREEMENT</p>
<p>FIRST AMENDMENT TO LOAN AGREEMENT (this &#8220;Amendment&#8221;) dated as of May&nbsp;1, 2018, between
CORAL REEF SOFTWARE, INC., a Florida corporation (&#8220;Borrower&#8221;), and SUNCOAST BANK, N.A., a national
banking association (&#8220;Lender&#8221;).</p>
<p>1. Section 6.9 of the Loan Agreement is hereby amended and restated in its entirety to read as follows:</p>
<p>&#8220;6.9 Minimum EBITDA. Borrower shall not permit EBITDA for the six month period ending on each date
below to be less than the amount set forth opposite such date:</p>
<table>
<tr><td><b>Six Month Period Ending</b></td><td colspan="3"><b>Minimum EBITDA</b></td></tr>
<tr><td>June 30, 2018</td><td>$</td><td>(1,500,000</td><td>)</td></tr>
<tr><td>December 31, 2018</td><td>$</td><td>250,000</td><td></td></tr>
<tr><td>June 30, 2019 and the last day of each fiscal quarter thereafter</td><td>$</td><td>1,000,000</td>
<td>&#8221;</td></tr>
</table>
</body></html>"""


def test_html_schedule_table_with_split_cells() -> None:
    p = read_document(TABLE_PAGE, filename="ex10-2.htm")
    (cov,) = p.covenants
    rows = [(r.dates[0].value.isoformat(), r.open_ended, r.threshold.value) for r in cov.rows]
    assert rows == [
        ("2018-06-30", False, Decimal("-1500000")),
        ("2018-12-31", False, Decimal("250000")),
        ("2019-06-30", True, Decimal("1000000")),
    ]
    assert cov.window.quarters == 2 and cov.direction == "minimum"
    assert p.parties[0].name == "CORAL REEF SOFTWARE, INC." and p.parties[0].jurisdiction == "Florida"


def test_edgar_plain_text_submission_keeps_its_layout() -> None:
    submission = (
        "<DOCUMENT>\n<TYPE>EX-10.1\n<SEQUENCE>2\n<FILENAME>ex10-1.txt\n<TEXT>\n"
        + SEED.replace("\n                                       2\n", "\n<PAGE>                                   2\n")
        + "\n</TEXT>\n</DOCUMENT>\n"
    )
    p = read_document(submission, filename="0000950123-00-001234.txt")
    assert "<" not in p.text
    assert facts_of(p) == facts_of(read_document(SEED))


def all_patterns() -> dict[str, re.Pattern[str]]:
    found: dict[str, re.Pattern[str]] = {}
    for info in pkgutil.iter_modules([str(PACKAGE_DIR)]):
        module = importlib.import_module(f"documents.importer.{info.name}")
        for attr, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{info.name}.{attr}"] = value
    return found


def test_every_regex_is_compiled_at_module_level() -> None:
    """So that the bait test below sees every one: no pattern built or used inline in a function."""
    offenders = []
    for path in PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(node.value) for node in tree.body if isinstance(node, ast.Assign)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re"):
                continue
            if node.func.attr != "compile" or id(node) not in top:
                offenders.append(f"{path.name}:{node.lineno} re.{node.func.attr}")
    assert offenders == []
    assert len(all_patterns()) >= 50


BAIT_UNITS = [
    "a",
    "A",
    " ",
    "1",
    "1,",
    "1,000,",
    "(",
    ")",
    '"',
    "$",
    "_",
    "*",
    "-",
    "\n",
    ".",
    ",",
    ":",
    ";",
    "\t",
    "A ",
    "a ",
    "Ab ",
    "AB, ",
    "Inc., ",
    "December ",
    "December 31, ",
    "June, ",
    "31st day of ",
    "( $1,000",
    "Section 1.1",
    "Section 1.1 (A) ",
    "governed by ",
    "laws of the State of ",
    "By: ",
    "Title: ",
    "IN WITNESS ",
    '("',
    '(the "',
    '; A being referred to as the "',
    "(x) ",
    'replacing "',
    "to be ",
    "at least ",
    "fiscal quarters ",
    'definition of "',
    "with offices at ",
    ", a Delaware ",
    ", as agent ",
    "1.00 to ",
    "[*",
    "<p",
    "exhibit ",
    "thereafter ",
    "each fiscal quarter ",
    "not permit A ",
    "shall have a ",
]


def baits() -> list[str]:
    size = 50_000
    return [(unit * (size // len(unit) + 1))[:size] for unit in BAIT_UNITS] + [
        ("December 31, 1999" + " " * 40) * 800 + "x",
        ('"' + "Aa " * 16_000 + "."),
        ("Section 7.01(b)(ii)(x) " + "A " * 60) * 300,
    ]


@pytest.mark.parametrize("name", sorted(all_patterns()))
def test_regex_runs_in_bounded_time_on_bait(name: str) -> None:
    pattern = all_patterns()[name]
    start = time.perf_counter()
    for bait in baits():
        for _ in pattern.finditer(bait):
            pass
        pattern.match(bait)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"{name} took {elapsed:.2f}s on 50,000-character baits"


@pytest.mark.parametrize(
    "unit",
    [
        "IN WITNESS WHEREOF\n\nBy: /s/\nName: X\nTitle: Y\n",
        'ACME INC., a Delaware corporation ("A"), ',
        'Section 1.1 is hereby amended to add "x" 1. FOO BAR. conditions precedent on or before June __, 2020 ',
        "December 31, 1999   ($1,000,000)\n  and\n",
    ],
    ids=["signature-pages", "parties", "clauses", "table-rows"],
)
def test_whole_document_at_the_limit_in_bounded_time(unit: str) -> None:
    text = (unit * (MAX_CHARS // len(unit)))[: MAX_CHARS - 1]
    start = time.perf_counter()
    read_document(text)
    assert time.perf_counter() - start < 30.0
