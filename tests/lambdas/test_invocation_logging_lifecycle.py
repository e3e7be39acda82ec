"""Lifecycle simulation: the synthesized template's properties drive the handler through
Create, duplicate Create, Update, failed Update with rollback, and Delete, against the stateful
Bedrock fake's logging configuration (requests validated by botocore, and recorded for the
permission proof: the handler's calls, the delivery role it passes, and what that role must reach)."""

from __future__ import annotations

import copy

import pytest

from estate_runtime.errors import EstateError
from estate_runtime.kinds.invocation_logging import KIND
from estate_runtime.kinds.invocation_logging.handler import RESOURCE_TYPE, normalize

from .cfn_sim import Template
from .fake_bedrock import FakeBedrock
from .fake_cloudformation import FakeCloudFormation
from .fake_ssm import FakeSsm
from .provider_sim import Provider
from .support import ACCOUNT, REGION

# Every stage of the estates the permission proof plays (tests/gates/proof.SCENARIOS): each
# foundation has its own handler role and delivery role.
STAGES = [
    pytest.param("default_estate", "dev", id="default-dev"),
    pytest.param("default_estate", "prod", id="default-prod"),
    pytest.param("promotion_estate", "dev", id="promotion-dev"),
    pytest.param("promotion_estate", "prod", id="promotion-prod"),
    pytest.param("permissions_estate", "lab", id="permissions-lab"),
    pytest.param("adopted_promotion_estate", "dev", id="adopted_promotion-dev"),
    pytest.param("adopted_promotion_estate", "prod", id="adopted_promotion-prod"),
]


@pytest.fixture
def bedrock() -> FakeBedrock:
    return FakeBedrock()


@pytest.fixture
def ssm() -> FakeSsm:
    """The account's Parameter Store, shared by every request of a test (the saved copy lives there)."""
    return FakeSsm()


# The foundation stack each stage's logging resource is in, by its saved-copy parameter (one per
# stage): the stack the simulation sends its requests from, whose resources its handler may list.
STACK_OF: dict[str, str] = {}


def properties(estate, stage: str) -> tuple[str, dict]:
    foundation = estate.stack(f"{stage}/Foundation")
    [(logical_id, props)] = (
        Template(foundation.template, stack_name=foundation.stack_name).custom_resources(RESOURCE_TYPE).items()
    )
    STACK_OF[props["SavedConfigurationParameter"]] = foundation.stack_name
    return logical_id, props


def deliver(bedrock, request_type, props, *, ssm=None, cloudformation=None, stack=None, status=None, **extra):
    """CloudFormation's request, while the stack is in ``status`` (default: what the request type
    says). Requests given the same ``cloudformation`` fake (and ``stack`` name) are for resources of
    one stack, which each handler sees in ListStackResources."""
    clients = {"bedrock": bedrock, "ssm": ssm, "cloudformation": cloudformation}
    provider = Provider(
        {name: fake for name, fake in clients.items() if fake is not None},
        [KIND],
        stack=stack or STACK_OF[props["SavedConfigurationParameter"]],
    )
    if status is None:
        return provider.on_event(request_type, RESOURCE_TYPE, props, **extra)
    with provider.stack_status(status):
        return provider.on_event(request_type, RESOURCE_TYPE, props, **extra)


def current(bedrock):
    return normalize(bedrock.get_model_invocation_logging_configuration().get("loggingConfig"))


def test_template_properties_reach_the_service_as_the_estate_declared(bedrock, default_estate):
    logical_id, props = properties(default_estate, "dev")
    assert props["AdoptExisting"] == "false"  # as CloudFormation delivers it
    deliver(bedrock, "Create", props, logical_id=logical_id)
    config = current(bedrock)
    assert config["textDataDeliveryEnabled"] is True and config["imageDataDeliveryEnabled"] is False
    assert config["s3Config"]["keyPrefix"] == "invocation-logs"
    assert config["cloudWatchConfig"]["logGroupName"] == "/bedrock-estate-dev/model-invocations"
    assert config["cloudWatchConfig"]["roleArn"].startswith("arn:aws:iam::111111111111:role/")
    assert config["cloudWatchConfig"]["largeDataDeliveryS3Config"]["keyPrefix"] == "invocation-logs-large-data"


