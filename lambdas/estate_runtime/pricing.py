"""Serving cost: hourly price per model unit by base model and commitment term.

``prices.json`` (beside this file) is the shipped table, with its source and review date; the
spec's ``prices`` override or extend it. A price nobody stated is unknown, and stays unknown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

TERMS = ("none", "OneMonth", "SixMonths")
HOURS_PER_DAY = 24
# Months vary; a commitment is sold per hour, so a month here is 730 hours (8,760 / 12).
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class PriceTable:
    reviewed: str
    source: str
    hourly: dict[str, dict[str, float]]  # base model -> term -> USD per model unit per hour
    label: str = "price table"  # how the plan names where a price came from

    def hourly_per_unit(self, base_model: str, term: str, overrides: Mapping[str, Mapping[Any, float]] | None = None) -> tuple[float | None, str]:
        """(price, where it came from). ``None`` when nobody stated it."""
        if overrides and term in overrides.get(base_model, {}):
            return overrides[base_model][term], "spec"
        if term in self.hourly.get(base_model, {}):
            return self.hourly[base_model][term], f"{self.label} ({self.reviewed})"
        return None, "unknown"


@dataclass(frozen=True)
class Cost:
    hourly: float | None
    source: str

    @property
    def daily(self) -> float | None:
        return None if self.hourly is None else self.hourly * HOURS_PER_DAY

    @property
    def monthly(self) -> float | None:
        return None if self.hourly is None else self.hourly * HOURS_PER_MONTH


def cost(
    table: PriceTable,
    base_model: str,
    term: str,
    model_units: int,
    overrides: Mapping[str, Mapping[Any, float]] | None = None,
    fetched: PriceTable | None = None,
) -> Cost:
    """The spec's price first, then one ``fetched`` from AWS (``plan --prices aws``), then the table."""
    price, source = (fetched or table).hourly_per_unit(base_model, term, overrides)
    if price is None and fetched is not None:
        price, source = table.hourly_per_unit(base_model, term)
    return Cost(None if price is None else price * model_units, source)


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


@lru_cache(maxsize=1)
def load_prices() -> PriceTable:
    raw = json.loads((resources.files(__package__) / "prices.json").read_text(encoding="utf-8"))
    return PriceTable(reviewed=raw["reviewed"], source=raw["source"], hourly=raw["hourlyPerModelUnit"])
