"""What a CDK user reads when a prop is wrong: one EstateConstructError raised when the construct is
made, naming the construct's path, the prop and the fix, never a jsii JavaScriptError around the
message, a TypeError from inside the construct, or object reprs (issue 21, items 2 and 3)."""

from __future__ import annotations

import json
import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms

from constructs_lib import (
    CommitmentAcknowledgement,
    CustomizationJob,
    CustomizationJobProps,
    CustomizationServiceRole,
    EstateConstructError,
    EstateKey,
    EstateKeyProps,
    JobNames,
    ProviderLogging,
    ServedModel,
    ServedModelProps,
)

ENV = cdk.Environment(account="111111111111", region="us-east-1")
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"


@pytest.fixture
def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Team", env=ENV)


@pytest.fixture
def key(stack) -> EstateKey:
    return EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))


@pytest.fixture
def logging(key) -> ProviderLogging:
    return ProviderLogging(log_group_prefix="/team/", log_key=key)


def job_props(logging: ProviderLogging, role, key, **overrides) -> CustomizationJobProps:
    settings = dict(
        name="team-summarizer",
        role=role,
        base_model=NOVA_MICRO,
        customization_type="FINE_TUNING",
        training_data_config={"s3Uri": "s3://team-data/train.jsonl"},
        output_s3_uri="s3://team-output/jobs/",
        hyperparameters={"epochCount": 2},
        logging=logging,
        owner="team-dev",
        custom_model_key=key,
    )
    settings.update(overrides)
    return CustomizationJobProps(**settings)


def served_props(logging: ProviderLogging, key: kms.IKey, **overrides) -> ServedModelProps:
    settings = dict(
        kind="provisioned",
        name="team-summarizer-pt",
        logging=logging,
        owner="team-dev",
        custom_model_key=key,
        job=JobNames("team-summarizer", "a" * 64),
        base_model=NOVA_MICRO,
    )
    settings.update(overrides)
    return ServedModelProps(**settings)


# -- item 3: one error when the construct is made --------------------------------------------------
def test_a_catalog_problem_is_raised_when_the_job_is_made_naming_path_prop_and_fix(stack, key, logging):
    role = CustomizationServiceRole(stack, "Role")
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(stack, "Job", job_props(logging, role, key, hyperparameters={"epochCount": 99}))
    message = str(caught.value)
    assert message.startswith(f"Team/Job: hyperparameters.epochCount: 99 is outside 1..5 for {NOVA_MICRO}"), message
    assert "JavaScriptError" not in message and "\n" not in message
    assert isinstance(caught.value, ValueError)  # what the library's other prop checks raise


def test_a_commitment_problem_is_raised_when_the_served_model_is_made(stack, key, logging):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(
            stack,
            "Served",
            served_props(logging, key, commitment="OneMonth", prices={NOVA_MICRO: {"OneMonth": 20.0}}),
        )
    message = str(caught.value)
    assert message.startswith(
        "Team/Served: commitment: a OneMonth commitment cannot be cancelled and costs $14,600.00 per month"
    ), message
    assert "commitment_acknowledgement" in message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"model_units": "1"}, "Team/Served: model_units: must be a whole number (int), got '1' (a str)"),
        ({"model_units": True}, "Team/Served: model_units: must be a whole number (int), got True (a bool)"),
        ({"name": 42}, "Team/Served: name: must be a str, got 42 (an int)"),
        (
            {"custom_model_key": "arn:aws:kms:us-east-1:111111111111:key/x"},
            "Team/Served: custom_model_key: must be a kms.IKey",
        ),
        ({"tags": [("team", "ml")]}, "Team/Served: tags: must be a dict, got [('team', 'ml')] (a list)"),
    ],
    ids=["units-as-text", "units-as-bool", "name-as-number", "key-as-arn", "tags-as-list"],
)
def test_a_prop_of_the_wrong_type_is_named_not_a_type_error_from_inside(stack, key, logging, overrides, expected):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, **overrides))
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_job_prop_of_the_wrong_type_is_named(stack, key, logging):
    with pytest.raises(EstateConstructError, match=re.escape("Team/Job: role: must be an iam.IRole")):
        CustomizationJob(
            stack, "Job", job_props(logging, "arn:aws:iam::111111111111:role/bedrock", key, role_access_granted=True)
        )
    with pytest.raises(EstateConstructError, match=re.escape("Team/Job2: hyperparameters: must be a Mapping")):
        CustomizationJob(
            stack, "Job2", job_props(logging, CustomizationServiceRole(stack, "Role"), key, hyperparameters=[2])
        )