@pytest.mark.parametrize("fixture, stage", STAGES)
def test_full_lifecycle_leaves_nothing_behind(bedrock, ssm, fixture, stage, request):
    logical_id, props = properties(request.getfixturevalue(fixture), stage)

    def send(request_type, properties, **extra):
        return deliver(bedrock, request_type, properties, ssm=ssm, logical_id=logical_id, **extra)

    created = send("Create", props)
    physical_id = created["PhysicalResourceId"]
    # A duplicate delivery of the same Create changes nothing and answers the same id.
    assert send("Create", props)["PhysicalResourceId"] == physical_id

    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["imageDataDeliveryEnabled"] = "true"
    updated = send("Update", changed, PhysicalResourceId=physical_id, OldResourceProperties=props)
    assert updated["PhysicalResourceId"] == physical_id
    assert current(bedrock)["imageDataDeliveryEnabled"] is True

    # An update that fails, then CloudFormation's rollback update back to the old properties.
    broken = copy.deepcopy(changed)
    broken["LoggingConfig"] = {"textDataDeliveryEnabled": "true"}
    with pytest.raises(EstateError):
        send("Update", broken, PhysicalResourceId=physical_id, OldResourceProperties=changed)
    assert current(bedrock)["imageDataDeliveryEnabled"] is True  # the failed update wrote nothing
    send("Update", props, PhysicalResourceId=physical_id, OldResourceProperties=changed)
    assert current(bedrock)["imageDataDeliveryEnabled"] is False

    # Nothing was adopted, so nothing was saved, and the Delete removes the configuration as before.
    assert ("PutParameter" not in [operation for operation, _ in ssm.calls]) and ssm.parameters == {}
    send("Delete", props, PhysicalResourceId=physical_id)
    assert current(bedrock) is None


def test_a_foreign_configuration_survives_a_refused_create(bedrock, default_estate):
    logical_id, props = properties(default_estate, "dev")
    foreign = {
        "textDataDeliveryEnabled": True,
        "s3Config": {"bucketName": "central-audit-logs", "keyPrefix": "bedrock"},
    }
    bedrock.put_model_invocation_logging_configuration(loggingConfig=foreign)
    with pytest.raises(EstateError, match="already configured"):
        deliver(bedrock, "Create", props, logical_id=logical_id)
    assert current(bedrock)["s3Config"] == foreign["s3Config"]


def test_adopting_variant_takes_over_and_delivers_only_to_s3(bedrock, ssm, variant_estate):
    logical_id, props = properties(variant_estate, "sandbox")
    bedrock.put_model_invocation_logging_configuration(
        loggingConfig={"textDataDeliveryEnabled": True, "s3Config": {"bucketName": "old-bucket"}}
    )
    created = deliver(bedrock, "Create", props, ssm=ssm, logical_id=logical_id)
    config = current(bedrock)
    assert "cloudWatchConfig" not in config
    assert config["imageDataDeliveryEnabled"] is True
    assert config["s3Config"]["bucketName"] != "old-bucket"
    # Removing the stage's foundation gives back the configuration it took over.
    deliver(bedrock, "Delete", props, ssm=ssm, PhysicalResourceId=created["PhysicalResourceId"], logical_id=logical_id)
    assert current(bedrock)["s3Config"] == {"bucketName": "old-bucket"}
    assert ssm.parameters == {}


