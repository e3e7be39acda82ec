"""EstateProvider: one custom-resource provider per stack and resource type, shared by every instance.

The handler code is the ``estate_runtime`` package (under ``lambdas/``), bundled as it is: plain
Python on the Lambda runtime's boto3. Each provider's function serves one resource type, so its
role holds only that type's permissions; the number of functions never grows with the number of
resources.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import estate_runtime
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

from .nag import acknowledge, acknowledge_each, nag_spelling

HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14


@lru_cache(maxsize=1)
def runtime_asset_dir() -> str:
    """A directory holding only the ``estate_runtime`` package: the Lambda asset.

    Copied so an installed wheel never bundles the rest of site-packages; the asset hash depends
    only on file contents, so it is the same on every machine.
    """
    source = Path(estate_runtime.__file__).parent
    staging = Path(tempfile.mkdtemp(prefix="estate-runtime-"))
    shutil.copytree(source, staging / "estate_runtime", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return str(staging)


@dataclass(frozen=True, kw_only=True)
class ProviderLogging:
    """Where and how long custom-resource providers log: shared by every provider of a stage."""

    log_group_prefix: str
    """Name prefix of the log groups, e.g. ``/bedrock-estate-dev/``; the key must allow it."""

    log_key: kms.IKey
    """Encrypts the log groups."""

    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN

    def for_type(self, resource_type: str, **options) -> EstateProviderProps:
        return EstateProviderProps(
            resource_type=resource_type,
            log_group_prefix=self.log_group_prefix,
            log_key=self.log_key,
            log_retention=self.log_retention,
            removal_policy=self.removal_policy,
            **options,
        )


@dataclass(frozen=True, kw_only=True)
class EstateProviderProps:
    resource_type: str
    """The CloudFormation type it serves, e.g. ``Custom::BedrockInvocationLogging``."""

    log_group_prefix: str
    """Name prefix of its log groups, e.g. ``/bedrock-estate-dev/``; the key must allow it."""

    log_key: kms.IKey
    """Encrypts its log groups."""

    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of its log groups. Default one year."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What stack deletion does to its log groups. Default RETAIN."""

    asynchronous: bool = False
    """True adds an is-complete handler polled by the framework's waiter (a Step Functions state
    machine). Default false: ``on_event`` finishes the work within ``handler_timeout``."""

    handler_timeout: Duration = Duration.minutes(5)
    """Lambda timeout of the handler functions. Default 5 minutes (retries stop before it)."""

    total_timeout: Duration = Duration.hours(1)
    """With ``asynchronous``, how long the waiter polls before failing. Default and maximum 1 hour."""

    query_interval: Duration = Duration.seconds(30)
    """With ``asynchronous``, time between polls. Default 30 seconds."""


