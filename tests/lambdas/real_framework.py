"""The CDK provider framework's real bundled code, driving our dispatcher.

``framework_driver.js`` loads ``framework.js`` and its siblings from the aws-cdk-lib that is
installed (the jsii tarball inside the Python ``aws_cdk`` package: the code ``cdk synth`` puts
into the framework's Lambda asset), with only the AWS SDK clients and the HTTPS PUT of the
response stubbed. When the framework invokes the user's ``on_event`` or ``is_complete``, this
module runs the dispatcher in-process against the test's fakes and hands back what the Python
Lambda runtime would: the JSON answer, or an ``Unhandled`` function error. The waiter state
machine is played as CDK builds it: isComplete until it stops asking to retry, then onTimeout
with the last retry's error as its cause.

One Node process serves a whole test module (commands run one at a time over JSON lines).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from estate_runtime.core import Dispatcher

from .support import Context

DRIVER = Path(__file__).with_name("framework_driver.js")
RUNTIME_FILES = ("framework.js", "cfn-response.js", "outbound.js", "util.js", "consts.js")
_RUNTIME_PREFIX = "package/custom-resources/lib/provider-framework/runtime/"

ON_EVENT_ARN = "arn:aws:lambda:us-west-2:111111111111:function:estate-on-event"
IS_COMPLETE_ARN = "arn:aws:lambda:us-west-2:111111111111:function:estate-is-complete"
WAITER_ARN = "arn:aws:states:us-west-2:111111111111:stateMachine:estate-waiter"
RESPONSE_URL = "https://cloudformation-custom-resource-response-uswest2.s3-us-west-2.amazonaws.com/arn%3Aaws/response?X-Amz-Signature=abc"
CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
# CloudFormation rejects a custom resource response body above this size, and the request is lost.
RESPONSE_LIMIT_BYTES = 4096


def extract_runtime(target: Path) -> Path:
    """Copy the provider framework's runtime out of the installed aws-cdk-lib (never vendored)."""
    spec = importlib.util.find_spec("aws_cdk")  # located without importing (no jsii start-up)
    assert spec and spec.origin, "aws-cdk-lib is not installed: run `make setup`"
    [tarball] = sorted((Path(spec.origin).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz"))
    target.mkdir(parents=True, exist_ok=True)
    wanted = {_RUNTIME_PREFIX + name: name for name in RUNTIME_FILES}
    with tarfile.open(tarball) as archive:
        for member in archive:
            if member.name in wanted:
                source = archive.extractfile(member)
                assert source is not None
                (target / wanted.pop(member.name)).write_bytes(source.read())
                if not wanted:
                    break
    assert not wanted, f"{tarball.name} has no {sorted(wanted)}: the provider framework moved"
    return target


@dataclass
class Invocation:
    """One call of our Lambda by the framework: which entry, the event it got, what it answered."""

    entry: str  # "on_event" | "is_complete"
    event: dict[str, Any]
    answer: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class Deployment:
    """What CloudFormation received for one request, and how the framework got there."""

    body: str  # the raw response body PUT to the ResponseURL
    invocations: list[Invocation] = field(default_factory=list)
    polls: int = 0
    timed_out: bool = False

    @property
    def response(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def status(self) -> str:
        return self.response["Status"]

    @property
    def data(self) -> dict[str, Any]:
        return self.response.get("Data") or {}

    @property
    def physical_id(self) -> str:
        return self.response["PhysicalResourceId"]

    @property
    def reason(self) -> str:
        return self.response["Reason"]

    @property
    def size(self) -> int:
        return len(self.body.encode("utf-8"))


class RealFramework:
    """A Node process running the framework; ``deploy`` plays one CloudFormation request."""

    def __init__(self, runtime: Path, log: Path):
        node = shutil.which("node")
        assert node, "Node.js is required to run the provider framework's own code"
        env = {
            **os.environ,
            "USER_ON_EVENT_FUNCTION_ARN": ON_EVENT_ARN,
            "USER_IS_COMPLETE_FUNCTION_ARN": IS_COMPLETE_ARN,
            "WAITER_STATE_MACHINE_ARN": WAITER_ARN,
        }
        self.runtime = runtime
        self.log_path = log  # the framework's own log lines (what its Lambda functions would log)
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [node, str(DRIVER), str(runtime)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
        )

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self._log.close()

    # -- protocol ------------------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the framework driver exited ({self.process.poll()}); see {self._log.name}")
        return json.loads(line)

    def _run(
        self,
        handler: str,
        event: dict[str, Any],
        dispatcher: Dispatcher,
        deployment: Deployment,
        env: dict[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """Run one framework entry point; answer its invocations; return its 'done' message with
        any waiter start or response it produced."""
        self._send({"handler": handler, "event": event, "env": env or {}})
        produced: dict[str, Any] = {}
        while True:
            message = self._receive()
            kind = message["type"]
            if kind == "invoke":
                self._send(self._invoke(message, dispatcher, deployment))
            elif kind == "startExecution":
                assert message["stateMachineArn"] == WAITER_ARN
                produced["waiter_input"] = message["input"]
            elif kind == "response":
                assert message["method"] == "PUT" and "body" not in produced, "one response per request"
                produced["body"] = message["body"]
            elif kind == "done":
                return {**message, **produced}

    @staticmethod
    def _invoke(message: dict[str, Any], dispatcher: Dispatcher, deployment: Deployment) -> dict[str, Any]:
        """What AWS Lambda's Python runtime answers for one invocation of our function."""
        entry = {ON_EVENT_ARN: "on_event", IS_COMPLETE_ARN: "is_complete"}[message["function"]]
        event = json.loads(message["payload"])
        invocation = Invocation(entry, event)
        deployment.invocations.append(invocation)
        try:
            answer = getattr(dispatcher, entry)(event, Context())
            payload = json.dumps(answer)  # the runtime's marshalling: a non-JSON answer fails here too
        except Exception as err:  # the runtime reports any exception as an unhandled function error
            invocation.error = str(err)
            failure = {
                "errorMessage": str(err),
                "errorType": type(err).__name__,
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e812345678",
                "stackTrace": traceback.format_tb(err.__traceback__),
            }
            return {"Payload": json.dumps(failure), "FunctionError": "Unhandled"}
        invocation.answer = answer
        return {"Payload": payload}

    # -- CloudFormation and the waiter ---------------------------------------------------------------
    def deploy(
        self,
        dispatcher: Dispatcher,
        event: dict[str, Any],
        *,
        max_polls: int = 5,
        between_polls: Callable[[int], None] | None = None,
        asynchronous: bool = True,
    ) -> Deployment:
        """Send one CloudFormation request through the framework; return what CloudFormation got.

        The waiter retries isComplete up to ``max_polls`` times (CDK: total timeout / query
        interval), calling ``between_polls(n)`` after the n-th incomplete poll, then runs onTimeout.
        A provider that is not ``asynchronous`` has no isComplete: onEvent's answer is final.
        """
        deployment = Deployment(body="")
        event = {**event, "ResponseURL": RESPONSE_URL}
        env = {"USER_IS_COMPLETE_FUNCTION_ARN": IS_COMPLETE_ARN if asynchronous else None}
        done = self._run("onEvent", event, dispatcher, deployment, env)
        assert done["outcome"] == "ok", f"the framework's onEvent failed outright: {done.get('message')}"
        if "body" in done:
            deployment.body = done["body"]
            return deployment
        waiter_input = json.loads(done["waiter_input"])
        last_error = None
        for poll in range(1, max_polls + 1):
            deployment.polls = poll
            done = self._run("isComplete", waiter_input, dispatcher, deployment)
            if "body" in done:
                deployment.body = done["body"]
                return deployment
            assert done["retry"], f"isComplete failed without answering CloudFormation: {done.get('message')}"
            last_error = done["message"]
            if between_polls:
                between_polls(poll)
        # Step Functions catches the last Retry and hands its error to onTimeout as the cause.
        cause = json.dumps({"errorType": "Error", "errorMessage": last_error, "trace": []})
        done = self._run("onTimeout", {"Error": "Error", "Cause": cause}, dispatcher, deployment)
        assert done["outcome"] == "ok" and "body" in done, done
        deployment.body = done["body"]
        deployment.timed_out = True
        return deployment
