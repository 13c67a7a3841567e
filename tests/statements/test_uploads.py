"""Statement files as Borrowers' finance teams bring them: accepted whole, or refused with every reason."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statements.amounts import parse_amount
from statements.parsing import canonical_json, parse_statement_file, parse_statement_records
from statements.templates import build_template
from statements.text import normalize_name
from statements.types import MAX_ERRORS, ParsedRow, UploadContext, UploadError

# The five Borrowers of the Loan Agreement (Amendment No. 4), with their defined terms.
BORROWERS = {
    1: ("KMC Telecom Inc.", "KMC"),
    2: ("KMC Telecom II, Inc.", "KMC II"),
    3: ("KMC Telecom of Virginia, Inc.", "KMC Virginia"),
    4: ("KMC Telecom Leasing I LLC", "Leasing I"),
    5: ("KMC Telecom Leasing II LLC", "Leasing II"),
}
LINE_ITEMS = {"revenues": "Revenues", "ebitda": "EBITDA"}
Q1 = date(2000, 3, 31)
Q2 = date(2000, 6, 30)
HEADER = ("entity", "period_end", "line_item", "amount")
QUARTER_ENDS = "quarters end on March 31, June 30, September 30 and December 31"
NOT_AN_AMOUNT = "is not an amount; write a figure such as 18,000,000, (4,157,000) or 18000000.00"


def make_context(extra_borrowers: dict[int, tuple[str, str]] | None = None, **overrides) -> UploadContext:
    borrowers = {**BORROWERS, **(extra_borrowers or {})}
    entities: dict[str, int] = {}
    for party_id, (legal_name, defined_term) in borrowers.items():
        entities[normalize_name(legal_name)] = party_id
        entities[normalize_name(defined_term)] = party_id
    line_items = {}
    for code, name in LINE_ITEMS.items():
        line_items[normalize_name(code)] = code
        line_items[normalize_name(name)] = code
    return UploadContext(
        entities=entities,
        entity_names={party_id: names[0] for party_id, names in borrowers.items()},
        line_items=line_items,
        line_item_names=LINE_ITEMS,
        required_line_items=("revenues", "ebitda"),
        **overrides,
    )


CONTEXT = make_context()


def csv_bytes(rows, header=HEADER, delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER, extra_sheet=None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Figures"
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if extra_sheet is not None:
        other = workbook.create_sheet("Notes")
        for row in extra_sheet:
            other.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def parse(content: bytes, filename: str = "figures.csv", context: UploadContext = CONTEXT):
    return parse_statement_file(filename=filename, content=content, context=context)


def quarter_rows(period_end=Q1, revenues="24,000,000", ebitda="(1,000,000)"):
    """Every Borrower's two figures for one quarter, each Borrower by legal name."""
    iso = period_end.isoformat()
    return [
        row
        for legal_name, _term in BORROWERS.values()
        for row in ((legal_name, iso, "Revenues", revenues), (legal_name, iso, "EBITDA", ebitda))
    ]


def messages(parsed) -> list[str]:
    return [str(error) for error in parsed.errors]


def only_error(parsed) -> UploadError:
    assert not parsed.ok
    assert len(parsed.errors) == 1, messages(parsed)
    return parsed.errors[0]


