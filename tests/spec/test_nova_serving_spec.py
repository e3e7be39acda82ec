"""Serving an Amazon Nova model trained in SageMaker AI by its sagemakerNova entry: what the spec
checks, and what the serving checks and costs know of the model (its base model)."""

from __future__ import annotations

from constructs_lib.spec import parse_spec
from constructs_lib.spec.checks import lifecycle_findings

from .support import problems

LITE, MICRO = "amazon.nova-lite-v1:0:300k", "amazon.nova-micro-v1:0:128k"


def spec_text(serving: str, prices: str = "") -> str:
    return (
        f'name: acme-estate\n{prices}stages:\n  dev:\n    account: "111111111111"\n    region: us-east-1\n'
        "    sagemakerNova:\n"
        f"      support-nova:\n        baseModel: {LITE}\n"
        '        source: {modelPackageArn: "arn:aws:sagemaker:us-east-1:111111111111:model-package/support-nova/3"}\n'
        f"      escrow-nova:\n        baseModel: {MICRO}\n"
        '        source: {modelPackageArn: "arn:aws:sagemaker:us-east-1:111111111111:model-package/escrow-nova/1"}\n'
        f"    serving:\n{serving}"
    )


ON_DEMAND = "      chat:\n        model: {sagemakerNova: support-nova}\n        onDemand: {}\n"
PROVISIONED = "      batch:\n        model: {sagemakerNova: escrow-nova}\n        provisioned: {modelUnits: 1}\n"


def test_a_nova_model_is_served_by_its_entry_with_its_base_model_known():
    spec = parse_spec(spec_text(ON_DEMAND + PROVISIONED), source="estate.yaml")
    serving = spec.stage("dev").serving
    assert serving["chat"].model.sagemaker_nova == "support-nova" and serving["chat"].on_demand is not None
    assert serving["batch"].model.sagemaker_nova == "escrow-nova" and serving["batch"].provisioned is not None
    # What the on-demand check, the commitment guard, the plan and the gate's baselines read.
    assert spec.served_base_model("dev", serving["chat"]) == LITE
    assert spec.served_base_model("dev", serving["batch"]) == MICRO


def test_an_entry_naming_no_nova_model_of_the_stage_is_refused_with_the_ones_declared():
    [message] = problems(spec_text(ON_DEMAND.replace("support-nova}", "suport-nova}")))
    assert (
        "stages.dev.serving.chat.model.sagemakerNova: no sagemakerNova model named 'suport-nova' in this stage; "
        "sagemakerNova models: support-nova, escrow-nova" in message
    )


def test_a_nova_model_and_another_source_at_once_is_refused():
    [message] = problems(
        spec_text(ON_DEMAND.replace("{sagemakerNova: support-nova}", "{sagemakerNova: support-nova, job: x}"))
    )
    assert (
        "stages.dev.serving.chat.model: give exactly one of job (a job of this stage), promotion (a model promoted "
        "into this stage), sagemakerNova (a Nova model of this stage's sagemakerNova) or arn (an existing custom model)"
        in message
    )


def test_a_commitment_on_a_nova_model_is_priced_by_its_base_model():
    committed = PROVISIONED.replace("{modelUnits: 1}", "{modelUnits: 1, commitment: OneMonth}")
    [message] = problems(spec_text(committed))
    # The guard knows the base model, so it asks for its price (not "the spec does not know the base model").
    assert f"prices: {{{MICRO}: {{OneMonth: <USD>}}}}" in message
    priced = problems(spec_text(committed, prices=f"prices:\n  {MICRO}: {{OneMonth: 10}}\n"))
    assert any("costs $7,300.00 per month" in m for m in priced), priced


def test_a_legacy_base_model_of_a_served_nova_model_is_a_warning_at_the_serving_entry(monkeypatch):
    from estate_runtime.catalog import Catalog

    def lifecycle_problem(self, model_id, region, what, on=None):
        return ("warning", f"{model_id} is Legacy in {region}: {what} may be refused") if model_id == MICRO else None

    monkeypatch.setattr(Catalog, "lifecycle_problem", lifecycle_problem)
    spec = parse_spec(spec_text(ON_DEMAND + PROVISIONED), source="estate.yaml")
    found = [(kind, p.loc, p.detail) for kind, p in lifecycle_findings(spec) if p.loc[2] == "serving"]
    assert found == [
        (
            "warning",
            ("stages", "dev", "serving", "batch", "model"),
            f"{MICRO} is Legacy in us-east-1: Provisioned Throughput for its custom models may be refused",
        )
    ]