def test_a_second_provider_logging_in_a_stack_is_described_not_printed_as_object_reprs(stack, key, logging):
    role = CustomizationServiceRole(stack, "Role")
    CustomizationJob(stack, "First", job_props(logging, role, key))
    other = ProviderLogging(log_group_prefix="/other/", log_key=key)
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(stack, "Second", job_props(other, role, key, name="second"))
    message = str(caught.value)
    assert "object at 0x" not in message and "ProviderLogging(" not in message
    assert message == (
        "Team/Second: logging: the stack's EstateProvider already logs under '/team/' with key Team/Key; every "
        "construct of a stack must pass the same ProviderLogging: pass the one Team/First was given "
        "(this one logs under '/other/' with key Team/Key)"
    )


def test_an_imported_log_key_is_refused_when_the_construct_is_made(stack, key):
    imported = kms.Key.from_key_arn(stack, "Imported", "arn:aws:kms:us-east-1:111111111111:key/logs")
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(
            stack,
            "Job",
            job_props(
                ProviderLogging(log_group_prefix="/team/", log_key=imported),
                CustomizationServiceRole(stack, "Role"),
                key,
            ),
        )
    message = str(caught.value)
    assert message.startswith("Team/Job: logging.log_key: log groups under '/team/' are encrypted with an imported key")
    assert "key_policy_allows_logs=True" in message


# -- item 2: ServedModel names and contradictory props ---------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["t" * 64, "team_summarizer", "team-summarizer-", "-team", "team--pt", ""],
    ids=["64-characters", "underscore", "trailing-hyphen", "leading-hyphen", "double-hyphen", "empty"],
)
def test_a_served_name_bedrock_would_refuse_is_refused(stack, key, logging, name):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, name=name))
    assert str(caught.value) == (
        f"Team/Served: name: {name!r} must be 1-63 letters, digits and single hyphens, starting and ending with a "
        "letter or digit (Bedrock's throughput and deployment names, and the client request token made of it)"
    )


def test_a_63_character_served_name_is_taken(stack, key, logging):
    ServedModel(stack, "Served", served_props(logging, key, name="t" * 63))


ACK = CommitmentAcknowledgement(term="OneMonth", model_units=1, monthly_usd=14600)


@pytest.mark.parametrize(
    ("kind", "overrides", "prop", "why"),
    [
        ("on-demand", {"model_units": 2}, "model_units", "applies to kind='provisioned' only"),
        ("on-demand", {"commitment": "OneMonth"}, "commitment", "applies to kind='provisioned' only"),
        (
            "on-demand",
            {"commitment_acknowledgement": ACK},
            "commitment_acknowledgement",
            "applies to kind='provisioned' only",
        ),
        ("on-demand", {"prices": {NOVA_MICRO: {"OneMonth": 20.0}}}, "prices", "applies to kind='provisioned' only"),
        ("on-demand", {"release_commitment": True}, "release_commitment", "applies to kind='provisioned' only"),
        ("provisioned", {"description": "the fine-tune"}, "description", "applies to kind='on-demand' only"),
        (
            "provisioned",
            {"commitment_acknowledgement": ACK},
            "commitment_acknowledgement",
            "applies to a commitment only",
        ),
        ("provisioned", {"release_commitment": True}, "release_commitment", "applies to a commitment only"),
        # A job's model is served only while it carries the owner tag already: nothing for model_owned to add.
        ("provisioned", {"model_owned": True}, "model_owned", "applies only to a model given by its plain model_arn"),
    ],
)
def test_props_the_served_model_would_drop_are_refused(stack, key, logging, kind, overrides, prop, why):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, kind=kind, **overrides))
    assert str(caught.value).startswith(f"Team/Served: {prop}: {why}"), str(caught.value)


