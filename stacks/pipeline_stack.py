"""Delivery: a CDK pipeline in the tooling account that promotes the estate through its stages."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from aws_cdk import CfnResource, RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.compliance.nag import acknowledge
from constructs_lib.customization.job_events import job_state_pattern
from constructs_lib.foundation.estate_key import EstateKey, EstateKeyProps
from constructs_lib.foundation.notification_topic import subscribe_email
from constructs_lib.foundation.secure_bucket import SecureBucket, SecureBucketProps
from constructs_lib.spec import EstateSpec, StageSettings

from .artifact_replication_stack import ArtifactReplicationStack, replication_bucket_name, replication_key_alias
from .estate_stage import EstateStage
from .spec_values import log_retention

# The CDK bootstrap's read-only lookup role in each target account (trusted by the pipeline
# account when targets are bootstrapped with --trust).
LOOKUP_ROLE = "arn:{partition}:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-{region}"
DEPLOY_ROLE = "arn:{partition}:iam::{account}:role/cdk-hnb659fds-deploy-role-{account}-{region}"
PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"


@cache
def locked_cli_versions() -> tuple[str, str]:
    """The CDK CLI and cdk-assets versions package.json pins: the pipeline installs exactly these."""
    pins = json.loads(PACKAGE_JSON.read_text())["devDependencies"]
    return pins["aws-cdk"], pins["cdk-assets"]


def replication_stacks(
    scope: Construct, spec: EstateSpec, resolved: Sequence[StageSettings]
) -> dict[str, ArtifactReplicationStack]:
    """One artifact bucket per stage region other than the pipeline's, in the pipeline account
    (``resolved``: the stages as ``build_estate`` resolved them, once)."""
    assert spec.pipeline is not None
    settings = spec.pipeline
    stacks = {}
    for region in sorted({s.region for s in resolved} - {settings.region}):
        deployers = sorted(
            DEPLOY_ROLE.format(partition="aws", account=s.account, region=region)
            for s in resolved
            if s.region == region
        )
        stacks[region] = ArtifactReplicationStack(
            scope,
            f"DeliveryArtifacts-{region}",
            estate=spec.name,
            deploy_role_arns=deployers,
            env={"account": settings.account, "region": region},
            stack_name=f"{spec.name}-delivery-artifacts",
            description=f"bedrock-estate {spec.name}: delivery pipeline artifacts replicated into {region}",
        )
    return stacks


class PipelineStack(Stack):
    """Source (CodeConnections) -> synth (runs the whole test suite, then synthesizes) -> one
    deployment per stage in spec order. Before a stage: a check that notifies the topic when IAM
    permissions broaden, and a manual approval when the stage is protected. After a stage: the
    post-deployment checks of ``constructs_lib.tools.verify``, run in the target account through its
    read-only CDK lookup role."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: EstateSpec,
        base_dir: Path,
        replication: dict[str, ArtifactReplicationStack] | None = None,
        stages: Mapping[str, EstateStage] | None = None,
        extend: Callable[[EstateStage], None] | None = None,
        **kwargs: Any,
    ) -> None:
        """``stages``: the estate's stages, built next to this stack (see ``build_estate``); the
        pipeline deploys them as they are. Built here, in ``scope``, when not given, and then
        ``extend`` adds the app's own constructs to each."""
        super().__init__(scope, id, **kwargs)
        assert spec.pipeline is not None
        settings = spec.pipeline
        replication = replication or {}
        key = EstateKey(
            self,
            "NotificationKey",
            EstateKeyProps(
                alias=f"{spec.name}-delivery/notifications", description=f"{spec.name} delivery notifications"
            ),
        )
        self.topic = sns.Topic(
            self, "Notifications", master_key=key, enforce_ssl=True, display_name=f"{spec.name} delivery"
        )
        # The estate's people hear of broadened permissions as they hear of its jobs and alarms.
        for email in spec.notifications.emails:
            subscribe_email(self.topic, email)

        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )
        cli_version, assets_version = locked_cli_versions()
        artifact_key = EstateKey(
            self,
            "ArtifactKey",
            EstateKeyProps(
                alias=f"{spec.name}-delivery/pipeline-artifacts",
                description=f"{spec.name} delivery: pipeline artifacts",
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        # CodeBuild logs every build of the pipeline's projects (tests, synthesis, publishing,
        # deployment checks) to one log group of the estate's, under the artifacts' key and the
        # estate's log retention, instead of CodeBuild's default /aws/codebuild/<project> groups,
        # which CodeBuild creates at build time with no retention and no customer key.
        build_logs_prefix = f"/{spec.name}-delivery/"
        artifact_key.grant_cloudwatch_logs(build_logs_prefix)
        build_logs = logs.LogGroup(
            self,
            "BuildLogs",
            log_group_name=f"{build_logs_prefix}codebuild",
            encryption_key=artifact_key,
            retention=log_retention(spec.retention.log_group_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        artifact_logs = SecureBucket(
            self,
            "ArtifactAccessLogs",
            SecureBucketProps(
                encryption_key=None, access_logs_bucket=None, expiration_days=365, removal_policy=RemovalPolicy.DESTROY
            ),
        )
        # The estate's own buckets (versioned, access-logged, KMS with rotation, TLS only) for the
        # artifacts here and in each other stage region, instead of CDK Pipelines' plain ones.
        artifacts = SecureBucket(
            self,
            "Artifacts",
            SecureBucketProps(
                encryption_key=artifact_key,
                access_logs_bucket=artifact_logs,
                access_logs_prefix="artifacts/",
                noncurrent_version_days=30,
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        # CDK takes either one artifact bucket or a bucket per region, the pipeline's own included.
        replicas: dict[str, s3.IBucket] = {self.region: artifacts}
        for region, stack in replication.items():
            self.add_stack_dependency(stack, "the pipeline replicates artifacts into it")
            alias = replication_key_alias(spec.name)
            replicas[region] = s3.Bucket.from_bucket_attributes(
                self,
                f"Artifacts-{region}",
                bucket_name=replication_bucket_name(spec.name, self.account, region),
                region=region,
                encryption_key=kms.Key.from_key_arn(
                    self, f"ArtifactKey-{region}", f"arn:{self.partition}:kms:{region}:{self.account}:{alias}"
                ),
            )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=f"{spec.name}-delivery",
            cross_region_replication_buckets=replicas,
            # Self-mutation and asset publishing install exactly the CLI versions package.json locks.
            cli_version=cli_version,
            cdk_assets_cli_version=assets_version,
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0),
                logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=build_logs)),
            ),
            synth=pipelines.ShellStep(
                "Synth",
                input=source,
                # The same commands a developer runs: every test passes before anything deploys.
                commands=["make test", "npx cdk synth '**' --quiet --no-notices"],
            ),
        )
        # The stages as build_estate resolved them (dataset files hashed once), or resolved here.
        resolved = (
            [stage.settings for stage in stages.values()] if stages is not None else spec.stage_settings(base_dir)
        )
        for stage_settings in resolved:
            name = stage_settings.name
            if stages is not None:
                stage = stages[name]
            else:
                stage = EstateStage(scope, stage_settings, spec, base_dir)
                if extend is not None:
                    extend(stage)  # the app's own additions reach what the pipeline deploys too
            pre: list[pipelines.Step] = [
                pipelines.ConfirmPermissionsBroadening(
                    f"CheckBroadening-{name}", stage=stage, notification_topic=self.topic
                )
            ]
            lookup = LOOKUP_ROLE.format(
                partition=self.partition, account=stage_settings.account, region=stage_settings.region
            )
            if settings.drift_before_deploy:
                # Read only: what the stage's deployed stacks own against what Bedrock reports; exit 1 on drift.
                pre.insert(
                    0,
                    pipelines.CodeBuildStep(
                        f"Drift-{name}",
                        input=source,
                        install_commands=["python3 -m pip install --quiet -c requirements.lock boto3 pydantic PyYAML"],
                        commands=[
                            f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.cli drift --spec estate.yaml --stage {name} --role-arn {lookup}"
                        ],
                        role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup])],
                    ),
                )
            if stage_settings.protected:
                pre.append(
                    pipelines.ManualApprovalStep(
                        f"Approve-{name}",
                        comment=f"Deploy the estate to {name} (account {stage_settings.account}, {stage_settings.region})?",
                    )
                )
            gate = spec.stages[name].gate
            gate_runner = self._gate_runner(stage_settings, gate) if gate is not None else None
            record: pipelines.Step | None = None
            if gate is not None and gate.baselines is not None and gate.baselines.current is not None:
                assert gate_runner is not None
                record = self._record_step(stage_settings, source, gate_runner, after=list(pre))
                pre.append(record)
            verify = pipelines.CodeBuildStep(
                f"Verify-{name}",
                input=source,
                install_commands=["python3 -m pip install --quiet -c requirements.lock boto3 pydantic PyYAML"],
                commands=[
                    f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.verify --spec estate.yaml --stage {name} --role-arn {lookup}"
                ],
                role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup])],
            )
            post: list[pipelines.Step] = [verify]
            if gate_runner is not None:
                post.append(self._gate_step(stage_settings, source, verify, gate_runner, record))
            self.pipeline.add_stage(stage, pre=pre, post=post)

        self.pipeline.build_pipeline()
        self._use_connection(settings.connection_arn)
        self._pin_security_check_cli(cli_version)
        self._log_security_check_builds(build_logs)
        self._use_replica_keys(spec, list(replication))
        if settings.rerun_on_job_completion:
            self._rerun_on_job_completion(spec, resolved)
        self._condition_service_trusts(f"{spec.name}-delivery")  # last: every role exists by now

    def _gate_role_arn(self, stage: StageSettings) -> str:
        return f"arn:{self.partition}:iam::{stage.account}:role/{stage.names.gate_role}"

    def _gate_runner(self, stage: StageSettings, gate: Any) -> iam.Role:
        """The role that runs the stage's gate (and, for ``baselines.current``, its record before the
        deployment): trusted by CodeBuild for those projects only, it may assume the stage's gate
        role, which trusts this role alone."""
        names = stage.names
        projects = [names.gate_project]
        if gate.baselines is not None and gate.baselines.current is not None:
            projects.append(names.gate_record_project)
        arns = [f"arn:{self.partition}:codebuild:{self.region}:{self.account}:project/{p}" for p in projects]
        # Under the pipeline construct: CDK Pipelines writes this role's artifact, log and report
        # grants as it does for its own projects, and those are acknowledged the same way.
        return iam.Role(
            self.pipeline,
            f"GateRunner-{stage.name}",
            role_name=names.pipeline_gate_role,
            description=f"Runs the evaluation gate of stage {stage.name}: assumes that stage's gate role, nothing else",
            assumed_by=iam.ServicePrincipal(
                "codebuild.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": self.account},
                    "ArnEquals": {"aws:SourceArn": arns[0] if len(arns) == 1 else arns},
                },
            ),
        )

    def _record_step(
        self,
        stage: StageSettings,
        source: pipelines.CodePipelineSource,
        role: iam.Role,
        after: Sequence[pipelines.Step],
    ) -> pipelines.Step:
        """Before the stage deploys, once every other step before it passed (drift, the broadening
        check, the approval): the baseline half of the gate. It reads the serving stack and measures
        the models the stage serves now through the stage's gate role (its policy as deployed: the
        served models' ARNs), since after the deployment a model swapped in place answers under the
        same ARN and replaced capacity is gone. The record is the step's output, the gate's input."""
        gate_role_arn = self._gate_role_arn(stage)
        step = pipelines.CodeBuildStep(
            f"GateRecord-{stage.name}",
            input=source,
            project_name=stage.names.gate_record_project,
            role=role,
            install_commands=["python3 -m pip install --quiet -c requirements.lock boto3 pydantic PyYAML tqdm"],
            commands=[
                f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.gate --spec estate.yaml --stage {stage.name} "
                f"--role-arn {gate_role_arn} --record-current --current gate-current/current.json --no-progress"
            ],
            primary_output_directory="gate-current",
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[gate_role_arn])],
        )
        for before in after:
            step.add_step_dependency(before)
        return step

    def _gate_step(
        self,
        stage: StageSettings,
        source: pipelines.CodePipelineSource,
        verify: pipelines.Step,
        role: iam.Role,
        record: pipelines.Step | None,
    ) -> pipelines.Step:
        """After the stage deploys and is verified: its evaluation gate (``constructs_lib.tools.gate``),
        through the stage's gate role, which may invoke only the served models the gate measures.
        A failing gate fails the step, so no later stage deploys; the report folder is the step's
        output artifact. With ``record`` (``baselines.current``), the record step's output is this
        step's input beside the source, and the gate compares with what it measured."""
        gate_role_arn = self._gate_role_arn(stage)
        command = (
            f"PYTHONPATH=.:lambdas python3 -m constructs_lib.tools.gate --spec estate.yaml --stage {stage.name} "
            f"--role-arn {gate_role_arn} --out gate-report --no-progress"
        )
        step = pipelines.CodeBuildStep(
            f"Gate-{stage.name}",
            input=source,
            additional_inputs={"../gate-current": record} if record is not None else None,
            project_name=stage.names.gate_project,
            role=role,
            install_commands=[
                "python3 -m pip install --quiet -c requirements.lock boto3 pydantic PyYAML matplotlib tqdm"
            ],
            commands=[command + (" --current ../gate-current/current.json" if record is not None else "")],
            primary_output_directory="gate-report",
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[gate_role_arn])],
        )
        step.add_step_dependency(verify)
        return step

    def _condition_service_trusts(self, pipeline_name: str) -> None:
        """CDK Pipelines' roles trust CodePipeline, CodeBuild and EventBridge with no condition.
        Each such trust here is limited to this account (`aws:SourceAccount`) and to the resource
        acting: this pipeline by its ARN, and the account's CodeBuild projects and EventBridge rules
        in this Region by ARN pattern. CDK names those projects and rules at deploy time, and a role
        that named its own project would depend on it while the project depends on the role.
        Lambda execution roles keep Lambda's plain trust (docs/security.md says why)."""
        source_arns = {
            "codepipeline.amazonaws.com": (
                "ArnEquals",
                f"arn:{self.partition}:codepipeline:{self.region}:{self.account}:{pipeline_name}",
            ),
            "codebuild.amazonaws.com": (
                "ArnLike",
                f"arn:{self.partition}:codebuild:{self.region}:{self.account}:project/*",
            ),
            "events.amazonaws.com": ("ArnLike", f"arn:{self.partition}:events:{self.region}:{self.account}:rule/*"),
        }
        for node in self.node.find_all():
            if not isinstance(node, iam.CfnRole):
                continue
            document = self.resolve(node.assume_role_policy_document)
            statements = document.get("Statement", [])
            conditioned = False
            for statement in statements:
                service = statement.get("Principal", {}).get("Service")
                if service not in source_arns or "Condition" in statement:
                    continue  # the gate runner names its own project already
                operator, arn = source_arns[service]
                statement["Condition"] = {
                    "StringEquals": {"aws:SourceAccount": self.account},
                    operator: {"aws:SourceArn": arn},
                }
                conditioned = True
            if conditioned:  # the pipeline is built: nothing adds to these trusts after this
                node.assume_role_policy_document = document

    def _use_connection(self, connection_arn: str) -> None:
        """CDK grants the source action codestar-connections:UseConnection only. After the service's
        rename a policy's action prefix must match the resource's ("Connections rename", Developer
        Tools console user guide, read 2026-11-23): an arn:aws:codeconnections connection needs
        codeconnections:UseConnection. Both are granted, on this connection only."""
        # CodePipeline creates the source action's role while binding it: find it in the tree.
        [role] = [
            c for c in self.pipeline.pipeline.node.find_all() if isinstance(c, iam.Role) and "/Source/" in c.node.path
        ]
        prefix = "codeconnections" if ":codeconnections:" in connection_arn else "codestar-connections"
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=[f"{prefix}:UseConnection"], resources=[connection_arn])
        )

    def _log_security_check_builds(self, build_logs: logs.LogGroup) -> None:
        """The permission-broadening check's project is made by CDK Pipelines without the pipeline's
        CodeBuild defaults: it logs to the same group as every other build, and may write there."""
        for node in self.node.find_all():
            if isinstance(node, codebuild.Project) and "PipelinesSecurityCheck" in node.node.path:
                cfn = node.node.default_child
                assert isinstance(cfn, codebuild.CfnProject)
                cfn.logs_config = codebuild.CfnProject.LogsConfigProperty(
                    cloud_watch_logs=codebuild.CfnProject.CloudWatchLogsConfigProperty(
                        status="ENABLED", group_name=build_logs.log_group_name
                    )
                )
                build_logs.grant_write(node)

    def _pin_security_check_cli(self, cli_version: str) -> None:
        """The permission-broadening check's CodeBuild project installs the CDK CLI unpinned and CDK
        Pipelines offers no option for it: pin it to the version package.json locks."""
        for node in self.node.find_all():
            if isinstance(node, codebuild.CfnProject) and "PipelinesSecurityCheck" in node.node.path:
                spec = self.resolve(node.source)["buildSpec"]  # {"Fn::Join": ["", [text, ref, text, ...]]}
                parts = spec["Fn::Join"][1]
                unpinned = '"npm install -g aws-cdk"'
                if not any(isinstance(p, str) and unpinned in p for p in parts):
                    raise AssertionError(
                        "CDK Pipelines changed how the security check installs the CDK CLI; pin it again here"
                    )
                pinned = [
                    p.replace(unpinned, f'"npm install -g aws-cdk@{cli_version}"') if isinstance(p, str) else p
                    for p in parts
                ]
                node.add_property_override("Source.BuildSpec", {"Fn::Join": ["", pinned]})

    def _use_replica_keys(self, spec: EstateSpec, regions: list[str]) -> None:
        """The pipeline role encrypts artifacts with the replication key of each other region. CDK
        grants that key by its alias ARN, which IAM does not match to the key: grant the key by alias."""
        if not regions:
            return
        self.pipeline.pipeline.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                resources=[f"arn:{self.partition}:kms:{region}:{self.account}:key/*" for region in regions],
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": replication_key_alias(spec.name)}},
            )
        )

    def _rerun_on_job_completion(self, spec: EstateSpec, resolved: Sequence[StageSettings]) -> None:
        """Target accounts forward their completed-job events to this account's default bus; a
        rule here starts the pipeline, so the serving side deploys once models exist."""
        accounts = sorted({s.account for s in resolved if s.jobs})
        bus = f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/default"
        for account in accounts:
            # A plain CfnResource, not CfnEventBusPolicy: cdk-nag's EventBusOpenAccess rule reads that
            # class's deprecated `principal` and prints a deprecation warning on every synthesis. What
            # the rule checks (no open bus) is asserted exactly in tests/stacks/test_pipeline.py: only
            # the stage accounts, only Bedrock's events.
            CfnResource(
                self,
                f"AcceptJobEventsFrom{account}",
                type="AWS::Events::EventBusPolicy",
                properties={
                    "StatementId": f"{spec.name}-jobs-{account}",
                    "Statement": {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:{self.partition}:iam::{account}:root"},
                        "Action": "events:PutEvents",
                        "Resource": bus,
                        # Only Bedrock job events may come in from the target accounts.
                        "Condition": {"StringEquals": {"events:source": "aws.bedrock"}},
                    },
                },
            )
        rule = events.Rule(
            self,
            "RerunOnJobCompletion",
            rule_name=f"{spec.name}-rerun-on-job-completion",
            description="Start the delivery pipeline when a customization job of the estate completes",
            event_pattern=job_state_pattern(f"{spec.name}-", completed_only=True, accounts=accounts),
            targets=[targets.CodePipeline(self.pipeline.pipeline)],
        )
        acknowledge(
            rule.node.default_child,
            "Serverless-EventBusDLQ",
            "A lost start only means the pipeline does not run by itself after training; the topic still "
            "announces the completed job and the pipeline can be started by hand.",
        )
