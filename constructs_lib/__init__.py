"""bedrock-estate constructs: reusable L3 constructs for an Amazon Bedrock customization estate.

Use them in any CDK app; the estate's own stacks (``stacks/``) are one composition of them.
Constructs load lazily, so the spec, plan and command-line tools start without the CDK.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CommitmentAcknowledgement": "served_model",
    "CustomizationJob": "customization_job",
    "CustomizationJobProps": "customization_job",
    "CustomizationServiceRole": "customization_role",
    "CustomizationServiceRoleProps": "customization_role",
    "EstateDataset": "estate_dataset",
    "EstateDatasetProps": "estate_dataset",
    "EstateKey": "estate_key",
    "EstateKeyProps": "estate_key",
    "EstateProvider": "resource_provider",
    "InvocationLogging": "invocation_logging",
    "InvocationLoggingProps": "invocation_logging",
    "GateRole": "gate_role",
    "GateRoleProps": "gate_role",
    "JobNames": "customization_job",
    "KindGrants": "resource_provider",
    "ModelCopy": "model_copy",
    "ModelCopyProps": "model_copy",
    "ModelShare": "model_share",
    "ModelShareProps": "model_share",
    "MonitoredModel": "serving_monitoring",
    "NotificationTopic": "notification_topic",
    "NotificationTopicProps": "notification_topic",
    "ProviderLogging": "resource_provider",
    "RftGrader": "rft_grader",
    "RftGraderProps": "rft_grader",
    "SecureBucket": "secure_bucket",
    "SecureBucketProps": "secure_bucket",
    "ServedModel": "served_model",
    "ServedModelProps": "served_model",
    "ServingMonitoring": "serving_monitoring",
    "ServingMonitoringProps": "serving_monitoring",
    "acknowledge": "nag",
    "add_nag_packs": "nag",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