def test_an_on_demand_model_without_provisioned_props_is_taken(stack, key, logging):
    served = ServedModel(stack, "Served", served_props(logging, key, kind="on-demand", description="the fine-tune"))
    assert served.props.model_units is None


# -- second new-user round: props that synthesized but AWS would refuse ---------------------------------
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"owner": "team dev!"}, "Team/Job: owner: 'team dev!' holds '!', which AWS refuses in tags"),
        ({"owner": ""}, "Team/Job: owner: must not be empty"),
        ({"job_tags": {"aws:team": "ml"}}, "Team/Job: job_tags: tag key 'aws:team' uses the reserved 'aws:' prefix"),
        ({"model_tags": {"team": "ml{x}"}}, "Team/Job: model_tags: tag 'team': the value 'ml{x}' holds '{', '}'"),
        ({"removal": "delete"}, "Team/Job: removal: must be one of 'retain', 'destroy', got 'delete' (a str)"),
        (
            {"customization_type": "FINETUNING", "catalog_checks": False},
            "Team/Job: customization_type: must be one of 'FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', "
            "'REINFORCEMENT_FINE_TUNING', got 'FINETUNING' (a str)",
        ),
        (
            {"teacher": "amazon.nova-pro-v1:0"},
            "Team/Job: teacher: applies to customization_type='DISTILLATION' only; remove it",
        ),
        (
            {"rft_config": {"graderConfig": {}}},
            "Team/Job: rft_config: applies to customization_type='REINFORCEMENT_FINE_TUNING' only; remove it",
        ),
        (
            {"vpc_config": {"subnetIds": "subnet-0a1b2c3d", "securityGroupIds": ["sg-0a1b2c3d"]}},
            "Team/Job: vpc_config: must be {'subnetIds': [...], 'securityGroupIds': [...]}, lists of ids such as "
            "subnet-0123456789abcdef0 and sg-0123456789abcdef0",
        ),
        (
            {"vpc_config": {"subnetIds": ["subnet-xyz"], "securityGroupIds": ["sg-0a1b2c3d"]}},
            "Team/Job: vpc_config: must be {'subnetIds': [...], 'securityGroupIds': [...]}",
        ),
    ],
    ids=[
        "owner-characters",
        "owner-empty",
        "job-tag-reserved",
        "model-tag-characters",
        "removal-typo",
        "type-typo-without-catalog",
        "teacher-on-fine-tuning",
        "rft-config-on-fine-tuning",
        "vpc-ids-not-a-list",
        "vpc-id-malformed",
    ],
)
def test_job_props_aws_would_refuse_at_deploy_are_refused(stack, key, logging, overrides, expected):
    with pytest.raises(EstateConstructError) as caught:
        CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key, **overrides))
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_distillation_job_states_a_response_length_of_at_least_one_token(stack, key, logging):
    with pytest.raises(EstateConstructError, match=r"^Team/Job: max_response_length: must be at least 1, got 0$"):
        CustomizationJob(
            stack,
            "Job",
            job_props(
                logging,
                CustomizationServiceRole(stack, "Role"),
                key,
                base_model="amazon.nova-lite-v1:0:300k",
                customization_type="DISTILLATION",
                teacher="amazon.nova-pro-v1:0",
                hyperparameters={},
                max_response_length=0,
            ),
        )


def test_a_served_model_arn_that_is_no_custom_model_arn_is_refused(stack, key, logging):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, kind="on-demand", job=None, model_arn="my-model"))
    assert str(caught.value) == (
        "Team/Served: model_arn: 'my-model' is not a custom model ARN "
        "(arn:aws:bedrock:<region>:<account>:custom-model/...)"
    )


