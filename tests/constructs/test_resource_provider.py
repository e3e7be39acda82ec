"""EstateProvider: one provider per stack and resource type, synchronous or with a waiter,
clean under every cdk-nag pack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from constructs_lib import EstateKey, EstateKeyProps, EstateProvider, EstateProviderProps, add_nag_packs

from ..conftest import cdk_context


def provider_props(key, **overrides):
    return EstateProviderProps(
        resource_type="Custom::Example", log_group_prefix="/example-dev/", log_key=key, **overrides
    )


def build(tmp_path, *, asynchronous: bool, resources: int):
    app = cdk.App(context=cdk_context(), outdir=str(tmp_path))
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="us-west-2"))
    key = EstateKey(stack, "Key", EstateKeyProps(alias="example-dev/data", description="test"))
    key.grant_cloudwatch_logs("/example-dev/")
    for index in range(resources):
        provider = EstateProvider.for_type(stack, "Example", provider_props(key, asynchronous=asynchronous))
        provider.add_to_handler_policy(iam.PolicyStatement(actions=["s3:GetBucketTagging"], resources=["arn:aws:s3:::b"]))
        cdk.CustomResource(stack, f"Thing{index}", service_token=provider.service_token, resource_type="Custom::Example")
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding
    return assertions.Template.from_stack(stack)


def test_many_resources_share_one_provider(tmp_path):
    one = build(tmp_path / "one", asynchronous=False, resources=1)
    many = build(tmp_path / "many", asynchronous=False, resources=25)
    assert len(many.find_resources("AWS::Lambda::Function")) == len(one.find_resources("AWS::Lambda::Function")) == 2
    assert len(many.find_resources("Custom::Example")) == 25


def test_asynchronous_provider_has_a_logged_waiter_and_is_nag_clean(tmp_path):
    template = build(tmp_path, asynchronous=True, resources=3)
    functions = template.find_resources("AWS::Lambda::Function")
    handlers = sorted(f["Properties"]["Handler"] for f in functions.values() if f["Properties"]["Handler"].startswith("estate_runtime"))
    assert handlers == ["estate_runtime.entry.is_complete", "estate_runtime.entry.on_event"]
    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    groups = [g["Properties"]["LogGroupName"] for g in template.find_resources("AWS::Logs::LogGroup").values()]
    assert sorted(groups) == [
        "/example-dev/custom-resources/ExampleProvider/framework",
        "/example-dev/custom-resources/ExampleProvider/handler",
        "/example-dev/custom-resources/ExampleProvider/waiter",
    ]


def test_handler_functions_wait_for_their_managed_policy(tmp_path):
    template = build(tmp_path, asynchronous=False, resources=1)
    [handler] = [
        f for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "estate_runtime.entry.on_event"
    ]  # fmt: skip
    assert any(d.startswith("ExampleProviderHandlerPolicy") for d in handler["DependsOn"])