def rezip(content: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """The same archive with some members replaced or added."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info.filename)))
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


# --- Amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18,000,000", "18000000"),
        ("$18,000,000", "18000000"),
        ("(4,157,000)", "-4157000"),
        ("($4,157,000)", "-4157000"),
        ("-4157000", "-4157000"),
        ("-$4,157,000", "-4157000"),
        ("$-4,157,000", "-4157000"),
        ("18000000.00", "18000000"),
        ("  18,000,000  ", "18000000"),
        ("\u00a01,688,000\u00a0", "1688000"),
        ("( 4,157,000 )", "-4157000"),
        ("\u22124157000", "-4157000"),
        ("1,234.5", "1234.50"),
        ("0.07", "0.07"),
        ("0", "0"),
        ("(0)", "0"),
        ("18000000.100", "18000000.10"),
        ("1,000,000,000,000,000", "1000000000000000"),
        (18_000_000, "18000000"),
        (18_000_000.0, "18000000"),
        (-4157000.25, "-4157000.25"),
        (0.1, "0.10"),
        (Decimal("1688000"), "1688000"),
    ],
)
def test_parse_amount_accepts_the_forms_finance_teams_paste(text, expected):
    amount = parse_amount(text)
    assert amount == Decimal(expected)
    # Always cents, so a CSV "18000000.00" and an Excel 18000000 give the same figure.
    assert amount.as_tuple().exponent == -2
    assert not amount.is_signed() or amount < 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The amount is blank; a figure is required (write 0 for none)"),
        ("   ", "The amount is blank; a figure is required (write 0 for none)"),
        ("n/a", f"'n/a' {NOT_AN_AMOUNT}"),
        ("abc", f"'abc' {NOT_AN_AMOUNT}"),
        ("4157000-", f"'4157000-' {NOT_AN_AMOUNT}"),
        ("18.000.000", f"'18.000.000' {NOT_AN_AMOUNT}"),
        ("USD 18,000,000", f"'USD 18,000,000' {NOT_AN_AMOUNT}"),
        ("\u0661\u0662\u0663", f"'\u0661\u0662\u0663' {NOT_AN_AMOUNT}"),
        ("18000000.123", "'18000000.123' has more than 2 decimal places"),
        ("1,2345", "'1,2345' has misplaced thousands separators; write it as 1,234,567 or 1234567"),
        ("1.8E+07", "'1.8E+07' is in scientific notation; write the figure in full, such as 18,000,000"),
        ("-(4,157,000)", "'-(4,157,000)' has two negative signs"),
        (
            "1,000,000,000,000,000.01",
            "'1,000,000,000,000,000.01' is more than 1,000,000,000,000,000, the largest amount accepted",
        ),
        ("9" * 40, f"'{'9' * 40}' is more than 1,000,000,000,000,000, the largest amount accepted"),
        (10**16, "'10000000000000000' is more than 1,000,000,000,000,000, the largest amount accepted"),
        (0.1 + 0.2, "'0.30000000000000004' has more than 2 decimal places"),
        (float("nan"), f"'nan' {NOT_AN_AMOUNT}"),
        (float("inf"), f"'inf' {NOT_AN_AMOUNT}"),
        (True, f"True {NOT_AN_AMOUNT}"),
    ],
)
def test_parse_amount_refuses_with_a_sentence(text, message):
    with pytest.raises(ValueError) as raised:
        parse_amount(text)
    assert str(raised.value) == message


def test_a_megabyte_of_digits_is_refused_at_once():
    started = time.perf_counter()
    with pytest.raises(ValueError, match="the largest amount accepted"):
        parse_amount("1" * 1_000_000)
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        parse_amount("1." + "1" * 1_000_000)
    assert time.perf_counter() - started < 1


@given(
    cents=st.integers(min_value=-(10**17), max_value=10**17),
    form=st.sampled_from(["plain", "commas", "dollar", "accounting", "minus_dollar", "spaced"]),
)
def test_every_figure_written_in_an_accepted_form_reads_back_exactly(cents, form):
    value = Decimal(cents) / 100
    magnitude = abs(value)
    text = {
        "plain": f"{magnitude:.2f}",
        "commas": f"{magnitude:,.2f}",
        "dollar": f"${magnitude:,.2f}",
        "accounting": f"(${magnitude:,.2f})",
        "minus_dollar": f"-${magnitude:,.2f}",
        "spaced": f"  {magnitude:,}  ",
    }[form]
    negative = form in ("accounting", "minus_dollar")
    if negative and magnitude == 0:
        negative = False
    expected = -magnitude if negative else magnitude
    if form not in ("accounting", "minus_dollar") and value < 0:
        text = "-" + text.strip()
        expected = value
    assert parse_amount(text) == expected


def test_names_are_compared_without_case_spacing_or_punctuation():
    assert normalize_name("KMC Telecom Inc.") == normalize_name("kmc  telecom inc")
    assert normalize_name("KMC Telecom II, Inc.") == normalize_name(" KMC TELECOM II INC ")
    assert normalize_name("Leasing I") != normalize_name("Leasing II")
    assert normalize_name("KMC Telecom III, Inc.") != normalize_name("KMC Telecom II, Inc.")


# --- Good files ------------------------------------------------------------------------------------


def test_a_file_with_every_accepted_amount_form_is_read_exactly():
    forms = ["18,000,000", "$18,000,000", "(4,157,000)", "($4,157,000)", "-4157000", "-$4,157,000", " 18000000.00 "]
    quarters = [date(1999, 12, 31), Q1, Q2, date(2000, 9, 30), date(2000, 12, 31), date(2001, 3, 31), Q2]
    rows = []
    for index, (text, quarter) in enumerate(zip(forms, quarters, strict=True)):
        entity = BORROWERS[1 + index % 5][0] if index < 5 else BORROWERS[index - 4][1]
        rows += [(entity, quarter.isoformat(), "Revenues", text), (entity, quarter.isoformat(), "EBITDA", "0")]
    parsed = parse(csv_bytes(rows))
    assert parsed.ok, messages(parsed)
    revenues = [row.amount for row in parsed.rows if row.line_item == "revenues"]
    assert revenues == [Decimal(x) for x in (18e6, 18e6, -4157000, -4157000, -4157000, -4157000, 18e6)]


def test_a_good_csv_gives_one_row_per_figure_and_statements_per_borrower_and_quarter():
    rows = quarter_rows(Q1, "24,000,000", "(1,000,000)") + quarter_rows(Q2, "31,400,000", "500,000")
    content = csv_bytes(rows)
    parsed = parse(content, "Q1 and Q2.csv")
    assert parsed.ok, messages(parsed)
    assert parsed.errors == []
    assert (parsed.format, parsed.size, parsed.filename) == ("csv", len(content), "Q1 and Q2.csv")
    assert parsed.sha256 == hashlib.sha256(content).hexdigest()
    assert len(parsed.rows) == 20
    assert parsed.rows[0] == ParsedRow(2, 1, Q1, "revenues", Decimal("24000000"))
    assert parsed.rows[1] == ParsedRow(3, 1, Q1, "ebitda", Decimal("-1000000"))
    statements = parsed.statements()
    assert len(statements) == 10
    assert statements[(5, Q2)] == {"revenues": Decimal("31400000"), "ebitda": Decimal("500000")}
    assert statements[(3, Q1)] == {"revenues": Decimal("24000000"), "ebitda": Decimal("-1000000")}


def test_defined_terms_odd_spacing_and_case_are_recognised():
    rows = [
        ("KMC", "2000-03-31", "revenues", "1"),
        ("kmc telecom inc", "2000-03-31", " EBITDA ", "2"),
        ("  KMC   TELECOM II INC ", "2000-03-31", "Revenues", "3"),
        ("kmc ii", "2000-03-31", "ebitda", "4"),
        ("Leasing I", "2000-03-31", "REVENUES", "5"),
        ("LEASING-I", "2000-03-31", "E.B.I.T.D.A.", "6"),
        ("leasing ii", "2000-03-31", "revenues", "7"),
        ("KMC Telecom Leasing II, LLC", "2000-03-31", "ebitda", "8"),
    ]
    parsed = parse(csv_bytes(rows, header=(" Entity ", "PERIOD END", "Line-Item", "Amount")))
    assert parsed.ok, messages(parsed)
    assert [(row.party_id, row.line_item, row.amount) for row in parsed.rows] == [
        (1, "revenues", 1),
        (1, "ebitda", 2),
        (2, "revenues", 3),
        (2, "ebitda", 4),
        (4, "revenues", 5),
        (4, "ebitda", 6),
        (5, "revenues", 7),
        (5, "ebitda", 8),
    ]


def test_columns_in_any_order_with_extra_empty_columns_and_blank_lines():
    content = (
        b"amount,,Line Item,ENTITY,period_end,,\r\n"
        b'"18,000,000",,Revenues,KMC,2000-03-31,,\r\n'
        b"\r\n"
        b",,,,,,\r\n"
        b"(4157000),,EBITDA,KMC,2000-03-31,,\r\n"
    )
    parsed = parse(content)
    assert parsed.ok, messages(parsed)
    assert [(row.row, row.line_item, row.amount) for row in parsed.rows] == [
        (2, "revenues", 18_000_000),
        (5, "ebitda", -4_157_000),
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_are_read(delimiter):
    # Unquoted thousands separators are fine when the comma is not the delimiter.
    text = delimiter.join(HEADER) + "\n"
    text += delimiter.join(["KMC", "2000-03-31", "Revenues", "18,000,000"]) + "\n"
    text += delimiter.join(["KMC", "2000-03-31", "EBITDA", "(4,157,000)"]) + "\n"
    parsed = parse(text.encode())
    assert parsed.ok, messages(parsed)
    assert [row.amount for row in parsed.rows] == [18_000_000, -4_157_000]


def test_excel_sep_line_and_a_utf8_byte_order_mark_are_understood():
    content = (
        "\ufeffsep=;\r\nentity;period_end;line_item;amount\r\nKMC;2000-03-31;Revenues;1\r\nKMC;2000-03-31;EBITDA;2\r\n"
    )
    parsed = parse(content.encode())
    assert parsed.ok, messages(parsed)
    assert [row.row for row in parsed.rows] == [3, 4]


def test_a_csv_and_an_xlsx_of_the_same_figures_give_identical_rows():
    rows = quarter_rows(Q1, "24,000,000", "(1,000,000)") + quarter_rows(Q2, "31,400,000.50", "-$2,000")
    from_csv = parse(csv_bytes(rows))
    # In the workbook, dates are date cells and amounts are numbers, as Excel keeps them.
    typed = [(entity, date.fromisoformat(day), item, float(parse_amount(amount))) for entity, day, item, amount in rows]
    from_xlsx = parse(xlsx_bytes(typed), "figures.xlsx")
    assert from_csv.ok and from_xlsx.ok, messages(from_csv) + messages(from_xlsx)
    assert from_xlsx.format == "xlsx"
    assert from_csv.rows == from_xlsx.rows
    assert [str(row.amount) for row in from_csv.rows] == [str(row.amount) for row in from_xlsx.rows]


def test_an_xlsx_with_text_cells_is_read_like_csv():
    parsed = parse(xlsx_bytes(quarter_rows()), "figures.xlsx")
    assert parsed.ok, messages(parsed)
    assert parsed.rows == parse(csv_bytes(quarter_rows())).rows


def test_only_the_first_sheet_of_a_workbook_is_read():
    content = xlsx_bytes(quarter_rows(), extra_sheet=[("not", "a", "statement"), ("n/a", 1, 2, 3)])
    parsed = parse(content, "figures.xlsx")
    assert parsed.ok, messages(parsed)
    assert len(parsed.rows) == 10


def test_a_cp1252_csv_with_a_non_ascii_borrower_name_is_read():
    context = make_context({6: ("Société Générale Leasing S.A.", "SG Leasing")})
    rows = [
        ("Société Générale Leasing S.A.", "2000-03-31", "Revenues", "1"),
        ("SG Leasing", "2000-03-31", "EBITDA", "2"),
    ]
    content = csv_bytes(rows, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    parsed = parse(content, context=context)
    assert parsed.ok, messages(parsed)
    assert {row.party_id for row in parsed.rows} == {6}


def test_a_fiscal_year_ending_in_february_has_its_own_quarter_ends():
    context = make_context(fiscal_year_end_month=2)
    rows = [
        ("KMC", "2000-02-29", "Revenues", "1"),
        ("KMC", "2000-02-29", "EBITDA", "1"),
        ("KMC", "2000-05-31", "Revenues", "1"),
        ("KMC", "2000-05-31", "EBITDA", "1"),
        ("KMC", "2000-03-31", "Revenues", "1"),
    ]
    parsed = parse(csv_bytes(rows), context=context)
    assert messages(parsed) == [
        "Row 6, column period_end: 2000-03-31 is not the last day of a fiscal quarter (quarters end on "
        "February 28 (29 in a leap year), May 31, August 31 and November 30)"
    ]
    assert len(parsed.rows) == 4


# --- Refusals, each on its row and column ----------------------------------------------------------


def test_upload_errors_read_as_sentences_placed_in_the_file():
    assert str(UploadError(3, "amount", "The amount is blank")) == "Row 3, column amount: The amount is blank"
    assert str(UploadError(3, None, "Something")) == "Row 3: Something"
    assert str(UploadError(None, None, "The file has no figures")) == "The file has no figures"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (
            ("KMC", "2000-03-31", "Revenues", ""),
            "amount",
            "The amount is blank; a figure is required (write 0 for none)",
        ),
        (("KMC", "2000-03-31", "Revenues", "n/a"), "amount", f"'n/a' {NOT_AN_AMOUNT}"),
        (("KMC", "2000-03-31", "Revenues", "abc"), "amount", f"'abc' {NOT_AN_AMOUNT}"),
        (("KMC", "2000-03-31", "Revenues", "1.234"), "amount", "'1.234' has more than 2 decimal places"),
        (
            ("KMC", "2000-03-30", "Revenues", "1"),
            "period_end",
            f"2000-03-30 is not the last day of a fiscal quarter ({QUARTER_ENDS})",
        ),
        (("KMC", "31/03/2000", "Revenues", "1"), "period_end", "'31/03/2000' is not a date in the form YYYY-MM-DD"),
        (
            ("KMC", "March 31, 2000", "Revenues", "1"),
            "period_end",
            "'March 31, 2000' is not a date in the form YYYY-MM-DD",
        ),
        (("KMC", "2000-02-30", "Revenues", "1"), "period_end", "'2000-02-30' is not a date: there is no such day"),
        (
            ("KMC", "", "Revenues", "1"),
            "period_end",
            "The period end is blank; write the last day of the fiscal quarter as YYYY-MM-DD",
        ),
        (
            ("KMC Telecom III, Inc.", "2000-03-31", "Revenues", "1"),
            "entity",
            "'KMC Telecom III, Inc.' is not a Borrower under this agreement",
        ),
        (
            ("Newcourt Commercial Finance Corporation", "2000-03-31", "Revenues", "1"),
            "entity",
            "'Newcourt Commercial Finance Corporation' is not a Borrower under this agreement",
        ),
        (
            ("", "2000-03-31", "Revenues", "1"),
            "entity",
            "The entity is blank; write the Borrower's legal name or defined term",
        ),
        (
            ("KMC", "2000-03-31", "Net income", "1"),
            "line_item",
            "'Net income' is not a line item of this agreement; "
            "the line items are Revenues (revenues) and EBITDA (ebitda)",
        ),
        (
            ("KMC", "2000-03-31", "", "1"),
            "line_item",
            "The line item is blank; write one of the line items: Revenues (revenues) and EBITDA (ebitda)",
        ),
    ],
)
def test_a_bad_figure_is_refused_naming_its_row_and_column(row, column, message):
    # Row 2 is a good figure; the bad one is on row 3, and the rest of the file is complete.
    rows = [("KMC", "2000-03-31", "EBITDA", "5"), row, *quarter_rows()[2:]]
    if row[2] != "Revenues":
        rows.append(("KMC", "2000-03-31", "Revenues", "5"))
    parsed = parse(csv_bytes(rows))
    assert not parsed.ok
    assert [(e.row, e.column, e.message) for e in parsed.errors] == [(3, column, message)]
    assert parsed.rows and all(r.row != 3 for r in parsed.rows)


def test_two_figures_for_the_same_borrower_quarter_and_line_item_name_both_rows():
    rows = [*quarter_rows(), ("KMC", "2000-03-31", "revenues", "1")]
    parsed = parse(csv_bytes(rows))
    error = only_error(parsed)
    assert (error.row, error.column) == (12, "line_item")
    assert error.message == (
        "KMC Telecom Inc. has two figures for Revenues for the fiscal quarter ending 2000-03-31, in rows 2 and 12; "
        "keep one"
    )


def test_a_statement_lacking_a_required_line_item_is_refused_on_its_first_row():
    rows = [r for r in quarter_rows() if not (r[0] == "KMC Telecom II, Inc." and r[2] == "EBITDA")]
    parsed = parse(csv_bytes(rows))
    error = only_error(parsed)
    assert (error.row, error.column) == (4, "line_item")
    assert error.message == (
        "The statement of KMC Telecom II, Inc. for the fiscal quarter ending 2000-03-31 lacks EBITDA; "
        "every statement must carry Revenues and EBITDA"
    )


def test_every_error_in_the_file_is_reported_at_once_in_file_order():
    rows = [
        ("KMC", "2000-03-31", "Revenues", "n/a"),
        ("KMC", "2000-03-31", "EBITDA", "1"),
        ("KMC Telecom IV, Inc.", "2000-03-30", "Profit", ""),
        ("KMC II", "2000-03-31", "Revenues", "1"),
        ("KMC II", "2000-03-31", "EBITDA", "1,2,3"),
    ]
    parsed = parse(csv_bytes(rows))
    assert [(e.row, e.column) for e in parsed.errors] == [
        (2, "amount"),
        (4, "entity"),
        (4, "period_end"),
        (4, "line_item"),
        (4, "amount"),
        (6, "amount"),
    ]


def test_the_error_list_is_capped_with_a_count_of_the_rest():
    rows = [(f"Nobody {n}", "2000-03-31", "Revenues", "n/a") for n in range(300)]
    parsed = parse(csv_bytes(rows))
    assert len(parsed.errors) == MAX_ERRORS + 1
    assert str(parsed.errors[0]) == "Row 2, column entity: 'Nobody 0' is not a Borrower under this agreement"
    assert (parsed.errors[MAX_ERRORS - 1].row, parsed.errors[MAX_ERRORS - 1].column) == (101, "amount")
    assert parsed.errors[-1] == UploadError(None, None, "…and 400 more errors")


def test_an_unquoted_figure_with_thousands_separators_in_a_comma_csv_is_refused():
    content = b"entity,period_end,line_item,amount\nKMC,2000-03-31,Revenues,18,000,000\nKMC,2000-03-31,EBITDA,1\n"
    error = only_error(parse(content))
    assert (error.row, error.column) == (2, None)
    assert error.message == (
        "The row has a value ('000') in a column the header does not name; "
        'in a CSV file, a figure with thousands separators must be in quotes ("18,000,000")'
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ("entity", "period_end", "line_item", "amt"),
            [
                (
                    1,
                    None,
                    "'amt' is not a column of the layout; the columns are entity, period_end, line_item and amount",
                ),
                (
                    1,
                    "amount",
                    "The header has no amount column; the columns are entity, period_end, line_item and amount",
                ),
            ],
        ),
        (
            ("entity", "line_item", "amount"),
            [
                (
                    1,
                    "period_end",
                    "The header has no period_end column; the columns are entity, period_end, line_item and amount",
                )
            ],
        ),
        (
            ("entity", "period_end", "line_item", "amount", "Amount"),
            [(1, "amount", "The header names the column amount twice")],
        ),
    ],
)
def test_a_header_missing_or_misnaming_a_column_is_refused_naming_it(header, expected):
    parsed = parse(csv_bytes([("KMC", "2000-03-31", "Revenues", "1", "1")], header=header))
    assert [(e.row, e.column, e.message) for e in parsed.errors] == expected
    assert parsed.rows == []


def test_an_unknown_extra_column_is_an_error_but_the_rows_are_still_checked():
    rows = [(*r, "note") for r in quarter_rows()]
    rows[3] = (*rows[3][:3], "n/a", "note")
    parsed = parse(csv_bytes(rows, header=(*HEADER, "Comments")))
    assert messages(parsed) == [
        "Row 1: 'Comments' is not a column of the layout; the columns are entity, period_end, line_item and amount",
        f"Row 5, column amount: 'n/a' {NOT_AN_AMOUNT}",
    ]


def test_a_file_without_a_header_is_refused_saying_what_the_first_row_reads():
    error = only_error(parse(csv_bytes(quarter_rows(), header=None)))
    assert (error.row, error.column) == (1, None)
    assert error.message == (
        "The first row must be the header naming the columns entity, period_end, line_item and amount; "
        "it reads 'KMC Telecom Inc., 2000-03-31, Revenues, 24,000,000'"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file has no figures: it is empty"),
        (b"  \r\n\r\n", "The file has no figures: it is empty"),
        (b"entity,period_end,line_item,amount\r\n", "The file has no figures: there are no rows below the header"),
        (
            b"entity,period_end,line_item,amount\r\n,,,\r\n\r\n",
            "The file has no figures: there are no rows below the header",
        ),
    ],
)
def test_an_empty_file_or_a_header_alone_has_no_figures(content, message):
    assert only_error(parse(content)) == UploadError(None, None, message)


def test_too_many_rows_are_refused_by_the_row_cap():
    context = make_context(max_rows=10)
    assert parse(csv_bytes(["", *quarter_rows(), ""]), context=context).ok  # blank rows are not figures
    error = only_error(parse(csv_bytes(quarter_rows() + quarter_rows(Q2)[:1]), context=context))
    assert error.message == "The file has more than 10 rows of figures; split it into files of at most 10 rows"


# --- Files that are not what they claim ----------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            "report.csv",
            "XLSX",
            "report.csv is not a CSV file: it looks like an Excel workbook; upload it as a .xlsx file",
        ),
        ("figures.xlsx", "CSV", "figures.xlsx is not an Excel workbook: it looks like CSV text"),
        (
            "payload.csv",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
            "payload.csv is not a CSV file: it looks like a Windows program",
        ),
        (
            "payload.xlsx",
            b"MZ\x90\x00\x03\x00\x00\x00",
            "payload.xlsx is not an Excel workbook: it looks like a Windows program",
        ),
        (
            "payload.csv",
            b"\x7fELF\x02\x01\x01\x00" + bytes(64),
            "payload.csv is not a CSV file: it looks like a Linux program",
        ),
        ("scan.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "scan.csv is not a CSV file: it looks like a PDF document"),
        (
            "figures.csv",
            b"entity,period_end\x00\x01\x02",
            "figures.csv is not a CSV file: it looks like binary data, not text",
        ),
        (
            "old.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            "old.xlsx is not an Excel workbook: it looks like an Excel 97-2003 workbook (.xls), a password-protected "
            "workbook or another older Office document",
        ),
        ("archive.xlsx", "ZIP", "archive.xlsx is not an Excel workbook: it looks like a ZIP archive"),
        (
            "page.xlsx",
            b"<html><body><table></table></body></html>",
            "page.xlsx is not an Excel workbook: it looks like an HTML or XML document",
        ),
        (
            "old.xls",
            "XLSX",
            "old.xls is an Excel 97-2003 workbook (.xls); save it as an Excel workbook (.xlsx) or as CSV UTF-8",
        ),
        ("report.pdf", "CSV", "report.pdf is not a CSV or Excel (.xlsx) file; upload a .csv or .xlsx file"),
        ("C:\\fakepath\\payload.csv", b"MZ\x90\x00", "payload.csv is not a CSV file: it looks like a Windows program"),
        ("upload", b"MZ\x90\x00", "upload is not a CSV or Excel file: it looks like a Windows program"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(filename, content, message):
    if content == "XLSX":
        content = xlsx_bytes(quarter_rows())
    elif content == "CSV":
        content = csv_bytes(quarter_rows())
    elif content == "ZIP":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("figures.csv", csv_bytes(quarter_rows()))
        content = buffer.getvalue()
    assert only_error(parse(content, filename)) == UploadError(None, None, message)


def test_a_file_without_an_extension_is_read_by_its_content():
    assert parse(csv_bytes(quarter_rows()), "upload").format == "csv"
    assert parse(csv_bytes(quarter_rows()), "upload").ok
    parsed = parse(xlsx_bytes(quarter_rows()), "upload")
    assert (parsed.format, parsed.ok) == ("xlsx", True)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_csv_in_utf16_or_utf32_is_refused_with_an_encoding_message(encoding):
    name = "UTF-32" if "32" in encoding else "UTF-16"
    error = only_error(parse(csv_bytes(quarter_rows(), encoding=encoding), "figures.csv"))
    assert (
        error.message
        == f"figures.csv is not UTF-8 text: it is encoded as {name}; save it as CSV UTF-8 and upload it again"
    )


def test_bytes_that_are_neither_utf8_nor_clean_cp1252_are_refused_naming_the_byte():
    content = csv_bytes(quarter_rows()) + b"KMC,2000-03-31,Revenues,\x81\r\n"
    position = content.index(b"\x81")
    error = only_error(parse(content))
    assert error.message == (
        f"figures.csv is not UTF-8 text: byte 0x81 at position {position:,} is not valid UTF-8; "
        "save it as CSV UTF-8 and upload it again"
    )


def test_a_csv_with_control_characters_is_refused():
    content = csv_bytes(quarter_rows()).replace(b"Revenues", b"Reve\x1bnues", 1)
    error = only_error(parse(content))
    assert error.message.startswith("figures.csv is not a CSV file: it contains the control character U+001B")


# --- Hostile files ----------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a file over the limit was read")

    for reader in ("sniff", "read_csv", "read_xlsx"):
        monkeypatch.setattr(f"statements.parsing.{reader}", never)
    content = b"KMC," * (50 * 2**20 // 4)
    parsed = parse(content, "big.csv")
    assert only_error(parsed).message == "big.csv is too large: 50 MB, and a file may have at most 10 MB"
    assert parsed.size == len(content)


def test_a_csv_of_200000_rows_is_refused_quickly_by_the_row_cap():
    line = "KMC Telecom Inc.,2000-03-31,Revenues,18000000\r\n"
    content = ("entity,period_end,line_item,amount\r\n" + line * 200_000).encode()
    assert len(content) < CONTEXT.max_bytes
    started = time.perf_counter()
    parsed = parse(content)
    assert time.perf_counter() - started < 3
    assert only_error(parsed).message == (
        "The file has more than 20,000 rows of figures; split it into files of at most 20,000 rows"
    )


def test_a_file_of_blank_rows_is_refused_by_the_physical_row_cap():
    context = make_context(max_rows=100)
    content = b"entity,period_end,line_item,amount\r\n" + b",,,\r\n" * 2_000 + b"KMC,2000-03-31,Revenues,1\r\n"
    assert only_error(parse(content, context=context)).message == (
        "The file runs to more than 1,000 rows below the header, counting blank rows; "
        "delete the empty rows below the figures and upload it again"
    )


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """An archive that names itself a workbook and holds 200 MB of zeros in one member."""
    buffer = io.BytesIO()
    chunk = bytes(2**20)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(200):
                member.write(chunk)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_opened(zip_bomb):
    assert len(zip_bomb) < CONTEXT.max_bytes
    started = time.perf_counter()
    parsed = parse(zip_bomb, "bomb.xlsx")
    assert time.perf_counter() - started < 1
    assert only_error(parsed).message == (
        "The workbook would expand to 200 MB when opened, more than the 100 MB allowed; "
        "it is refused as a possible zip bomb"
    )


def test_a_workbook_part_compressed_beyond_reason_is_refused():
    content = rezip(xlsx_bytes(quarter_rows()), add={"xl/media/image1.bin": bytes(5 * 2**20)})
    assert only_error(parse(content, "figures.xlsx")).message == (
        "The workbook part xl/media/image1.bin is compressed more than 100 to 1; it is refused as a possible zip bomb"
    )


BILLION_LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1 or "") + ";") * 10}">' for n in range(1, 10))
    + "]>"
)
EXTERNAL_ENTITY = '<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize(
    ("member", "doctype", "reference"),
    [
        ("xl/worksheets/sheet1.xml", BILLION_LAUGHS, "&lol9;"),
        ("xl/styles.xml", EXTERNAL_ENTITY, ""),
        ("xl/worksheets/sheet1.xml", EXTERNAL_ENTITY, "&xxe;"),
        ("xl/workbook.xml", BILLION_LAUGHS, ""),
    ],
)
def test_a_workbook_with_xml_entities_is_refused(member, doctype, reference):
    original = xlsx_bytes(quarter_rows())
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        xml = archive.read(member).decode()
    xml = re.sub(r"^<\?xml[^>]*\?>", "", xml)
    xml = '<?xml version="1.0" encoding="UTF-8"?>' + doctype + xml.replace("KMC Telecom Inc.", reference or "KMC", 1)
    content = rezip(original, replace={member: xml.encode()})
    started = time.perf_counter()
    parsed = parse(content, "figures.xlsx")
    assert time.perf_counter() - started < 2
    assert only_error(parsed).message == (
        "The workbook contains XML entity declarations, which are refused because they can expand without limit "
        "or read other files; save the workbook again from Excel and upload it again"
    )


def test_a_truncated_workbook_is_refused_as_damaged():
    content = xlsx_bytes(quarter_rows())
    error = only_error(parse(content[: len(content) // 2], "figures.xlsx"))
    assert error.message == "figures.xlsx is damaged: it cannot be opened as an Excel workbook"


def test_a_workbook_with_broken_xml_is_refused_as_damaged():
    content = rezip(xlsx_bytes(quarter_rows()), replace={"xl/workbook.xml": b"<workbook><sheets>"})
    error = only_error(parse(content, "figures.xlsx"))
    assert error.message == (
        "The workbook is damaged and cannot be read; open it in Excel, save it again and upload it again"
    )


def test_a_workbook_with_no_sheets_is_refused():
    original = xlsx_bytes(quarter_rows())
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        workbook_xml = archive.read("xl/workbook.xml").decode()
    without_sheets = re.sub(r"<sheets>.*</sheets>", "<sheets/>", workbook_xml, flags=re.S)
    assert without_sheets != workbook_xml
    content = rezip(original, replace={"xl/workbook.xml": without_sheets.encode()})
    assert only_error(parse(content, "figures.xlsx")).message == "The workbook has no sheets"


def test_an_xlsx_formula_without_a_saved_value_is_a_blank_that_says_to_save_from_excel():
    rows = quarter_rows()
    rows[0] = (*rows[0][:3], "=20000000+4000000")
    error = only_error(parse(xlsx_bytes(rows), "figures.xlsx"))
    assert (error.row, error.column) == (2, "amount")
    assert error.message == (
        "The amount is blank; a figure is required (write 0 for none); if the cell holds a formula, open the "
        "workbook in Excel and save it, so that the formula's value is saved with it"
    )


def test_xlsx_cells_of_the_wrong_kind_are_refused_in_their_own_words():
    rows = quarter_rows()
    rows[0] = (rows[0][0], 36616, *rows[0][2:])
    rows[1] = (*rows[1][:3], "#DIV/0!")
    rows[2] = (*rows[2][:3], datetime(2000, 3, 31))
    rows[3] = (*rows[3][:3], 1 / 3)
    rows[4] = (*rows[4], "stray")
    parsed = parse(xlsx_bytes(rows), "figures.xlsx")
    assert messages(parsed) == [
        "Row 2, column period_end: '36616' is a number, not a date; write the date as YYYY-MM-DD or format the "
        "cell as a date",
        "Row 3, column amount: The cell holds the Excel error #DIV/0!, not a value",
        "Row 4, column amount: '2000-03-31T00:00:00' is a date, not an amount",
        "Row 5, column amount: '0.3333333333333333' has more than 2 decimal places",
        "Row 6: Cell E6 holds 'stray', but its column has no header",
    ]


# --- The template ---------------------------------------------------------------------------------

TEMPLATE_BORROWERS = [(party_id, names[0]) for party_id, names in BORROWERS.items()]
FILLED = {"Revenues": 24_821_000, "EBITDA": -38_700_000.5}


def test_the_csv_template_lists_every_borrower_and_required_line_item():
    content = build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="csv")
    assert content.startswith(b"\xef\xbb\xbf")  # so that Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(HEADER)
    assert rows[1:] == [
        [name, "2000-03-31", item, ""] for _id, name in TEMPLATE_BORROWERS for item in ("Revenues", "EBITDA")
    ]


def test_the_xlsx_template_has_one_formatted_statement_sheet():
    content = build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Statement"]
    sheet = workbook["Statement"]
    assert [cell.value for cell in sheet[1]] == list(HEADER)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.max_row == 1 + 5 * 2
    assert [c.value for c in sheet[2]] == ["KMC Telecom Inc.", datetime(2000, 3, 31), "Revenues", None]
    assert all("#,##0" in sheet.cell(row=r, column=4).number_format for r in range(2, sheet.max_row + 1))
    assert sheet.column_dimensions["A"].width >= len("KMC Telecom of Virginia, Inc.")
    assert all(sheet.column_dimensions[letter].width for letter in "ABCD")


def test_the_template_refuses_a_date_that_is_not_a_quarter_end_and_an_unknown_format():
    with pytest.raises(
        ValueError, match=re.escape(f"2000-03-30 is not the last day of a fiscal quarter ({QUARTER_ENDS})")
    ):
        build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=date(2000, 3, 30), fmt="csv")
    with pytest.raises(ValueError, match="'pdf' is not a template format"):
        build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="pdf")


def test_a_filled_csv_template_is_accepted_back_as_it_is():
    template = build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="csv")
    rows = list(csv.reader(io.StringIO(template.decode("utf-8-sig"), newline="")))
    for row in rows[1:]:
        row[3] = f"{FILLED[row[2]]:,}" if FILLED[row[2]] > 0 else f"({-FILLED[row[2]]:,.2f})"
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    parsed = parse(buffer.getvalue().encode("utf-8-sig"), "statement-template.csv")
    assert parsed.ok, messages(parsed)
    assert parsed.statements() == {
        (party_id, Q1): {"revenues": Decimal("24821000"), "ebitda": Decimal("-38700000.50")} for party_id in BORROWERS
    }


def test_a_filled_xlsx_template_is_accepted_back_as_it_is():
    template = build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.active
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=4).value = FILLED[sheet.cell(row=row, column=3).value]
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse(buffer.getvalue(), "statement-template.xlsx")
    assert parsed.ok, messages(parsed)
    assert parsed.statements() == {
        (party_id, Q1): {"revenues": Decimal("24821000"), "ebitda": Decimal("-38700000.50")} for party_id in BORROWERS
    }


def test_an_unfilled_template_is_refused_for_its_blank_amounts():
    template = build_template(context=CONTEXT, borrowers=TEMPLATE_BORROWERS, period_end=Q1, fmt="csv")
    parsed = parse(template)
    assert [(e.row, e.column) for e in parsed.errors] == [(row, "amount") for row in range(2, 12)]


def test_a_borrower_name_that_looks_like_a_formula_is_guarded_in_the_csv_template_and_read_back():
    context = make_context({6: ("=Plus Capital LLC", "Plus")})
    template = build_template(context=context, borrowers=[(6, "=Plus Capital LLC")], period_end=Q1, fmt="csv")
    assert "'=Plus Capital LLC" in template.decode("utf-8-sig")
    filled = template.replace(b",\r\n", b",1\r\n")
    parsed = parse(filled, context=context)
    assert parsed.ok, messages(parsed)
    assert {row.party_id for row in parsed.rows} == {6}


def test_a_borrower_name_that_looks_like_a_formula_is_text_in_the_xlsx_template_and_read_back():
    """openpyxl writes any string beginning with = as a live formula: the template must not."""
    name = '=HYPERLINK("http://example.com","Plus Capital LLC")'
    context = make_context({6: (name, "Plus")})
    template = build_template(context=context, borrowers=[(6, name)], period_end=Q1, fmt="xlsx")
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"HYPERLINK" in sheet_xml
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.active
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("'" + name, "s")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row=row, column=4).value = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    parsed = parse(buffer.getvalue(), "statement-template.xlsx", context=context)
    assert parsed.ok, messages(parsed)
    assert {row.party_id for row in parsed.rows} == {6}


# --- Workbooks as Excel writes them ---------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_style_workbook() -> bytes:
    """What openpyxl does not write but Excel does: shared strings (one in rich text with a
    phonetic reading), prefixed namespaces, dates counted from 1904 in a custom date format,
    cells without references, a formula's saved text, a cell far to the right."""
    serial = (date(2000, 3, 31) - date(1904, 1, 1)).days
    workbook_xml = (
        f'<x:workbook xmlns:x="{MAIN}" xmlns:r="{RELS}"><x:workbookPr date1904="1"/>'
        '<x:sheets><x:sheet name="Figures" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>'
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="/xl/sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'
    )
    styles = (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
        '</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs count="3">'
        '<xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="4"/></cellXfs></styleSheet>'
    )
    texts = ["entity", "period_end", "line_item", "amount", None, "Revenues"]
    shared = "".join(
        '<si><r><t xml:space="preserve">KMC </t></r><r><rPr><b/></rPr><t>Telecom Inc.</t></r>'
        '<rPh sb="0" eb="3"><t>ケーエムシー</t></rPh></si>'
        if text is None
        else f"<si><t>{text}</t></si>"
        for text in texts
    )
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="s"><v>2</v></c><c t="s"><v>3</v></c></row>'
        f'<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" s="1"><v>{serial}</v></c><c r="C2" t="s"><v>5</v></c>'
        '<c r="D2" s="2"><v>24000000</v></c><c r="XFD2" s="2"/></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>KMC</t></is></c><c r="B3" t="d"><v>2000-03-31T00:00:00</v></c>'
        '<c r="C3" t="str"><f>"EBIT"&amp;"DA"</f><v>EBITDA</v></c><c r="D3" s="2"><v>-1000000.5</v></c></row>'
        "</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": "<Types/>",
        "xl/workbook.xml": workbook_xml,
        "xl/_rels/workbook.xml.rels": rels,
        "xl/styles.xml": styles,
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{shared}</sst>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return buffer.getvalue()


def test_a_workbook_as_excel_writes_it_is_read_cell_for_cell():
    parsed = parse(excel_style_workbook(), "figures.xlsx")
    assert parsed.ok, messages(parsed)
    assert parsed.rows == [
        ParsedRow(2, 1, Q1, "revenues", Decimal("24000000.00")),
        ParsedRow(3, 1, Q1, "ebitda", Decimal("-1000000.50")),
    ]


def test_a_workbook_whose_only_sheet_is_a_chart_is_refused():
    content = rezip(
        excel_style_workbook(),
        {
            "xl/_rels/workbook.xml.rels": (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f'<Relationship Id="rId1" Type="{RELS}/chartsheet" Target="worksheets/sheet1.xml"/></Relationships>'
            ).encode()
        },
    )
    assert only_error(parse(content, "figures.xlsx")).message == (
        "The first sheet of the workbook is a chart; put the figures on the first sheet"
    )


# --- Periods and statements per file --------------------------------------------------------------


def window() -> UploadContext:
    """The seed agreement's window: from 1988-12-31 to 2011-03-31."""
    return make_context(earliest_period=date(1988, 12, 31), latest_period=date(2011, 3, 31))


OUTSIDE = (
    "is outside the periods this agreement's statements may cover: fiscal quarters ending from 1988-12-31 to "
    "2011-03-31, a window around the agreement's life"
)


def test_the_window_around_the_agreement_includes_its_first_and_last_quarter():
    parsed = parse(csv_bytes(quarter_rows(date(1988, 12, 31)) + quarter_rows(date(2011, 3, 31))), context=window())
    assert parsed.ok, messages(parsed)
    assert {period for _party, period in parsed.statements()} == {date(1988, 12, 31), date(2011, 3, 31)}


@pytest.mark.parametrize("day", [date(1, 3, 31), date(1988, 9, 30), date(2011, 6, 30), date(9999, 12, 31)])
def test_a_period_outside_the_window_is_refused_on_every_row_naming_the_period_and_the_window(day):
    parsed = parse(csv_bytes(quarter_rows(day)), context=window())
    assert not parsed.rows
    assert {(e.row, e.column) for e in parsed.errors} == {(row, "period_end") for row in range(2, 12)}
    assert {e.message for e in parsed.errors} == {f"{day.isoformat()} {OUTSIDE}"}


def test_json_records_are_held_to_the_same_window():
    records = [
        {"entity": "KMC", "period_end": "9999-12-31", "line_item": "revenues", "amount": 1},
        {"entity": "KMC", "period_end": "9999-12-31", "line_item": "ebitda", "amount": 1},
    ]
    parsed = parse_statement_records(records, window())
    assert [str(e) for e in parsed.errors] == [f"Row {n}, column period_end: 9999-12-31 {OUTSIDE}" for n in (1, 2)]


def test_more_statements_than_a_file_may_hold_are_refused_counting_them():
    rows = [row for year in range(2000, 2005) for q in ((3, 31), (6, 30)) for row in quarter_rows(date(year, *q))]
    parsed = parse(csv_bytes(rows), context=make_context(max_statements=49))
    assert only_error(parsed).message == (
        "The file holds 50 statements (one for each Borrower and fiscal quarter), and a file may hold at most 49; "
        "split it into files of at most 49 statements"
    )
    assert parse(csv_bytes(rows), context=make_context(max_statements=50)).ok


# --- JSON records from the API ------------------------------------------------------------------


def test_json_records_are_validated_like_a_file():
    records = [
        {"entity": "KMC", "period_end": "2000-03-31", "line_item": "revenues", "amount": 24_000_000},
        {"entity": "KMC", "period_end": "2000-03-31", "line_item": "ebitda", "amount": "(1,000,000)"},
        {"Entity": "Leasing II", "Period End": "2000-03-31", "line_item": "Revenues", "amount": 1.5},
        {"entity": "Leasing II", "period_end": "2000-03-31", "line_item": "EBITDA", "amount": "0"},
    ]
    parsed = parse_statement_records(records, CONTEXT)
    assert parsed.ok, messages(parsed)
    assert parsed.format == "json"
    assert parsed.rows[0] == ParsedRow(1, 1, Q1, "revenues", Decimal("24000000"))
    assert parsed.rows[2] == ParsedRow(3, 5, Q1, "revenues", Decimal("1.50"))
    reordered = [dict(reversed(list(record.items()))) for record in records]
    assert parse_statement_records(reordered, CONTEXT).sha256 == parsed.sha256
    assert parsed.sha256 == hashlib.sha256(canonical_json(records)).hexdigest()
    assert parsed.size == len(canonical_json(records))


def test_json_records_report_errors_on_the_record_number():
    records = [
        {"entity": "KMC", "period_end": "2000-03-31", "line_item": "revenues", "amount": "n/a", "amt": 1},
        {"entity": "KMC", "period_end": "2000-03-31", "line_item": "ebitda"},
        "not a record",
        {"entity": "KMC", "period_end": "2000-03-31", "line_item": "ebitda", "amount": [1]},
    ]
    parsed = parse_statement_records(records, CONTEXT)
    assert messages(parsed) == [
        "Row 1: 'amt' is not a column of the layout; the columns are entity, period_end, line_item and amount",
        f"Row 1, column amount: 'n/a' {NOT_AN_AMOUNT}",
        "Row 2, column amount: The amount is blank; a figure is required (write 0 for none)",
        "Row 3: The record is not an object with the columns as keys",
        "Row 4, column line_item: KMC Telecom Inc. has two figures for EBITDA for the fiscal quarter ending "
        "2000-03-31, in rows 2 and 4; keep one",
        "Row 4, column amount: The value must be text or a number",
    ]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([], "The file has no figures: there are no records"),
        ({"entity": "KMC"}, "The figures must be a list of records"),
        ("entity,period_end", "The figures must be a list of records"),
    ],
)
def test_json_that_is_not_a_list_of_records_is_refused(records, message):
    assert only_error(parse_statement_records(records, CONTEXT)) == UploadError(None, None, message)