class EstateProvider(Construct):
    """The provider framework for one resource type in one stack. Use :meth:`for_type`."""

    @classmethod
    def for_type(cls, scope: Construct, name: str, props: EstateProviderProps) -> EstateProvider:
        """The stack's provider for ``props.resource_type``, created on first use.

        Later callers share the first one; the props of the first call win.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(f"{name}Provider")
        if existing is not None:
            assert isinstance(existing, EstateProvider)
            return existing
        return cls(stack, f"{name}Provider", props)

    def __init__(self, scope: Construct, id: str, props: EstateProviderProps):
        super().__init__(scope, id)
        self.props = props
        stack = Stack.of(self)
        base_name = f"{props.log_group_prefix}custom-resources/{id}"

        def log_group(log_id: str, suffix: str) -> logs.LogGroup:
            return logs.LogGroup(
                self,
                log_id,
                log_group_name=f"{base_name}/{suffix}",
                encryption_key=props.log_key,
                retention=props.log_retention,
                removal_policy=props.removal_policy,
            )

        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Runs the {props.resource_type} custom-resource handler",
        )
        # Every permission of the handler lives in this one customer managed policy; the functions
        # get a read-only view of the role so nothing is added to it behind our back.
        self.handler_policy = iam.ManagedPolicy(
            self,
            "HandlerPolicy",
            description=f"Permissions of the {props.resource_type} custom-resource handler",
            roles=[self.handler_role],
        )
        handler_logs = log_group("HandlerLogs", "handler")
        self.handler_policy.add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[handler_logs.log_group_arn],  # the Arn attribute covers the group's streams
            )
        )
        self._unscoped_reasons: list[str] = []
        self.allow_unscoped(
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
        )

        code = lambda_.Code.from_asset(runtime_asset_dir())

        def handler(fn_id: str, entry: str, description: str) -> lambda_.Function:
            fn = lambda_.Function(
                self,
                fn_id,
                runtime=HANDLER_RUNTIME,
                architecture=lambda_.Architecture.ARM_64,
                code=code,
                handler=f"estate_runtime.entry.{entry}",
                description=description,
                role=self.handler_role.without_policy_updates(),
                timeout=props.handler_timeout,
                memory_size=256,
                log_group=handler_logs,
                tracing=lambda_.Tracing.ACTIVE,
                environment={"ESTATE_RESOURCE_TYPES": props.resource_type},
            )
            # The managed policy is attached separately from the role: wait for it before any invoke.
            fn.node.add_dependency(self.handler_policy)
            _acknowledge_function(fn, framework=False)
            return fn

        self.on_event = handler("OnEvent", "on_event", f"{props.resource_type}: create, update, delete")
        self.is_complete = (
            handler("IsComplete", "is_complete", f"{props.resource_type}: waits until settled")
            if props.asynchronous
            else None
        )

        framework_logs = log_group("FrameworkLogs", "framework")
        waiter: dict[str, object] = {}
        if props.asynchronous:
            waiter = {
                "is_complete_handler": self.is_complete,
                "total_timeout": props.total_timeout,
                "query_interval": props.query_interval,
                "framework_complete_and_timeout_role": self._framework_role("FrameworkWaiterRole", framework_logs),
                "disable_waiter_state_machine_logging": False,
                # Without execution data: a waiter's input holds CloudFormation's pre-signed
                # ResponseURL, which lets whoever reads it answer for the resource while it is valid.
                "waiter_state_machine_log_options": cr.LogOptions(
                    destination=log_group("WaiterLogs", "waiter"), level=sfn.LogLevel.ALL, include_execution_data=False
                ),
            }
        self.provider = cr.Provider(
            self,
            "Framework",
            on_event_handler=self.on_event,
            log_group=framework_logs,
            framework_on_event_role=self._framework_role("FrameworkOnEventRole", framework_logs),
            **waiter,
        )
        self._acknowledge_framework()

    @property
    def service_token(self) -> str:
        return self.provider.service_token

    def add_to_handler_policy(self, statement: iam.PolicyStatement) -> None:
        """Grant the handler functions one more permission."""
        self.handler_policy.add_statements(statement)

    def allow_unscoped(self, actions: list[str], reason: str, conditions: dict[str, Any] | None = None) -> None:
        """Grant actions that support no resource-level permissions (``Resource: *``), saying why,
        optionally narrowed by ``conditions``.

        The policy's one ``AwsSolutions-IAM5[Resource::*]`` finding is acknowledged with every
        reason given so far, so the audit trail lists each unscoped action's justification.
        """
        self.handler_policy.add_statements(iam.PolicyStatement(actions=actions, resources=["*"], conditions=conditions))
        if reason not in self._unscoped_reasons:
            self._unscoped_reasons.append(reason)
        acknowledge(self.handler_policy.node.default_child, "AwsSolutions-IAM5[Resource::*]", " ".join(self._unscoped_reasons))

    def acknowledge_object_wildcard(self, bucket: s3.IBucket, prefix: str, verb: str) -> None:
        """Acknowledge the one IAM5 finding of object access under ``prefix`` of ``bucket``."""
        acknowledge(
            self.handler_policy.node.default_child,
            f"AwsSolutions-IAM5[Resource::{nag_spelling(self, bucket.bucket_arn)}/{prefix}*]",
            f"The handler must {verb} objects whose keys are known only at deploy time; access is "
            f"limited to the '{prefix}' prefix of this one bucket.",
        )

    def _trace_waiter(self) -> None:
        """Turn on X-Ray for the framework's waiter state machine (CDK exposes no option for it)."""
        waiter = self.provider.node.try_find_child("waiter-state-machine")
        if waiter is None:
            return
        machine = waiter.node.find_child("Resource")
        assert isinstance(machine, sfn.CfnStateMachine)
        machine.tracing_configuration = sfn.CfnStateMachine.TracingConfigurationProperty(enabled=True)
        role = waiter.node.find_child("Role")
        assert isinstance(role, iam.Role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
                resources=["*"],
            )
        )
        policy = role.node.find_child("DefaultPolicy").node.default_child
        stack = Stack.of(self)
        findings = [(f"{pack}-IAMNoInlinePolicy", _FRAMEWORK_INLINE) for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")]
        findings.append((
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs vended delivery (logs:CreateLogDelivery and related) and X-Ray writes support "
            "no resource-level permissions; the state machine needs them for its logging and tracing.",
        ))  # fmt: skip
        for name in ("framework-isComplete", "framework-onTimeout"):
            fn = self.provider.node.find_child(name)
            findings.append((
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(fn.node.default_child)}.Arn>:*]",
                "The waiter invokes the provider framework's own function and its versions; nothing else.",
            ))  # fmt: skip
        acknowledge_each(policy, findings)

    def _acknowledge_framework(self) -> None:
        self._trace_waiter()
        stack = Stack.of(self)
        for child in self.provider.node.children:
            if isinstance(child, lambda_.Function):
                _acknowledge_function(child, framework=True)
        # CDK grants both framework roles invoke on the handler's functions (on_event, and
        # is_complete when there is one): each grant covers a function and its versions (':*').
        handler_functions = [self.on_event, self.is_complete]
        invokes = {"FrameworkOnEventRole": handler_functions, "FrameworkWaiterRole": handler_functions}
        for role_id, functions in invokes.items():
            role = self.node.try_find_child(role_id)
            if role is None:
                continue
            policy = role.node.find_child("DefaultPolicy").node.default_child
            findings = [(f"{pack}-IAMNoInlinePolicy", _FRAMEWORK_INLINE) for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")]
            findings += [
                (
                    f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(fn.node.default_child)}.Arn>:*]",
                    "The provider framework invokes this handler function and its versions (':*'); nothing else.",
                )
                for fn in filter(None, functions)
            ]
            acknowledge_each(policy, findings)

    def _framework_role(self, id: str, log_group: logs.ILogGroup) -> iam.Role:
        role = iam.Role(
            self,
            id,
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
            description=f"Runs the CDK provider framework for {self.props.resource_type}",
        )
        log_group.grant_write(role)
        return role