def test_a_served_models_key_must_be_the_one_its_job_encrypts_with(stack, key, logging):
    other = EstateKey(stack, "OtherKey", EstateKeyProps(alias="team/other", description="another key"))
    job = CustomizationJob(stack, "Job", job_props(logging, CustomizationServiceRole(stack, "Role"), key))
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, other, kind="on-demand", job=job))
    assert str(caught.value) == (
        "Team/Served: custom_model_key: Team/OtherKey is not the key Team/Job encrypts its model with (Team/Key); "
        "pass that one, or Bedrock cannot decrypt the model to serve it"
    )


def test_a_served_model_names_exactly_one_source(stack, key, logging):
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, nova_model=JobNames("team-nova", "b" * 64)))
    assert str(caught.value) == (
        "Team/Served: job: give exactly one of job (a CustomizationJob or its JobNames), nova_model (a "
        "NovaCustomModel or its names) or model_arn"
    )


def test_a_served_nova_model_must_carry_the_served_models_owner_and_key(stack, key, logging):
    from constructs_lib import NovaCustomModel

    other = EstateKey(stack, "OtherKey", EstateKeyProps(alias="team/other", description="another key"))
    nova = NovaCustomModel(stack, "Nova", nova_props(logging, key=key, owner="team-prod"))
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, other, kind="on-demand", job=None, nova_model=nova))
    assert str(caught.value).splitlines() == [
        "Team/Served: owner: 'team-dev' differs from its Nova model's owner 'team-prod': the handler may serve only "
        "models carrying its own owner tag, so the model could not be served; give both the same owner",
        "Team/Served: custom_model_key: Team/OtherKey is not the key Team/Nova encrypts its model with (Team/Key); "
        "pass that one, or Bedrock cannot decrypt the model to serve it",
    ]


def test_served_model_tags_aws_would_refuse_are_refused(stack, key, logging):
    with pytest.raises(EstateConstructError, match=r"^Team/Served: tags: tag 'team': the value is empty"):
        ServedModel(stack, "Served", served_props(logging, key, tags={"team": ""}))


# -- adopting a model, and tags (the second new-user round of adoption) -----------------------------
ADOPTED = "arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.nova-micro-v1:0:128k/0a1b2c3d4e5f"


def adopted_props(logging: ProviderLogging, **overrides):
    from constructs_lib import AdoptedCustomModelProps

    settings = dict(
        adopt=ADOPTED, base_model=NOVA_MICRO, customization_type="FINE_TUNING", owner="team-dev", logging=logging
    )
    settings.update(overrides)
    return AdoptedCustomModelProps(**settings)


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"team": 5}, "model_tags: tag 'team': the value 5 is a int; tag values are strings (quote it)"),
        ({"bedrock-estate": "mine"}, "model_tags: tag key 'bedrock-estate' is the estate's owner tag"),
    ],
)
def test_a_tag_that_is_not_a_string_or_is_the_owner_tag_is_refused_not_a_traceback_or_dropped(
    stack, logging, tags, expected
):
    from constructs_lib import AdoptedCustomModel

    with pytest.raises(EstateConstructError) as caught:
        AdoptedCustomModel(stack, "Adopted", adopted_props(logging, model_tags=tags))
    assert f"Team/Adopted: {expected}" in str(caught.value)


@pytest.mark.parametrize(
    "arn, where",
    [
        (ADOPTED.replace("us-east-1", "us-west-2"), "us-west-2"),
        (ADOPTED.replace("111111111111", "999999999999"), "999999999999"),
    ],
)
def test_a_model_of_another_account_or_region_is_not_adopted(stack, logging, arn, where):
    from constructs_lib import AdoptedCustomModel

    with pytest.raises(EstateConstructError) as caught:
        AdoptedCustomModel(stack, "Adopted", adopted_props(logging, adopt=arn))
    assert "Team/Adopted: adopt: the model is in" in str(caught.value) and where in str(caught.value)
    assert "this stack is in 111111111111 / us-east-1" in str(caught.value)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (
            dict(base_model="amazon.nova-lite-v1:0:300k"),
            "base_model: the adopted model's ARN says it was customized from amazon.nova-micro-v1:0:128k, not from "
            "amazon.nova-lite-v1:0:300k: give base_model='amazon.nova-micro-v1:0:128k'",
        ),
        (
            dict(kms_key_arn="arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            "kms_key_arn: the key is in us-west-2, but the model is in us-east-1: a KMS key is used only in its own "
            "Region",
        ),
    ],
)
def test_an_adopted_model_the_arn_or_its_key_contradicts_is_refused_at_synthesis(stack, logging, overrides, expected):
    """The spec refuses both; the construct synthesized them and the deploy refused the model."""
    from constructs_lib import AdoptedCustomModel

    with pytest.raises(EstateConstructError) as caught:
        AdoptedCustomModel(stack, "Adopted", adopted_props(logging, **overrides))
    assert f"Team/Adopted: {expected}" in str(caught.value), str(caught.value)


