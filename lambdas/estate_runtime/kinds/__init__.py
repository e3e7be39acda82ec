"""Every kind of estate custom resource, one folder each: ``kinds/<kind>/contract.py`` (its
CloudFormation type, its typed properties, the AWS operations it calls and when, how long it may
wait) and ``kinds/<kind>/handler.py`` (the Lambda side). Importing this package loads only the
contracts: no CDK, no boto3.

The handler registry (``entry.REGISTRY``), the type names (``BY_TYPE``), the handlers'
``required_operations`` and the conditional permissions (``permissions.ONLY_WHEN``) derive from
here; the constructs write their properties with ``to_cfn()`` and the handlers read them with
``parse()``. A new kind is a folder here, its construct, its tests, and a line in ``ALL``.
"""

from __future__ import annotations

from typing import Any

from . import (
    custom_model_deployment,
    customization_job,
    dataset,
    imported_model,
    invocation_logging,
    model_copy,
    model_share,
    provisioned_throughput,
)
from .base import (
    PROVIDER_QUERY_INTERVAL_SECONDS,
    PROVIDER_TOTAL_TIMEOUT_SECONDS,
    Attributes,
    JobNameParts,
    Kind,
    Properties,
    When,
    as_bool,
)

ALL: tuple[Kind[Any], ...] = (
    invocation_logging.KIND,
    customization_job.KIND,
    dataset.KIND,
    provisioned_throughput.KIND,
    custom_model_deployment.KIND,
    model_share.KIND,
    model_copy.KIND,
    imported_model.KIND,
)

BY_TYPE: dict[str, Kind[Any]] = {kind.type_name: kind for kind in ALL}

__all__ = [
    "Attributes",
    "ALL",
    "BY_TYPE",
    "PROVIDER_QUERY_INTERVAL_SECONDS",
    "PROVIDER_TOTAL_TIMEOUT_SECONDS",
    "JobNameParts",
    "Kind",
    "Properties",
    "When",
    "as_bool",
]
