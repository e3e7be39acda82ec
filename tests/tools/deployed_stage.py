"""A stage as it stands once deployed, on the stateful fakes: the synthesized templates of its
customization and serving stacks in a ``FakeCloudFormation``, and what their handlers made in a
``FakeBedrock`` (made through the fake's own API, so every request and answer is botocore's), with
the physical id each handler answers: a job's ARN, a throughput's or deployment's name, a model's name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from estate_runtime.naming import JobNames

from ..lambdas.fake_bedrock import FakeBedrock
from ..lambdas.fake_cloudformation import FakeCloudFormation
from ..synthesis import SynthesizedEstate


@dataclass
class DeployedStage:
    bedrock: FakeBedrock
    cloudformation: FakeCloudFormation
    # logical id -> (stack name, physical id, properties), for the tests to reach what they change
    resources: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A boto3 session's ``client``: the tools read through this object as through a session."""
        return {"bedrock": self.bedrock, "cloudformation": self.cloudformation}[service]

    def physical_id(self, type_name: str, entry: str) -> str:
        """The physical id of the resource of ``type_name`` made for the spec entry ``entry``."""
        for _, physical, props in self.resources.values():
            tags = {t["key"]: t["value"] for t in props.get("Tags") or props.get("JobTags") or []}
            if props.get("_type") == type_name and entry in tags.values():
                return physical
        raise KeyError(f"no {type_name} for {entry}")


def _tags(props: dict[str, Any], key: str = "Tags") -> list[dict[str, str]]:
    return [dict(t) for t in props.get(key) or []]


def deploy(estate: SynthesizedEstate, stage: str, region: str, account: str) -> DeployedStage:
    """The stage's customization and serving stacks deployed: every job trained, every import,
    copy, throughput and deployment made and serving."""
    bedrock = FakeBedrock(region=region, account=account)
    bedrock.unit_quota = 100
    cloudformation = FakeCloudFormation(region=region, account=account)
    world = DeployedStage(bedrock, cloudformation)
    stacks = [
        s for s in estate.stacks if s.stage == stage and s.stack_id.split("/")[-1] in ("Customization", "Serving")
    ]
    by_logical: dict[str, str] = {}
    for stack in stacks:  # customization first (stacks/estate_stage.py order): serving reads its models
        physical_ids: dict[str, str] = {}
        for logical, resource in stack.template["Resources"].items():
            props = dict(resource.get("Properties") or {})
            kind = resource["Type"]
            if kind == "Custom::BedrockCustomizationJob" and props.get("Adopt"):
                # A model trained in the console, adopted: tagged with the entry's model tags.
                arn = props["Adopt"]["Arn"]
                name = f"console-{props['NameParts']['Readable']}"[:63]
                bedrock.models[name] = {
                    "modelArn": arn,
                    "modelName": name,
                    "baseModelArn": f"arn:aws:bedrock:{region}::foundation-model/{props['BaseModelIdentifier']}",
                    "customizationType": props["CustomizationType"],
                }
                bedrock.tags[arn] = {t["key"]: t["value"] for t in _tags(props, "CustomModelTags")}
                physical_ids[logical] = arn
            elif kind == "Custom::BedrockCustomizationJob":
                arn = bedrock.create_model_customization_job(
                    jobName=props["JobName"],
                    customModelName=props["CustomModelName"],
                    roleArn=f"arn:aws:iam::{account}:role/customization",
                    baseModelIdentifier=props["BaseModelIdentifier"],
                    customizationType=props["CustomizationType"],
                    trainingDataConfig={"s3Uri": "s3://training/datasets/train.jsonl"},
                    outputDataConfig={"s3Uri": "s3://training/output/"},
                    jobTags=_tags(props, "JobTags"),
                    customModelTags=_tags(props, "CustomModelTags"),
                )["jobArn"]
                bedrock.complete(props["JobName"])
                physical_ids[logical] = arn
            elif kind == "Custom::BedrockImportedModel":
                name = JobNames(props["NameParts"]["Readable"], props["NameParts"]["Digest"]).custom_model_name
                arn = f"arn:aws:bedrock:{region}:{account}:imported-model/{name[-12:]}"
                bedrock.imported_models[name] = {"modelArn": arn, "modelName": name}
                bedrock.tags[arn] = {t["key"]: t["value"] for t in _tags(props)}
                physical_ids[logical] = name
            elif kind == "Custom::BedrockModelCopy":
                arn = bedrock.add_model(props["Name"])
                bedrock.tags[arn] = {t["key"]: t["value"] for t in _tags(props)}
                physical_ids[logical] = props["Name"]
            elif kind in ("Custom::BedrockProvisionedThroughput", "Custom::BedrockCustomModelDeployment"):
                model_arn = _served_model(bedrock, props["Model"], by_logical, physical_ids)
                if kind == "Custom::BedrockProvisionedThroughput":
                    bedrock.create_provisioned_model_throughput(
                        provisionedModelName=props["Name"],
                        modelId=model_arn,
                        modelUnits=int(props["ModelUnits"]),
                        tags=_tags(props),
                        **(
                            {"commitmentDuration": props["CommitmentDuration"]}
                            if props.get("CommitmentDuration")
                            else {}
                        ),
                    )
                else:
                    bedrock.create_custom_model_deployment(
                        modelDeploymentName=props["Name"], modelArn=model_arn, tags=_tags(props)
                    )
                bedrock.settle()
                physical_ids[logical] = props["Name"]
            else:
                continue
            world.resources[logical] = (stack.stack_name, physical_ids[logical], {**props, "_type": kind})
        by_logical.update(physical_ids)
        cloudformation.deploy(stack.stack_name, stack.template, physical_ids)
    bedrock.calls.clear()
    return world


def _served_model(bedrock: FakeBedrock, model: dict[str, Any], *physical: dict[str, str]) -> str:
    if isinstance(model.get("ModelArn"), str):
        return str(model["ModelArn"])
    if isinstance(model.get("ModelArn"), dict):  # Fn::GetAtt of a copy in the same stack: its name
        logical = model["ModelArn"]["Fn::GetAtt"][0]
        name = next(ids[logical] for ids in physical if logical in ids)
        return str(bedrock.models[name]["modelArn"])
    parts = model["JobNameParts"]
    return str(bedrock.models[JobNames(parts["Readable"], parts["Digest"]).custom_model_name]["modelArn"])
