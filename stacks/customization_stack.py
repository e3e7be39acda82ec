"""Customization: the stage's datasets, customization jobs, and job notifications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.conversions import log_retention, removal_policy
from constructs_lib.customization_job import CustomizationJob, CustomizationJobProps
from constructs_lib.customization_role import vpc_access_statements
from constructs_lib.estate_dataset import EstateDataset, EstateDatasetProps
from constructs_lib.job_identity import api_number, job_names_for
from constructs_lib.nag import acknowledge, nag_spelling
from constructs_lib.resource_provider import ProviderLogging
from constructs_lib.rft_grader import RftGrader, RftGraderProps
from constructs_lib.spec import EstateSpec, StageSettings
from constructs_lib.spec.model import Job
from constructs_lib.spec.rft import rft_dataset_rules
from estate_runtime.catalog import load_catalog

from .foundation_stack import INVOCATION_LOGS_PREFIX, OUTPUT_PREFIX, FoundationRefs, FoundationStack

JOB_STATE_CHANGE = "Model Customization Job State Change"


class CustomizationStack(Stack):
    """Per stage with jobs: repository datasets copied into the training bucket, one
    ``Custom::BedrockCustomizationJob`` per spec job, the job-specific access of the service role,
    and an EventBridge rule sending this stage's job state changes to the estate's topic."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        stage: StageSettings,
        spec: EstateSpec,
        base_dir: Path,
        foundation: FoundationStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
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
        self._datasets: dict[str, str] = {}  # dataset name -> S3 URI of its copy
        self._spec = spec
        self._base_dir = base_dir
        access: list[iam.PolicyStatement] = []

        self.jobs: dict[str, CustomizationJob] = {}
        for job_name, job in stage.jobs.items():
            self.jobs[job_name] = self._job(job_name, job, access)

        if access:
            # Job-specific access of the service role lives here, not in the foundation stack,
            # so the foundation never depends on this stack.
            policy = iam.ManagedPolicy(
                self,
                "JobAccess",
                description=f"{stage.qualifier}: access the customization jobs need beyond the foundation's",
                roles=[refs.service_role],
                statements=access,
            )
            for construct in self.jobs.values():
                construct.node.add_dependency(policy)
            self._acknowledge_job_access(policy, access)

        self._notify()
        pipeline = spec.pipeline
        if pipeline is not None and pipeline.enabled and pipeline.rerun_on_job_completion:
            self._forward_completions(pipeline.account, pipeline.region)

    # -- datasets --------------------------------------------------------------------------------
    def _dataset(self, name: str, job: Job, purpose: str, access: list[iam.PolicyStatement], preflight: list[dict[str, str]]) -> str:
        """The dataset's S3 URI for the job; repository files are copied into the training bucket once."""
        dataset = self._spec.datasets[name]
        if dataset.s3_uri is not None:
            rules = rft_dataset_rules(self.catalog.dataset_rules(job.base_model, job.type, purpose), job.rft_config) if job.catalog_checks else None
            if rules is not None:
                check = {
                    "S3Uri": dataset.s3_uri,
                    "Format": rules.format,
                    "Purpose": f"{purpose} dataset {name}",
                    "SingleTurn": str(rules.single_turn).lower(),
                    "RequireFinalAssistant": str(rules.require_final_assistant).lower(),
                }
                for field, value in (("MinRecords", rules.min_records), ("MaxRecords", rules.max_records), ("MaxTokensPerRecord", rules.max_tokens_per_record)):
                    if value is not None:
                        check[field] = str(value)
                if dataset.kms_key_arn:
                    check["KmsKeyArn"] = dataset.kms_key_arn
                preflight.append(check)
            bucket_and_key = dataset.s3_uri.removeprefix("s3://")
            access.append(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"arn:{self.partition}:s3:::{bucket_and_key}"]))
            if dataset.kms_key_arn:
                access.append(
                    iam.PolicyStatement(
                        actions=["kms:Decrypt"],
                        resources=[dataset.kms_key_arn],
                        conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
                    )
                )
            return dataset.s3_uri
        if name not in self._datasets:
            assert dataset.path is not None
            copy = EstateDataset(
                self,
                f"Dataset-{name}",
                EstateDatasetProps(
                    path=self._base_dir / dataset.path,
                    name=name,
                    bucket=self.foundation.training_bucket,
                    logging=self.logging,
                    removal=self.stage.removal,
                ),
            )
            self._datasets[name] = copy.s3_uri
        return self._datasets[name]

    # -- jobs ------------------------------------------------------------------------------------
    def _job(self, job_name: str, job: Job, access: list[iam.PolicyStatement]) -> CustomizationJob:
        foundation = self.foundation
        preflight: list[dict[str, str]] = []
        if job.training_data.dataset is not None:
            training_config: dict[str, Any] = {"s3Uri": self._dataset(job.training_data.dataset, job, "training", access, preflight)}
        else:
            logs = job.training_data.invocation_logs
            assert logs is not None
            source = logs.s3_uri or f"s3://{foundation.invocation_log_bucket.bucket_name}/{INVOCATION_LOGS_PREFIX}/"
            config: dict[str, Any] = {"usePromptResponse": logs.use_prompt_response, "invocationLogSource": {"s3Uri": source}}
            if logs.filter is not None:
                config["requestMetadataFilters"] = logs.filter.model_dump(by_alias=True, exclude_none=True)
            training_config = {"invocationLogsConfig": config}
            if logs.s3_uri:
                access.append(iam.PolicyStatement(actions=["s3:GetObject", "s3:ListBucket"], resources=_bucket_and_objects(self, logs.s3_uri)))
        validation_uris = [self._dataset(name, job, "validation", access, preflight) for name in job.validation_data]
        if job.teacher is not None:
            access += self._teacher_access(job.teacher.model)
        vpc_config = None
        if job.vpc is not None:
            vpc_config = {"subnetIds": list(job.vpc.subnet_ids), "securityGroupIds": list(job.vpc.security_group_ids)}
            access += vpc_access_statements(self, vpc_config["subnetIds"], vpc_config["securityGroupIds"])

        rft_config = self._rft_config(job_name, job, access) if job.rft_config is not None else None
        names = job_names_for(self._spec, self.stage.name, job_name, self._base_dir)
        hyperparameters = {name: api_number(value) for name, value in sorted(job.hyperparameters.items())}
        tags = {**self.stage.tags, **job.tags, "estate-stage": self.stage.name, "estate-job": job_name}
        construct = CustomizationJob(
            self,
            f"Job-{job_name}",
            CustomizationJobProps(
                names=names,
                role=foundation.service_role,
                base_model=job.base_model,
                customization_type=job.type,
                training_data_config=training_config,
                validation_s3_uris=validation_uris,
                output_s3_uri=f"s3://{foundation.output_bucket.bucket_name}/{OUTPUT_PREFIX}{job_name}/",
                hyperparameters=hyperparameters,
                teacher=job.teacher.model if job.teacher else None,
                max_response_length=job.teacher.max_response_length if job.teacher else 1000,
                rft_config=rft_config,
                custom_model_key=(
                    kms.Key.from_key_arn(self, f"Job-{job_name}-Key", job.custom_model_kms_key_arn)
                    if job.custom_model_kms_key_arn
                    else foundation.custom_model_key
                ),
                owner=self.stage.qualifier,
                vpc_config=vpc_config,
                job_tags=tags,
                model_tags=tags,
                removal=job.removal,
                preflight=preflight,
                logging=self.logging,
                catalog_checks=job.catalog_checks,
            ),
        )
        # No stack outputs per job: CloudFormation allows 200 per stack, and the names are
        # deterministic (the plan lists them; the job resource's physical id is the job ARN).
        return construct

    def _rft_config(self, job_name: str, job: Job, access: list[iam.PolicyStatement]) -> dict[str, Any]:
        """The job's rftConfig as the API takes it; a repository grader is deployed here, and the
        service role may invoke exactly the grader the job is given."""
        config = job.rft_config
        assert config is not None
        handler = config.grader.handler
        if handler is not None:
            grader = RftGrader(
                self,
                f"Grader-{job_name}",
                RftGraderProps(
                    name=self.stage.names.named(f"grader-{job_name}")[:64],
                    code=self._base_dir / handler.file,
                    handler_function=handler.function,
                    runtime=handler.runtime,
                    timeout=Duration.seconds(handler.timeout_seconds),
                    memory_mb=handler.memory_mb,
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
        rft: dict[str, Any] = {"graderConfig": {"lambdaGrader": {"lambdaArn": arn}}}
        if hyperparameters := config.hyper_parameters.api():
            rft["hyperParameters"] = hyperparameters
        return rft

    def _teacher_access(self, teacher: str) -> list[iam.PolicyStatement]:
        known = self.catalog.teachers.get(teacher)
        is_profile = (known.inference_profile if known else teacher.split(".")[0] in ("us", "eu", "apac", "global"))
        if not is_profile:
            return []  # an on-demand teacher needs no grant on the service role
        foundation_model = (known.foundation_model if known else None) or teacher.split(".", 1)[1]
        regions = known.routes_to if known and known.routes_to else ("*",)
        return [
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[
                    f"arn:{self.partition}:bedrock:{self.region}:{self.account}:inference-profile/{teacher}",
                    *(f"arn:{self.partition}:bedrock:{region}::foundation-model/{foundation_model}" for region in regions),
                ],
            )
        ]

    def _acknowledge_job_access(self, policy: iam.ManagedPolicy, statements: list[iam.PolicyStatement]) -> None:
        """One acknowledgement per wildcard resource of the job-access policy, each with its reason."""
        resource = policy.node.default_child
        seen: set[str] = set()
        for statement in statements:
            for target in statement.resources:
                spelled = nag_spelling(self, target)
                if "*" not in spelled or spelled in seen:
                    continue
                seen.add(spelled)
                if spelled == "*":
                    reason = "EC2 Describe* actions support no resource-level permissions; Bedrock reads the VPC's network settings with them."
                elif ":network-interface/*" in spelled:
                    reason = (
                        "Network interface ids are assigned when Bedrock creates them; the conditions limit the role "
                        "to interfaces tagged BedrockManaged for this account's jobs."
                    )
                elif "::foundation-model/" in spelled:
                    reason = "A cross-region inference profile routes the teacher's requests to the same model in each of its regions."
                else:
                    reason = "Objects under the prefix the spec names for datasets or logs; their keys are written at run time."
                acknowledge(resource, f"AwsSolutions-IAM5[Resource::{spelled}]", reason)

    def _forward_completions(self, account: str, region: str) -> None:
        """Completed jobs of this stage go to the pipeline account's default bus, where a rule
        starts the pipeline again so the serving side deploys."""
        rule = events.Rule(
            self,
            "ForwardJobCompletions",
            rule_name=self.stage.names.named("forward-job-completions"),
            description=f"Completed customization jobs of {self.stage.qualifier}, to the delivery pipeline's account",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=[JOB_STATE_CHANGE],
                detail={"jobStatus": ["Completed"], "jobName": [{"prefix": self.stage.names.prefix}]},
            ),
            targets=[_forward_target(self, account, region)],
        )
        acknowledge(
            rule.node.default_child,
            "Serverless-EventBusDLQ",
            "A lost forward only means the pipeline is not started automatically; the job's state stays in "
            "Bedrock and the topic still announces it, so the pipeline can be started by hand.",
        )

    # -- notifications -----------------------------------------------------------------------------
    def _notify(self) -> None:
        # A literal ARN (the topic's name is fixed): same environment, and no way for this stack
        # to modify the foundation's topic policy.
        topic_arn = self.format_arn(service="sns", resource=self.stage.names.topic, arn_format=ArnFormat.NO_RESOURCE_NAME)
        topic = sns.Topic.from_topic_arn(self, "Topic", topic_arn)
        detail = events.EventField
        rule = events.Rule(
            self,
            "JobStateChanges",
            rule_name=self.stage.names.named("customization-jobs"),
            description=f"State changes of {self.stage.qualifier}'s Bedrock customization jobs",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=[JOB_STATE_CHANGE],
                detail={"jobName": [{"prefix": self.stage.names.prefix}]},
            ),
            targets=[
                targets.SnsTopic(
                    topic,
                    message=events.RuleTargetInput.from_text(
                        f"Bedrock customization job {detail.from_path('$.detail.jobName')} in {self.stage.qualifier} is "
                        f"{detail.from_path('$.detail.jobStatus')}. Custom model: {detail.from_path('$.detail.outputModelName')}. "
                        f"{detail.from_path('$.detail.failureMessage')}"
                    ),
                )
            ],
        )
        acknowledge(
            rule.node.default_child,
            "Serverless-EventBusDLQ",
            "Notifications are informational: a lost message loses no state. Every job's status stays in "
            "Bedrock (and in the stack's resource status), so nothing depends on the message arriving.",
        )


def _forward_target(scope: Stack, account: str, region: str) -> targets.EventBus:
    bus_arn = f"arn:{scope.partition}:events:{region}:{account}:event-bus/default"
    bus = events.EventBus.from_event_bus_arn(scope, "PipelineBus", bus_arn)
    # Our own role, its one permission in a managed policy (CDK would write an inline policy).
    role = iam.Role(
        scope,
        "ForwardJobCompletionsRole",
        assumed_by=iam.ServicePrincipal("events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": scope.account}}),
        description="Lets EventBridge forward completed-job events to the delivery pipeline's account",
    )
    iam.ManagedPolicy(
        scope,
        "ForwardJobCompletionsPolicy",
        roles=[role],
        statements=[iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn])],
    )
    return targets.EventBus(bus, role=role.without_policy_updates())


def _bucket_and_objects(scope: Stack, uri: str) -> list[str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return [f"arn:{scope.partition}:s3:::{bucket}", f"arn:{scope.partition}:s3:::{bucket}/{prefix}*"]
