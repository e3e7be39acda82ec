"""The kinds: one definition of each custom resource (type, handler, waits, operations, properties)
from which the registry, the handlers' declared operations and the conditional permissions derive,
and whose properties survive the trip through a template and CloudFormation's string scalars."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

import pytest

from estate_runtime import kinds, permissions
from estate_runtime.entry import REGISTRY, load_handlers
from estate_runtime.errors import EstateError
from estate_runtime.kinds import JobNameParts, Kind, Properties, When
from estate_runtime.kinds.customization_job import CustomizationJobProperties
from estate_runtime.kinds.model_copy import CopySource, ModelCopyProperties
from estate_runtime.kinds.provisioned_throughput import ProvisionedThroughputProperties
from estate_runtime.kinds.serving_common import ServedModelSource

from .cfn_sim import delivered

PARTS = JobNameParts(readable="bedrock-estate-dev-summarizer", digest="b3e79f5f57c8af0f")
TAGS = [{"key": "bedrock-estate", "value": "dev"}]
SAMPLES: dict[str, Properties] = {
    kinds.invocation_logging.KIND.type_name: kinds.invocation_logging.InvocationLoggingProperties(
        # Request shapes arrive as they are (the handler coerces them against the API's shape).
        logging_config={
            "textDataDeliveryEnabled": "true",
            "s3Config": {"bucketName": "logs", "keyPrefix": "invocation-logs"},
        },
        adopt_existing=True,
    ),
    kinds.customization_job.KIND.type_name: CustomizationJobProperties(
        job_name="bedrock-estate-dev-summarizer-b3e79f5f57",
        custom_model_name="bedrock-estate-dev-summarizer-b3e79f5f57",
        name_parts=PARTS,
        role_arn="arn:aws:iam::111111111111:role/customization",
        base_model_identifier="amazon.nova-micro-v1:0:128k",
        customization_type="FINE_TUNING",
        training_data_config={"s3Uri": "s3://training/datasets/x.jsonl"},
        output_data_config={"s3Uri": "s3://output/jobs/"},
        job_tags=TAGS,
        custom_model_tags=TAGS,
        hyper_parameters={"epochCount": "2"},
        preflight=[
            kinds.customization_job.PreflightCheck(
                s3_uri="s3://training/x.jsonl", format="bedrock-conversation-2024", min_records=8
            )
        ],
    ),
    kinds.dataset.KIND.type_name: kinds.dataset.DatasetProperties(
        source_bucket="assets",
        source_key="abc.jsonl",
        target_bucket="training",
        target_key="datasets/x/abc.jsonl",
        sha256="abc",
        removal="destroy",
    ),
    kinds.provisioned_throughput.KIND.type_name: ProvisionedThroughputProperties(
        name="pt-1",
        client_request_token="pt-1",
        model=ServedModelSource(job_name_parts=PARTS),
        tags=TAGS,
        model_units=2,
        commitment_duration="OneMonth",
        release_commitment=False,
    ),
    kinds.custom_model_deployment.KIND.type_name: kinds.custom_model_deployment.CustomModelDeploymentProperties(
        name="od-1",
        client_request_token="od-1",
        model=ServedModelSource(model_arn="arn:aws:bedrock:us-west-2:111111111111:custom-model/x"),
        tags=TAGS,
        description="served",
    ),
    kinds.model_share.KIND.type_name: kinds.model_share.ModelShareProperties(
        name="bedrock-estate-dev-share",
        model=kinds.model_share.SharedJobModel(job_name_parts=PARTS),
        principals=["222222222222"],
        tags=TAGS,
    ),
    kinds.model_copy.KIND.type_name: ModelCopyProperties(
        name="copy-1",
        source=CopySource(stage="dev", account="111111111111", region="us-west-2", job_name_parts=PARTS),
        kms_key_id="arn:aws:kms:us-east-1:222222222222:key/k",
        tags=TAGS,
    ),
    kinds.imported_model.KIND.type_name: kinds.imported_model.ImportedModelProperties(
        name_parts=PARTS,
        weights_s3_uri="s3://model-weights/support-llama/v3/",
        role_arn="arn:aws:iam::111111111111:role/model-import",
        tags=TAGS,
        removal="destroy",
        vpc_config={"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"]},
    ),
    kinds.open_weight_rft.KIND.type_name: kinds.open_weight_rft.OpenWeightFineTuningProperties(
        name_parts=PARTS,
        base_model="openai.gpt-oss-20b",
        training_data_s3_uri="s3://estate-dev-datasets/datasets/math/v1/train.jsonl",
        grader_function_arn="arn:aws:lambda:us-west-2:111111111111:function:estate-dev-math-grader",
        hyperparameters=kinds.open_weight_rft.Hyperparameters(n_epochs=1, batch_size=4, learning_rate_multiplier=0.5),
    ),
    kinds.nova_custom_model.KIND.type_name: kinds.nova_custom_model.NovaCustomModelProperties(
        name_parts=PARTS,
        base_model="amazon.nova-lite-v1:0:300k",
        tags=TAGS,
        s3_uri="s3://customer-escrow-111111111111-smtj-abcd/support-nova/",
        role_arn="arn:aws:iam::111111111111:role/nova-artifacts",
        removal="destroy",
        kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
}


def test_every_kind_has_a_sample_and_a_handler_of_its_own():
    assert set(SAMPLES) == set(kinds.BY_TYPE) == set(REGISTRY)
    assert len(kinds.BY_TYPE) == len(kinds.ALL)  # no two kinds share a type name
    for resource_type, handler in load_handlers(sorted(REGISTRY)).items():
        kind = kinds.BY_TYPE[resource_type]
        assert handler.kind is kind and handler.resource_type == resource_type
        assert handler.required_operations == kind.operations


@pytest.mark.parametrize("resource_type", sorted(SAMPLES))
def test_properties_survive_the_template_and_cloudformations_strings(resource_type):
    sample = SAMPLES[resource_type]
    kind = kinds.BY_TYPE[resource_type]
    raw = delivered(sample.to_cfn())  # what the handler receives: every scalar a string
    assert kind.parse({"ServiceToken": "arn:aws:lambda:x", **raw}) == sample
    assert set(sample.to_cfn()) <= set(kind.properties.cfn_keys())


def test_the_serializer_leaves_out_what_is_not_set_and_writes_the_kinds_waits():
    throughput = ProvisionedThroughputProperties(
        name="pt-1", client_request_token="pt-1", model=ServedModelSource(job_name_parts=PARTS), model_units=1
    )
    assert throughput.to_cfn() == {
        "Name": "pt-1",
        "ClientRequestToken": "pt-1",
        "Model": {"JobNameParts": {"Readable": PARTS.readable, "Digest": PARTS.digest}},
        "ModelWaitSeconds": 1200,
        "ServeWaitSeconds": 3300,
        "ModelUnits": 1,
    }


def test_scalars_are_coerced_once_with_the_property_named_on_a_bad_value():
    parsed = kinds.provisioned_throughput.KIND.parse(
        delivered(SAMPLES[kinds.provisioned_throughput.KIND.type_name].to_cfn())
    )
    assert parsed.model_units == 2 and parsed.release_commitment is False and parsed.serve_wait_seconds == 3300
    bad = {**delivered(SAMPLES[kinds.provisioned_throughput.KIND.type_name].to_cfn()), "ModelUnits": "two"}
    with pytest.raises(
        EstateError, match="Custom::BedrockProvisionedThroughput: property ModelUnits must be a whole number, got 'two'"
    ):
        kinds.provisioned_throughput.KIND.parse(bad)
    with pytest.raises(EstateError, match="property Source.JobNameParts.Digest is required"):
        kinds.model_copy.KIND.parse(
            {
                "Name": "c",
                "KmsKeyId": "k",
                "Source": {"Stage": "dev", "Account": "1", "Region": "r", "JobNameParts": {"Readable": "x"}},
            }
        )
    with pytest.raises(EstateError, match="property ReleaseCommitment: expected true or false"):
        kinds.provisioned_throughput.KIND.parse({**bad, "ModelUnits": "1", "ReleaseCommitment": "yes"})


def test_conditional_calls_and_dependent_permissions_come_from_the_kinds():
    assert permissions.ONLY_WHEN == {
        ("Custom::BedrockEstateDataset", "s3", "delete_object"): ("Removal", "destroy"),
        ("Custom::BedrockCustomizationJob", "s3", "get_object"): ("Preflight", None),
        ("Custom::BedrockImportedModel", "bedrock", "delete_imported_model"): ("Removal", "destroy"),
        ("Custom::BedrockNovaCustomModel", "bedrock", "delete_custom_model"): ("Removal", "destroy"),
        ("Custom::BedrockProvisionedThroughput", "bedrock", "list_tags_for_resource"): ("Adopt", None),
        ("Custom::BedrockCustomModelDeployment", "bedrock", "list_tags_for_resource"): ("Adopt", None),
        ("Custom::BedrockProvisionedThroughput", "bedrock", "create_provisioned_model_throughput"): (
            "Adopt",
            "<absent>",
        ),
        ("Custom::BedrockCustomModelDeployment", "bedrock", "create_custom_model_deployment"): ("Adopt", "<absent>"),
        # A job entry that adopts a custom model reads it and its tags, and trains, stops or lists no job.
        ("Custom::BedrockCustomizationJob", "bedrock", "get_custom_model"): ("Adopt", None),
        ("Custom::BedrockCustomizationJob", "bedrock", "list_tags_for_resource"): ("Adopt", None),
        **{
            ("Custom::BedrockCustomizationJob", "bedrock", operation): ("Adopt", "<absent>")
            for operation in (
                "create_model_customization_job",
                "get_model_customization_job",
                "stop_model_customization_job",
                "list_model_customization_jobs",
            )
        },
        # Only adopting invocation logging saves, and deletes, the configuration it replaced.
        ("Custom::BedrockInvocationLogging", "ssm", "put_parameter"): ("AdoptExisting", "true"),
        ("Custom::BedrockInvocationLogging", "ssm", "delete_parameter"): ("AdoptExisting", "true"),
        # Every kind that adopts reads its own stack's status before deleting what it adopted.
        **{
            (kind, "cloudformation", "describe_stacks"): ("Adopt", None)
            for kind in (
                "Custom::BedrockCustomizationJob",
                "Custom::BedrockProvisionedThroughput",
                "Custom::BedrockCustomModelDeployment",
            )
        },
    }
    job = kinds.customization_job.KIND
    assert job.iam_actions()[("bedrock", "create_model_customization_job")] == ("bedrock:CreateModelCustomizationJob",)
    assert kinds.dataset.KIND.iam_actions()[("s3", "copy_object")] == ("s3:GetObject", "s3:PutObject")
    rows = {(row.operation, row.on, row.key) for row in job.dependent_permissions()}
    assert rows == {
        ("bedrock:CreateModelCustomizationJob", "passed-role", None),
        ("bedrock:CreateModelCustomizationJob", "created", None),
        ("bedrock:CreateModelCustomizationJob", "key", "custom-model"),
        ("s3:GetObject", "key", "dataset"),  # the pre-flight read of a dataset under a customer managed key
    }
    # The dataset writes objects into an encrypted bucket: the data key, through its copy's target.
    assert ("s3:PutObject", "data") in [(r.operation, r.key) for r in kinds.dataset.KIND.dependent_permissions()]


def test_every_kind_folder_is_in_the_registry():
    """A kind folder whose contract defines ``KIND`` and is missing from ``kinds.FOLDERS`` would have
    a construct and no handler behind it: the registry names every one (``serving_common`` holds
    what two kinds share and is no kind)."""
    folders = Path(kinds.__file__).parent
    defined = sorted(path.parent.name for path in folders.glob("*/contract.py") if "\nKIND = Kind(" in path.read_text())
    assert sorted(kinds.FOLDERS) == defined
    assert [kind.type_name for kind in kinds.ALL] == [
        importlib.import_module(f"estate_runtime.kinds.{folder}").KIND.type_name for folder in kinds.FOLDERS
    ]


def test_each_kind_declares_the_dependent_permissions_of_its_own_calls_only():
    """A kind owns the rows of the operations it calls, so a new kind adds its rows in its own
    contract and nothing in ``permissions``; a row for an operation the kind never calls would be
    a grant without a caller."""
    for kind in kinds.ALL:
        own = {action for group in kind.iam_actions().values() for action in group}
        strays = [row.operation for row in kind.permissions_beyond_actions if row.operation not in own]
        assert strays == [], f"{kind.type_name} declares rows for calls it does not make: {strays}"
    gathered = [row for kind in kinds.ALL for row in kind.permissions_beyond_actions]
    assert list(permissions.DEPENDENT_PERMISSIONS) == gathered


def test_a_kind_refuses_waits_beyond_the_provider_and_conditions_on_unknown_calls():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Slow(Properties):
        wait_seconds: int = kinds.base.prop("WaitSeconds", kinds.PROVIDER_TOTAL_TIMEOUT_SECONDS + 1)

    with pytest.raises(ValueError, match="within the provider's 3600 s"):
        Kind(
            type_name="Custom::Slow",
            handler=".x:Y",
            properties=Slow,
            operations={},
            waits=("wait_seconds",),
        )
    with pytest.raises(ValueError, match="conditional s3:get_object"):
        Kind(
            type_name="Custom::Odd",
            handler=".x:Y",
            properties=Slow,
            operations={},
            conditional={("s3", "get_object"): When("wait_seconds")},
        )


def test_a_kinds_attributes_are_one_definition_for_the_answer_and_the_getters():
    from estate_runtime.kinds.customization_job import CustomizationJobAttributes

    answer = CustomizationJobAttributes(job_arn="arn:job", job_name="j", custom_model_name="m")
    # What the handler answers is keyed by the names the constructs read; unknown values are left out.
    assert answer.to_data() == {"JobArn": "arn:job", "JobName": "j", "CustomModelName": "m"}
    assert CustomizationJobAttributes.key("job_arn") == "JobArn"
    with pytest.raises(AttributeError, match="no attribute 'job_id'; it has job_arn"):
        CustomizationJobAttributes.key("job_id")


def test_an_answer_outside_the_kinds_attributes_fails_the_request_readably():
    from estate_runtime.core import Dispatcher, Outcome, ResourceHandler
    from estate_runtime.kinds import dataset

    from .support import Context, event

    class Stray(ResourceHandler):
        kind = dataset.KIND

        def create(self, request):
            return Outcome("s3://b/k", {"S3Url": "s3://b/k"})  # a misspelt attribute

    dispatcher = Dispatcher({dataset.KIND.type_name: Stray}, aws_factory=lambda region, deadline: _NoAws())
    with pytest.raises(EstateError, match="answered attributes outside DatasetAttributes"):
        dispatcher.on_event(event("Create", dataset.KIND.type_name, {}), Context())


class _NoAws:
    deadline = None

    def require(self, service, *operations):
        pass
