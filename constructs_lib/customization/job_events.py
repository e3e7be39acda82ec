"""Job events: EventBridge rules on Bedrock's customization-job state changes.

``JobStateNotifications`` sends a stage's job state changes to an SNS topic;
``JobCompletionForwarding`` forwards its completed jobs to another account's default bus (the
delivery pipeline's), where ``job_completion_pattern`` matches them again to start the pipeline.
Each rule is acknowledged for cdk-nag's Serverless-EventBusDLQ with the reason a lost event loses
no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from ..compliance.nag import acknowledge

JOB_STATE_CHANGE = "Model Customization Job State Change"
"""The detail-type of Bedrock's events about customization jobs (source ``aws.bedrock``)."""


def job_state_pattern(
    job_name_prefix: str, *, completed_only: bool = False, accounts: Sequence[str] | None = None
) -> events.EventPattern:
    """Bedrock job state changes of jobs whose names start with ``job_name_prefix``; only
    ``Completed`` ones with ``completed_only``; only from ``accounts`` when given (events forwarded
    from other accounts)."""
    detail: dict[str, object] = {"jobName": [{"prefix": job_name_prefix}]}
    if completed_only:
        detail = {"jobStatus": ["Completed"], **detail}
    return events.EventPattern(
        source=["aws.bedrock"],
        detail_type=[JOB_STATE_CHANGE],
        account=list(accounts) if accounts is not None else None,
        detail=detail,
    )


@dataclass(frozen=True, kw_only=True)
class JobStateNotificationsProps:
    topic: sns.ITopic
    """Where the messages go (the stage's notification topic)."""

    job_name_prefix: str
    """Jobs whose Bedrock names start with this (a stage's ``<estate>-<stage>-``)."""

    label: str
    """Named in the rule's description and in each message, e.g. ``acme-dev``."""

    rule_name: str | None = None
    """Default: a name CloudFormation generates."""


class JobStateNotifications(events.Rule):
    """An EventBridge rule sending every state change of matching jobs to an SNS topic, as one
    readable line: job, stage label, status, custom model and failure message."""

    def __init__(self, scope: Construct, id: str, props: JobStateNotificationsProps) -> None:
        detail = events.EventField
        super().__init__(
            scope,
            id,
            rule_name=props.rule_name,
            description=f"State changes of {props.label}'s Bedrock customization jobs",
            event_pattern=job_state_pattern(props.job_name_prefix),
            targets=[
                targets.SnsTopic(
                    props.topic,
                    message=events.RuleTargetInput.from_text(
                        f"Bedrock customization job {detail.from_path('$.detail.jobName')} in {props.label} is "
                        f"{detail.from_path('$.detail.jobStatus')}. Custom model: {detail.from_path('$.detail.outputModelName')}. "
                        f"{detail.from_path('$.detail.failureMessage')}"
                    ),
                )
            ],
        )
        acknowledge(
            self.node.default_child,
            "Serverless-EventBusDLQ",
            "Notifications are informational: a lost message loses no state. Every job's status stays in "
            "Bedrock (and in the stack's resource status), so nothing depends on the message arriving.",
        )


@dataclass(frozen=True, kw_only=True)
class JobCompletionForwardingProps:
    account: str
    """Account whose default event bus receives the completed jobs (it must accept them: an
    ``AWS::Events::EventBusPolicy`` for this account, limited to source ``aws.bedrock``)."""

    region: str
    job_name_prefix: str
    label: str
    """Named in the rule's description, e.g. ``acme-dev``."""

    rule_name: str | None = None
    """Default: a name CloudFormation generates."""


class JobCompletionForwarding(events.Rule):
    """An EventBridge rule forwarding completed jobs to another account's default bus, with its own
    role (``events:PutEvents`` on that bus only, in a managed policy; trusted by EventBridge for
    this account only). The role, its policy and the imported bus are siblings of the rule, named
    ``<id>Role``, ``<id>Policy`` and ``PipelineBus``."""

    def __init__(self, scope: Construct, id: str, props: JobCompletionForwardingProps) -> None:
        stack = Stack.of(scope)
        bus_arn = f"arn:{stack.partition}:events:{props.region}:{props.account}:event-bus/default"
        bus = events.EventBus.from_event_bus_arn(scope, "PipelineBus", bus_arn)
        # Our own role, its one permission in a managed policy (CDK would write an inline policy).
        role = iam.Role(
            scope,
            f"{id}Role",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Lets EventBridge forward completed-job events to the delivery pipeline's account",
        )
        iam.ManagedPolicy(
            scope,
            f"{id}Policy",
            roles=[role],
            statements=[iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus_arn])],
        )
        super().__init__(
            scope,
            id,
            rule_name=props.rule_name,
            description=f"Completed customization jobs of {props.label}, to the delivery pipeline's account",
            event_pattern=job_state_pattern(props.job_name_prefix, completed_only=True),
            targets=[targets.EventBus(bus, role=role.without_policy_updates())],
        )
        acknowledge(
            self.node.default_child,
            "Serverless-EventBusDLQ",
            "A lost forward only means the pipeline is not started automatically; the job's state stays in "
            "Bedrock and the topic still announces it, so the pipeline can be started by hand.",
        )
