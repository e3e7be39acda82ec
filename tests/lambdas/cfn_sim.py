"""A small CloudFormation stand-in for lifecycle simulations.

It reads custom resources out of a synthesized template, resolves their intrinsic functions to
plausible physical values, and delivers properties the way CloudFormation does: every scalar as a
string. The contract between template and handler is then tested end to end.
"""

from __future__ import annotations

from typing import Any

from .support import ACCOUNT, REGION


class Template:
    def __init__(self, template: dict[str, Any]):
        self.template = template
        self.resources: dict[str, dict[str, Any]] = template["Resources"]

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
        return f"{logical_id}-physical"

    def attribute(self, logical_id: str, name: str) -> str:
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
            pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
            return pseudo.get(ref) or self.physical_name(ref)
        if set(value) == {"Fn::GetAtt"}:
            logical_id, name = value["Fn::GetAtt"]
            return self.attribute(logical_id, name)
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
