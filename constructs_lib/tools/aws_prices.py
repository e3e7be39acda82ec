"""Provisioned Throughput prices from the AWS Price List API, for ``bedrock-estate plan --prices aws``.

The Price List API (service ``pricing``, endpoint in us-east-1) answers ``GetProducts`` for the
service code ``AmazonBedrock`` with one JSON document per product: its attributes and its
on-demand terms (USD per unit). A price is taken only when exactly one price matches the base
model's catalog name, the term and the stage's region among products that describe Provisioned
Throughput per model unit and hour; none or several distinct prices leave it unknown, as
everywhere else in the estate. Nothing is cached or written: the plan shows where each price came
from, and the user states the ones they accept under ``prices`` in the spec.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from estate_runtime.pricing import PriceTable

PRICING_REGION = "us-east-1"  # the Price List API's endpoint for the aws partition
SERVICE_CODE = "AmazonBedrock"
_TERM_WORDS = {
    "none": ("no commit", "no-commit", "nocommit", "without commitment", "hourly"),
    "OneMonth": ("1 month", "1-month", "1month", "one month", "one-month"),
    "SixMonths": ("6 month", "6-month", "6month", "six month", "six-month"),
}


@dataclass
class AwsPrices:
    """What the Price List API said: a price table and, per (model, term, region) left unknown, why."""

    table: PriceTable
    notes: list[str] = field(default_factory=list)


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _products(client: Any, region: str) -> Iterable[dict[str, Any]]:
    token = None
    while True:
        request = {
            "ServiceCode": SERVICE_CODE,
            "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            request["NextToken"] = token
        answer = client.get_products(**request)
        for item in answer.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = answer.get("NextToken")
        if not token:
            return


def _hourly_prices(product: dict[str, Any]) -> list[tuple[float, str]]:
    """(USD per hour, dimension description) of a product's on-demand terms."""
    found = []
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            unit = _words(str(dimension.get("unit", "")))
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is None or not (unit.startswith("hr") or "hour" in unit):
                continue
            try:
                found.append((float(usd), str(dimension.get("description", ""))))
            except ValueError:
                continue
    return found


def read_prices(
    client_factory: Callable[..., Any],
    wanted: dict[str, tuple[str, str]],
    terms: dict[str, set[str]],
    today: date | None = None,
) -> AwsPrices:
    """Prices for ``wanted`` (base model id -> (catalog name, region)) and the ``terms`` each needs.
    ``client_factory`` is ``boto3.client``-like: called as ``client_factory("pricing", region_name=...)``."""
    client = client_factory("pricing", region_name=PRICING_REGION)
    hourly: dict[str, dict[str, float]] = {}
    notes: list[str] = []
    by_region: dict[str, list[dict[str, Any]]] = {}
    for model_id, (name, region) in sorted(wanted.items()):
        products = (
            by_region.setdefault(region, list(_products(client, region)))
            if region not in by_region
            else by_region[region]
        )
        model_words = _words(name)
        for term in sorted(terms.get(model_id, set())):
            prices = set()
            for product in products:
                text = _words(" ".join(str(v) for v in (product.get("product", {}).get("attributes") or {}).values()))
                for usd, description in _hourly_prices(product):
                    full = f"{text} {_words(description)}"
                    if "provisioned" not in full or f" {model_words} " not in f" {full} ":
                        continue
                    if any(word in full for word in _TERM_WORDS[term]) and not any(
                        word in full for other, words in _TERM_WORDS.items() if other != term for word in words
                    ):
                        prices.add(usd)
            if len(prices) == 1:
                hourly.setdefault(model_id, {})[term] = prices.pop()
            elif not prices:
                notes.append(
                    f"{model_id} ({term}, {region}): no Provisioned Throughput price for {name!r} in the Price List"
                )
            else:
                listed = ", ".join(f"${p:,.2f}" for p in sorted(prices))
                notes.append(f"{model_id} ({term}, {region}): several prices match ({listed}); none is taken")
    read_on = (today or date.today()).isoformat()
    table = PriceTable(
        reviewed=read_on,
        source=f"AWS Price List API ({SERVICE_CODE}), read {read_on}",
        hourly=hourly,
        label="AWS Price List",
    )
    return AwsPrices(table, notes)