def test_capacity_of_another_account_or_region_is_not_adopted(stack, key, logging):
    elsewhere = "arn:aws:bedrock:us-west-2:111111111111:provisioned-model/a1b2c3d4e5f6"
    with pytest.raises(EstateConstructError) as caught:
        ServedModel(stack, "Served", served_props(logging, key, adopt=elsewhere))
    assert "Team/Served: adopt: the resource is in 111111111111 / us-west-2, but this stack is in" in str(caught.value)


@pytest.mark.parametrize(
    "entry_tag, model_tags, expected",
    [
        (("bedrock-estate", "x"), {}, "entry_tag: must not be the owner tag bedrock-estate"),
        (("estate-job", "summarizer"), {"estate-job": "other"}, "entry_tag: model_tags gives estate-job='other'"),
    ],
)
def test_an_entry_tag_that_is_the_owner_tag_or_contradicts_the_model_tags_is_refused(
    stack, logging, entry_tag, model_tags, expected
):
    from constructs_lib import AdoptedCustomModel

    with pytest.raises(EstateConstructError) as caught:
        AdoptedCustomModel(stack, "Adopted", adopted_props(logging, entry_tag=entry_tag, model_tags=model_tags))
    assert f"Team/Adopted: {expected}" in str(caught.value)


def _deletes(stack: cdk.Stack) -> list[dict]:
    """The adopted model handler's statements that allow bedrock:DeleteCustomModel."""
    template = cdk.assertions.Template.from_stack(stack).to_json()
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if "bedrock:DeleteCustomModel" in json.dumps(statement["Action"])
    ]


def test_a_destroyed_adopted_model_may_be_deleted_as_exactly_its_arn_or_as_the_entrys_models(logging):
    """Without an entry tag the handler may delete exactly the ARN adopted (an earlier model, after
    adopt changed, is not deleted); with one, any model of the stage carrying the entry's tag, so
    CloudFormation's cleanup can delete the model the entry adopted before. Retained: no delete."""
    from constructs_lib import AdoptedCustomModel

    grants = {}
    for case, overrides in {
        "exact": dict(removal="destroy"),
        "entry": dict(removal="destroy", entry_tag=("estate-job", "summarizer")),
        "retain": dict(entry_tag=("estate-job", "summarizer")),
    }.items():
        stack = cdk.Stack(cdk.App(), "Team", env=ENV)
        key = EstateKey(stack, "Key", EstateKeyProps(alias="team/data", description="team data"))
        logs = ProviderLogging(log_group_prefix="/team/", log_key=key)
        AdoptedCustomModel(stack, "Adopted", adopted_props(logs, **overrides))
        grants[case] = _deletes(stack)
        [adoption] = [
            r["Properties"]
            for r in cdk.assertions.Template.from_stack(stack).to_json()["Resources"].values()
            if r["Type"] == "Custom::BedrockCustomizationJob"
        ]
        # The entry's tag is put on the model with the owner tag, and the handler checks both before deleting.
        entry_tag = {"key": "estate-job", "value": "summarizer"}
        assert (entry_tag in adoption["CustomModelTags"]) is (case != "exact")
        assert adoption["Adopt"].get("EntryTag") == (
            {"Key": "estate-job", "Value": "summarizer"} if case != "exact" else None
        )
    [exact] = grants["exact"]
    assert exact["Resource"] == ADOPTED
    assert exact["Condition"] == {"StringEquals": {"aws:ResourceTag/bedrock-estate": "team-dev"}}
    [entry] = grants["entry"]
    assert sorted(entry["Action"]) == ["bedrock:DeleteCustomModel", "bedrock:ListTagsForResource"]
    assert entry["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:us-east-1:111111111111:custom-model/*"]]
    }
    assert entry["Condition"] == {
        "StringEquals": {"aws:ResourceTag/bedrock-estate": "team-dev", "aws:ResourceTag/estate-job": "summarizer"}
    }
    assert grants["retain"] == []


