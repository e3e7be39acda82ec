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

    def hourly_per_unit(
        self, base_model: str, term: str, overrides: Mapping[str, Mapping[Any, float]] | None = None
    ) -> tuple[float | None, str]:
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


def commitment_problems(
    *,
    commitment: str,
    model_units: int,
    price: Cost,
    acknowledged_term: str | None,
    acknowledged_units: int | None,
    acknowledged_monthly_usd: float | None,
    base_model: str | None = None,
) -> list[tuple[str, str]]:
    """The commitment guard, shared by the spec and the ``ServedModel`` construct: problems with
    buying ``commitment`` (``OneMonth``/``SixMonths``) for ``model_units`` at ``price``, each as
    (path relative to the throughput's settings, message). No acknowledgement: all three
    ``acknowledged_*`` are ``None``. An hourly throughput (``none``) has none. ``base_model`` (when
    known) lets the message say where to state the price."""
    if commitment == "none":
        return []
    units = _counted(model_units, "model unit")
    if price.monthly is None:
        # A commitment cannot be cancelled: it is never accepted at a price nobody stated.
        if base_model is None:
            how = (
                "the spec does not know the base model of an existing custom model (arn), so it cannot "
                "price it: serve it without a commitment, or serve a job or promotion of the spec"
            )
        else:
            how = (
                f"state the hourly USD per model unit in the spec: prices: {{{base_model}: {{{commitment}: <USD>}}}} "
                "(see https://aws.amazon.com/bedrock/pricing/), or run `bedrock-estate plan --prices aws` with "
                "AWS credentials to read it from the AWS Price List API"
            )
        return [
            (
                "commitment",
                f"a {commitment} commitment cannot be cancelled, and the price of {units} is unknown; a commitment needs a known price: {how}",
            )
        ]
    shown = f"{money(price.monthly)} per month ({units}, {money(price.hourly)} per hour, {price.source})"
    if acknowledged_term is None or acknowledged_units is None or acknowledged_monthly_usd is None:
        return [
            (
                "commitment",
                f"a {commitment} commitment cannot be cancelled and costs {shown}. To accept it, add "
                f"acknowledge: {{term: {commitment}, modelUnits: {model_units}, monthlyUsd: <amount>}}",
            )
        ]
    if acknowledged_units != model_units:
        # Whether the throughput is deployed is not known here: say what each case means.
        return [
            (
                "modelUnits",
                f"{units}, but the acknowledgement states {acknowledged_units}. If this throughput is not deployed yet, "
                f"acknowledge what it will buy: acknowledge: {{term: {commitment}, modelUnits: {model_units}, monthlyUsd: <amount>}}. "
                f"If it is deployed under the {commitment} commitment, changing units replaces it: a new commitment "
                "is bought while the old one cannot be deleted and bills until its term ends; to do it anyway, first "
                "deploy with releaseOnRemoval: true, then change modelUnits and acknowledge the new purchase",
            )
        ]
    if acknowledged_term != commitment:
        return [
            (
                "acknowledge.term",
                f"acknowledges {acknowledged_term} but the commitment is {commitment}; the acknowledgement must state the term bought",
            )
        ]
    if acknowledged_monthly_usd + 0.005 < price.monthly:
        return [
            (
                "acknowledge.monthlyUsd",
                f"acknowledges {money(acknowledged_monthly_usd)} per month but the commitment costs {shown}",
            )
        ]
    return []


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