# --- Fuzzing: whatever arrives, a sentence comes back ---------------------------------------------


def assert_answered(parsed) -> None:
    assert (parsed.ok and parsed.rows) or parsed.errors
    for error in parsed.errors:
        assert isinstance(error, UploadError)
        assert error.message.strip()
        assert str(error)
        # Every input takes a path that explains itself, not the last-resort catch-all.
        assert "could not be read" not in error.message, error.message


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=1024).map(lambda b: b"PK\x03\x04" + b),
        st.binary(max_size=1024).map(lambda b: b"entity,period_end,line_item,amount\n" + b),
    ),
    filename=st.sampled_from(["f.csv", "f.xlsx", "f", "f.txt", "f.xls", "dir/f.CSV"]),
)
def test_random_bytes_never_raise(content, filename):
    assert_answered(parse(content, filename))


CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["KMC", "Leasing II", "KMC Telecom III, Inc.", "2000-03-31", "2000-03-30", "Revenues", "ebitda"]),
    st.sampled_from(["18,000,000", "(4,157,000)", "-$1", "n/a", "", " ", "1e9", "#N/A", "'=1+1", '"', "0.001"]),
)


@pytest.fixture(scope="module")
def good_workbook() -> bytes:
    return xlsx_bytes(quarter_rows())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_damaged_workbook_never_raises(good_workbook, data):
    content = bytearray(good_workbook)
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        position = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
        content[position] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=4, max_value=len(content)))
    assert_answered(parse(bytes(content[:cut]), "figures.xlsx"))


@settings(max_examples=150, deadline=None)
@given(
    header=st.one_of(st.just(list(HEADER)), st.lists(st.sampled_from([*HEADER, "x", "", " Amount "]), max_size=6)),
    rows=st.lists(st.lists(CELL, max_size=6), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_random_csv_text_never_raises(header, rows, delimiter):
    text = "\n".join(delimiter.join(cells) for cells in [header, *rows])
    assert_answered(parse(text.encode("utf-8", "surrogatepass"), "f.csv"))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from([*HEADER, "x"]), st.one_of(CELL, st.integers(), st.floats(), st.none())),
        max_size=8,
    )
)
def test_random_records_never_raise(rows):
    assert_answered(parse_statement_records(rows, CONTEXT))
