"""RftGrader: a reinforcement fine-tuning grader (reward function) deployed as a Lambda function.

During a reinforcement fine-tuning job Bedrock generates several answers to each training prompt
and invokes the grader with a batch of them; the grader returns a reward per answer. The contract
(user guide "Setting up reward functions for Amazon Nova models", reward-functions.html, read
2026-11-23):

- event: a list of samples ``{"id", "messages": [... the prompt ..., {"role": "assistant",
  "content": <generated answer>}], "metadata": {"reference_answer": ..., <other dataset fields>}}``;
- answer: a list ``{"id", "aggregate_reward_score": float, "metrics_list": [{"name", "value",
  "type": "Reward" | "Metric"}]}``, one per sample.

The open-weight models' reward functions take the same two structures (user guide "Setting up
reward functions for open-weight models", reward-functions-open-weight.html, "Lambda function
implementation details", read 2026-12-08): one grader file serves both kinds of job.

Bedrock invokes the function with the job's service role ("Reinforcement fine-tuning access and
security", rft-access-security.html, read 2026-11-23: the service role needs
``lambda:InvokeFunction`` on the grader). That page asks for no resource-based policy on the
function, so this construct adds none: :meth:`invoke_statement` is the one identity-based grant,
on the versions of this one function.

A Nova job is given the ARN of the function's current *version* (``grader_arn``): a job grades with
the code it started with. A change of code, and also of timeout, memory or description, publishes a
new version. A job's configuration cannot change while it trains, so it keeps invoking the version it
started with: every version is retained (not CDK's default, which deletes a replaced current
version) and the grant covers the function's versions (``<function ARN>:*``), so a timeout tweak
deployed mid-training does not cut a running job off from its grader. Versions cost nothing while
unused; they go when the function is deleted. The version is made when ``version`` or
``grader_arn`` is first read: an open-weight job is given the function's own ARN
(``function.function_arn``, the form every open-weight page shows) and its code by ``identity``,
so a grader only open-weight jobs use has no version.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from ..compliance.nag import acknowledge, acknowledge_each
from ..machinery.log_keys import ensure_cloudwatch_logs_can_use
from ..machinery.resource_provider import HANDLER_RUNTIME, ProviderLogging

if TYPE_CHECKING:
    from ..spec.rft import GraderHandler

DEFAULT_TIMEOUT = Duration.minutes(5)
DEFAULT_MEMORY_MB = 512


@dataclass(frozen=True, kw_only=True)
class RftGraderProps:
    name: str
    """Function name (1-64 of ``A-Za-z0-9-_``); also names the log group ``<log_group_prefix>graders/<name>``."""

    code: Path
    """The Python file holding the handler. Only this file is deployed (no other module)."""

    logging: ProviderLogging
    """Log group prefix, key (the group is encrypted with it), retention and removal, as for the
    estate's custom-resource handlers."""

    handler_function: str = "lambda_handler"
    """The function in ``code`` Lambda calls. Default ``lambda_handler``."""

    runtime: str = HANDLER_RUNTIME.name
    """Lambda runtime name, e.g. ``python3.13``. Default: the runtime of the estate's own handlers
    (the newest Python runtime the installed CDK knows)."""

    timeout: Duration = DEFAULT_TIMEOUT
    """How long one grading call may run. Default 5 minutes: the user guide asks to raise Lambda's
    3-second default, up to its 15-minute maximum, for complex evaluations."""

    memory_mb: int = DEFAULT_MEMORY_MB
    """Memory in MB. Default 512."""

    description: str = "Reinforcement fine-tuning grader: scores generated answers"

    @classmethod
    def of_handler(
        cls, handler: GraderHandler, *, name: str, code: Path, logging: ProviderLogging, description: str
    ) -> RftGraderProps:
        """The props of a grader the estate deploys from a spec ``handler`` block (a Nova job's
        ``rftConfig.grader.handler``, an open-weight entry's ``graderHandler``): its function, runtime,
        timeout and memory as the spec gives them."""
        return cls(
            name=name,
            code=code,
            handler_function=handler.function,
            runtime=handler.runtime,
            timeout=Duration.seconds(handler.timeout_seconds),
            memory_mb=handler.memory_mb,
            logging=logging,
            description=description,
        )


