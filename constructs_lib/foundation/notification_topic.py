"""NotificationTopic: the estate's encrypted SNS topic for job state changes (and, later, alarms)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from .estate_key import EstateKey


@dataclass(frozen=True, kw_only=True)
class NotificationTopicProps:
    key: EstateKey
    """Encrypts messages at rest. Give the topic a key of its own: EventBridge gets its use with no
    source conditions (SNS's KMS requests for EventBridge deliveries carry none; the topic policy
    limits publishing to the allowed rules), so the key should protect nothing but these messages."""

    event_rule_prefix: str
    """Only EventBridge rules whose names start with this may publish, e.g. ``bedrock-estate-dev-``.
    Granted by name so stacks deployed later never have to modify this topic or its key."""

    alarm_prefix: str | None = None
    """CloudWatch alarms whose names start with this may publish too. Default: none."""

    emails: list[str] = field(default_factory=list)
    """Email subscribers (each confirms by email). Default none."""

    display_name: str | None = None

    topic_name: str | None = None
    """Explicit name, so stacks deployed later can address the topic by a literal ARN. Default: generated."""


class NotificationTopic(sns.Topic):
    """An SNS topic: KMS-encrypted, TLS-only, publishable by this account's matching EventBridge rules."""

    def __init__(self, scope: Construct, id: str, props: NotificationTopicProps):
        super().__init__(
            scope,
            id,
            master_key=props.key,
            enforce_ssl=True,
            display_name=props.display_name,
            topic_name=props.topic_name,
        )
        stack = Stack.of(self)
        rule_arns = stack.format_arn(service="events", resource="rule", resource_name=f"{props.event_rule_prefix}*")
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeRulesOfThisEstate",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": rule_arns},
                },
            )
        )
        # The SNS developer guide ("Enable compatibility between event sources from AWS services and
        # encrypted topics", read 2026-11-23): aws:SourceAccount and aws:SourceArn in a KMS key policy
        # are "not supported for EventBridge-to-encrypted topics": SNS's KMS call for an EventBridge
        # delivery carries neither, so a conditioned statement would drop every notification. The
        # confused-deputy conditions live in the topic policy above, where EventBridge sets them.
        props.key.grant_service_without_source(
            "EventBridgeToEstateTopic",
            "events",
            ["kms:GenerateDataKey*", "kms:Decrypt"],
            "SNS's KMS requests for EventBridge deliveries carry no aws:SourceAccount or aws:SourceArn",
        )
        if props.alarm_prefix:
            alarm_arns = stack.format_arn(
                service="cloudwatch",
                resource="alarm",
                resource_name=f"{props.alarm_prefix}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            self.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmsOfThisEstate",
                    principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                    actions=["sns:Publish"],
                    resources=[self.topic_arn],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": alarm_arns},
                    },
                )
            )
            props.key.grant_service(
                "CloudWatchAlarmsToEstateTopic", "cloudwatch", ["kms:GenerateDataKey*", "kms:Decrypt"], alarm_arns
            )
        for address in props.emails:
            subscribe_email(self, address)
        self.props = props


def subscribe_email(topic: sns.ITopic, address: str) -> sns.Subscription:
    """Subscribe a person's address to ``topic`` (they confirm by email), acknowledging the one
    finding every email subscription draws."""
    from ..compliance.nag import acknowledge

    subscription = topic.add_subscription(subscriptions.EmailSubscription(address))
    acknowledge(
        subscription.node.default_child,
        "Serverless-SNSRedrivePolicy",
        "An email subscription for people: a message SNS cannot hand to the address (removed, or refusing "
        "mail) would wait in a dead-letter queue nobody reads. What the topic announces stays on record "
        "where it happens: job status in Bedrock, alarm history in CloudWatch, the pipeline's executions.",
    )
    return subscription
