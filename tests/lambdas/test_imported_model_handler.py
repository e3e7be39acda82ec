"""Custom::BedrockImportedModel through the provider simulator (and, for create and delete, the
provider framework's real code), against stateful Bedrock and S3 fakes whose every request and
answer botocore's service model validates: the pre-flight of the weights folder, the import's
lifecycle, and the faults the other kinds survive (throttling, a lost answer, rollback)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds import imported_model
from estate_runtime.naming import content_hash

from .fake_bedrock import FakeBedrock
from .fake_s3 import FakeS3
from .provider_sim import Provider, Resource
from .real_framework import Deployment, RealFramework, extract_runtime
from .support import ACCOUNT, event

KIND = imported_model.KIND
BUCKET = "model-weights"
FOLDER = "support-llama/v3/"
URI = f"s3://{BUCKET}/{FOLDER}"
OWNER = {"key": "bedrock-estate", "value": "bedrock-estate-dev"}
# As CloudFormation delivers them: every scalar a string.
PROPS = {
    "NameParts": {"Readable": "bedrock-estate-dev-support-llama", "Digest": content_hash({"import": "support-llama"})},
    "WeightsS3Uri": URI,
    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/bedrock-estate-dev-model-import",
    "Tags": [OWNER, {"key": "team", "value": "support"}],
    "Removal": "retain",
    "ImportWaitSeconds": "3300",
    "KmsKeyId": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}
LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "max_position_embeddings": 131072}
FILES = (
    "tokenizer_config.json",
    "tokenizer.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
)


def model_folder(s3: FakeS3, config: dict | None = None, files=FILES, folder: str = FOLDER) -> None:
    """A Hugging Face model folder: config.json and ``files`` (each with some bytes)."""
    s3.objects[(BUCKET, f"{folder}config.json")] = json.dumps(config or LLAMA).encode()
    for name in files:
        s3.objects[(BUCKET, f"{folder}{name}")] = f"{folder}{name} v1".encode()


@pytest.fixture
def s3() -> FakeS3:
    store = FakeS3()
    model_folder(store)
    return store


@pytest.fixture
def harness(fake, s3) -> Resource:
    return Provider({"bedrock": fake, "s3": s3}).resource(KIND.type_name, "ImportSupportLlama", PROPS)


def imported(fake: FakeBedrock) -> str:
    """The name of the one import the fake has seen."""
    [name] = fake.import_jobs
    return name


def deploy(harness: Resource, fake: FakeBedrock, request_type: str = "Create", props=None, **extra):
    """One request through the simulated framework, Bedrock finishing the import after the first poll."""
    return harness.deploy(request_type, props, between=lambda n: n > 1 and fake.finish_imports(), max_polls=4, **extra)


# -- the pre-flight: nothing is imported from a folder the guide would refuse -------------------------
def test_create_imports_the_folder_with_the_owner_tag_on_the_job_and_the_model(harness, fake, s3):
    done = deploy(harness, fake)
    name = imported(fake)
    request = fake.import_jobs[name]["request"]
    assert done.complete and done.physical_id == name
    assert request["modelDataSource"] == {"s3DataSource": {"s3Uri": URI}}
    assert request["importedModelName"] == name and request["roleArn"] == PROPS["RoleArn"]
    assert request["importedModelKmsKeyId"] == PROPS["KmsKeyId"]
    assert request["clientRequestToken"].startswith(f"{PROPS['NameParts']['Readable']}-")
    model = fake.imported_models[name]
    assert fake.tags[model["modelArn"]]["bedrock-estate"] == "bedrock-estate-dev"
    assert fake.tags[fake.import_jobs[name]["jobArn"]]["bedrock-estate"] == "bedrock-estate-dev"
    # Every attribute of the model, as CloudFormation's strings: the pricing basis among them.
    assert done.data == {
        "ModelArn": model["modelArn"],
        "ModelName": name,
        "JobArn": fake.import_jobs[name]["jobArn"],
        "ModelArchitecture": "LlamaForCausalLM",
        # The pre-flight's catalog match, which bench and gate choose the request format by.
        "ArchitectureClass": "LlamaForCausalLM",
        "InstructSupported": "true",
        "CustomModelUnitsPerModelCopy": "2",
        "CustomModelUnitsVersion": "v1.0",
        "WeightsDigest": folder_digest(s3),
    }


def folder_digest(s3: FakeS3, folder: str = FOLDER) -> str:
    """What the digest of a folder must be, written out here from its definition (docs/import.md,
    "Promoting an import"): SHA-256 of one line per file, sorted by path in the folder, of the path,
    the size and the file's full-object checksum as S3's HeadObject answers it (the fake answers
    S3's default, a CRC64NVME of the content)."""
    lines = ""
    for (bucket, key), data in sorted(s3.objects.items()):
        if bucket == BUCKET and key.startswith(folder):
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            lines += f"{key[len(folder) :]}\t{len(data)}\tcrc64nvme:{head['ChecksumCRC64NVME']}\n"
    return "sha256:" + hashlib.sha256(lines.encode()).hexdigest()


def test_a_pinned_digest_imports_only_those_files_wherever_they_were_copied(harness, fake, s3):
    """The spec pins the weights (weights.digest, or the stage an import is promoted from): the same
    files copied to another folder import; a folder whose files differ is refused before anything
    is imported, naming both digests and the files."""
    pinned = folder_digest(s3)
    copy = "prod-copy/support-llama/v3/"
    for (bucket, key), data in list(s3.objects.items()):  # the same bytes, so the same checksums
        s3.objects[(bucket, copy + key.removeprefix(FOLDER))] = data
    assert folder_digest(s3, copy) == pinned
    props = {**PROPS, "WeightsS3Uri": f"s3://{BUCKET}/{copy}", "ExpectedWeightsDigest": pinned}
    done = deploy(harness, fake, props=props)
    assert done.complete and done.data["WeightsDigest"] == pinned
    s3.objects[(BUCKET, f"{copy}model-00002-of-00002.safetensors")] = b"another checkpoint"
    fake.import_jobs.clear()
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create", props)
    message = str(caught.value)
    assert f"their digest is {folder_digest(s3, copy)}, the spec requires {pinned}" in message
    assert (
        f"model-00002-of-00002.safetensors ({len(b'another checkpoint')} bytes, crc64nvme:" in message
        and "nothing was imported" in message
    )
    assert fake.import_jobs == {}


def test_a_file_without_a_full_object_checksum_is_identified_by_its_etag_and_the_message_says_how_to_fix_it(
    harness, fake, s3
):
    pinned = folder_digest(s3)
    # Uploaded before S3 added default checksums, or with a composite (multipart) one.
    s3.checksums[(BUCKET, f"{FOLDER}tokenizer.json")] = {"ChecksumCRC32": "AAAAAA==", "ChecksumType": "COMPOSITE"}
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create", {**PROPS, "ExpectedWeightsDigest": pinned})
    message = str(caught.value)
    data = s3.objects[(BUCKET, f"{FOLDER}tokenizer.json")]
    assert f"tokenizer.json ({len(data)} bytes, etag:{hashlib.md5(data).hexdigest()})" in message
    assert "upload it with --checksum-algorithm CRC64NVME" in message and fake.import_jobs == {}


def test_the_names_are_the_imports_content(harness, fake, s3):
    first = harness.on_event("Create")
    name = first["PhysicalResourceId"]
    assert name.startswith("bedrock-estate-dev-support-llama-") and len(name) <= 63
    # The same content, asked again: the same import (a retried or duplicated Create).
    assert harness.on_event("Create")["PhysicalResourceId"] == name and len(fake.import_jobs) == 1
    # A weights file replaced in place is other content: other names.
    s3.objects[(BUCKET, f"{FOLDER}model-00002-of-00002.safetensors")] = b"retrained"
    fake.finish_imports()
    assert harness.on_event("Create")["PhysicalResourceId"] != name


@pytest.mark.parametrize(
    ("removed", "named"),
    [
        (("config.json",), "config.json"),
        (("tokenizer_config.json",), "tokenizer_config.json"),
        (("tokenizer.json",), "a tokenizer (tokenizer.json or tokenizer.model)"),
        (("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), "the weights (*.safetensors)"),
    ],
)
def test_a_folder_missing_a_required_file_is_refused_naming_it(harness, fake, s3, removed, named):
    for name in removed:
        del s3.objects[(BUCKET, f"{FOLDER}{name}")]
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    message = str(caught.value)
    assert f"{URI} is not a model Custom Model Import can take: it lacks {named}" in message
    assert "model-customization-import-model.html" in message and "nothing was imported" in message
    assert fake.import_jobs == {}


def test_every_missing_file_is_named_at_once_and_a_tokenizer_model_will_do(harness, fake, s3):
    s3.objects.clear()
    model_folder(s3, files=("tokenizer.model",))
    del s3.objects[(BUCKET, f"{FOLDER}config.json")]
    with pytest.raises(
        EstateError,
        match=r"it lacks config.json; tokenizer_config.json; the weights \(\*.safetensors\) \(found: tokenizer.model\)",
    ):
        harness.on_event("Create")
    model_folder(s3, files=("tokenizer_config.json", "tokenizer.model", "model.safetensors"))
    assert harness.on_event("Create")["PhysicalResourceId"] in fake.import_jobs


def test_a_folder_in_a_bucket_that_does_not_exist_says_so(harness, fake):
    with pytest.raises(EstateError, match="the bucket of s3://no-such-bucket/m/ does not exist"):
        harness.on_event("Create", {**PROPS, "WeightsS3Uri": "s3://no-such-bucket/m/"})


def test_an_architecture_the_guide_does_not_list_is_refused(harness, fake, s3):
    model_folder(s3, {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2"})
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    message = str(caught.value)
    assert "declares architectures ['Gemma2ForCausalLM'] (model_type gemma2)" in message
    assert "LlamaForCausalLM" in message and "Qwen3MoeForCausalLM" in message and fake.import_jobs == {}


def test_gpt_oss_is_imported_only_where_the_guide_allows_it(harness, fake, s3):
    model_folder(s3, {"architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss"})
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")  # the simulated stack is in us-west-2
    message = str(caught.value)
    assert "GPT-OSS models can be imported only in us-east-1" in message and "not us-west-2" in message
    assert "generation_config.json is missing" in message and fake.import_jobs == {}


def test_weights_and_context_beyond_the_guides_limits_are_refused(harness, fake, s3):
    model_folder(s3, {**LLAMA, "max_position_embeddings": 262144})
    s3.sizes[(BUCKET, f"{FOLDER}model-00001-of-00002.safetensors")] = 150 * 1024**3
    s3.sizes[(BUCKET, f"{FOLDER}model-00002-of-00002.safetensors")] = 60 * 1024**3
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    message = str(caught.value)
    assert "its weights take 210.0 GiB, more than the 200 GiB the guide allows for text models" in message
    assert "max_position_embeddings 262144) is beyond the 131072 tokens" in message and fake.import_jobs == {}


def test_the_folder_is_read_past_the_first_page_of_its_listing(harness, fake, s3):
    s3.page_size = 2
    harness.on_event("Create")
    assert len([c for c in s3.calls if c[0] == "ListObjectsV2"]) == 3 and len(fake.import_jobs) == 1


# -- the import's lifecycle --------------------------------------------------------------------------
def test_a_failed_import_fails_the_resource_with_bedrocks_reason(harness, fake):
    answer = harness.on_event("Create")
    fake.finish_imports(fail="The model's tokenizer could not be loaded: unsupported tokenizer class")
    with pytest.raises(EstateError, match=r"Bedrock could not import .*unsupported tokenizer class"):
        harness.poll("Create", PROPS, answer)


def test_a_failed_import_is_never_reused_the_next_attempt_gets_r2(harness, fake):
    first = harness.on_event("Create")["PhysicalResourceId"]
    fake.finish_imports(fail="bad weights")
    second = harness.on_event("Create")["PhysicalResourceId"]
    assert second == f"{first}-r2" and fake.import_jobs[second]["status"] == "InProgress"


def test_an_import_still_running_at_the_wait_limit_is_adopted_by_the_next_deployment(harness, fake):
    quick = {**PROPS, "ImportWaitSeconds": "1"}
    answer = harness.on_event("Create", quick)
    import time as clock

    answer["EstateState"]["SubmittedAt"] = str(clock.time() - 60)
    with pytest.raises(EstateError) as caught:
        harness.poll("Create", quick, answer)
    message = str(caught.value)
    assert "is still InProgress after 1 minutes" in message and "the next deployment adopts its model" in message
    # Bedrock cannot stop an import: the failure says so, and how to delete the model if unwanted.
    assert "no operation that stops an import job" in message
    again = deploy(harness, fake)
    assert again.complete and len(fake.import_jobs) == 1


def test_throttling_and_server_faults_are_retried(harness, fake, s3):
    s3.fail_next("ListObjectsV2", "SlowDown", "Please reduce your request rate", 503)
    fake.fail_next("CreateModelImportJob", "ThrottlingException", "Rate exceeded", 429)
    fake.fail_next("GetModelImportJob", "InternalServerException", "oops", 500)
    assert deploy(harness, fake).complete and len(fake.import_jobs) == 1


def test_the_role_bedrock_cannot_assume_yet_is_retried(harness, fake):
    fake.fail_next("CreateModelImportJob", "ValidationException", "Could not assume the role provided", times=2)
    harness.on_event("Create")
    assert len(fake.import_jobs) == 1


def test_a_create_whose_answer_was_lost_confirms_the_job_by_name(harness, fake):
    real_create = fake.create_model_import_job

    def lost(**params):
        real_create(**params)
        fake.fail_next("CreateModelImportJob", "ThrottlingException", "Rate exceeded", 400, times=20)
        fake.create_model_import_job = real_create
        raise fake._error("CreateModelImportJob", "InternalServerException", "answer lost", 500)

    fake.create_model_import_job = lost
    answer = harness.on_event("Create")
    name = imported(fake)
    # Not a failure: the job may be importing, so its model's name is the physical id the polls confirm.
    assert answer["PhysicalResourceId"] == name and "Unconfirmed" in answer["EstateState"]
    fake.finish_imports()
    done = harness.poll("Create", PROPS, answer)
    assert done["IsComplete"] and done["Data"]["ModelArn"] == fake.imported_models[name]["modelArn"]


def test_a_lost_create_that_never_reached_bedrock_is_sent_again_with_the_same_token(harness, fake):
    fake.fail_next("CreateModelImportJob", "InternalServerException", "down", 500, times=10)
    answer = harness.on_event("Create")
    assert fake.import_jobs == {} and "Unconfirmed" in answer["EstateState"]
    harness.poll("Create", PROPS, answer)  # absent: asked again, with the same client token
    name = imported(fake)
    assert name == answer["PhysicalResourceId"]
    tokens = {p["clientRequestToken"] for op, p in fake.calls if op == "CreateModelImportJob"}
    assert len(tokens) == 1


def test_the_import_quota_is_named_with_what_to_do(harness, fake, s3):
    model_folder(s3, folder="other/")
    harness.on_event("Create", {**PROPS, "WeightsS3Uri": f"s3://{BUCKET}/other/"})
    with pytest.raises(EstateError) as caught:
        harness.on_event("Create")
    message = str(caught.value)
    assert "'Imported models per account' and 'Concurrent model import jobs'" in message
    assert "Service Quotas" in message and len(fake.import_jobs) == 1


def test_a_conflict_from_a_parallel_delivery_adopts_the_winner(harness, fake):
    original = fake.create_model_import_job

    def racing(**params):
        original(**{**params, "clientRequestToken": "other-delivery"})
        return original(**params)

    fake.create_model_import_job = racing
    answer = harness.on_event("Create")
    assert answer["PhysicalResourceId"] == imported(fake) and len(fake.import_jobs) == 1


# -- updates: replacement, tags in place, rollback ------------------------------------------------------
def test_new_weights_import_a_replacement_and_going_back_imports_nothing(harness, fake, s3):
    first = deploy(harness, fake)
    model_folder(s3, folder="support-llama/v4/")
    newer = {
        **PROPS,
        "WeightsS3Uri": f"s3://{BUCKET}/support-llama/v4/",
        "NameParts": {**PROPS["NameParts"], "Digest": content_hash("v4")},
    }
    replaced = deploy(harness, fake, "Update", newer, PhysicalResourceId=first.physical_id, OldResourceProperties=PROPS)
    assert replaced.complete and replaced.physical_id != first.physical_id
    assert set(fake.imported_models) == {
        first.physical_id,
        replaced.physical_id,
    }  # the old one is CloudFormation's to delete
    # The stack rolls back (old and new properties swapped): the old model is adopted as it is.
    calls = len(fake.import_jobs)
    back = harness.on_event("Update", PROPS, PhysicalResourceId=replaced.physical_id, OldResourceProperties=newer)
    assert back["PhysicalResourceId"] == first.physical_id and back["Data"] == first.data
    assert len(fake.import_jobs) == calls


def test_tags_change_in_place_on_the_model_and_the_job(harness, fake):
    first = deploy(harness, fake)
    retagged = {**PROPS, "Tags": [OWNER, {"key": "cost-center", "value": "42"}]}
    updated = harness.on_event("Update", retagged, PhysicalResourceId=first.physical_id, OldResourceProperties=PROPS)
    model = fake.imported_models[first.physical_id]
    job_arn = fake.import_jobs[first.physical_id]["jobArn"]
    assert updated["PhysicalResourceId"] == first.physical_id and updated["Data"] == first.data
    for arn in (model["modelArn"], job_arn):
        assert fake.tags[arn] == {"bedrock-estate": "bedrock-estate-dev", "cost-center": "42"}
    assert len(fake.import_jobs) == 1


def test_an_update_that_fails_its_preflight_imports_nothing(harness, fake, s3):
    first = deploy(harness, fake)
    broken = {**PROPS, "WeightsS3Uri": f"s3://{BUCKET}/empty/", "NameParts": {**PROPS["NameParts"], "Digest": "x"}}
    s3.objects[(BUCKET, "empty/README.md")] = b"weights to come"
    with pytest.raises(EstateError, match="it lacks config.json"):
        harness.on_event("Update", broken, PhysicalResourceId=first.physical_id, OldResourceProperties=PROPS)
    assert len(fake.import_jobs) == 1


# -- delete ----------------------------------------------------------------------------------------
def test_delete_keeps_the_model_by_default(harness, fake):
    first = deploy(harness, fake)
    assert deploy(harness, fake, "Delete", PhysicalResourceId=first.physical_id).complete
    assert first.physical_id in fake.imported_models


def test_delete_with_destroy_waits_for_a_running_import_then_deletes_its_model(harness, fake):
    destroy = {**PROPS, "Removal": "destroy"}
    answer = harness.on_event("Create", destroy)
    name = answer["PhysicalResourceId"]
    deleting = harness.on_event("Delete", destroy, PhysicalResourceId=name)
    assert deleting["EstateSettled"] is False  # Bedrock cannot stop the import: the delete waits for it
    assert harness.poll("Delete", destroy, deleting, PhysicalResourceId=name) == {"IsComplete": False}
    fake.finish_imports()
    assert harness.poll("Delete", destroy, deleting, PhysicalResourceId=name)["IsComplete"]
    assert fake.imported_models == {}


def test_delete_of_the_frameworks_create_failed_marker_touches_nothing(harness, fake):
    marker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
    assert harness.on_event("Delete", {**PROPS, "Removal": "destroy"}, PhysicalResourceId=marker)["EstateSettled"]
    assert [op for op, _ in fake.calls] == []


# -- under the provider framework's real code ------------------------------------------------------------
@pytest.fixture(scope="module")
def framework(tmp_path_factory) -> Iterator[RealFramework]:
    directory = tmp_path_factory.mktemp("provider-framework")
    running = RealFramework(extract_runtime(directory / "runtime"), directory / "framework.log")
    yield running
    running.close()


def _through(
    framework: RealFramework, fake: FakeBedrock, s3: FakeS3, request_type: str, props: dict, **extra
) -> Deployment:
    dispatcher = Provider({"bedrock": fake, "s3": s3}, [KIND]).dispatcher
    done = framework.deploy(
        dispatcher,
        event(request_type, KIND.type_name, props, logical_id="ImportSupportLlama", **extra),
        between_polls=lambda n: fake.finish_imports(),
    )
    assert done.status == "SUCCESS", done.reason
    return done


def test_create_and_delete_through_the_real_provider_framework(framework, fake, s3):
    destroy = {**PROPS, "Removal": "destroy"}
    created = _through(framework, fake, s3, "Create", destroy)
    name = imported(fake)
    assert created.physical_id == name and created.data["ModelArn"] == fake.imported_models[name]["modelArn"]
    deleted = _through(framework, fake, s3, "Delete", destroy, PhysicalResourceId=created.physical_id)
    assert deleted.physical_id == name and fake.imported_models == {}


def test_the_cli_prints_the_digest_the_import_finds_for_the_same_folder(harness, fake, s3, capsys):
    """`bedrock-estate weights-digest` is what a user pins: it must agree with the pre-flight, file
    for file, across pages of the listing; a file without a full-object checksum is pointed out."""
    from argparse import Namespace

    from constructs_lib.tools import weights_digest as command

    class Session:
        def client(self, service: str) -> FakeS3:
            assert service == "s3"
            return s3

    s3.page_size = 2  # three pages of listing
    assert command.main(Namespace(s3_uri=URI, profile=None), session=Session()) == 0
    printed = capsys.readouterr().out
    done = deploy(harness, fake)
    assert (
        printed.splitlines()[-1]
        == f"weights.digest: {done.data['WeightsDigest']}"
        == f"weights.digest: {folder_digest(s3)}"
    )
    assert printed.startswith(f"{URI}: {len(FILES) + 1} file(s)") and "note:" not in printed
    s3.checksums[(BUCKET, f"{FOLDER}config.json")] = {}
    assert command.main(Namespace(s3_uri=URI, profile=None), session=Session()) == 0
    assert "note: 1 file(s) have no full-object checksum (config.json)" in capsys.readouterr().out


def test_a_folder_marker_the_s3_console_made_is_not_one_of_the_files(harness, fake, s3):
    """The S3 console creates an empty object for a folder (support-llama/v3/, and one per
    subfolder); a copy made another way has none. The digest counts only the files."""
    pinned = folder_digest(s3)
    s3.objects[(BUCKET, FOLDER)] = b""
    s3.objects[(BUCKET, f"{FOLDER}extras/")] = b""
    done = deploy(harness, fake, props={**PROPS, "ExpectedWeightsDigest": pinned})
    assert done.complete and done.data["WeightsDigest"] == pinned
