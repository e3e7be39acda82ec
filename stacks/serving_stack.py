"""Serving: the stage's served models and their monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.machinery.resource_provider import ProviderLogging
from constructs_lib.model_import.nova_custom_model import NovaCustomModel
from constructs_lib.promotion.model_copy import ModelCopy, ModelCopyProps
from constructs_lib.promotion.model_share import ModelShare, ModelShareProps
from constructs_lib.serving.gate_role import GateRole, GateRoleProps, JudgeAccess
from constructs_lib.serving.served_model import CommitmentAcknowledgement, ServedModel, ServedModelProps
from constructs_lib.serving.serving_monitoring import MonitoredModel, ServingMonitoring, ServingMonitoringProps
from constructs_lib.spec import EstateSpec, StageSettings
from constructs_lib.spec.model import Serving
from constructs_lib.spec.nova_import import NOVA_MODELS
from estate_runtime.naming import JobNames, StageNames, content_hash
from stacks.spec_values import log_retention, removal_policy

from .customization_stack import CustomizationStack
from .foundation_stack import FoundationRefs, FoundationStack


def served_name(stage: StageSettings, entry: str, serving: Serving) -> str:
    """Bedrock name of a serving entry. A throughput's name carries its units and commitment, so
    changing either replaces it (Bedrock cannot change units in place)."""
    readable = stage.names.named(entry)
    if serving.provisioned is None:
        suffix = "-od"
    else:
        p = serving.provisioned
        suffix = f"-pt-{content_hash({'units': p.model_units, 'commitment': p.commitment})[:8]}"
    return f"{readable[: 63 - len(suffix)].rstrip('-')}{suffix}"


def share_name(stage: StageSettings, job: str) -> str:
    """RAM share of a job's model with the stages that promote it."""
    return stage.names.share(job)


def _base_model(stage: StageSettings, serving: Serving) -> str | None:
    """The foundation model a serving entry's model was customized from, where the spec knows it."""
    if serving.model.job:
        return stage.jobs[serving.model.job].base_model
    if serving.model.sagemaker_nova:
        return NOVA_MODELS.entries(stage)[serving.model.sagemaker_nova].base_model
    if serving.model.promotion:
        found = stage.promoted_from.get(serving.model.promotion)
        return found.job.base_model if found else None
    return None