# -- adoption gives back what it took ------------------------------------------------------------------
# The platform team's own configuration, in place before the estate's sandbox stage adopts it.
TEAM = {"textDataDeliveryEnabled": True, "s3Config": {"bucketName": "team-audit-logs", "keyPrefix": "bedrock"}}
PUT = "PutModelInvocationLoggingConfiguration"


def adopt(bedrock, ssm, estate, *, team=TEAM, logical_id=None):
    """The sandbox stage's first deployment creates its logging over the team's configuration."""
    found_id, props = properties(estate, "sandbox")
    assert props["AdoptExisting"] == "true"
    if team is not None:
        bedrock.put_model_invocation_logging_configuration(loggingConfig=team)
    created = deliver(bedrock, "Create", props, ssm=ssm, logical_id=logical_id or found_id)
    assert current(bedrock) == normalize(KIND.parse(props).logging_config)  # ours is in place
    return logical_id or found_id, props, created["PhysicalResourceId"]


def roll_back(bedrock, ssm, props, physical_id, logical_id):
    """The failed first deployment's rollback deletes the logging resource."""
    return deliver(
        bedrock,
        "Delete",
        props,
        ssm=ssm,
        status="ROLLBACK_IN_PROGRESS",
        PhysicalResourceId=physical_id,
        logical_id=logical_id,
    )


def saved(ssm, props):
    import json

    return json.loads(ssm.parameters[props["SavedConfigurationParameter"]]["Value"])


@pytest.mark.parametrize(
    "status",
    [
        "ROLLBACK_IN_PROGRESS",  # the stack's first deployment failed
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",  # the update that added logging failed
        "DELETE_IN_PROGRESS",  # the user deletes the stack
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",  # the user's update removed logging (enabled: false)
    ],
)
def test_the_configuration_adoption_replaced_is_given_back_whatever_removes_the_resource(
    bedrock, ssm, variant_estate, status
):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    assert saved(ssm, props)["previous"] == normalize(TEAM)
    deliver(bedrock, "Delete", props, ssm=ssm, status=status, PhysicalResourceId=physical_id, logical_id=logical_id)
    assert current(bedrock) == normalize(TEAM)
    assert ssm.parameters == {}  # the saved copy goes once it is given back


def test_the_saved_copy_survives_duplicate_creates_and_follows_updates(bedrock, ssm, variant_estate):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    # A duplicate Create finds ours in place: what the estate found is still what it gives back.
    deliver(bedrock, "Create", props, ssm=ssm, logical_id=logical_id)
    assert saved(ssm, props)["previous"] == normalize(TEAM)
    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["audioDataDeliveryEnabled"] = "true"
    deliver(
        bedrock,
        "Update",
        changed,
        ssm=ssm,
        logical_id=logical_id,
        PhysicalResourceId=physical_id,
        OldResourceProperties=props,
    )
    record = saved(ssm, props)
    assert record["previous"] == normalize(TEAM) and record["replacedWith"]["audioDataDeliveryEnabled"] is True
    deliver(bedrock, "Delete", changed, ssm=ssm, logical_id=logical_id, PhysicalResourceId=physical_id)
    assert current(bedrock) == normalize(TEAM) and ssm.parameters == {}


def test_adopting_where_nothing_was_configured_leaves_nothing_behind(bedrock, ssm, variant_estate):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate, team=None)
    assert saved(ssm, props)["previous"] is None  # there was nothing: the Delete deletes ours
    roll_back(bedrock, ssm, props, physical_id, logical_id)
    assert current(bedrock) is None and ssm.parameters == {}


def test_a_missing_saved_copy_never_deletes_the_configuration_blindly(bedrock, ssm, variant_estate, capsys):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    ours = current(bedrock)
    ssm.parameters.clear()  # deleted by hand
    deliver(bedrock, "Delete", props, ssm=ssm, PhysicalResourceId=physical_id, logical_id=logical_id)
    assert current(bedrock) == ours
    out = capsys.readouterr().out
    assert f"SSM parameter {props['SavedConfigurationParameter']}" in out and "is missing" in out
    assert "aws bedrock delete-model-invocation-logging-configuration --region us-west-2" in out


