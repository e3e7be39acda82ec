"""EstateProvider: one custom-resource provider per stack, serving every estate resource type in it.

The handler code is the ``estate_runtime`` package (under ``lambdas/``), bundled as it is: plain
Python on the Lambda runtime's boto3. A stack's provider has two functions (on_event and
is_complete) and CDK's framework; neither grows with the number of resources or of kinds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct

import estate_runtime
from estate_runtime.kinds import PROVIDER_QUERY_INTERVAL_SECONDS, PROVIDER_TOTAL_TIMEOUT_SECONDS, Kind, Properties
from estate_runtime.naming import OWNER_TAG
from estate_runtime.permissions import PARTS_OF, dependents_of

from ..compliance.nag import acknowledge, acknowledge_each, nag_spelling
from .log_keys import ensure_cloudwatch_logs_can_use
from .references import environment_of
from .validation import EstateConstructError, refuse

HANDLER_RUNTIME = lambda_.Runtime.PYTHON_3_14


_RUNTIME_FILES = shutil.ignore_patterns("__pycache__", "*.pyc")


@lru_cache(maxsize=1)
def runtime_asset_dir() -> str:
    """A directory holding only the ``estate_runtime`` package: the Lambda asset.

    Copied so an installed wheel never bundles the rest of site-packages; the asset hash depends
    only on file contents, so it is the same on every machine. The copy lives under the system
    temp directory in a folder named by the digest of those contents and is reused by every later
    synthesis of the same runtime: one folder per runtime version, not one per synthesis.
    """
    source = Path(estate_runtime.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(
        p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    target = Path(tempfile.gettempdir()) / f"estate-runtime-{digest.hexdigest()[:16]}"
    if not (target / "estate_runtime").is_dir():
        # Staged beside the target and renamed into place, so a concurrent synthesis never sees
        # a half-copied folder; the loser of a race simply discards its copy.
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
        shutil.copytree(source, staging / "estate_runtime", ignore=_RUNTIME_FILES)
        try:
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return str(target)


# The provider framework's waiter gives up after this long: every kind's waits fit within it
# (each kind checks its own, see estate_runtime.kinds).
TOTAL_TIMEOUT = Duration.seconds(PROVIDER_TOTAL_TIMEOUT_SECONDS)
QUERY_INTERVAL = Duration.seconds(PROVIDER_QUERY_INTERVAL_SECONDS)
HANDLER_TIMEOUT = Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class ProviderLogging:
    """Where and how long a stack's custom-resource provider logs."""

    log_group_prefix: str
    """Name prefix of the log groups, e.g. ``/bedrock-estate-dev/``; the key must allow it."""

    log_key: kms.IKey
    """Encrypts the log groups. A key this app owns (``EstateKey`` or ``kms.Key``, in any stack)
    is granted to CloudWatch Logs for the prefix automatically; for an imported key, see
    ``key_policy_allows_logs``."""

    key_policy_allows_logs: bool = False
    """Only for an imported ``log_key``, whose policy the provider cannot change: set it once the
    key policy lets ``logs.<region>.amazonaws.com`` use the key for log groups named
    ``<log_group_prefix>*`` (as ``EstateKey.grant_cloudwatch_logs`` writes it). Default false:
    an imported key is refused when the construct is made, saying so."""

    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    """Retention of the log groups of the estate's handlers and of the waiter. Default one year."""

    framework_log_retention: logs.RetentionDays = logs.RetentionDays.ONE_DAY
    """Retention of the provider framework's own log group. Default one day: the framework's
    functions log CloudFormation's requests with their pre-signed ResponseURL (when the waiter
    times out, and as error lines of polls that have not finished), which lets whoever reads it
    answer for the resource while it is valid. What happened stays in the handlers' log group."""

    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    """What stack deletion does to the log groups. Default RETAIN."""

    def describe(self) -> str:
        """Where it logs, in words: ``under '/team/' with key Team/Key``."""
        return f"under {self.log_group_prefix!r} with key {self.log_key.node.path}"


