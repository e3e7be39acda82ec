"""Lifecycle simulation of the permissions fixture's Nova models trained in SageMaker AI, from its
synthesized templates: a model package (removal destroy) and an S3 prefix read as a given role
(retained) are created, retagged in place and removed as their removal says. Every request is
judged by the permission proof against the lab's own policies (tests/gates/proof.py), and
``make mutate`` replays this file (it runs the ``test_*_lifecycle.py`` simulations)."""

from __future__ import annotations

from estate_runtime.kinds import nova_custom_model

from .cfn_sim import Template
from .edits import retagged, synth_stage
from .fake_bedrock import FakeBedrock
from .provider_sim import Provider

KIND = nova_custom_model.KIND


# -- from the synthesized template: the permission proof judges every request ------------------------------
def test_the_labs_nova_models_are_made_retagged_and_removed(permissions_estate, tmp_path):
    """The permissions fixture's lab stage declares a model package (removal destroy) and an S3 prefix
    read as a given role (retained): each is created, retagged in place and removed as its removal says."""
    stack = permissions_estate.stack("lab/Customization")
    found = Template(stack.template, stack_name=stack.stack_name).custom_resources(KIND.type_name)
    templates = synth_stage("permissions_estate", permissions_estate, "lab", tmp_path / "tags", retagged("lab"))
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
