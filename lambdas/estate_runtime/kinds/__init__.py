"""Every kind of estate custom resource, one folder each: ``kinds/<kind>/contract.py`` (its
CloudFormation type, its typed properties, the AWS operations it calls and when, how long it may
wait) and ``kinds/<kind>/handler.py`` (the Lambda side). Importing this package loads only the
contracts: no CDK, no boto3.

The handler registry (``entry.REGISTRY``), the type names (``BY_TYPE``), the handlers'
``required_operations``, the conditional and the dependent permissions (``permissions``) derive
from here; the constructs write their properties with ``to_cfn()`` and the handlers read them with
``parse()``. A new kind is a folder here and its folder's name in ``FOLDERS`` (the registry); what
else it touches is listed once, in constructs_lib/machinery/README.md, "Adding a kind".
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .base import (
    PROVIDER_QUERY_INTERVAL_SECONDS,
    PROVIDER_TOTAL_TIMEOUT_SECONDS,
    AdoptedModel,
    Attributes,
    JobNameParts,
    Kind,
    Properties,
    When,
    as_bool,
)

FOLDERS: tuple[str, ...] = (
    "invocation_logging",
    "customization_job",
    "dataset",
    "provisioned_throughput",
    "custom_model_deployment",
    "model_share",
    "model_copy",
    "imported_model",
    "open_weight_rft",
    "nova_custom_model",
)
"""The registry: every kind, by its folder here (each folder's ``KIND``)."""

ALL: tuple[Kind[Any], ...] = tuple(import_module(f"{__name__}.{folder}").KIND for folder in FOLDERS)

BY_TYPE: dict[str, Kind[Any]] = {kind.type_name: kind for kind in ALL}

__all__ = [
    "AdoptedModel",
    "Attributes",
    "ALL",
    "BY_TYPE",
    "FOLDERS",
    "PROVIDER_QUERY_INTERVAL_SECONDS",
    "PROVIDER_TOTAL_TIMEOUT_SECONDS",
    "JobNameParts",
    "Kind",
    "Properties",
    "When",
    "as_bool",
]