def _acknowledge_function(fn: lambda_.IFunction, *, framework: bool) -> None:
    findings = [
        *((f, _CONCURRENCY) for f in ("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")),
        *((f, _DLQ) for f in ("HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")),
        *((f, _NO_VPC) for f in ("HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC")),
    ]
    if framework:
        findings += [("Serverless-LambdaDefaultMemorySize", _FRAMEWORK_FUNCTION), ("Serverless-LambdaTracing", _FRAMEWORK_FUNCTION)]
    acknowledge_each(fn.node.default_child, findings)


_CONCURRENCY = (
    "Runs only while CloudFormation deploys this stack. Reserving concurrency would take it from "
    "the account's unreserved pool, and fails in new accounts whose whole limit is 10."
)
_DLQ = (
    "Invoked synchronously (by CloudFormation through the provider framework); a dead-letter queue "
    "only receives failed asynchronous invocations. Failures reach CloudFormation as the status reason."
)
_NO_VPC = (
    "Calls only AWS control-plane APIs (Bedrock, IAM, S3) over TLS; it reads no data store in a "
    "network. A VPC would add NAT or interface endpoints and no protection."
)
_FRAMEWORK_FUNCTION = (
    "Function generated by the CDK provider framework, which exposes no memory or tracing setting; "
    "it only relays the request to the estate's handler, which has tracing on."
)
_FRAMEWORK_INLINE = (
    "Policy generated by the CDK provider framework for its own function: it may only invoke this "
    "provider's handler and write to the provider's log group."
)
