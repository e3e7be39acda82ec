"""AWS regions and partitions, read from botocore's endpoint data (no network, no credentials)."""

from __future__ import annotations

import difflib
from functools import lru_cache

import botocore.loaders


@lru_cache(maxsize=1)
def _region_partitions() -> dict[str, str]:
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {
        region: partition["partition"]
        for partition in endpoints["partitions"]
        for region in partition["regions"]
    }


def known_regions() -> list[str]:
    """Every region botocore knows, across partitions, sorted."""
    return sorted(_region_partitions())


def is_region(name: str) -> bool:
    return name in _region_partitions()


def partition_of(region: str) -> str:
    """The partition ('aws', 'aws-cn', 'aws-us-gov', ...) a known region belongs to."""
    return _region_partitions()[region]


def closest_regions(name: str, limit: int = 3) -> list[str]:
    return difflib.get_close_matches(name, known_regions(), n=limit, cutoff=0.6)