@pytest.mark.parametrize(
    "code, times",
    [
        pytest.param("AccessDeniedException", 1, id="denied"),
        pytest.param("ThrottlingException", 20, id="throttled-past-every-retry"),
    ],
)
def test_an_unreadable_saved_copy_leaves_everything_in_place(bedrock, ssm, variant_estate, capsys, code, times):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    ours = current(bedrock)
    ssm.fail_next("GetParameter", code, "injected", 400, times=times)
    roll_back(bedrock, ssm, props, physical_id, logical_id)
    assert current(bedrock) == ours and saved(ssm, props)["previous"] == normalize(TEAM)
    out = capsys.readouterr().out
    assert "could not be read from SSM parameter" in out
    assert f"aws ssm get-parameter --name {props['SavedConfigurationParameter']}" in out


def test_a_restore_bedrock_refuses_does_not_fail_the_rollback_and_says_how_to_finish(
    bedrock, ssm, variant_estate, capsys
):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    ours = current(bedrock)
    # The team's bucket no longer admits Bedrock (its policy changed, or it is gone): Bedrock refuses it.
    bedrock.fail_next(PUT, "ValidationException", "The S3 bucket team-audit-logs is not valid", 400)
    answer = roll_back(bedrock, ssm, props, physical_id, logical_id)
    assert answer["PhysicalResourceId"] == physical_id  # the rollback goes on
    assert current(bedrock) == ours  # never left with no logging
    assert saved(ssm, props)["previous"] == normalize(TEAM)  # kept for the operator
    out = capsys.readouterr().out
    assert "could not give back" in out and '"bucketName": "team-audit-logs"' in out
    assert "aws bedrock put-model-invocation-logging-configuration --region us-west-2 --logging-config" in out


def test_a_rollback_through_throttling_and_lost_answers_still_gives_back(bedrock, ssm, variant_estate):
    found_id, props = properties(variant_estate, "sandbox")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=TEAM)
    # The save is throttled, then written with its answer lost: the retried save is the same.
    ssm.fail_next("PutParameter", "ThrottlingException", "Rate exceeded", 400)
    ssm.lose_next("PutParameter")
    created = deliver(bedrock, "Create", props, ssm=ssm, logical_id=found_id)
    assert saved(ssm, props)["previous"] == normalize(TEAM)
    # The give-back is throttled, then put with its answer lost; the copy's deletion loses its answer too.
    real_put = bedrock.put_model_invocation_logging_configuration
    answers_lost = [1]

    def lost(**params):
        answer = real_put(**params)
        if answers_lost and answers_lost.pop():  # the first put's answer only
            raise bedrock._error(PUT, "InternalServerException", "answer lost", 500)
        return answer

    bedrock.fail_next(PUT, "ThrottlingException", "Rate exceeded", 400)
    bedrock.put_model_invocation_logging_configuration = lost
    ssm.lose_next("DeleteParameter")
    roll_back(bedrock, ssm, props, created["PhysicalResourceId"], found_id)
    assert current(bedrock) == normalize(TEAM) and ssm.parameters == {}


def test_a_create_that_cannot_save_changes_nothing(bedrock, ssm, variant_estate):
    found_id, props = properties(variant_estate, "sandbox")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=TEAM)
    ssm.fail_next("PutParameter", "AccessDeniedException", "not authorized to perform ssm:PutParameter", 400)
    with pytest.raises(EstateError, match="ssm:put_parameter"):
        deliver(bedrock, "Create", props, ssm=ssm, logical_id=found_id)
    assert current(bedrock) == normalize(TEAM)  # the team's configuration was not overwritten


