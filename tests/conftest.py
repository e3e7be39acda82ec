"""Shared fixtures. The default estate is synthesized once per test session and shared."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def cdk_context() -> dict[str, Any]:
    """The context `cdk synth` runs with: cdk.json's feature flags, no version metadata."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return {**context, "aws:cdk:version-reporting": False}


@dataclass(frozen=True)
class SynthesizedStack:
    stage: str  # "" for top-level stacks (the delivery pipeline and CDK's support stacks)
    stack_id: str  # e.g. "dev/Foundation", "Delivery"
    stack_name: str
    template: dict[str, Any]
    region: str


@dataclass(frozen=True)
class SynthesizedEstate:
    spec: Any
    directory: Path
    stacks: list[SynthesizedStack]

    def stack(self, stack_id: str) -> SynthesizedStack:
        return next(s for s in self.stacks if s.stack_id == stack_id)


def synthesize(spec: Any, outdir: Path, base_dir: Path = ROOT) -> SynthesizedEstate:
    """Build and synthesize an estate the way app.py does (nag packs included), in-process."""
    import aws_cdk as cdk

    from stacks.estate import build_estate

    app = cdk.App(context=cdk_context(), outdir=str(outdir))
    stages = build_estate(app, spec, base_dir=base_dir)
    assembly = app.synth()
    stacks = [
        SynthesizedStack("", artifact.hierarchical_id, artifact.stack_name, artifact.template, artifact.environment.region)
        for artifact in assembly.stacks
    ]
    for stage in stages:
        nested = assembly.get_nested_assembly(f"assembly-{stage.stage_name}")
        for artifact in nested.stacks:
            stacks.append(
                SynthesizedStack(stage.stage_name, artifact.hierarchical_id, artifact.stack_name, artifact.template, artifact.environment.region)
            )
    return SynthesizedEstate(spec, Path(assembly.directory), stacks)


@pytest.fixture(scope="session")
def default_spec():
    from constructs_lib.spec import load_spec

    return load_spec(ROOT / "estate.yaml")


@pytest.fixture(scope="session")
def default_estate(default_spec, tmp_path_factory) -> SynthesizedEstate:
    return synthesize(default_spec, tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def foundation_templates(default_estate):
    """{stage name: Template} for every stage's foundation stack."""
    from aws_cdk.assertions import Template

    return {
        s.stage: Template.from_json(s.template) for s in default_estate.stacks if s.stack_id.endswith("/Foundation")
    }


PROMOTION_DIR = ROOT / "tests" / "fixtures" / "promotion"


@pytest.fixture(scope="session")
def promotion_spec():
    """The estate shape before issue 11 on a model Bedrock can still share (see the file's comment)."""
    from constructs_lib.spec import load_spec

    return load_spec(PROMOTION_DIR / "estate.yaml")


@pytest.fixture(scope="session")
def promotion_estate(promotion_spec, tmp_path_factory) -> SynthesizedEstate:
    """Promotion and provisioned throughput, which the default estate no longer uses."""
    return synthesize(promotion_spec, tmp_path_factory.mktemp("promotion.out"), base_dir=PROMOTION_DIR)


VARIANT_SPEC = """\
name: variant-estate
removal: destroy
invocationLogging:
  cloudWatch: false
  adoptExisting: true
  dataDelivery: {text: true, image: true}
stages:
  sandbox:
    account: "333333333333"
    region: eu-west-1
"""


@pytest.fixture(scope="session")
def variant_estate(tmp_path_factory) -> SynthesizedEstate:
    """A second estate exercising the non-default choices: destroy, S3-only logging, adoption."""
    from constructs_lib.spec import parse_spec

    return synthesize(parse_spec(VARIANT_SPEC, source="variant.yaml"), tmp_path_factory.mktemp("variant.out"))


PERMISSIONS_SPEC = """\
name: perm-estate
datasets:
  shared-train: {s3Uri: "s3://shared-datasets/nova/train.jsonl", kmsKeyArn: "arn:aws:kms:us-east-1:444444444444:key/abcd-1234"}
  prompts: {path: prompts.jsonl}
stages:
  lab:
    account: "444444444444"
    region: us-east-1
    jobs:
      nova-tuned:
        type: FINE_TUNING
        baseModel: amazon.nova-micro-v1:0:128k
        trainingData: {dataset: shared-train}
        hyperparameters: {epochCount: 3, learningRate: 0.00002}
        vpc: {subnetIds: [subnet-0a1b2c3d], securityGroupIds: [sg-0a1b2c3d]}
        removal: destroy
      profile-distilled:
        type: DISTILLATION
        baseModel: amazon.nova-lite-v1:0:300k
        teacher: {model: us.amazon.nova-pro-v1:0, maxResponseLength: 2000}
        trainingData: {dataset: prompts}
    serving:
      nova-tuned:
        model: {job: nova-tuned}
        onDemand: {description: the VPC-trained Nova Micro}
"""


@pytest.fixture(scope="session")
def permissions_estate(tmp_path_factory) -> SynthesizedEstate:
    """The permission tests' variant: S3 datasets with their own key, a VPC job, a teacher
    inference profile, on-demand serving (the default covers promotion and provisioned throughput)."""
    from constructs_lib.spec import parse_spec

    base = tmp_path_factory.mktemp("permissions")
    prompt = {"schemaVersion": "bedrock-conversation-2024", "messages": [{"role": "user", "content": [{"text": "Summarize: the disk is full."}]}]}
    (base / "prompts.jsonl").write_text("\n".join(json.dumps(prompt) for _ in range(5)) + "\n")
    return synthesize(parse_spec(PERMISSIONS_SPEC, source="permissions.yaml", base_dir=base), base / "cdk.out", base_dir=base)
