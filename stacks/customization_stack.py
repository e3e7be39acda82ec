"""Customization: the stage's datasets, customization jobs, and job notifications."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.customization.adopted_custom_model import AdoptedCustomModel, AdoptedCustomModelProps
from constructs_lib.customization.customization_job import CustomizationJob, CustomizationJobProps
from constructs_lib.customization.estate_dataset import StageDatasets
from constructs_lib.customization.job_access import (
    JobAccess,
    JobAccessProps,
    dataset_read,
    invocation_logs_read,
    teacher_invoke,
)
from constructs_lib.customization.job_events import (
    JobCompletionForwarding,
    JobCompletionForwardingProps,
    JobStateNotifications,
    JobStateNotificationsProps,
)
from constructs_lib.customization.open_weight_fine_tuning import open_weight_jobs_for_stage
from constructs_lib.customization.rft_grader import RftGrader, RftGraderProps
from constructs_lib.foundation.customization_role import vpc_access_statements
from constructs_lib.machinery.resource_provider import ProviderLogging
from constructs_lib.model_import.imported_model import ImportedModel, imported_models_for_stage
from constructs_lib.model_import.nova_custom_model import nova_models_for_stage
from constructs_lib.serving.gate_role import GateImportsAccess, GateImportsAccessProps
from constructs_lib.serving.serving_monitoring import MonitoredModel, ServingMonitoring, ServingMonitoringProps
from constructs_lib.spec import EstateSpec, StageSettings
from constructs_lib.spec.job_request import (
    CUSTOM_MODEL_KEY,
    INVOCATION_LOGS,
    DatasetSource,
    JobRequest,
    RftRequest,
    preflight_check,
)
from constructs_lib.spec.sections import stage_sections
from estate_runtime.catalog import load_catalog, load_model_import
from estate_runtime.kinds.customization_job import PreflightCheck
from estate_runtime.naming import StageNames
from stacks.spec_values import log_retention, removal_policy

from .foundation_stack import INVOCATION_LOGS_PREFIX, OUTPUT_PREFIX, FoundationRefs, FoundationStack


class SectionBuilder(Protocol):
    """Builds the constructs of a stage section's entries in ``stack``, by entry name: what a kind
    with a stage section (``constructs_lib.spec.sections``) provides beside its construct."""

    def __call__(
        self,
        stack: Stack,
        stage: StageSettings,
        *,
        custom_model_key: kms.IKey,
        logging: ProviderLogging,
        datasets: StageDatasets,
    ) -> Mapping[str, Construct]: ...


# The builder of each stage section, by the section's key: a kind with a section adds its line here.
SECTION_BUILDERS: dict[str, SectionBuilder] = {
    "imports": imported_models_for_stage,
    "open_weight_fine_tuning": open_weight_jobs_for_stage,
    "sagemaker_nova": nova_models_for_stage,
}


class CustomizationStack(Stack):
    """Per stage with jobs or entries in a kind's stage section: repository datasets copied into the
    training bucket, one ``Custom::BedrockCustomizationJob`` per spec job, the job-specific access
    of the service role, an EventBridge rule sending this stage's job state changes to the
    estate's topic, and the constructs of each section (``SECTION_BUILDERS``), such as one
    ``Custom::BedrockImportedModel`` per spec import with the role its import jobs run as."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        spec: EstateSpec,
        foundation: FoundationStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if stage.job_requests.keys() != stage.jobs.keys():
            raise ValueError(
                f"CustomizationStack {stage.name}: resolve the stage with its dataset files, spec.stage(name, base_dir)"
            )
        self.stage = stage
        self.add_stack_dependency(foundation, "imports the foundation's exports")
        refs = FoundationRefs(self, stage)
        self.foundation = refs
        self.logging = ProviderLogging(
            log_group_prefix=refs.log_group_prefix,
            log_key=refs.data_key,
            key_policy_allows_logs=True,  # the foundation grants CloudWatch Logs the prefix
            log_retention=log_retention(stage.retention.log_group_days),
            removal_policy=removal_policy(stage.removal),
        )
        self.catalog = load_catalog()
        self.datasets = StageDatasets(
            scope=self,
            spec=spec,
            base_dir=stage.base_dir,
            bucket=refs.training_bucket,
            logging=self.logging,
            removal=stage.removal,
        )
        access: list[iam.PolicyStatement] = []

        self.jobs: dict[str, CustomizationJob | AdoptedCustomModel] = {}
        for job_name, request in stage.job_requests.items():
            self.jobs[job_name] = self._adopted(request) if request.adopt is not None else self._job(request, access)

        if access:
            # Job-specific access of the service role lives here, not in the foundation stack,
            # so the foundation never depends on this stack.
            policy = JobAccess(
                self,
                "JobAccess",
                JobAccessProps(
                    role=refs.service_role,
                    statements=access,
                    description=f"{stage.qualifier}: access the customization jobs need beyond the foundation's",
                ),
            )
            for construct in self.jobs.values():
                construct.node.add_dependency(policy)

        self.sections: dict[str, Mapping[str, Construct]] = {}
        for section in stage_sections():
            if not section.entries(stage):
                continue
            if section.key not in SECTION_BUILDERS:
                raise ValueError(f"CustomizationStack: no builder for the stage section {section.key!r}")
            self.sections[section.key] = SECTION_BUILDERS[section.key](
                self, stage, custom_model_key=refs.custom_model_key, logging=self.logging, datasets=self.datasets
            )
        self._serve_imports(
            spec, {k: v for k, v in self.sections.get("imports", {}).items() if isinstance(v, ImportedModel)}
        )
        if not stage.jobs:
            return  # a stage with section entries only (imported models, ...): no job events to forward

        # A literal ARN (the topic's name is fixed): same environment, and no way for this stack
        # to modify the foundation's topic policy.
        topic_arn = self.format_arn(service="sns", resource=stage.names.topic, arn_format=ArnFormat.NO_RESOURCE_NAME)
        JobStateNotifications(
            self,
            "JobStateChanges",
            JobStateNotificationsProps(
                topic=sns.Topic.from_topic_arn(self, "Topic", topic_arn),
                job_name_prefix=stage.names.prefix,
                label=stage.qualifier,
                rule_name=stage.names.named("customization-jobs"),
            ),
        )
        pipeline = spec.pipeline
        if pipeline is not None and pipeline.rerun_on_job_completion:
            # Completed jobs go to the pipeline account's default bus, where a rule starts the
            # pipeline again so the serving side deploys.
            JobCompletionForwarding(
                self,
                "ForwardJobCompletions",
                JobCompletionForwardingProps(
                    account=pipeline.account,
                    region=pipeline.region,
                    job_name_prefix=stage.names.prefix,
                    label=stage.qualifier,
                    rule_name=stage.names.named("forward-job-completions"),
                ),
            )

    # -- imported models, for bench and gate ----------------------------------------------------
    def _serve_imports(self, spec: EstateSpec, imported: Mapping[str, ImportedModel]) -> None:
        """Each import's model ARN and architecture class as outputs (bench and gate resolve an
        import by them); the imports' dashboard and alarms; and, when the pipeline gates imports of
        this stage, the policy the stage's gate role attaches by name: stream from exactly those
        models. Both live here, where the models' ARNs are: an import's ARN changes when new weights
        replace its model, and an export of it to the serving stack would block that replacement."""
        names = self.stage.names
        if imported:
            self.import_monitoring = import_monitoring(self, names, imported)
        for name, model in imported.items():
            CfnOutput(
                self,
                names.imported_model_arn_output(name),
                value=model.model_arn,
                description=f"Invoke import {name} on demand with this model id",
            )
            CfnOutput(
                self,
                names.imported_architecture_output(name),
                value=model.architecture_class,
                description=f"The config.json architecture of import {name}: its catalog row says how it is invoked",
            )
        gate = spec.stages[self.stage.name].gate
        if gate is None or not gate.imports or spec.pipeline is None:
            return
        GateImportsAccess(
            self,
            "GateImports",
            GateImportsAccessProps(
                policy_name=names.gate_imports_policy,
                models=tuple(imported[name] for name in gate.imports),
                stack_name=names.stack("customization"),
            ),
        )

    # -- datasets --------------------------------------------------------------------------------
    def _dataset(
        self,
        dataset: DatasetSource,
        request: JobRequest,
        purpose: str,
        access: list[iam.PolicyStatement],
        preflight: list[PreflightCheck],
    ) -> str:
        """The dataset's S3 URI for the job; repository files are copied into the training bucket once."""
        if dataset.s3_uri is not None:
            check = preflight_check(request, dataset, purpose, self.catalog)
            if check is not None:
                preflight.append(check)
            access += dataset_read(self, dataset.s3_uri, dataset.kms_key_arn)
            return dataset.s3_uri
        return self.datasets.copy(dataset).s3_uri

    # -- jobs ------------------------------------------------------------------------------------
    def _job(self, request: JobRequest, access: list[iam.PolicyStatement]) -> CustomizationJob:
        """The job's resource: every field of its request, with the stage's resources put in."""
        foundation = self.foundation
        job_name = request.job
        preflight: list[PreflightCheck] = []
        assert request.training is not None  # only an adopted model has none (_adopted)
        if isinstance(request.training, DatasetSource):
            training_config: dict[str, Any] = {
                "s3Uri": self._dataset(request.training, request, "training", access, preflight)
            }
        else:
            logs = request.training
            if logs.source == INVOCATION_LOGS:
                source = f"s3://{foundation.invocation_log_bucket.bucket_name}/{INVOCATION_LOGS_PREFIX}/"
            else:
                assert isinstance(logs.source, str)
                source = logs.source
                access += invocation_logs_read(self, source)
            config: dict[str, Any] = {
                "usePromptResponse": logs.use_prompt_response,
                "invocationLogSource": {"s3Uri": source},
            }
            if logs.request_metadata_filters is not None:
                config["requestMetadataFilters"] = logs.request_metadata_filters
            training_config = {"invocationLogsConfig": config}
        validation_uris = [
            self._dataset(dataset, request, "validation", access, preflight) for dataset in request.validation
        ]
        if request.teacher is not None:
            access += teacher_invoke(self, request.teacher, self.catalog)
        if request.vpc is not None:
            access += vpc_access_statements(self, request.vpc["subnetIds"], request.vpc["securityGroupIds"])

        rft_config = self._rft_config(job_name, request.rft, access) if request.rft is not None else None
        tags = self._tags(request)
        key = request.custom_model_key
        construct = CustomizationJob(
            self,
            f"Job-{job_name}",
            CustomizationJobProps(
                names=request.names,
                role=foundation.service_role,
                base_model=request.base_model,
                customization_type=request.customization_type,
                training_data_config=training_config,
                validation_s3_uris=validation_uris,
                output_s3_uri=f"s3://{foundation.output_bucket_name}/{OUTPUT_PREFIX}{job_name}/",
                hyperparameters=request.hyperparameters,
                teacher=request.teacher,
                max_response_length=request.max_response_length,
                rft_config=rft_config,
                custom_model_key=foundation.custom_model_key
                if key == CUSTOM_MODEL_KEY
                else kms.Key.from_key_arn(self, f"Job-{job_name}-Key", str(key)),
                owner=self.stage.qualifier,
                vpc_config=request.vpc,
                job_tags=tags,
                model_tags=tags,
                removal=request.removal,
                preflight=preflight,
                logging=self.logging,
                catalog_checks=request.catalog_checks,
                # The foundation grants the role the stage's datasets/ and jobs/ prefixes and the
                # custom-model key; JobAccess above grants each job's S3 datasets and logs.
                role_access_granted=True,
            ),
        )
        # No stack outputs per job: CloudFormation allows 200 per stack, and the names are
        # deterministic (the plan lists them; the job resource's physical id is the job ARN).
        return construct

    def _tags(self, request: JobRequest) -> dict[str, str]:
        """The tags of a job entry's resources, trained or adopted: the stage's, the entry's, and where they come from."""
        return {**self.stage.tags, **request.tags, "estate-stage": self.stage.name, "estate-job": request.job}

    def _adopted(self, request: JobRequest) -> AdoptedCustomModel:
        """An entry that adopts a custom model trained outside the estate: verified and tagged at
        deploy, nothing trained (no data, role or output)."""
        assert request.adopt is not None
        tags = self._tags(request)
        return AdoptedCustomModel(
            self,
            f"Job-{request.job}",
            AdoptedCustomModelProps(
                adopt=request.adopt,
                base_model=request.base_model,
                customization_type=request.customization_type,
                owner=self.stage.qualifier,
                logging=self.logging,
                names=request.names,
                model_tags=tags,
                removal=request.removal,
                # Every model the entry adopts carries it: with removal: destroy, the model it adopted
                # before its adopt named another is deleted too (CloudFormation's cleanup).
                entry_tag=("estate-job", request.job),
                adopt_label=f"stages.{self.stage.name}.jobs.{request.job}",
                # The key the entry says the model is on (customModelKmsKeyArn); none: Bedrock's own.
                kms_key_arn=request.custom_model_key if isinstance(request.custom_model_key, str) else None,
            ),
        )

    def _rft_config(self, job_name: str, rft: RftRequest, access: list[iam.PolicyStatement]) -> dict[str, Any]:
        """The job's rftConfig as the API takes it; a repository grader is deployed here, and the
        service role may invoke exactly the grader the job is given."""
        config = rft.config
        handler = config.grader.handler
        if handler is not None:
            assert rft.grader_path is not None
            grader = RftGrader(
                self,
                f"Grader-{job_name}",
                RftGraderProps.of_handler(
                    handler,
                    name=self.stage.names.grader_function(job_name),
                    code=rft.grader_path,
                    logging=self.logging,
                    description=f"{self.stage.qualifier}: reinforcement fine-tuning grader of job {job_name}",
                ),
            )
            arn = grader.grader_arn
            access.append(grader.invoke_statement())
        else:
            assert config.grader.lambda_arn is not None
            arn = config.grader.lambda_arn
            access.append(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[arn]))
        rft_config: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": arn}}}
        if hyperparameters := config.hyper_parameters.api():
            rft_config["hyperParameters"] = hyperparameters
        return rft_config