def test_serving_an_adopted_model_waits_for_its_adoption(stack, key, logging):
    """Capacity bills from its creation: it is bought only after the adoption verified the model."""
    from constructs_lib import AdoptedCustomModel

    adopted = AdoptedCustomModel(stack, "Adopted", adopted_props(logging))
    served = ServedModel(stack, "Served", served_props(logging, key, job=None, model_arn=adopted.model_arn))
    template = cdk.assertions.Template.from_stack(stack).to_json()
    [throughput] = [
        resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "Custom::BedrockProvisionedThroughput"
    ]
    adoption = stack.resolve(adopted.resource.node.default_child.logical_id)
    assert adoption in throughput.get("DependsOn", []) or adoption in json.dumps(throughput["Properties"])
    assert served is not None


# -- models brought in: ImportedModel and NovaCustomModel (a new-user round of model import) ---------
def nova_props(logging: ProviderLogging, **overrides):
    from constructs_lib import NovaCustomModelProps

    settings: dict = dict(
        name="team-dev-nova",
        base_model="amazon.nova-lite-v1:0:300k",
        owner="team-dev",
        logging=logging,
        model_package_arn="arn:aws:sagemaker:us-east-1:111111111111:model-package/team-nova/1",
    )
    settings.update(overrides)
    return NovaCustomModelProps(**settings)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        # The on-demand id: the created model reports amazon.nova-lite-v1:0:300k, and the handler fails after creating it.
        (
            {"base_model": "amazon.nova-lite-v1:0"},
            "base_model: 'amazon.nova-lite-v1:0' is not a Nova model SageMaker AI",
        ),
        (
            {"base_model": "anthropic.claude-3-haiku-20240307-v1:0:200k"},
            "base_model: 'anthropic.claude-3-haiku-20240307-v1:0:200k' is not a Nova model SageMaker AI fine-tunes; "
            "give one of amazon.nova-micro-v1:0:128k, amazon.nova-lite-v1:0:300k",
        ),
        (
            {
                "model_package_arn": None,
                "s3_uri": "s3://customer-escrow-111111111111-smtj-a1b2c3/team-nova/",
                "role_arn": "arn:aws:iam::999999999999:role/nova-reader",
            },
            "role_arn: the role is in account 999999999999, but this stack is in 111111111111",
        ),
        ({"tags": {"team": 5}}, "tags: tag 'team': the value 5 is a int; tag values are strings (quote it)"),
        ({"tags": {"bedrock-estate": "mine"}}, "tags: tag key 'bedrock-estate' is the estate's owner tag"),
    ],
)
def test_nova_custom_model_props_that_cannot_work_at_deploy_are_refused(stack, logging, overrides, expected):
    from constructs_lib import NovaCustomModel

    with pytest.raises(EstateConstructError) as caught:
        NovaCustomModel(stack, "Nova", nova_props(logging, **overrides))
    assert f"Team/Nova: {expected}" in str(caught.value)


