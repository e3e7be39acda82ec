"""Lifecycle simulation of the permissions fixture's Nova models trained in SageMaker AI, from its
synthesized templates: a model package (removal destroy) and an S3 prefix read as a given role
(retained) are created, retagged in place and removed as their removal says. Every request is
judged by the permission proof against the lab's own policies (tests/gates/proof.py), and
``make mutate`` replays this file (it runs the ``test_*_lifecycle.py`` simulations). The lab's
serving stack serves both by name (one on demand, one with provisioned throughput)."""

from __future__ import annotations

from estate_runtime.kinds import custom_model_deployment, nova_custom_model, provisioned_throughput

from .cfn_sim import Template
from .edits import retagged, synth_stage
from .fake_bedrock import FakeBedrock
from .provider_sim import Provider

KIND = nova_custom_model.KIND


# -- from the synthesized template: the permission proof judges every request ------------------------------
def test_the_labs_nova_models_are_made_retagged_and_removed(permissions_estate):
    """The permissions fixture's lab stage declares a model package (removal destroy) and an S3 prefix
    read as a given role (retained): each is created, retagged in place and removed as its removal says."""
    stack = permissions_estate.stack("lab/Customization")
    found = Template(stack.template, stack_name=stack.stack_name).custom_resources(KIND.type_name)
    templates = synth_stage("permissions_estate", permissions_estate, "lab", retagged("lab"))
    tagged = Template(templates["Customization"], stack_name=stack.stack_name).custom_resources(KIND.type_name)
    bedrock = FakeBedrock()
    assert len(found) == 2
    for logical_id, props in found.items():
        resource = Provider({"bedrock": bedrock}, [KIND]).resource(KIND.type_name, logical_id, props)
        base = props["BaseModel"].rsplit(":", 1)[0]
        made = resource.deploy(
            "Create", between=lambda n, b=base: n > 1 and bedrock.finish_custom_models(base_model=b), max_polls=4
        )
        assert made.complete and made.physical_id in bedrock.models
        arn = bedrock.models[made.physical_id]["modelArn"]
        assert "bedrock-estate" in bedrock.tags[arn]
        new = tagged[logical_id]
        assert new["NameParts"] == props["NameParts"] and new["Tags"] != props["Tags"]
        updated = resource.deploy(
            "Update", new, PhysicalResourceId=made.physical_id, OldResourceProperties=props, max_polls=2
        )
        assert updated.physical_id == made.physical_id and bedrock.tags[arn]["team"] == "search"
        removed = resource.deploy("Delete", new, PhysicalResourceId=made.physical_id, max_polls=2)
        assert removed.complete
        assert (made.physical_id in bedrock.models) == (props.get("Removal", "retain") == "retain")


# -- served by name from the serving stack ----------------------------------------------------------------
def nova_version(doc: dict) -> None:
    """The next model package version of the lab's model package entry, and a later step's prefix of
    its S3 one: a new model of each, under new names."""
    models = doc["stages"]["lab"]["sagemakerNova"]
    source = models["support-nova"]["source"]
    source["modelPackageArn"] = source["modelPackageArn"].replace("/3", "/4")
    models["escrow-nova"]["source"]["s3Uri"] = models["escrow-nova"]["source"]["s3Uri"].replace(
        "step_1000", "step_2000"
    )


def test_the_labs_nova_models_are_served_by_name_swapped_for_new_versions_and_released(permissions_estate, tmp_path):
    """The lab serves its two Nova models by their sagemakerNova entries (one on demand, one with
    provisioned throughput): the serving stack's resources name each model by the names the
    customization stack gave it, wait for nothing Creating, serve it, swap in place to the model of
    a new version, and release the capacity when removed. The permission proof judges every request
    against the lab's serving policies."""
    customization = permissions_estate.stack("lab/Customization")
    serving = permissions_estate.stack("lab/Serving")
    bedrock = FakeBedrock()
    provider = Provider({"bedrock": bedrock}, [KIND, custom_model_deployment.KIND, provisioned_throughput.KIND])

    def create_models(template: dict) -> dict[str, str]:
        """The Nova models of a customization template, created and Active: {readable name: model ARN}."""
        made = {}
        for logical_id, props in (
            Template(template, stack_name=customization.stack_name).custom_resources(KIND.type_name).items()
        ):
            base = props["BaseModel"].rsplit(":", 1)[0]  # as Bedrock may report it
            model = provider.deploy(
                "Create",
                KIND.type_name,
                props,
                logical_id=logical_id,
                between=lambda n, b=base: n > 1 and bedrock.finish_custom_models(base_model=b),
                max_polls=4,
            )
            made[props["NameParts"]["Readable"]] = bedrock.models[model.physical_id]["modelArn"]
        return made

    def served(template: dict) -> list[tuple[str, str, dict]]:
        sim = Template(template, stack_name=serving.stack_name)
        return [
            (kind, logical_id, props)
            for kind in (custom_model_deployment.KIND.type_name, provisioned_throughput.KIND.type_name)
            for logical_id, props in sim.custom_resources(kind).items()
            if "CustomModelNameParts" in props["Model"]
        ]

    def until_done(request_type: str, kind: str, logical_id: str, props: dict, **extra) -> dict:
        result = provider.deploy(
            request_type, kind, props, logical_id=logical_id, between=lambda n: bedrock.settle(), **extra
        )
        assert result.complete, result.polls[-1]
        return result.polls[-1]

    models = create_models(customization.template)
    entries = served(serving.template)
    assert sorted(kind for kind, _, _ in entries) == [
        custom_model_deployment.KIND.type_name,
        provisioned_throughput.KIND.type_name,
    ]
    for kind, logical_id, props in entries:
        done = until_done("Create", kind, logical_id, props)
        assert done["Data"]["ModelArn"] == models[props["Model"]["CustomModelNameParts"]["Readable"]]
    assert len(bedrock.deployments) == 1 and len(bedrock.throughputs) == 1

    # New versions of both models, and new tags: the customization stack creates new models, and the
    # serving entries (same names, new model names) swap them in place and retag in place.
    edited = synth_stage(
        "permissions_estate",
        permissions_estate,
        "lab",
        lambda doc: (nova_version(doc), retagged("lab")(doc)),
    )
    new_models = create_models(edited["Customization"])
    assert set(new_models.values()).isdisjoint(models.values())
    for (kind, logical_id, old), (_, _, new) in zip(entries, served(edited["Serving"]), strict=True):
        assert new["Name"] == old["Name"] and new["Model"] != old["Model"]
        until_done("Update", kind, logical_id, new, PhysicalResourceId=old["Name"], OldResourceProperties=old)
    assert {d["modelArn"] for d in bedrock.deployments.values()} | {
        t["modelArn"] for t in bedrock.throughputs.values()
    } == set(new_models.values())
    for arn in [d["customModelDeploymentArn"] for d in bedrock.deployments.values()] + [
        t["provisionedModelArn"] for t in bedrock.throughputs.values()
    ]:
        assert bedrock.tags[arn]["team"] == "search" and "cost-center" not in bedrock.tags[arn]

    # Removed: nothing left serving, nothing billing.
    for kind, logical_id, props in served(edited["Serving"]):
        until_done("Delete", kind, logical_id, props, PhysicalResourceId=props["Name"])
    assert bedrock.deployments == {} and bedrock.billing() == []