def import_monitoring(stack: Stack, names: StageNames, imported: Mapping[str, ImportedModel]) -> ServingMonitoring:
    """The imports' dashboard (``<prefix>imports``) and alarms (``<prefix>import.<name>-...``: no
    serving entry's name has a dot, so no alarm of the serving stack has one of these names). They
    read each model's ``AWS/Bedrock`` metrics by its ARN as ``ModelId``, which is inferred, not
    documented (catalog.json ``modelImport.monitoring``): the dashboard and every alarm say so."""
    facts = load_model_import().monitoring
    topic_arn = stack.format_arn(service="sns", resource=names.topic, arn_format=ArnFormat.NO_RESOURCE_NAME)
    inferred = (
        f"The {facts.dimension} value of an imported model's {facts.namespace} metrics is {facts.status}, not documented: "
        f"{facts.value} (catalog.json modelImport.monitoring, read {facts.reviewed})"
    )
    copies = "".join(
        f"\n- `{name}`: {model.custom_model_units_per_model_copy} custom model units per running copy"
        for name, model in imported.items()
    )
    note = (
        "**Imported models: what these graphs rest on.** "
        f"{inferred}. Check it after a model's first invocation: `aws cloudwatch list-metrics --namespace "
        f"{facts.namespace} --metric-name Invocations --dimensions Name={facts.dimension},Value=<ModelArn>`; an "
        "empty answer while the model is invoked means these graphs and the alarms `"
        f"{names.prefix}import.*` watch nothing. Running copies: the `ModelCopy` metric the cost page names "
        "(its namespace and dimension inferred likewise); cost = running copies x custom model units per copy x "
        "the price per unit and minute. An idle model's first calls answer ModelNotReadyException while Bedrock "
        "restores it; whether they count as throttles or client errors is not documented."
        f"{copies}"
    )
    return ServingMonitoring(
        stack,
        "ImportMonitoring",
        ServingMonitoringProps(
            name_prefix=names.prefix,
            dashboard="imports",
            models=[
                MonitoredModel(label=name, model_id=model.model_arn, alarm_label=f"import.{name}", imported=True)
                for name, model in imported.items()
            ],
            topic=sns.Topic.from_topic_arn(stack, "ImportAlarmTopic", topic_arn),
            note=note,
            alarm_note=f"{inferred}; check with aws cloudwatch list-metrics (docs/import.md, 'Monitoring')",
        ),
    )