def test_a_nova_custom_model_outside_the_regions_bedrock_serves_it_in_is_refused(logging):
    from constructs_lib import NovaCustomModel

    oregon = cdk.Stack(cdk.App(), "Team", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(oregon, "Key", EstateKeyProps(alias="team/data", description="team data"))
    with pytest.raises(EstateConstructError) as caught:
        NovaCustomModel(oregon, "Nova", nova_props(ProviderLogging(log_group_prefix="/team/", log_key=key)))
    assert (
        "Team/Nova: base_model: Amazon Nova models trained in SageMaker AI are served by Bedrock in us-east-1"
        in str(caught.value)
    )
    assert "not in us-west-2" in str(caught.value)


@pytest.mark.parametrize(
    "tags, expected",
    [
        ({"team": 5}, "tags: tag 'team': the value 5 is a int; tag values are strings (quote it)"),
        ({"bedrock-estate": "mine"}, "tags: tag key 'bedrock-estate' is the estate's owner tag"),
    ],
)
def test_an_imported_models_tags_aws_would_refuse_or_the_estate_would_drop_are_refused(
    stack, key, logging, tags, expected
):
    from constructs_lib import ImportedModel, ImportedModelProps, ModelImportRole

    props = ImportedModelProps(
        name="team-dev-llama",
        weights_s3_uri="s3://team-weights/llama/v1/",
        role=ModelImportRole(stack, "ImportRole"),
        owner="team-dev",
        logging=logging,
        tags=tags,
    )
    with pytest.raises(EstateConstructError) as caught:
        ImportedModel(stack, "Llama", props)
    assert f"Team/Llama: {expected}" in str(caught.value)


def import_props(stack: cdk.Stack, logging: ProviderLogging, **overrides):
    from constructs_lib import ImportedModelProps, ModelImportRole

    settings: dict = dict(
        name="team-dev-llama",
        weights_s3_uri="s3://team-weights/llama/v1/",
        role=ModelImportRole(stack, "ImportRole"),
        owner="team-dev",
        logging=logging,
    )
    settings.update(overrides)
    return ImportedModelProps(**settings)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        # The handler read vpc_config["subnetIds"]: a KeyError from inside the construct.
        (
            {"vpc_config": {"subnets": ["subnet-0a1b2c3d"]}},
            "vpc_config: must be {'subnetIds': [...], 'securityGroupIds': [...]}, lists of ids such as "
            "subnet-0123456789abcdef0 and sg-0123456789abcdef0 (1-16 subnets, 1-5 security groups), got "
            "{'subnets': ['subnet-0a1b2c3d']}",
        ),
        (
            {"vpc_config": {"subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": []}},
            "vpc_config: must be {'subnetIds': [...], 'securityGroupIds': [...]}",
        ),
        # The owner is the value of a tag on the job and the model: Bedrock refuses the create.
        ({"owner": "Team Dev!"}, "owner: 'Team Dev!' holds '!'"),
        ({"owner": ""}, "owner: must not be empty"),
        # The role and the pre-flight decrypt through S3 in the stack's Region, with a key of another Region.
        (
            {"weights_kms_key_arn": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            "weights_kms_key_arn: the key is in eu-west-1, but this stack imports in us-east-1: a KMS key is used "
            "only in its own Region; give a key of that Region",
        ),
        (
            {"weights_kms_key_arn": "arn:aws:kms:us-east-1:111111111111:alias/weights"},
            "weights_kms_key_arn: 'arn:aws:kms:us-east-1:111111111111:alias/weights' is not a KMS key ARN",
        ),
    ],
    ids=["vpc-keys", "vpc-no-security-group", "owner-not-a-tag-value", "owner-empty", "weights-key-region", "alias"],
)
def test_imported_model_props_that_cannot_work_at_deploy_are_refused(stack, logging, overrides, expected):
    from constructs_lib import ImportedModel

    with pytest.raises(EstateConstructError) as caught:
        ImportedModel(stack, "Llama", import_props(stack, logging, **overrides))
    assert f"Team/Llama: {expected}" in str(caught.value), str(caught.value)


