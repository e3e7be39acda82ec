"""JobAccess and the job-event rules on their own, in a plain CDK stack."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from constructs_lib.customization.job_access import (
    JobAccess,
    JobAccessProps,
    dataset_read,
    invocation_logs_read,
    teacher_invoke,
)
from constructs_lib.customization.job_events import (
    JOB_STATE_CHANGE,
    JobCompletionForwarding,
    JobCompletionForwardingProps,
    JobStateNotifications,
    JobStateNotificationsProps,
)
from estate_runtime.catalog import load_catalog


def stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S", env=cdk.Environment(account="123456789012", region="us-east-1"))


def test_job_access_grants_each_need_scoped_and_none_for_an_on_demand_teacher():
    s = stack()
    role = iam.Role(s, "Role", assumed_by=iam.ServicePrincipal("bedrock.amazonaws.com"))
    statements = [
        *dataset_read(s, "s3://data-bucket/train.jsonl", "arn:aws:kms:us-east-1:123456789012:key/abcd"),
        *invocation_logs_read(s, "s3://log-bucket/logs/"),
        *teacher_invoke(s, "us.amazon.nova-premier-v1:0", load_catalog()),
        *teacher_invoke(s, "amazon.nova-pro-v1:0", load_catalog()),  # on demand: no grant
    ]
    JobAccess(s, "JobAccess", JobAccessProps(role=role, statements=statements, description="jobs"))
    [policy] = assertions.Template.from_stack(s).find_resources("AWS::IAM::ManagedPolicy").values()
    granted = {(str(st["Action"]), str(st["Resource"])) for st in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert len(granted) == 5
    # The dataset's bucket is listed only at the object (at the bucket's root: no folder).
    [listing] = [
        st
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st["Action"] == "s3:ListBucket" and "data-bucket" in str(st["Resource"])
    ]
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": ["train.jsonl"]}}
    assert any("kms:Decrypt" in action and "abcd" in resource for action, resource in granted)
    invoke = next(resource for action, resource in granted if "InvokeModel" in action)
    assert "inference-profile/us.amazon.nova-premier-v1:0" in invoke
    assert "foundation-model/amazon.nova-premier-v1:0" in invoke and "us-west-2" in invoke  # the regions it routes to
    # Its wildcard acknowledgements are checked where cdk-nag runs: tests/gates/test_cdk_nag.py.


def test_notifications_match_only_bedrock_job_events_of_the_prefix_and_name_the_job():
    s = stack()
    topic = sns.Topic.from_topic_arn(s, "Topic", "arn:aws:sns:us-east-1:123456789012:acme-dev-topic")
    JobStateNotifications(
        s, "Jobs", JobStateNotificationsProps(topic=topic, job_name_prefix="acme-dev-", label="acme-dev")
    )
    [rule] = assertions.Template.from_stack(s).find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.bedrock"],
        "detail-type": [JOB_STATE_CHANGE],
        "detail": {"jobName": [{"prefix": "acme-dev-"}]},
    }
    assert "acme-dev" in str(rule["Properties"]["Targets"][0]["InputTransformer"])


def test_forwarding_sends_completed_jobs_only_to_the_named_bus_with_a_role_for_this_account():
    s = stack()
    JobCompletionForwarding(
        s,
        "Forward",
        JobCompletionForwardingProps(
            account="999999999999", region="us-west-2", job_name_prefix="acme-dev-", label="acme-dev"
        ),
    )
    template = assertions.Template.from_stack(s)
    [rule] = template.find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["detail"] == {
        "jobStatus": ["Completed"],
        "jobName": [{"prefix": "acme-dev-"}],
    }
    assert "arn:" in str(rule["Properties"]["Targets"][0]["Arn"]) and "999999999999:event-bus/default" in str(
        rule["Properties"]["Targets"][0]["Arn"]
    )
    [role] = template.find_resources("AWS::IAM::Role").values()
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    [policy] = template.find_resources("AWS::IAM::ManagedPolicy").values()
    [grant] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Action"] == "events:PutEvents" and "999999999999:event-bus/default" in str(grant["Resource"])
