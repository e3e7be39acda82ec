"""A small CloudFormation stand-in for lifecycle simulations.

It reads custom resources out of a synthesized template, resolves their intrinsic functions to
plausible physical values, and delivers properties the way CloudFormation does: every scalar as a
string. The contract between template and handler is then tested end to end.
"""

from __future__ import annotations

from typing import Any

from .support import ACCOUNT, REGION


def ssm_value(name: str) -> str:
    """Plausible values of the foundation's SSM parameters (what a deployed foundation publishes)."""
    return foundation_value(name.split("/")[2], name.rsplit("/", 1)[-1])


def export_value(name: str) -> str:
    """Plausible values of the foundation's exports, ``<estate>-<stage>-foundation-<kind>``."""
    qualifier, _, kind = name.partition("-foundation-")
    return foundation_value(qualifier.rsplit("-", 1)[-1], kind)


def foundation_value(stage: str, kind: str) -> str:
    values = {
        "training-bucket-name": f"estate-{stage}-training",
        "output-bucket-name": f"estate-{stage}-output",
        "invocation-log-bucket-name": f"estate-{stage}-invocation-logs",
        "access-log-bucket-name": f"estate-{stage}-access-logs",
        "customization-role-arn": f"arn:aws:iam::{ACCOUNT}:role/estate-{stage}-customization",
        "data-key-arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1111aaaa-{stage}-data",
        "custom-model-key-arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/2222bbbb-{stage}-models",
        "notification-topic-arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:estate-{stage}-notifications",
    }
    return values[kind]


class Template:
    def __init__(
        self, template: dict[str, Any], attributes: dict[str, dict[str, Any]] | None = None, stack_name: str = ""
    ):
        self.template = template
        # Given, an unnamed resource is named <stack>-<logical id> as CloudFormation names it (less
        # its random suffix), the name the permission proof reads the stack's policies with.
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.parameters: dict[str, dict[str, Any]] = template.get("Parameters", {})
        # Data returned by custom resources already "created", for their Fn::GetAtt.
        self.attributes = attributes if attributes is not None else {}

    def logical_ids(self, resource_type: str) -> list[str]:
        return [k for k, r in self.resources.items() if r["Type"] == resource_type]

    def properties(self, logical_id: str) -> dict[str, Any]:
        """Properties as CloudFormation would send them to the custom resource."""
        return delivered(self.resolve(self.resources[logical_id]["Properties"]))

    def custom_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """{logical id: properties as CloudFormation would send them} for one custom type."""
        return {
            logical_id: delivered(self.resolve(resource["Properties"]))
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Logs::LogGroup" and "LogGroupName" in props:
            return props["LogGroupName"]
        if kind == "AWS::S3::Bucket":
            return f"{logical_id.lower()[:40]}-{ACCOUNT}"
        if kind == "AWS::Lambda::Function" and "FunctionName" in props:
            return props["FunctionName"]
        if kind == "AWS::Lambda::Version":  # Ref of a version is its qualified ARN
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.resolve(props['FunctionName'])}:1"
        return f"{self.stack_name}-{logical_id}"[:64] if self.stack_name else f"{logical_id}-physical"

    def attribute(self, logical_id: str, name: str) -> str:
        if logical_id in self.attributes:
            return self.attributes[logical_id][name]
        kind = self.resources[logical_id]["Type"]
        physical = self.physical_name(logical_id)
        if name == "Arn":
            service = {"AWS::IAM::Role": "iam", "AWS::Lambda::Function": "lambda", "AWS::S3::Bucket": "s3"}.get(kind)
            if service == "iam":
                return f"arn:aws:iam::{ACCOUNT}:role/{physical}"
            if service == "lambda":
                return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{physical}"
            if service == "s3":
                return f"arn:aws:s3:::{physical}"
        return f"{physical}.{name}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            ref = value["Ref"]
            pseudo = {
                "AWS::AccountId": ACCOUNT,
                "AWS::Region": REGION,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
            }
            if ref in pseudo:
                return pseudo[ref]
            if ref in self.parameters and self.parameters[ref]["Type"].startswith("AWS::SSM::Parameter::Value"):
                return ssm_value(self.parameters[ref]["Default"])
            return self.physical_name(ref)
        if set(value) == {"Fn::GetAtt"}:
            logical_id, name = value["Fn::GetAtt"]
            return self.attribute(logical_id, name)
        if set(value) == {"Fn::ImportValue"}:
            return export_value(self.resolve(value["Fn::ImportValue"]))
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            return sep.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}


def delivered(value: Any) -> Any:
    """CloudFormation hands custom resources booleans and numbers as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [delivered(v) for v in value]
    if isinstance(value, dict):
        return {k: delivered(v) for k, v in value.items()}
    return value
