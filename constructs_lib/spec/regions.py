"""AWS regions and partitions, read from botocore's endpoint data (no network, no credentials)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .suggest import closest


@lru_cache(maxsize=1)
def _region_partitions() -> dict[str, str]:
    # botocore's own endpoint data, read directly: loading botocore's loader machinery would
    # cost more than the file.
    endpoints = json.loads((resources.files("botocore") / "data" / "endpoints.json").read_text())
    return {region: partition["partition"] for partition in endpoints["partitions"] for region in partition["regions"]}


@lru_cache(maxsize=1)
def _bedrock_regions() -> dict[str, list[str]]:
    endpoints = json.loads((resources.files("botocore") / "data" / "endpoints.json").read_text())
    return {
        partition["partition"]: sorted(
            r for r in partition["services"].get("bedrock", {}).get("endpoints", {}) if r in partition["regions"]
        )
        for partition in endpoints["partitions"]
    }


def bedrock_regions(partition: str) -> list[str]:
    """The regions of ``partition`` where botocore's endpoint data lists Amazon Bedrock, sorted."""
    return _bedrock_regions().get(partition, [])


def known_regions() -> list[str]:
    """Every region botocore knows, across partitions, sorted."""
    return sorted(_region_partitions())


def is_region(name: str) -> bool:
    return name in _region_partitions()


def partition_of(region: str) -> str:
    """The partition ('aws', 'aws-cn', 'aws-us-gov', ...) a known region belongs to."""
    return _region_partitions()[region]


def closest_regions(name: str, limit: int = 3) -> list[str]:
    return closest(name, known_regions(), limit)


def region_problem(name: str) -> str | None:
    """Why ``name`` is not a region botocore knows, with the closest ones; None when it is one.
    The spec's region fields and the commands' --region options say it the same way."""
    if is_region(name):
        return None
    close = [name.lower()] if is_region(name.lower()) else closest_regions(name)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{name!r} is not an AWS region{hint}"
