"""bedrock-estate constructs: reusable L3 constructs for an Amazon Bedrock customization estate.

Use them in any CDK app; the estate's own stacks (``stacks/``) are one composition of them.
Constructs load lazily, so the spec, plan and command-line tools start without the CDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the facade as type checkers and editors see it; at run time names load lazily
    from .compliance.nag import acknowledge, add_nag_packs
    from .customization.customization_job import CustomizationJob, CustomizationJobProps, JobNames
    from .customization.estate_dataset import EstateDataset, EstateDatasetProps
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
    from .promotion.model_copy import ModelCopy, ModelCopyProps
    from .promotion.model_share import ModelShare, ModelShareProps
    from .serving.gate_role import GateRole, GateRoleProps
    from .serving.served_model import CommitmentAcknowledgement, ServedModel, ServedModelProps
    from .serving.serving_monitoring import MonitoredModel, ServingMonitoring, ServingMonitoringProps

_EXPORTS = {
    "CommitmentAcknowledgement": "serving.served_model",
    "CustomizationJob": "customization.customization_job",
    "CustomizationJobProps": "customization.customization_job",
    "CustomizationServiceRole": "foundation.customization_role",
    "CustomizationServiceRoleProps": "foundation.customization_role",
    "EstateConstructError": "machinery.validation",
    "EstateDataset": "customization.estate_dataset",
    "EstateDatasetProps": "customization.estate_dataset",
    "EstateKey": "foundation.estate_key",
    "EstateKeyProps": "foundation.estate_key",
    "EstateProvider": "machinery.resource_provider",
    "InvocationLogging": "invocation_logging.invocation_logging",
    "InvocationLoggingProps": "invocation_logging.invocation_logging",
    "GateRole": "serving.gate_role",
    "GateRoleProps": "serving.gate_role",
    "ImportedModel": "model_import.imported_model",
    "ImportedModelProps": "model_import.imported_model",
    "JobNames": "customization.customization_job",
    "KindGrants": "machinery.resource_provider",
    "ModelCopy": "promotion.model_copy",
    "ModelCopyProps": "promotion.model_copy",
    "ModelImportRole": "model_import.imported_model",
    "ModelImportRoleProps": "model_import.imported_model",
    "ModelShare": "promotion.model_share",
    "ModelShareProps": "promotion.model_share",
    "MonitoredModel": "serving.serving_monitoring",
    "NotificationTopic": "foundation.notification_topic",
    "NotificationTopicProps": "foundation.notification_topic",
    "ProviderLogging": "machinery.resource_provider",
    "PullRequestDiffRole": "foundation.pull_request_diff_role",
    "PullRequestDiffRoleProps": "foundation.pull_request_diff_role",
    "RftGrader": "customization.rft_grader",
    "RftGraderProps": "customization.rft_grader",
    "SecureBucket": "foundation.secure_bucket",
    "SecureBucketProps": "foundation.secure_bucket",
    "ServedModel": "serving.served_model",
    "ServedModelProps": "serving.served_model",
    "ServingMonitoring": "serving.serving_monitoring",
    "ServingMonitoringProps": "serving.serving_monitoring",
    "acknowledge": "compliance.nag",
    "add_nag_packs": "compliance.nag",
}

__all__ = [
    "CommitmentAcknowledgement",
    "CustomizationJob",
    "CustomizationJobProps",
    "CustomizationServiceRole",
    "CustomizationServiceRoleProps",
    "EstateConstructError",
    "EstateDataset",
    "EstateDatasetProps",
    "EstateKey",
    "EstateKeyProps",
    "EstateProvider",
    "GateRole",
    "GateRoleProps",
    "ImportedModel",
    "ImportedModelProps",
    "InvocationLogging",
    "InvocationLoggingProps",
    "JobNames",
    "KindGrants",
    "ModelCopy",
    "ModelCopyProps",
    "ModelImportRole",
    "ModelImportRoleProps",
    "ModelShare",
    "ModelShareProps",
    "MonitoredModel",
    "NotificationTopic",
    "NotificationTopicProps",
    "ProviderLogging",
    "PullRequestDiffRole",
    "PullRequestDiffRoleProps",
    "RftGrader",
    "RftGraderProps",
    "SecureBucket",
    "SecureBucketProps",
    "ServedModel",
    "ServedModelProps",
    "ServingMonitoring",
    "ServingMonitoringProps",
    "acknowledge",
    "add_nag_packs",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