def test_a_moved_resource_hands_over_what_the_estate_found(bedrock, ssm, variant_estate):
    # The logging resource's logical id changes (a construct moved): CloudFormation creates the new
    # one, then deletes the old one in the successful update's clean-up; both have the same physical id.
    old_id, props, physical_id = adopt(bedrock, ssm, variant_estate)
    deliver(bedrock, "Create", props, ssm=ssm, logical_id="MovedLogging")
    assert saved(ssm, props)["owner"]["logicalId"] == "MovedLogging"
    deliver(
        bedrock,
        "Delete",
        props,
        ssm=ssm,
        status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        PhysicalResourceId=physical_id,
        logical_id=old_id,
    )
    assert current(bedrock) == normalize(KIND.parse(props).logging_config)  # the new resource's, left in place
    deliver(bedrock, "Delete", props, ssm=ssm, PhysicalResourceId=physical_id, logical_id="MovedLogging")
    assert current(bedrock) == normalize(TEAM) and ssm.parameters == {}


# -- a resource whose logical id moves never takes the configuration from its successor ----------------
# The construct is renamed or moved (a refactor of the estate, or a library user renaming it): in
# one update CloudFormation creates the resource under its new logical id, then, in the update's
# clean-up, deletes the old one. Both have the same physical id: Bedrock keeps one configuration
# per account and Region. A failed update rolls back the other way: the new one is deleted while the
# old one stays.
MOVED = "MovedLogging"
# The two estates' logging: the default's dev stage sets the account's logging; the variant's sandbox
# adopts the team's (saves it, gives it back).
OWNERS = [
    pytest.param("default_estate", "dev", id="sets-its-own"),
    pytest.param("variant_estate", "sandbox", id="adopts-the-teams"),
]


@pytest.fixture
def cloudformation() -> FakeCloudFormation:
    """The stack CloudFormation holds both resources in, shared by every request of a test."""
    return FakeCloudFormation(REGION, ACCOUNT)


def one_stack(bedrock, ssm, cloudformation, fixture, stage, request):
    """The stage's logging properties, what the account's logging was before the estate (the team's,
    for the adopting stage), and ``send``: CloudFormation's requests for resources of one stack."""
    old_id, props = properties(request.getfixturevalue(fixture), stage)
    adopting = props["AdoptExisting"] == "true"
    if adopting:
        bedrock.put_model_invocation_logging_configuration(loggingConfig=TEAM)

    def send(request_type, logical_id, properties=props, *, status=None, **extra):
        return deliver(
            bedrock,
            request_type,
            properties,
            ssm=ssm,
            cloudformation=cloudformation,
            status=status,
            logical_id=logical_id,
            **extra,
        )

    return old_id, props, (normalize(TEAM) if adopting else None), send


@pytest.mark.parametrize(
    "fixture, stage, outcome",
    [
        pytest.param("default_estate", "dev", "cleaned-up", id="sets-its-own-cleaned-up"),
        pytest.param("default_estate", "dev", "rolled-back", id="sets-its-own-rolled-back"),
        pytest.param("variant_estate", "sandbox", "cleaned-up", id="adopts-the-teams-cleaned-up"),
        pytest.param("variant_estate", "sandbox", "rolled-back", id="adopts-the-teams-rolled-back"),
    ],
)
def test_a_moved_resource_never_takes_the_configuration_from_the_one_that_stays(
    bedrock, ssm, cloudformation, fixture, stage, outcome, request, capsys
):
    old_id, props, before, send = one_stack(bedrock, ssm, cloudformation, fixture, stage, request)
    ours = normalize(KIND.parse(props).logging_config)
    physical_id = send("Create", old_id)["PhysicalResourceId"]
    assert send("Create", MOVED, status="UPDATE_IN_PROGRESS")["PhysicalResourceId"] == physical_id
    if outcome == "cleaned-up":  # the update succeeded: CloudFormation deletes the old logical id
        going, staying, status = old_id, MOVED, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    else:  # another resource of the update failed: CloudFormation deletes what the update created
        going, staying, status = MOVED, old_id, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    send("Delete", going, status=status, PhysicalResourceId=physical_id)
    assert current(bedrock) == ours  # the staying resource's configuration, left in place
    assert f"left the invocation logging configuration to {staying}" in capsys.readouterr().out
    if before is not None:  # the saved copy is the staying resource's
        assert saved(ssm, props)["owner"]["logicalId"] == staying and saved(ssm, props)["previous"] == before
    # Removing the staying resource later ends the estate's hold: the account is as the estate found it.
    send("Delete", staying, status="DELETE_IN_PROGRESS", PhysicalResourceId=physical_id)
    assert current(bedrock) == before and ssm.parameters == {}


