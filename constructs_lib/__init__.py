"""bedrock-estate constructs: reusable L3 constructs for an Amazon Bedrock customization estate.

Use them in any CDK app; the estate's own stacks (``stacks/``) are one composition of them.
Constructs load lazily, so the spec, plan and command-line tools start without the CDK.
"""

# The imports under TYPE_CHECKING are the facade's one export list (``__all__`` is read from them):
# ruff cannot see that they are used.
# ruff: noqa: F401

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the facade as type checkers and editors see it; at run time names load lazily
    from .compliance.nag import acknowledge, add_nag_packs
    from .customization.adopted_custom_model import AdoptedCustomModel, AdoptedCustomModelProps
    from .customization.customization_job import CustomizationJob, CustomizationJobProps, JobNames
    from .customization.estate_dataset import EstateDataset, EstateDatasetProps
    from .customization.open_weight_fine_tuning import OpenWeightFineTuningJob, OpenWeightFineTuningJobProps
    from .customization.rft_grader import RftGrader, RftGraderProps
    from .foundation.customization_role import CustomizationServiceRole, CustomizationServiceRoleProps
    from .foundation.estate_key import EstateKey, EstateKeyProps
    from .foundation.notification_topic import NotificationTopic, NotificationTopicProps
    from .foundation.pull_request_diff_role import PullRequestDiffRole, PullRequestDiffRoleProps
    from .foundation.secure_bucket import SecureBucket, SecureBucketProps
    from .invocation_logging.invocation_logging import InvocationLogging, InvocationLoggingProps
    from .machinery.resource_provider import EstateProvider, KindGrants, ProviderLogging
    from .machinery.validation import EstateConstructError
    from .model_import.imported_model import ImportedModel, ImportedModelProps, ModelImportRole, ModelImportRoleProps
    from .model_import.nova_custom_model import NovaCustomModel, NovaCustomModelProps
    from .promotion.model_copy import ModelCopy, ModelCopyProps
    from .promotion.model_share import ModelShare, ModelShareProps
    from .serving.gate_role import GateRole, GateRoleProps, JudgeAccess
    from .serving.served_model import CommitmentAcknowledgement, ServedModel, ServedModelProps
    from .serving.serving_monitoring import MonitoredModel, ServingMonitoring, ServingMonitoringProps


def _typed_exports() -> dict[str, str]:
    """Name -> module (relative to this package) of each name the ``TYPE_CHECKING`` block above
    imports, read from this file's source: that block is the one list of what the facade exports,
    so a new construct adds one import line there and nothing else."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    return {
        alias.name: str(node.module)
        for block in tree.body
        if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


_EXPORTS = _typed_exports()
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
