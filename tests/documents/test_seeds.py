"""The importer on the two seed texts: every fact DOMAIN.md states that a text can give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from documents.importer import read_document

from .scoring import facts_of, score
from .seed_facts import AMENDMENT_4, AMENDMENT_4_FACTS, LUCENT_4, LUCENT_4_FACTS, SEED_DIR

SEEDS = [(AMENDMENT_4, AMENDMENT_4_FACTS), (LUCENT_4, LUCENT_4_FACTS)]


def read(name: str):
    path = Path(SEED_DIR) / name
    return read_document(path.read_text(), filename=name)


@pytest.mark.parametrize(("name", "expected"), SEEDS, ids=["amendment-4", "lucent-amendment-4"])
def test_seed_facts(name: str, expected: dict) -> None:
    s = score(expected, read(name))
    print(s.line(name))
    assert s.wrong == []
    assert s.missing == []
    assert s.right == s.expected
    assert s.unchecked == 0  # every fact proposed is one DOMAIN.md states


def test_every_span_points_at_its_text() -> None:
    """A row's level, a date and a signer's name are found at their spans in the text read."""
    p = read(AMENDMENT_4)
    for covenant in p.covenants:
        for r in covenant.rows:
            t = r.threshold
            assert p.text[t.span[0] : t.span[1]] == t.as_printed
            for d in r.dates:
                assert " ".join(p.text[d.span[0] : d.span[1]].split()) == d.as_printed
    for b in p.signatures:
        for line in b.lines:
            if line.name:
                assert line.name in p.text[line.span[0] : line.span[1]]


def test_party_spans_name_the_party() -> None:
    p = read(AMENDMENT_4)
    for party in p.parties:
        printed = " ".join(p.text[party.span[0] : party.span[1]].split())
        assert printed.casefold().replace(",", "") == party.name.casefold().replace(",", ""), party.name


def test_blank_deadline_is_unknown_and_flagged() -> None:
    (cp,) = read(AMENDMENT_4).conditions
    assert cp.deadline is None
    assert cp.deadline_as_printed == "January __, 2000"
    assert "deadline_unknown" in cp.flags


def test_losses_reading_and_sign() -> None:
    losses = next(c for c in read(AMENDMENT_4).covenants if c.section == "7.01(c)(i)")
    assert all(r.threshold.negative and r.threshold.value < 0 for r in losses.rows)
    assert "at least" in losses.reading


def test_to_dict_is_json_ready() -> None:
    p = read(AMENDMENT_4)
    data = json.loads(json.dumps(p.to_dict()))
    assert data["instrument"]["dated"]["value"] == "1999-12-31"
    revenues = data["covenants"][0]
    assert revenues["rows"][0]["threshold"]["value"] == "18000000"
    assert "text" not in data and data["text_length"] == len(p.text)


def test_facts_are_deterministic() -> None:
    assert facts_of(read(LUCENT_4)) == facts_of(read(LUCENT_4))
    assert read(AMENDMENT_4).to_dict() == read(AMENDMENT_4).to_dict()