@pytest.mark.parametrize("outcome", ["succeeds", "rolls-back"])
def test_an_adopting_move_that_changes_the_configuration_ends_with_the_one_that_stays(
    bedrock, ssm, cloudformation, variant_estate, request, outcome
):
    old_id, props, before, send = one_stack(bedrock, ssm, cloudformation, "variant_estate", "sandbox", request)
    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["audioDataDeliveryEnabled"] = "true"
    physical_id = send("Create", old_id)["PhysicalResourceId"]
    send("Create", MOVED, changed, status="UPDATE_IN_PROGRESS")
    assert current(bedrock)["audioDataDeliveryEnabled"] is True
    if outcome == "succeeds":
        send("Delete", old_id, status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", PhysicalResourceId=physical_id)
        staying, staying_props = MOVED, changed
    else:
        send(
            "Delete",
            MOVED,
            changed,
            status="UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
            PhysicalResourceId=physical_id,
        )
        staying, staying_props = old_id, props
    # What the stack holds afterwards is what the account has, and that resource owns the saved copy.
    assert current(bedrock) == normalize(KIND.parse(staying_props).logging_config)
    record = saved(ssm, props)
    assert record["owner"]["logicalId"] == staying and record["previous"] == before
    assert record["replacedWith"] == current(bedrock)
    send("Delete", staying, staying_props, PhysicalResourceId=physical_id)
    assert current(bedrock) == before and ssm.parameters == {}


def test_an_adopting_move_whose_new_configuration_bedrock_refuses_keeps_the_teams_through_the_next_try(
    bedrock, ssm, cloudformation, variant_estate, request
):
    """The moved resource saves its hand-over, then Bedrock refuses its configuration: the update
    rolls back with the old configuration still in place. The saved copy must go back to naming
    that one as the estate's, or the next try of the same move takes the estate's own configuration
    for the team's and the team's is lost for good."""
    old_id, props, before, send = one_stack(bedrock, ssm, cloudformation, "variant_estate", "sandbox", request)
    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["audioDataDeliveryEnabled"] = "true"
    physical_id = send("Create", old_id)["PhysicalResourceId"]
    ours = current(bedrock)
    bedrock.fail_next(PUT, "ValidationException", "The S3 bucket is not valid", 400)
    with pytest.raises(Exception, match="not valid"):
        send("Create", MOVED, changed, status="UPDATE_IN_PROGRESS")
    assert current(bedrock) == ours
    send(
        "Delete", MOVED, changed, status="UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", PhysicalResourceId=physical_id
    )
    record = saved(ssm, props)
    assert record["owner"]["logicalId"] == old_id and record["replacedWith"] == ours and record["previous"] == before
    # The cause fixed, the same move again; then the stack goes: the team's configuration comes back.
    send("Create", MOVED, changed, status="UPDATE_IN_PROGRESS")
    send("Delete", old_id, status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", PhysicalResourceId=physical_id)
    send("Delete", MOVED, changed, PhysicalResourceId=physical_id)
    assert current(bedrock) == before and ssm.parameters == {}


def test_a_move_that_also_changes_a_stages_own_logging_is_refused_saying_so(
    bedrock, ssm, cloudformation, default_estate, request
):
    """A stage that sets its own logging saves no copy, so a rolled-back move could not put a changed
    configuration back: the moved resource refuses the change, and says it is a move, not somebody
    else's configuration."""
    old_id, props, _, send = one_stack(bedrock, ssm, cloudformation, "default_estate", "dev", request)
    changed = copy.deepcopy(props)
    changed["LoggingConfig"]["audioDataDeliveryEnabled"] = "true"
    send("Create", old_id)
    ours = current(bedrock)
    with pytest.raises(Exception) as refused:
        send("Create", MOVED, changed, status="UPDATE_IN_PROGRESS")
    assert f"is held by {old_id} of this stack, this construct under its old logical id" in str(refused.value)
    assert "Deploy the move with the logging as it is first, then change the logging" in str(refused.value)
    assert "this estate did not set it" not in str(refused.value)
    assert current(bedrock) == ours


@pytest.mark.parametrize("fixture, stage", OWNERS)
def test_a_stack_deleting_two_resources_of_one_configuration_acts_once_the_last_goes(
    bedrock, ssm, cloudformation, fixture, stage, request
):
    # Two logical ids of one configuration in one stack at once: a library app that makes two
    # InvocationLogging constructs in a stack. Deleting the stack deletes one, then the other.
    first, props, before, send = one_stack(bedrock, ssm, cloudformation, fixture, stage, request)
    ours = normalize(KIND.parse(props).logging_config)
    physical_id = send("Create", first)["PhysicalResourceId"]
    send("Create", MOVED)
    send("Delete", first, PhysicalResourceId=physical_id)
    assert current(bedrock) == ours  # the second still stands (CREATE_COMPLETE)
    send("Delete", MOVED, PhysicalResourceId=physical_id)  # the first is DELETE_COMPLETE now
    assert current(bedrock) == before and ssm.parameters == {}


@pytest.mark.parametrize(
    "fixture, stage, code, times",
    [
        pytest.param("default_estate", "dev", "AccessDenied", 1, id="sets-its-own-denied"),
        pytest.param("default_estate", "dev", "Throttling", 20, id="sets-its-own-throttled-past-every-retry"),
        pytest.param("variant_estate", "sandbox", "AccessDenied", 1, id="adopts-the-teams-denied"),
        pytest.param("variant_estate", "sandbox", "Throttling", 20, id="adopts-the-teams-throttled-past-every-retry"),
    ],
)
def test_a_stack_whose_resources_cannot_be_read_keeps_the_configuration(
    bedrock, ssm, cloudformation, fixture, stage, request, capsys, code, times
):
    old_id, props, before, send = one_stack(bedrock, ssm, cloudformation, fixture, stage, request)
    ours = normalize(KIND.parse(props).logging_config)
    physical_id = send("Create", old_id)["PhysicalResourceId"]
    kept = dict(ssm.parameters)
    cloudformation.fail_next("ListStackResources", code, "injected", 400, times=times)
    answer = send("Delete", old_id, status="DELETE_IN_PROGRESS", PhysicalResourceId=physical_id)
    assert answer["PhysicalResourceId"] == physical_id  # the Delete itself succeeds: nothing hangs
    assert current(bedrock) == ours and ssm.parameters == kept  # nothing removed, nothing given back
    out = capsys.readouterr().out
    assert '"level": "ERROR"' in out and "could not be read" in out
    assert (
        f"aws cloudformation list-stack-resources --stack-name {STACK_OF[props['SavedConfigurationParameter']]}" in out
    )
    assert "aws bedrock delete-model-invocation-logging-configuration --region" in out


def test_another_stacks_resource_is_not_its_successor(bedrock, ssm, cloudformation, default_estate, capsys):
    # Two stacks setting one account and Region's logging: the estate refuses two stages that both
    # log in one account and Region (tests/spec/test_spec_validation.py); a library app, or another
    # tool's stack, could still hold a resource on it. The guard reads only its own stack (its grant
    # names exactly that stack); the configuration another stack put in place is left to it by the
    # check that the configuration in place is still this resource's.
    logical_id, props = properties(default_estate, "dev")
    own = default_estate.stack("dev/Foundation").stack_name
    physical_id = deliver(
        bedrock, "Create", props, ssm=ssm, cloudformation=cloudformation, stack=own, logical_id=logical_id
    )["PhysicalResourceId"]
    # Another stack's resource, on the same physical id, writes its own configuration.
    cloudformation.hold("team-logging", "TeamLogging", RESOURCE_TYPE, physical_id, "CREATE_COMPLETE")
    bedrock.put_model_invocation_logging_configuration(loggingConfig=TEAM)
    deliver(
        bedrock,
        "Delete",
        props,
        ssm=ssm,
        cloudformation=cloudformation,
        stack=own,
        logical_id=logical_id,
        PhysicalResourceId=physical_id,
    )
    assert current(bedrock) == normalize(TEAM)
    assert "left the invocation logging configuration to" not in capsys.readouterr().out  # not a successor
    listed = [p["StackName"] for op, p in cloudformation.calls if op == "ListStackResources"]
    assert listed == [cloudformation.stack_id(own)]


# -- giving back a team's CloudWatch delivery ----------------------------------------------------------
# The team's configuration delivers to CloudWatch Logs through its own role, of the stage's account
# (the variant's sandbox, 333333333333, where the proof moves the fake's requests). Bedrock is handed
# that role when the configuration is put back, so the handler must be allowed to pass it.
TEAM_ROLE = "arn:aws:iam::333333333333:role/team-bedrock-logs"
TEAM_CLOUDWATCH = {
    "textDataDeliveryEnabled": True,
    "cloudWatchConfig": {"logGroupName": "/team/bedrock-invocations", "roleArn": TEAM_ROLE},
}


def test_a_teams_cloudwatch_delivery_is_given_back_through_the_role_the_spec_names(
    bedrock, ssm, variant_estate, capsys
):
    logical_id, props, physical_id = adopt(bedrock, ssm, variant_estate, team=TEAM_CLOUDWATCH)
    assert props["AdoptedDeliveryRoleArn"] == TEAM_ROLE  # the spec's invocationLogging.adoptedDeliveryRoleArn
    assert "may not pass to Bedrock" not in capsys.readouterr().out  # named: nothing to warn about
    deliver(
        bedrock,
        "Delete",
        props,
        ssm=ssm,
        status="DELETE_IN_PROGRESS",
        PhysicalResourceId=physical_id,
        logical_id=logical_id,
    )
    assert current(bedrock) == normalize(TEAM_CLOUDWATCH) and ssm.parameters == {}
    # The put that gave it back handed Bedrock the team's role: the permission proof judges its
    # iam:PassRole (to bedrock.amazonaws.com only) against the handler's synthesized policies.
    puts = [p["loggingConfig"] for op, p in bedrock.calls if op == PUT]
    assert puts[-1]["cloudWatchConfig"]["roleArn"] == TEAM_ROLE


def test_adopting_through_a_role_the_spec_does_not_name_warns_with_the_line_to_add(
    bedrock, ssm, variant_estate, capsys
):
    other = "arn:aws:iam::333333333333:role/another-team-logs"
    team = {**TEAM_CLOUDWATCH, "cloudWatchConfig": {**TEAM_CLOUDWATCH["cloudWatchConfig"], "roleArn": other}}
    adopt(bedrock, ssm, variant_estate, team=team)  # adopted all the same: the estate's logging is in place
    warnings = [line for line in capsys.readouterr().out.splitlines() if '"level": "WARNING"' in line]
    [warning] = [line for line in warnings if "may not pass to Bedrock" in line]
    assert f"through role {other}" in warning and f"`adoptedDeliveryRoleArn: {other}`" in warning