class EstateProvider(Construct):
    """The stack's one custom-resource provider: it serves every estate resource type the stack
    holds, so the number of functions grows neither with the resources nor with their kinds.

    Each kind served gets its own customer managed policy on the one handler role (see
    :meth:`serve`), so ``cdk diff`` shows each kind's permissions on their own. One role holds the
    permissions of every kind in the stack: every statement stays scoped to the estate's own
    resources (names, prefixes, the owner tag), and the functions run only the estate's handlers,
    routed by the resource type CloudFormation sends.

    Always asynchronous: a kind that finishes in ``on_event`` answers the waiter's first poll at once.
    """

    ID = "EstateProvider"

    @classmethod
    def of(cls, scope: Construct, logging: ProviderLogging, *, stack: Stack | None = None) -> EstateProvider:
        """The provider of ``scope``'s stack, created on first use. Every caller must pass the same
        logging. ``stack``: ``scope``'s stack when the caller has it already (saves asking the CDK)."""
        stack = stack or Stack.of(scope)
        existing = _providers.get(stack)
        if existing is None:
            found = stack.node.try_find_child(cls.ID)
            if found is None:
                # The log key is checked before anything is made, and refused at the caller's path.
                ensure_cloudwatch_logs_can_use(
                    scope, logging.log_key, logging.log_group_prefix, imported_key_allows=logging.key_policy_allows_logs
                )
                existing = cls(stack, cls.ID, logging)
                existing.first_user = scope.node.path
            elif isinstance(found, EstateProvider):
                existing = found
            else:
                raise EstateConstructError(
                    stack.node.path,
                    [(cls.ID, "is not an EstateProvider: the id is reserved for the stack's provider; rename yours")],
                )
            _providers[stack] = existing
        if existing.logging != logging:
            given = existing.logging.describe()
            other = logging.describe()
            if given == other:
                other += ", and another retention, removal policy or key_policy_allows_logs"
            refuse(
                scope,
                [
                    (
                        "logging",
                        f"the stack's EstateProvider already logs {given}; every construct of a stack must pass the "
                        f"same ProviderLogging: pass the one {existing.first_user} was given (this one logs {other})",
                    )
                ],
            )
        return existing

    def __init__(self, scope: Construct, id: str, logging: ProviderLogging):
        super().__init__(scope, id)
        self.logging = logging
        stack = Stack.of(self)
        base_name = f"{logging.log_group_prefix}custom-resources/{id}"
        self.first_user = self.node.path  # the construct that made it (EstateProvider.of)
        self._kinds: dict[str, KindGrants] = {}
        # Each function's CfnFunction and how cdk-nag spells a grant to invoke it, read from the CDK
        # once: every read is a round trip to the CDK's Node process, and several acknowledgements
        # name the same function.
        self._cfn_functions: dict[lambda_.Function, lambda_.CfnFunction] = {}
        self._invoke_findings: dict[lambda_.Function, str] = {}

        def log_group(log_id: str, suffix: str, retention: logs.RetentionDays = logging.log_retention) -> logs.LogGroup:
            return logs.LogGroup(
                self,
                log_id,
                log_group_name=f"{base_name}/{suffix}",
                encryption_key=logging.log_key,
                retention=retention,
                removal_policy=logging.removal_policy,
            )

        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Runs the bedrock-estate custom-resource handlers of this stack",
        )
        # What the functions need to run; each kind's permissions live in a managed policy of its
        # own. The functions get a read-only view of the role so nothing is added behind our back.
        self.handler_policy = iam.ManagedPolicy(
            self,
            "HandlerPolicy",
            description="Logging and tracing of the bedrock-estate custom-resource handlers",
            roles=[self.handler_role],
        )
        handler_logs = log_group("HandlerLogs", "handler")
        self.handler_policy.add_statements(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[handler_logs.log_group_arn],  # the Arn attribute covers the group's streams
            ),
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
        )
        acknowledge(
            self.handler_policy.node.default_child,
            "AwsSolutions-IAM5[Resource::*]",
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
                timeout=HANDLER_TIMEOUT,
                memory_size=256,
                log_group=handler_logs,
                tracing=lambda_.Tracing.ACTIVE,
            )
            # Managed policies are attached separately from the role: wait for them before any invoke.
            fn.node.add_dependency(self.handler_policy)
            _acknowledge_function(self._cfn(fn), framework=False)
            return fn

        self.on_event = handler("OnEvent", "on_event", "bedrock-estate custom resources: create, update, delete")
        self.is_complete = handler("IsComplete", "is_complete", "bedrock-estate custom resources: wait until settled")

        # The framework's own functions log CloudFormation's pre-signed ResponseURL: a short retention.
        framework_logs = log_group("FrameworkLogs", "framework", logging.framework_log_retention)
        self.provider = cr.Provider(
            self,
            "Framework",
            on_event_handler=self.on_event,
            is_complete_handler=self.is_complete,
            total_timeout=TOTAL_TIMEOUT,
            query_interval=QUERY_INTERVAL,
            log_group=framework_logs,
            framework_on_event_role=self._framework_role("FrameworkOnEventRole", framework_logs),
            framework_complete_and_timeout_role=self._framework_role("FrameworkWaiterRole", framework_logs),
            disable_waiter_state_machine_logging=False,
            # Without execution data: a waiter's input holds CloudFormation's pre-signed
            # ResponseURL, which lets whoever reads it answer for the resource while it is valid.
            waiter_state_machine_log_options=cr.LogOptions(
                destination=log_group("WaiterLogs", "waiter"), level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self._acknowledge_framework()

    @cached_property
    def service_token(self) -> str:
        return self.provider.service_token

    @property
    def resource_types(self) -> list[str]:
        return sorted(self._kinds)

    def serve(self, kind: Kind[Any]) -> KindGrants:
        """Serve ``kind`` too; its permissions go into the returned kind's own policy, and its
        resources are made with :meth:`KindGrants.resource`."""
        resource_type = kind.type_name
        if resource_type not in self._kinds:
            policy = iam.ManagedPolicy(
                self,
                f"{kind.name}Policy",
                description=f"Permissions of the {resource_type} custom-resource handler",
                roles=[self.handler_role],
            )
            self._kinds[resource_type] = KindGrants(self, kind, policy)
            types = ",".join(self.resource_types)
            for fn in (self.on_event, self.is_complete):
                fn.add_environment("ESTATE_RESOURCE_TYPES", types)
                fn.node.add_dependency(policy)
        return self._kinds[resource_type]

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
        # CDK's waiter role trusts Step Functions with no condition: only on behalf of this account.
        trust = role.node.default_child
        assert isinstance(trust, iam.CfnRole)
        trust.add_property_override(
            "AssumeRolePolicyDocument.Statement.0.Condition",
            {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            )
        )
        policy = role.node.find_child("DefaultPolicy").node.default_child
        findings = [
            (f"{pack}-IAMNoInlinePolicy", _FRAMEWORK_INLINE)
            for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
        ]
        findings.append(
            (
                "AwsSolutions-IAM5[Resource::*]",
                "CloudWatch Logs vended delivery (logs:CreateLogDelivery and related) and X-Ray writes support "
                "no resource-level permissions; the state machine needs them for its logging and tracing.",
            )
        )
        for name in ("framework-isComplete", "framework-onTimeout"):
            fn = self.provider.node.find_child(name)
            findings.append(
                (
                    self._invoke_finding(fn),
                    "The waiter invokes the provider framework's own function and its versions; nothing else.",
                )
            )
        acknowledge_each(policy, findings)

    def _cfn(self, fn: lambda_.Function) -> lambda_.CfnFunction:
        if fn not in self._cfn_functions:
            self._cfn_functions[fn] = fn.node.default_child
        return self._cfn_functions[fn]

    def _invoke_finding(self, fn: lambda_.Function) -> str:
        """cdk-nag's AwsSolutions-IAM5 finding for a grant to invoke ``fn`` and its versions."""
        if fn not in self._invoke_findings:
            logical_id = Stack.of(self).get_logical_id(self._cfn(fn))
            self._invoke_findings[fn] = f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]"
        return self._invoke_findings[fn]

    def _acknowledge_framework(self) -> None:
        self._trace_waiter()
        for child in self.provider.node.children:
            if isinstance(child, lambda_.Function):
                _acknowledge_function(self._cfn(child), framework=True)
        # CDK grants both framework roles invoke on the handler's functions (on_event, and
        # is_complete when there is one): each grant covers a function and its versions (':*').
        handler_functions = [self.on_event, self.is_complete]
        invokes = {"FrameworkOnEventRole": handler_functions, "FrameworkWaiterRole": handler_functions}
        for role_id, functions in invokes.items():
            role = self.node.try_find_child(role_id)
            if role is None:
                continue
            policy = role.node.find_child("DefaultPolicy").node.default_child
            findings = [
                (f"{pack}-IAMNoInlinePolicy", _FRAMEWORK_INLINE)
                for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
            ]
            findings += [
                (
                    self._invoke_finding(fn),
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
            description="Runs the CDK provider framework for the bedrock-estate custom resources of this stack",
        )
        log_group.grant_write(role)
        return role


# Each stack's provider, found without asking the CDK: every job, dataset and served model looks it up.
_providers: WeakKeyDictionary[Stack, EstateProvider] = WeakKeyDictionary()


class KindGrants:
    """The permissions of one resource kind served by an :class:`EstateProvider`: one customer
    managed policy on the provider's handler role."""

    def __init__(self, provider: EstateProvider, kind: Kind[Any], policy: iam.ManagedPolicy):
        self.provider = provider
        self.kind = kind
        self.resource_type = kind.type_name
        self.policy = policy
        self._unscoped_reasons: list[str] = []
        # What this policy already holds and acknowledges, and how cdk-nag spells each value: every
        # construct of a kind (e.g. each of 150 jobs) grants the same kind-wide statements, and each
        # call into the CDK is a round trip to its Node process.
        self._granted: set[str] = set()
        self._acknowledged: set[tuple[str, str]] = set()
        self._unscoped_acknowledged = ""
        self._spellings: dict[str, str] = {}

    def resource(self, scope: Construct, id: str, properties: Properties) -> CustomResource:
        """A resource of this kind, served by the provider, its properties written by the kind's serializer."""
        if not isinstance(properties, self.kind.properties):
            raise TypeError(
                f"{scope.node.path}: {self.kind.type_name} takes {self.kind.properties.__name__}, not {type(properties).__name__}"
            )
        return CustomResource(
            scope,
            id,
            service_token=self.provider.service_token,
            resource_type=self.kind.type_name,
            properties=properties.to_cfn(),
        )

    def _allow(self, *, actions: list[str], resources: list[str], conditions: dict[str, Any] | None = None) -> None:
        """Grant ``actions`` on ``resources`` (optionally under ``conditions``), once: a statement
        the policy already holds is not added again (the policy would drop the copy at synthesis)."""
        key = json.dumps([actions, resources, conditions], sort_keys=True)
        if key not in self._granted:
            self._granted.add(key)
            self.policy.add_statements(iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions))

    def allow_calls(self, *calls: str, resources: list[str], conditions: dict[str, Any] | None = None) -> None:
        """Let the handler make ``calls`` on ``resources``: each is one of the kind's operations
        (``"get_custom_model"``; ``"ram.tag_resource"`` where two services share the name;
        ``"copy_object:target"`` for one part of a call authorized on two resources). The IAM
        actions come from the kind's contract: a construct names what its handler does and where,
        never an action, so grants and handler calls cannot drift apart."""
        self._allow(actions=self._actions(calls), resources=resources, conditions=conditions)

    def allow_unscoped_calls(self, *calls: str, reason: str, conditions: dict[str, Any] | None = None) -> None:
        """:meth:`allow_calls` for calls that support no resource-level permissions (see :meth:`_allow_unscoped`)."""
        self._allow_unscoped(self._actions(calls), reason, conditions=conditions)

    def allow_dependents(
        self,
        *calls: str,
        on: str,
        key: str | None = None,
        resources: list[str],
        conditions: dict[str, Any] | None = None,
    ) -> None:
        """Grant what ``calls`` need beyond their own actions (``estate_runtime.permissions``'s
        documented rows): ``on`` the ``created`` resources (tags on create), the ``custom-model``
        (resource policies), the ``passed-role``, or a ``key`` (``custom-model``,
        ``source-custom-model``, ``data``, ``dataset``) on ``resources``.

        Tags on create are authorized as ``TagResource`` on the new resource, and IAM cannot tell
        that authorization from a direct ``TagResource`` call on an existing resource of the same
        pattern (Bedrock has no ``CreateAction`` key). So a ``created`` grant also requires that the
        resource carries no owner tag yet: otherwise a handler could put its own owner tag on another
        estate's job or model and, through the owner-tag conditions, take it over."""
        if on == "created":
            conditions = dict(conditions or {})
            conditions["Null"] = {**conditions.get("Null", {}), f"aws:ResourceTag/{OWNER_TAG}": "true"}
        self._allow(actions=self._dependent_actions(calls, on, key), resources=resources, conditions=conditions)

    def allow_unscoped_dependents(self, *calls: str, reason: str) -> None:
        """The dependent actions of ``calls`` that support no resource-level permissions."""
        self._allow_unscoped(self._dependent_actions(calls, "no-resource", None), reason)

    def _dependent_actions(self, calls: tuple[str, ...], on: str, key: str | None) -> list[str]:
        actions: list[str] = []
        for action in self._actions(calls):
            for row in dependents_of(action):
                if row.on == on and (key is None or row.key == key):
                    actions += [a for a in row.actions if a not in actions]
        if not actions:
            raise ValueError(
                f"{self.kind.type_name}: {', '.join(calls)} need nothing on {on}{f' ({key})' if key else ''}"
            )
        return actions

    def _actions(self, calls: tuple[str, ...]) -> list[str]:
        table = self.kind.iam_actions()
        actions: list[str] = []
        for call in calls:
            name, _, part = call.partition(":")
            service, _, operation = name.rpartition(".")
            found = [(s, o) for (s, o) in table if o == operation and service in ("", s)]
            if len(found) != 1:
                raise ValueError(
                    f"{self.kind.type_name} declares {'no' if not found else 'more than one'} call {name!r}; "
                    f"it calls {', '.join(sorted(f'{s}.{o}' for s, o in table))}"
                )
            granted = PARTS_OF[found[0]][part] if part else table[found[0]]
            actions += [a for a in granted if a not in actions]
        return actions

    def spelling(self, value: str) -> str:
        """:func:`~constructs_lib.compliance.nag.nag_spelling` of ``value`` in this provider's stack."""
        if value not in self._spellings:
            self._spellings[value] = nag_spelling(self.provider, value)
        return self._spellings[value]

    def _allow_unscoped(self, actions: list[str], reason: str, conditions: dict[str, Any] | None = None) -> None:
        """Grant actions that support no resource-level permissions (``Resource: *``), saying why,
        optionally narrowed by ``conditions``.

        The policy's one ``AwsSolutions-IAM5[Resource::*]`` finding is acknowledged with every
        reason given so far, so the audit trail lists each unscoped action's justification.
        """
        self._allow(actions=actions, resources=["*"], conditions=conditions)
        if reason not in self._unscoped_reasons:
            self._unscoped_reasons.append(reason)
        reasons = " ".join(self._unscoped_reasons)
        if reasons != self._unscoped_acknowledged:
            self._unscoped_acknowledged = reasons
            acknowledge(self.policy.node.default_child, "AwsSolutions-IAM5[Resource::*]", reasons)

    def allow_own_stack_status(self) -> None:
        """Let the handler read the status of its own stack (``DescribeStacks`` on exactly the
        provider's stack): before an adopted resource is deleted, the handler tells a deleted stack
        or a successful update from a failed deployment's rollback (``estate_runtime.stack_status``)."""
        self._allow_own_stack("describe_stacks")

    def allow_own_stack_resources(self) -> None:
        """Let the handler list the resources of its own stack (``ListStackResources`` on exactly the
        provider's stack): before a Delete removes what is one per account and Region, the handler
        asks whether another resource of the stack still holds it (``estate_runtime.stack_status``)."""
        self._allow_own_stack("list_stack_resources")

    def _allow_own_stack(self, call: str) -> None:
        """``call`` on exactly the provider's stack, by name: the stack's ARN ends in an id
        CloudFormation assigns when it creates the stack."""
        stack = Stack.of(self.provider)
        env = environment_of(stack)
        own = f"arn:{env.partition}:cloudformation:{env.region}:{env.account}:stack/{stack.stack_name}/*"
        self.allow_calls(call, resources=[own])
        self.acknowledge(
            [
                (
                    f"AwsSolutions-IAM5[Resource::{self.spelling(own)}]",
                    "One stack by name, the handler's own: CloudFormation adds a unique id to a stack's ARN when "
                    "it creates it.",
                )
            ]
        )

    def acknowledge(self, findings: list[tuple[str, str]]) -> None:
        """Acknowledge findings of this kind's policy, each with its reason (once each)."""
        new = [finding for finding in findings if finding not in self._acknowledged]
        if new:
            self._acknowledged.update(new)
            acknowledge_each(self.policy.node.default_child, new)

    def acknowledge_object_wildcard(self, bucket: s3.IBucket, prefix: str, verb: str) -> None:
        """Acknowledge the one IAM5 finding of object access under ``prefix`` of ``bucket``."""
        self.acknowledge(
            [
                (
                    f"AwsSolutions-IAM5[Resource::{self.spelling(bucket.bucket_arn)}/{prefix}*]",
                    f"The handler must {verb} objects whose keys are known only at deploy time; access is "
                    f"limited to the '{prefix}' prefix of this one bucket.",
                )
            ]
        )


def _acknowledge_function(fn: lambda_.CfnFunction, *, framework: bool) -> None:
    findings = [
        *((f, _CONCURRENCY) for f in ("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")),
        *((f, _DLQ) for f in ("HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")),
        *(
            (f, _NO_VPC)
            for f in ("HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC", "PCI.DSS.321-LambdaInsideVPC")
        ),
    ]
    if framework:
        findings += [
            ("Serverless-LambdaDefaultMemorySize", _FRAMEWORK_FUNCTION),
            ("Serverless-LambdaTracing", _FRAMEWORK_FUNCTION),
        ]
    acknowledge_each(fn, findings)


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