class ServingStack(Stack):
    """Per stage that serves or promotes models: shares of this stage's models with the later
    stages that promote them, copies of the models promoted into it, one ServedModel per serving
    entry (provisioned throughput or an on-demand deployment), a dashboard, and alarms to the
    estate's topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        spec: EstateSpec,
        foundation: FoundationStack,
        customization: CustomizationStack | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_stack_dependency(foundation, "imports the foundation's exports")
        if customization is not None:
            self.add_stack_dependency(customization, "serves the models its jobs train")
        refs = FoundationRefs(self, stage)
        logging = ProviderLogging(
            log_group_prefix=refs.log_group_prefix,
            log_key=refs.data_key,
            key_policy_allows_logs=True,  # the foundation grants CloudWatch Logs the prefix
            log_retention=log_retention(stage.retention.log_group_days),
            removal_policy=removal_policy(stage.removal),
        )
        tags = {**stage.tags, "estate-stage": stage.name}
        self.shares: dict[str, ModelShare] = {}
        for job_name, promoted_to in stage.promoted_to.items():
            # A job entry that adopts a model shares it by its ARN (the estate trained no job).
            adopted = stage.jobs[job_name].adopt
            self.shares[job_name] = ModelShare(
                self,
                f"Share-{job_name}",
                ModelShareProps(
                    name=share_name(stage, job_name),
                    job=None if adopted else stage.job_names[job_name],
                    model_arn=adopted,
                    model_label=f"stages.{stage.name}.jobs.{job_name}",
                    # The key the entry says the adopted model is on (none: Bedrock's own key).
                    model_key_arn=stage.jobs[job_name].custom_model_kms_key_arn if adopted else None,
                    # Every model the entry adopts carries it (the customization stack's job tags).
                    model_tag=("estate-job", job_name) if adopted else None,
                    accounts=[target.account for target in promoted_to],
                    owner=stage.qualifier,
                    share_name_prefix=stage.names.prefix,
                    logging=logging,
                    tags={**tags, "estate-job": job_name},
                ),
            )
        self.copies: dict[str, ModelCopy] = {}
        for name, promotion in stage.promotions.items():
            source = stage.promoted_from.get(name)
            if source is None or source.names is None:
                raise ValueError(f"stages.{stage.name}.promotions.{name}: no such job in stage {promotion.from_stage}")
            source_stage, job, adopted = source.stage, source.names, source.job.adopt
            own_key = source.job.custom_model_kms_key_arn  # the model's key, when the spec names one
            self.copies[name] = ModelCopy(
                self,
                f"Copy-{name}",
                ModelCopyProps(
                    name=JobNames(stage.names.named(name), job.digest).custom_model_name,
                    source_stage=source_stage,
                    source_account=source.account,
                    source_region=source.region,
                    # The source model's key: the one its entry names (a job's customModelKmsKeyArn, or
                    # the key an adopted model is declared on, which the share verifies), else its
                    # stage's custom-model key for a trained model, else none (an adopted model on
                    # Bedrock's own key).
                    source_key_arn=own_key,
                    source_key_alias=None
                    if adopted or own_key
                    else StageNames(stage.estate, source_stage).key_alias("custom-models"),
                    job=None if adopted else job,
                    source_model_arn=adopted,
                    source_model_label=f"stages.{source_stage}.jobs.{source.job_name}",
                    key=refs.custom_model_key,
                    owner=stage.qualifier,
                    logging=logging,
                    base_model=source.job.base_model,
                    removal=promotion.removal,
                    tags={**tags, **promotion.tags, "estate-promotion": name, "estate-source-stage": source_stage},
                ),
            )

        # The Nova models of the stage's sagemakerNova section, made in the customization stack: served
        # by their names (no reference to their ARNs, whose export would block replacing a model).
        nova_models = customization.sections.get(NOVA_MODELS.key, {}) if customization is not None else {}
        self.models: dict[str, ServedModel] = {}
        for entry, serving in stage.serving.items():
            p = serving.provisioned
            # A job entry that adopts a model is served by the model's ARN (the estate trained no job).
            adopted = stage.jobs[serving.model.job].adopt if serving.model.job else None
            nova = nova_models[serving.model.sagemaker_nova] if serving.model.sagemaker_nova else None
            if nova is not None and not isinstance(nova, NovaCustomModel):
                raise ValueError(f"stages.{stage.name}.serving.{entry}: {nova.node.path} is not a NovaCustomModel")
            model = ServedModel(
                self,
                f"Serving-{entry}",
                ServedModelProps(
                    kind="provisioned" if p else "on-demand",
                    name=served_name(stage, entry, serving),
                    logging=logging,
                    owner=stage.qualifier,
                    # A model on a key of its own (a job's customModelKmsKeyArn, a sagemakerNova
                    # model's kmsKeyArn) is served with that key.
                    custom_model_key=kms.Key.from_key_arn(self, f"Serving-{entry}-Key", own_key)
                    if (own_key := _model_key_arn(stage, serving))
                    else refs.custom_model_key,
                    base_model=_base_model(stage, serving),
                    job=stage.job_names[serving.model.job] if serving.model.job and not adopted else None,
                    nova_model=nova.names if nova is not None else None,
                    model_arn=self.copies[serving.model.promotion].model_arn
                    if serving.model.promotion
                    else adopted or serving.model.arn,
                    # The adopting entry's model carries the stage's owner tag (the customization
                    # stack, deployed first, tags it): capacity only while it still does.
                    model_owned=adopted is not None,
                    model_units=p.model_units if p else None,
                    commitment=p.commitment if p and p.commitment != "none" else None,
                    commitment_acknowledgement=(
                        CommitmentAcknowledgement(
                            term=p.acknowledge.term,
                            model_units=p.acknowledge.model_units,
                            monthly_usd=p.acknowledge.monthly_usd,
                        )
                        if p and p.acknowledge
                        else None
                    ),
                    prices=spec.prices if p else None,
                    release_commitment=p.release_on_removal if p else False,
                    description=serving.on_demand.description if serving.on_demand else None,
                    tags={**stage.tags, **serving.tags, "estate-stage": stage.name, "estate-serving": entry},
                    adopt=serving.adopt,
                    adopt_label=f"stages.{stage.name}.serving.{entry}",
                ),
            )
            self.models[entry] = model
            CfnOutput(
                self,
                stage.names.model_arn_output(entry),
                value=model.arn,
                description=f"Invoke {entry} with this model id",
            )
            # Which custom model the entry serves: a model swaps in place under the ARN above, so the
            # gate tells a new model from the one served before by this (constructs_lib/tools/gate.py).
            CfnOutput(
                self,
                stage.names.custom_model_arn_output(entry),
                value=model.model_arn,
                description=f"The custom model {entry} serves",
            )

        # The pipeline runs the stage's gate through this role (stacks/pipeline_stack.py).
        gate = spec.stages[stage.name].gate
        self.gate_role: GateRole | None = None
        if gate is not None and spec.pipeline is not None:
            measured = gate.serving or list(self.models)
            self.gate_role = GateRole(
                self,
                "Gate",
                GateRoleProps(
                    role_name=stage.names.gate_role,
                    trusted_role_arn=f"arn:{self.partition}:iam::{spec.pipeline.account}:role/{stage.names.pipeline_gate_role}",
                    models=tuple(self.models[name] for name in measured),
                    serving_stack_name=stage.names.stack("serving"),
                    baseline_models=_base_models(spec, stage.name, gate, measured),
                    judge=JudgeAccess(
                        stage=stage.name,
                        evaluator_model=gate.quality.judge.evaluator_model,
                        role_arn=gate.quality.judge.role_arn,
                        s3_uri=gate.quality.judge.s3_uri,
                    )
                    if gate.quality is not None and gate.quality.judge is not None
                    else None,
                    # Made in the customization stack, beside the imported models (GateImportsAccess).
                    imports_policy_name=stage.names.gate_imports_policy if gate.imports else None,
                    # The open-weight jobs' ids are outputs of the customization stack.
                    open_weight_stack_name=stage.names.stack("customization") if gate.open_weight else None,
                ),
            )

        topic_arn = self.format_arn(service="sns", resource=stage.names.topic, arn_format=ArnFormat.NO_RESOURCE_NAME)
        self.monitoring = ServingMonitoring(
            self,
            "Monitoring",
            ServingMonitoringProps(
                name_prefix=stage.names.prefix,
                models=[MonitoredModel(label=entry, model_id=model.arn) for entry, model in self.models.items()],
                topic=sns.Topic.from_topic_arn(self, "Topic", topic_arn),
            ),
        )


def _model_key_arn(stage: StageSettings, serving: Serving) -> str | None:
    """The key of a served model of the stage that has a key of its own: a job's
    customModelKmsKeyArn, or a sagemakerNova model's kmsKeyArn (None: the stage's custom-model key)."""
    if serving.model.job:
        return stage.jobs[serving.model.job].custom_model_kms_key_arn
    name = serving.model.sagemaker_nova
    return NOVA_MODELS.entries(stage)[name].kms_key_arn if name else None


def _base_models(spec: EstateSpec, stage: str, gate: Any, measured: list[str]) -> tuple[str, ...]:
    """The base models a stage's gate compares its served entries with (``baselines.base``)."""
    base = gate.baselines.base if gate.baselines is not None else None
    if base is None:
        return ()
    found = {base.model or spec.served_base_model(stage, spec.stages[stage].serving[name]) for name in measured}
    return tuple(sorted(m for m in found if m))
