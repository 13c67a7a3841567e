"""Jurisdictions a party may be organised under: the pattern is built from a closed list, so a
capitalised word after "a" is never mistaken for a state."""

from __future__ import annotations

STATES = """Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii
Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota Mississippi
Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah Vermont Virginia
Washington Wisconsin Wyoming""".split()  # noqa: SIM905 - a word list reads better as words
STATES += [
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "West Virginia",
    "District of Columbia",
    "Puerto Rico",
]
COUNTRIES = [
    "Canadian",
    "Canada",
    "Ontario",
    "Quebec",
    "Cayman Islands",
    "Bermuda",
    "British Virgin Islands",
    "English",
    "England and Wales",
    "German",
    "Luxembourg",
    "Netherlands",
    "Dutch",
    "Irish",
    "Swiss",
    "French",
    "Japanese",
    "United States",
]
# Longest first, so "West Virginia" is tried before "Virginia".
PLACES = sorted(STATES + COUNTRIES, key=len, reverse=True)
PLACE_ALT = "|".join(p.replace(" ", "[ ]") for p in PLACES)
CANONICAL = {p.lower(): p for p in PLACES}


def canonical_place(value: str) -> str:
    return CANONICAL.get(" ".join(value.split()).lower(), value)
