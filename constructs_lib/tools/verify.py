"""Post-deployment checks of one stage, through AWS API calls (read only).

What a deployment cannot show by itself: that the account's invocation logging configuration is
the estate's, that the customization service role's trust still carries its confused-deputy
conditions, and that the declared jobs exist under their expected names. The role and the bucket
checked are the ones the stage's foundation stack outputs (what CloudFormation deployed), never the
SSM parameters, which anyone allowed to write them could point at another role or bucket. The
pipeline runs this after each stage; people can run it too:

    python -m constructs_lib.tools.verify --spec estate.yaml --stage dev [--role-arn ARN]

``--role-arn`` is assumed first (the pipeline uses the target account's CDK lookup role, which is
read-only). Exit 0 when every check passes, 1 with one line per failed check.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from estate_runtime.kinds.invocation_logging import DELIVERY_FLAGS

from ..spec import EstateSpec, StageSettings, load_stage_or_report
from .deployed import StackUnreadable, stack_outputs


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def render(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


class MissingOutput(Exception):
    """The foundation stack does not output a value a check needs; the message says which."""


@dataclass(frozen=True)
class FoundationOutputs:
    """The stage's foundation stack outputs, as CloudFormation reports them."""

    stack: str
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        if key not in self.values:
            raise MissingOutput(
                f"stack {self.stack} has no output {key}: deploy the stage's foundation with this version of the estate"
            )
        return self.values[key]


def foundation_outputs(session: Any, stage: StageSettings) -> FoundationOutputs:
    """The outputs of the stage's foundation stack; :class:`StackUnreadable` when it cannot be read."""
    stack = stage.names.stack("foundation")
    return FoundationOutputs(stack, stack_outputs(session, stack))


def check_logging(bedrock: Any, outputs: FoundationOutputs, stage: StageSettings) -> Check:
    logging = stage.invocation_logging
    if not logging.enabled:
        return Check("invocation logging", True, "not managed by the estate in this stage")
    config = bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}
    problems = []
    if logging.s3:
        bucket = outputs["InvocationLogBucketName"]
        if (config.get("s3Config") or {}).get("bucketName") != bucket:
            problems.append(
                f"S3 delivery goes to {(config.get('s3Config') or {}).get('bucketName')!r}, not the estate's bucket {bucket!r}"
            )
    if logging.cloud_watch:
        group = stage.names.invocation_log_group
        if (config.get("cloudWatchConfig") or {}).get("logGroupName") != group:
            problems.append(
                f"CloudWatch delivery goes to {(config.get('cloudWatchConfig') or {}).get('logGroupName')!r}, not {group!r}"
            )
    flags = logging.data_delivery
    for payload, field in DELIVERY_FLAGS.items():
        wanted = getattr(flags, payload)
        if bool(config.get(field, False)) != wanted:
            problems.append(f"{field} is {bool(config.get(field, False))}, the spec says {wanted}")
    return Check("invocation logging", not problems, "; ".join(problems) or "the configuration is the estate's")


def check_role_trust(iam: Any, outputs: FoundationOutputs, stage: StageSettings) -> Check:
    role_arn = outputs["CustomizationRoleArn"]
    role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):  # IAM returns it URL-encoded
        document = json.loads(unquote(document))
    expected_arn = f"arn:{_partition(stage.region)}:bedrock:{stage.region}:{stage.account}:model-customization-job/*"
    for statement in document.get("Statement", []):
        principal = statement.get("Principal", {}).get("Service")
        if principal != "bedrock.amazonaws.com":
            return Check("service role trust", False, f"trusts {principal!r}, not only bedrock.amazonaws.com")
        conditions = statement.get("Condition", {})
        if conditions.get("StringEquals", {}).get("aws:SourceAccount") != stage.account:
            return Check("service role trust", False, "aws:SourceAccount condition is missing or names another account")
        if conditions.get("ArnEquals", {}).get("aws:SourceArn") != expected_arn:
            return Check("service role trust", False, f"aws:SourceArn condition is not {expected_arn}")
    return Check("service role trust", True, "bedrock.amazonaws.com only, with aws:SourceAccount and aws:SourceArn")


def check_jobs(bedrock: Any, stage: StageSettings) -> list[Check]:
    """Each job of the stage (resolved with its dataset files, so its job names are known)."""
    checks = []
    for job_name in stage.jobs:
        names = stage.job_names[job_name]
        found = None
        for _ in range(20):
            try:
                job = bedrock.get_model_customization_job(jobIdentifier=names.job_name)
            except bedrock.exceptions.ResourceNotFoundException:
                break
            if job["status"] in ("InProgress", "Completed"):
                found = job
                break
            names = names.next_attempt()
        if found is None:
            checks.append(
                Check(
                    f"job {job_name}", False, f"no running or completed job named {names.readable}-{names.digest[:10]}*"
                )
            )
        else:
            checks.append(Check(f"job {job_name}", True, f"{found['jobName']} is {found['status']}"))
    return checks


def _partition(region: str) -> str:
    from ..spec.regions import partition_of

    return partition_of(region)


def run(spec: EstateSpec, stage_name: str, base_dir: Path, session: Any) -> list[Check]:
    """Every check of the stage, through ``session`` (a boto3 session, or anything with its ``client``)."""
    stage = spec.stage(stage_name, base_dir)
    bedrock, iam = session.client("bedrock"), session.client("iam")
    try:
        outputs = foundation_outputs(session, stage)
    except StackUnreadable as err:
        stack = stage.names.stack("foundation")
        unread = f"stack {stack} could not be read ({err}): is the stage's foundation deployed, and may the role describe it?"
        return [
            Check("invocation logging", False, unread),
            Check("service role trust", False, unread),
            *check_jobs(bedrock, stage),
        ]
    checks = []
    for name, check in (("invocation logging", check_logging), ("service role trust", check_role_trust)):
        client = bedrock if check is check_logging else iam
        try:
            checks.append(check(client, outputs, stage))
        except MissingOutput as err:
            checks.append(Check(name, False, str(err)))
    return [*checks, *check_jobs(bedrock, stage)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a deployed stage against the estate spec (read only).")
    parser.add_argument("--spec", default="estate.yaml")
    parser.add_argument("--stage", required=True)
    parser.add_argument(
        "--role-arn", default=None, help="role to assume first, e.g. the target account's CDK lookup role"
    )
    args = parser.parse_args(argv)
    spec = load_stage_or_report(args.spec, args.stage)
    if spec is None:
        return 1
    import boto3

    stage = spec.stage(args.stage)
    session = boto3.Session(region_name=stage.region)
    if args.role_arn:
        credentials = session.client("sts").assume_role(RoleArn=args.role_arn, RoleSessionName=f"verify-{args.stage}")[
            "Credentials"
        ]
        session = boto3.Session(
            region_name=stage.region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    checks = run(spec, args.stage, Path(args.spec).parent, session)
    for check in checks:
        print(check.render())
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