def test_an_imported_model_outside_the_regions_offering_import_is_refused(logging):
    """The spec refuses an import in such a stage; the construct did not, and the deployment failed."""
    from constructs_lib import ImportedModel

    ireland = cdk.Stack(cdk.App(), "Team", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    key = EstateKey(ireland, "Key", EstateKeyProps(alias="team/data", description="team data"))
    with pytest.raises(EstateConstructError) as caught:
        ImportedModel(ireland, "Llama", import_props(ireland, ProviderLogging(log_group_prefix="/team/", log_key=key)))
    assert str(caught.value).startswith(
        "Team/Llama: the stack's env region: Custom Model Import is offered in eu-central-1, us-east-1, us-east-2, us-west-2"
    ), str(caught.value)
    assert "not in eu-west-1 where this stack deploys" in str(caught.value)


# -- promoting a model named by its ARN (a model a stage adopted) -------------------------------------
def share_props(logging: ProviderLogging, **overrides):
    from constructs_lib import ModelShareProps

    settings = dict(
        name="team-dev-embedder-promotion",
        model_arn=ADOPTED,
        accounts=["222222222222"],
        logging=logging,
        owner="team-dev",
        share_name_prefix="team-dev-",
    )
    settings.update(overrides)
    return ModelShareProps(**settings)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (
            {"job": JobNames("team-dev-embedder", "b" * 64)},
            "job: give one of job (the job whose model is shared) or model_arn",
        ),
        ({"model_arn": None}, "job: give one of job (the job whose model is shared) or model_arn"),
        (
            {"model_arn": "arn:aws:bedrock:us-east-1:111111111111:provisioned-model/a1b2c3d4e5f6"},
            "model_arn: 'arn:aws:bedrock:us-east-1:111111111111:provisioned-model/a1b2c3d4e5f6' is not a custom model's ARN",
        ),
        (
            {"model_arn": ADOPTED.replace("111111111111", "999999999999")},
            "model_arn: the model is in 999999999999 / us-east-1, but this stack is in 111111111111 / us-east-1; share it from a stack in its own account and Region",
        ),
        (
            {"model_arn": None, "job": JobNames("team-dev-embedder", "b" * 64), "model_tag": ("estate-job", "x")},
            "model_tag: narrows the grants of a share of a model named by model_arn; give model_arn",
        ),
    ],
    ids=["both", "neither", "not-a-custom-model", "another-account", "tag-without-arn"],
)
def test_a_share_names_exactly_one_model_of_its_own_account(stack, logging, overrides, expected):
    from constructs_lib import ModelShare

    with pytest.raises(EstateConstructError) as caught:
        ModelShare(stack, "Share", share_props(logging, **overrides))
    assert f"Team/Share: {expected}" in str(caught.value), str(caught.value)


def copy_props(logging: ProviderLogging, key, **overrides):
    from constructs_lib import ModelCopyProps

    source = ADOPTED.replace("111111111111", "333333333333")
    settings = dict(
        name="team-prod-embedder",
        source_stage="dev",
        source_account="333333333333",
        source_region="us-east-1",
        source_model_arn=source,
        key=key,
        owner="team-prod",
        logging=logging,
    )
    settings.update(overrides)
    return ModelCopyProps(**settings)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (
            {"job": JobNames("team-dev-embedder", "b" * 64)},
            "job: give one of job (the source job whose model was shared) or source_model_arn",
        ),
        (
            {"source_model_arn": None, "job": JobNames("team-dev-embedder", "b" * 64)},
            "source_key_alias: a job's model is encrypted with a key: name its alias (its stage's key) or give "
            "source_key_arn",
        ),
        (
            {"source_model_arn": ADOPTED},
            "source_model_arn: the model is in 111111111111 / us-east-1, not in the source stage's 333333333333 / us-east-1",
        ),
        ({"source_model_arn": "not-an-arn"}, "source_model_arn: 'not-an-arn' is not a custom model's ARN"),
    ],
    ids=["both", "job-without-key", "another-account", "not-an-arn"],
)
def test_a_copy_names_exactly_one_source_model_of_the_source_stage(stack, key, logging, overrides, expected):
    from constructs_lib import ModelCopy

    with pytest.raises(EstateConstructError) as caught:
        ModelCopy(stack, "Copy", copy_props(logging, key, **overrides))
    assert f"Team/Copy: {expected}" in str(caught.value), str(caught.value)
