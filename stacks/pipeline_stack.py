"""Delivery: a CDK pipeline in the tooling account that promotes the estate through its stages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.estate_key import EstateKey, EstateKeyProps
from constructs_lib.nag import acknowledge
from constructs_lib.spec import EstateSpec

from .estate_stage import EstateStage

# The CDK bootstrap's read-only lookup role in each target account (trusted by the pipeline
# account when targets are bootstrapped with --trust).
LOOKUP_ROLE = "arn:{partition}:iam::{account}:role/cdk-hnb659fds-lookup-role-{account}-{region}"
JOB_STATE_CHANGE = "Model Customization Job State Change"


class PipelineStack(Stack):
    """Source (CodeConnections) -> synth (runs the whole test suite, then synthesizes) -> one
    deployment per stage in spec order. Before a stage: a check that notifies the topic when IAM
    permissions broaden, and a manual approval when the stage is protected. After a stage: the
    post-deployment checks of ``constructs_lib.verify``, run in the target account through its
    read-only CDK lookup role."""

    def __init__(self, scope: Construct, id: str, *, spec: EstateSpec, base_dir: Path, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        assert spec.pipeline is not None
        settings = spec.pipeline
        key = EstateKey(self, "NotificationKey", EstateKeyProps(alias=f"{spec.name}-delivery/notifications", description=f"{spec.name} delivery notifications"))
        self.topic = sns.Topic(self, "Notifications", master_key=key, enforce_ssl=True, display_name=f"{spec.name} delivery")
        # The estate's people hear of broadened permissions as they hear of its jobs and alarms.
        for email in spec.notifications.emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        source = pipelines.CodePipelineSource.connection(settings.repository, settings.branch, connection_arn=settings.connection_arn)
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=f"{spec.name}-delivery",
            # CDK's artifact bucket and its cross-region replication buckets, KMS-encrypted with
            # rotated keys the target accounts' deploy roles are granted.
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=codebuild.LinuxBuildImage.STANDARD_7_0)
            ),
            synth=pipelines.ShellStep(
                "Synth",
                input=source,
                # The same commands a developer runs: every test passes before anything deploys.
                commands=["make test", "npx cdk synth '**' --quiet --no-notices"],
            ),
        )
        for stage_settings in spec.stage_settings():
            name = stage_settings.name
            stage = EstateStage(self, stage_settings, spec, base_dir)
            pre: list[pipelines.Step] = [
                pipelines.ConfirmPermissionsBroadening(f"CheckBroadening-{name}", stage=stage, notification_topic=self.topic)
            ]
            if stage_settings.protected:
                pre.append(
                    pipelines.ManualApprovalStep(
                        f"Approve-{name}",
                        comment=f"Deploy the estate to {name} (account {stage_settings.account}, {stage_settings.region})?",
                    )
                )
            lookup = LOOKUP_ROLE.format(partition=self.partition, account=stage_settings.account, region=stage_settings.region)
            verify = pipelines.CodeBuildStep(
                f"Verify-{name}",
                input=source,
                install_commands=["python3 -m pip install --quiet -c requirements.lock boto3 pydantic PyYAML"],
                commands=[f"PYTHONPATH=.:lambdas python3 -m constructs_lib.verify --spec estate.yaml --stage {name} --role-arn {lookup}"],
                role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[lookup])],
            )
            self.pipeline.add_stage(stage, pre=pre, post=[verify])

        self.pipeline.build_pipeline()
        if settings.rerun_on_job_completion:
            self._rerun_on_job_completion(spec)


    def _rerun_on_job_completion(self, spec: EstateSpec) -> None:
        """Target accounts forward their completed-job events to this account's default bus; a
        rule here starts the pipeline, so the serving side deploys once models exist."""
        accounts = sorted({s.account for s in spec.stage_settings() if s.jobs})
        bus = f"arn:{self.partition}:events:{self.region}:{self.account}:event-bus/default"
        for account in accounts:
            events.CfnEventBusPolicy(
                self,
                f"AcceptJobEventsFrom{account}",
                statement_id=f"{spec.name}-jobs-{account}",
                statement={
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{self.partition}:iam::{account}:root"},
                    "Action": "events:PutEvents",
                    "Resource": bus,
                    # Only Bedrock job events may come in from the target accounts.
                    "Condition": {"StringEquals": {"events:source": "aws.bedrock"}},
                },
            )
        rule = events.Rule(
            self,
            "RerunOnJobCompletion",
            rule_name=f"{spec.name}-rerun-on-job-completion",
            description="Start the delivery pipeline when a customization job of the estate completes",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=[JOB_STATE_CHANGE],
                account=accounts,
                detail={"jobStatus": ["Completed"], "jobName": [{"prefix": f"{spec.name}-"}]},
            ),
            targets=[targets.CodePipeline(self.pipeline.pipeline)],
        )
        acknowledge(
            rule.node.default_child,
            "Serverless-EventBusDLQ",
            "A lost start only means the pipeline does not run by itself after training; the topic still "
            "announces the completed job and the pipeline can be started by hand.",
        )
