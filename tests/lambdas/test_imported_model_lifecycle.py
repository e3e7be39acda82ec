"""Lifecycle simulation of a model import, from the permissions fixture's synthesized templates
(its lab stage imports a Llama folder, removal destroy): the pre-flight reads the folder, the
import completes, tags change in place on the job and the model, and the model is deleted with the
stack. Every request is judged by the permission proof against the lab's own policies, the import
role's included (tests/gates/proof.py)."""

from __future__ import annotations

import json

from estate_runtime.kinds import imported_model

from .cfn_sim import Template
from .edits import retagged, synth_stage
from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider

KIND = imported_model.KIND.type_name
LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "max_position_embeddings": 131072}
FILES = ("tokenizer_config.json", "tokenizer.json", "model-00001-of-00001.safetensors")


def the_import(templates: dict, stack_name: str) -> tuple[str, dict]:
    [(logical_id, props)] = Template(templates["Customization"], stack_name=stack_name).custom_resources(KIND).items()
    return logical_id, props


def test_an_import_is_checked_made_retagged_and_removed(permissions_estate):
    stack = permissions_estate.stack("lab/Customization")
    logical_id, props = the_import({"Customization": stack.template}, stack.stack_name)
    bedrock, s3 = FakeBedrock(), FakeS3()
    bucket, _, folder = props["WeightsS3Uri"].removeprefix("s3://").partition("/")
    s3.objects[(bucket, f"{folder}config.json")] = json.dumps(LLAMA).encode()
    for name in FILES:
        s3.objects[(bucket, f"{folder}{name}")] = f"{name} v1".encode()
    resource = Provider({"bedrock": bedrock, "s3": s3}, [imported_model.KIND]).resource(KIND, logical_id, props)

    created = resource.deploy("Create", between=lambda poll: poll > 1 and bedrock.finish_imports(), max_polls=4)
    assert created.complete and created.physical_id in bedrock.imported_models
    model_arn = bedrock.imported_models[created.physical_id]["modelArn"]
    assert bedrock.tags[model_arn]["cost-center"] == "42"

    # Tags alone change in place, on the import job and on the model.
    templates = synth_stage("permissions_estate", permissions_estate, "lab", retagged("lab"))
    _, tagged = the_import(templates, stack.stack_name)
    assert tagged["NameParts"] == props["NameParts"] and tagged["Tags"] != props["Tags"]
    updated = resource.deploy(
        "Update", tagged, PhysicalResourceId=created.physical_id, OldResourceProperties=props, max_polls=2
    )
    assert updated.complete and updated.physical_id == created.physical_id
    job_arn = bedrock.import_jobs[created.physical_id]["jobArn"]
    for arn in (model_arn, job_arn):
        assert bedrock.tags[arn]["team"] == "search" and "cost-center" not in bedrock.tags[arn]

    # The stack is deleted: removal destroy deletes the model.
    deleted = resource.deploy("Delete", tagged, PhysicalResourceId=created.physical_id, max_polls=2)
    assert deleted.complete and bedrock.imported_models == {}
