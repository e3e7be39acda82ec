"""Serving: the stage's served models and their monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.conversions import log_retention, removal_policy
from constructs_lib.job_identity import job_names_for
from constructs_lib.resource_provider import ProviderLogging
from constructs_lib.served_model import ServedModel, ServedModelProps
from constructs_lib.serving_monitoring import MonitoredModel, ServingMonitoring, ServingMonitoringProps
from constructs_lib.spec import EstateSpec, StageSettings
from constructs_lib.spec.model import Serving
from estate_runtime.naming import content_hash

from .foundation_stack import FoundationRefs, FoundationStack, notification_topic_name


def served_name(stage: StageSettings, entry: str, serving: Serving) -> str:
    """Bedrock name of a serving entry. A throughput's name carries its units and commitment, so
    changing either replaces it (Bedrock cannot change units in place)."""
    readable = f"{stage.qualifier}-{entry}"
    if serving.provisioned is None:
        suffix = "-od"
    else:
        p = serving.provisioned
        suffix = f"-pt-{content_hash({'units': p.model_units, 'commitment': p.commitment})[:8]}"
    return f"{readable[: 63 - len(suffix)].rstrip('-')}{suffix}"


class ServingStack(Stack):
    """Per stage with serving entries: one ServedModel each (provisioned throughput or an
    on-demand deployment), a dashboard, and alarms to the estate's topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        spec: EstateSpec,
        base_dir: Path,
        foundation: FoundationStack,
        customization: Stack | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, "reads the foundation's SSM parameters")
        if customization is not None:
            self.add_stack_dependency(customization, "serves the models its jobs train")
        refs = FoundationRefs(self, stage)
        logging = ProviderLogging(
            log_group_prefix=refs.log_group_prefix,
            log_key=refs.data_key,
            log_retention=log_retention(stage.retention.log_group_days),
            removal_policy=removal_policy(stage.removal),
        )
        self.models: dict[str, ServedModel] = {}
        for entry, serving in stage.serving.items():
            p = serving.provisioned
            model = ServedModel(
                self,
                f"Serving-{entry}",
                ServedModelProps(
                    kind="provisioned" if p else "on-demand",
                    name=served_name(stage, entry, serving),
                    logging=logging,
                    custom_model_key_arn=lambda: refs.custom_model_key_arn,
                    job=job_names_for(spec, stage.name, serving.model.job, base_dir) if serving.model.job else None,
                    model_arn=serving.model.arn,
                    model_units=p.model_units if p else 1,
                    commitment=p.commitment if p and p.commitment != "none" else None,
                    release_commitment=p.release_on_removal if p else False,
                    description=serving.on_demand.description if serving.on_demand else None,
                    tags={**stage.tags, **serving.tags, "estate-stage": stage.name, "estate-serving": entry},
                ),
            )
            self.models[entry] = model
            CfnOutput(self, f"{''.join(w.capitalize() for w in entry.split('-'))}ModelArn", value=model.arn, description=f"Invoke {entry} with this model id")

        topic_arn = self.format_arn(service="sns", resource=notification_topic_name(stage), arn_format=ArnFormat.NO_RESOURCE_NAME)
        self.monitoring = ServingMonitoring(
            self,
            "Monitoring",
            ServingMonitoringProps(
                name_prefix=f"{stage.qualifier}-",
                models=[MonitoredModel(label=entry, model_id=model.arn) for entry, model in self.models.items()],
                topic=sns.Topic.from_topic_arn(self, "Topic", topic_arn),
            ),
        )
