"""EstateProvider: one provider per stack serving every kind in it, a policy per kind, clean under
every cdk-nag pack."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from constructs_lib import EstateKey, EstateKeyProps, EstateProvider, ProviderLogging, add_nag_packs
from estate_runtime.kinds import Kind, Properties
from estate_runtime.kinds.base import prop

from ..conftest import cdk_context


@dataclass(frozen=True, kw_only=True)
class ExampleProperties(Properties):
    name: str = prop("Name")


def example_kind(type_name: str) -> Kind[ExampleProperties]:
    return Kind(
        type_name=type_name,
        handler=".kinds.example.handler:Example",
        properties=ExampleProperties,
        operations={"s3": ("get_bucket_tagging",)},
    )


def build(tmp_path, *, kinds: list[str], resources: int):
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="example-dev/data", description="test"))
    key.grant_cloudwatch_logs("/example-dev/")
    logging = ProviderLogging(log_group_prefix="/example-dev/", log_key=key)
    for kind in kinds:
        for index in range(resources):
            provider = EstateProvider.of(stack, logging)
            grants = provider.serve(example_kind(kind))
            grants.allow_calls("get_bucket_tagging", resources=[f"arn:aws:s3:::{kind.lower()[8:]}"])
            grants.resource(stack, f"{kind[8:]}{index}", ExampleProperties(name=f"{kind[8:]}{index}"))
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding
    return assertions.Template.from_stack(stack)


def test_many_resources_of_many_kinds_share_one_provider(tmp_path):
    one = build(tmp_path / "one", kinds=["Custom::Example"], resources=1)
    many = build(tmp_path / "many", kinds=["Custom::Example", "Custom::Other", "Custom::Third"], resources=10)
    functions = many.find_resources("AWS::Lambda::Function")
    # on_event and is_complete, and the framework's onEvent, isComplete and onTimeout
    assert len(functions) == len(one.find_resources("AWS::Lambda::Function")) == 5
    assert len(many.find_resources("AWS::StepFunctions::StateMachine")) == 1
    variables = [f["Properties"].get("Environment", {}).get("Variables", {}) for f in functions.values()]
    served = {v["ESTATE_RESOURCE_TYPES"] for v in variables if "ESTATE_RESOURCE_TYPES" in v}
    assert served == {"Custom::Example,Custom::Other,Custom::Third"}


def test_each_kind_gets_its_own_policy_on_the_one_role(tmp_path):
    template = build(tmp_path, kinds=["Custom::Example", "Custom::Other"], resources=2)
    policies = {p["Properties"]["Description"]: p for p in template.find_resources("AWS::IAM::ManagedPolicy").values()}
    assert "Permissions of the Custom::Example custom-resource handler" in policies
    assert "Permissions of the Custom::Other custom-resource handler" in policies
    [role] = template.find_resources(
        "AWS::IAM::Role",
        {"Properties": {"Description": "Runs the bedrock-estate custom-resource handlers of this stack"}},
    )
    assert all(p["Properties"]["Roles"] == [{"Ref": role}] for p in policies.values())


def test_the_waiter_is_logged_without_execution_data(tmp_path):
    template = build(tmp_path, kinds=["Custom::Example"], resources=3)
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    logging = machine["Properties"]["LoggingConfiguration"]
    assert logging["Level"] == "ALL" and logging["IncludeExecutionData"] is False  # no pre-signed ResponseURL in logs
    groups = [g["Properties"]["LogGroupName"] for g in template.find_resources("AWS::Logs::LogGroup").values()]
    assert sorted(groups) == [
        "/example-dev/custom-resources/EstateProvider/framework",
        "/example-dev/custom-resources/EstateProvider/handler",
        "/example-dev/custom-resources/EstateProvider/waiter",
    ]


def test_the_frameworks_log_group_keeps_its_requests_a_day_under_the_estates_key(tmp_path):
    """The framework's functions log CloudFormation's pre-signed ResponseURL
    (tests/lambdas/test_real_framework.py shows it): that log group gets the estate's key and a
    day's retention; the handlers' and the waiter's keep the logging's own."""
    template = build(tmp_path, kinds=["Custom::Example"], resources=1)
    groups = {
        g["Properties"]["LogGroupName"].rsplit("/", 1)[1]: g
        for g in template.find_resources("AWS::Logs::LogGroup").values()
    }
    assert groups["framework"]["Properties"]["RetentionInDays"] == 1
    assert (
        groups["handler"]["Properties"]["RetentionInDays"] == groups["waiter"]["Properties"]["RetentionInDays"] == 365
    )
    keys = {json.dumps(g["Properties"]["KmsKeyId"]) for g in groups.values()}
    assert len(keys) == 1 and "Key" in keys.pop()  # the one key the logging names


def test_handler_functions_wait_for_every_policy(tmp_path):
    template = build(tmp_path, kinds=["Custom::Example", "Custom::Other"], resources=1)
    [handler] = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "estate_runtime.entry.on_event"
    ]
    policies = template.find_resources("AWS::IAM::ManagedPolicy")
    assert set(policies) <= set(handler["DependsOn"])


def test_a_second_caller_with_other_logging_is_refused():
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="example-dev/data", description="test"))
    EstateProvider.of(stack, ProviderLogging(log_group_prefix="/example-dev/", log_key=key))
    with pytest.raises(ValueError, match="must pass the same ProviderLogging"):
        EstateProvider.of(stack, ProviderLogging(log_group_prefix="/other/", log_key=key))


def test_a_kinds_resources_carry_its_type_and_its_serialized_properties():
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="example-dev/data", description="test"))
    provider = EstateProvider.of(stack, ProviderLogging(log_group_prefix="/example-dev/", log_key=key))
    grants = provider.serve(example_kind("Custom::Example"))
    grants.allow_calls("get_bucket_tagging", resources=["arn:aws:s3:::example"])
    grants.resource(stack, "Example", ExampleProperties(name="first"))
    [(_, rendered)] = assertions.Template.from_stack(stack).find_resources("Custom::Example").items()
    assert rendered["Properties"] == {"ServiceToken": stack.resolve(provider.service_token), "Name": "first"}

    @dataclass(frozen=True, kw_only=True)
    class OtherProperties(Properties):
        name: str = prop("Name")

    with pytest.raises(TypeError, match="Custom::Example takes ExampleProperties, not OtherProperties"):
        grants.resource(stack, "Wrong", OtherProperties(name="x"))


def test_a_construct_grants_its_kinds_calls_never_actions_it_spells():
    stack = cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="example-dev/data", description="test"))
    grants = EstateProvider.of(stack, ProviderLogging(log_group_prefix="/example-dev/", log_key=key)).serve(
        example_kind("Custom::Example")
    )
    with pytest.raises(ValueError, match="declares no call 'get_object'; it calls s3.get_bucket_tagging"):
        grants.allow_calls("get_object", resources=["arn:aws:s3:::example/*"])
    assert not hasattr(grants, "add") and not hasattr(grants, "allow")  # no way around the contract