class RftGrader(Construct):
    """A grader function with its own role (it may write its log group and traces, nothing
    else), an encrypted log group with retention, and tracing on.

    Attributes: ``function``, ``version``, ``grader_arn`` (the version's ARN, for
    ``rftConfig.graderConfig.lambdaGrader.lambdaArn``), ``identity`` (what of the grader shapes a
    reward: the file's name and content hash, the handler function and the runtime).
    """

    def __init__(self, scope: Construct, id: str, props: RftGraderProps):
        super().__init__(scope, id)
        stack = Stack.of(self)
        if not props.code.is_file():
            raise ValueError(f"{self.node.path}: grader file not found: {props.code}")
        logging = props.logging
        ensure_cloudwatch_logs_can_use(
            self, logging.log_key, logging.log_group_prefix, imported_key_allows=logging.key_policy_allows_logs
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"{logging.log_group_prefix}graders/{props.name}",
            encryption_key=logging.log_key,
            retention=logging.log_retention,
            removal_policy=logging.removal_policy,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Runs the reinforcement fine-tuning grader {props.name}",
        )
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"Logging and tracing of the grader {props.name}",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
                ),
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"]),
            ],
        )
        acknowledge(
            policy.node.default_child,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions.",
        )
        runtime = lambda_.Runtime(props.runtime, lambda_.RuntimeFamily.PYTHON)
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=props.name,
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(_staged(props.code)),
            handler=f"{props.code.stem}.{props.handler_function}",
            description=props.description,
            role=role.without_policy_updates(),
            timeout=props.timeout,
            memory_size=props.memory_mb,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            # A running job keeps the version it was given: never delete a replaced one under it.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.RETAIN),
        )
        self.function.node.add_dependency(policy)
        findings = [
            *((f, _CONCURRENCY) for f in ("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")),
            *((f, _DLQ) for f in ("HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ")),
            *(
                (f, _NO_VPC)
                for f in (
                    "HIPAA.Security-LambdaInsideVPC",
                    "NIST.800.53.R5-LambdaInsideVPC",
                    "PCI.DSS.321-LambdaInsideVPC",
                )
            ),
        ]
        if props.runtime != HANDLER_RUNTIME.name:
            chosen = f"The grader's runtime ({props.runtime}) is chosen in its props (the spec's rftConfig.grader.handler.runtime) for its code."
            findings += [("AwsSolutions-L1", chosen), ("Serverless-LambdaLatestVersion", chosen)]
        acknowledge_each(self.function.node.default_child, findings)
        self.identity = {
            "file": props.code.name,
            "sha256": hashlib.sha256(props.code.read_bytes()).hexdigest(),
            "function": props.handler_function,
            "runtime": props.runtime,
        }
        """What of the grader shapes a reward (not its timeout, memory or description): a job named by
        a digest of it trains again when the code changes, and not when the grader is given more time."""

    @cached_property
    def version(self) -> lambda_.Version:
        """The function's current version, made (and retained) when first read."""
        return self.function.current_version

    @cached_property
    def grader_arn(self) -> str:
        """The current version's ARN: what a Nova job (``lambdaGrader.lambdaArn``) is given."""
        return self.version.function_arn

    def invoke_statement(self) -> iam.PolicyStatement:
        """What the customization service role needs: invoke the versions of this one function (the
        one a new job is given, and the ones running jobs were given)."""
        return iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[f"{self.function.function_arn}:*"])


def _staged(code: Path) -> str:
    """A directory holding only the grader file, named by its content: the Lambda asset."""
    body = code.read_bytes()
    digest = hashlib.sha256(code.name.encode() + b"\0" + body).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"estate-grader-{digest}"
    if not (target / code.name).is_file():
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
        (staging / code.name).write_bytes(body)
        try:
            staging.rename(target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return str(target)


_CONCURRENCY = (
    "Runs only while a reinforcement fine-tuning job trains. Reserving concurrency would take it from the "
    "account's unreserved pool and could throttle the job's grading."
)
_DLQ = (
    "Bedrock needs the grader's answer (the rewards), so it does not invoke it asynchronously; a dead-letter "
    "queue only receives failed asynchronous invocations."
)
_NO_VPC = (
    "The grader scores what its event carries (prompt, answers, reference answer). A grader that must reach "
    "a private network is given as lambdaArn of a function configured for it."
)
