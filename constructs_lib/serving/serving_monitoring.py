"""ServingMonitoring: a CloudWatch dashboard and alarms for the models a stage serves."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

NAMESPACE = "AWS/Bedrock"


@dataclass(frozen=True, kw_only=True)
class MonitoredModel:
    label: str
    """Serving entry name, used in widget titles and alarm names."""

    model_id: str
    """What applications invoke (provisioned model or deployment ARN): Bedrock's ModelId dimension."""


@dataclass(frozen=True, kw_only=True)
class ServingMonitoringProps:
    name_prefix: str
    """Dashboard and alarm names start with it, e.g. ``bedrock-estate-dev-`` (the topic trusts it)."""

    models: list[MonitoredModel]
    topic: sns.ITopic
    """Where alarms go: the estate's notification topic."""

    period: Duration = Duration.minutes(5)
    client_error_threshold: int = 10
    """Client errors (4xx) in one period before alarming. Default 10: a few bad requests are normal."""


class ServingMonitoring(Construct):
    """Per served model: invocations, latency, throttles, client and server errors, token counts on
    one dashboard; alarms on throttling and on server and client errors to the topic."""

    def __init__(self, scope: Construct, id: str, props: ServingMonitoringProps):
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []
        action = actions.SnsAction(props.topic)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{props.name_prefix}serving")

        def metric(model: MonitoredModel, name: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"ModelId": model.model_id},
                statistic=statistic,
                period=props.period,
            )

        for model in props.models:
            # One metric object per series, shared by its widget and its alarm: each is a construct
            # call into the CDK, and a stage serving 30 models draws 240 of them.
            sums = {
                name: metric(model, name)
                for name in (
                    "Invocations",
                    "InvocationThrottles",
                    "InvocationClientErrors",
                    "InvocationServerErrors",
                    "InputTokenCount",
                    "OutputTokenCount",
                )
            }
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(title=f"{model.label}: invocations", left=[sums["Invocations"]], width=8),
                cloudwatch.GraphWidget(
                    title=f"{model.label}: latency (ms)",
                    left=[metric(model, "InvocationLatency", "p50"), metric(model, "InvocationLatency", "p90")],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{model.label}: throttles and errors",
                    left=[sums["InvocationThrottles"], sums["InvocationClientErrors"], sums["InvocationServerErrors"]],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title=f"{model.label}: tokens", left=[sums["InputTokenCount"], sums["OutputTokenCount"]], width=24
                ),
            )
            for suffix, name, threshold, what in (
                ("throttles", "InvocationThrottles", 1, "requests were throttled: the served capacity is too small"),
                ("server-errors", "InvocationServerErrors", 1, "Bedrock answered with server errors"),
                (
                    "client-errors",
                    "InvocationClientErrors",
                    props.client_error_threshold,
                    "callers sent requests Bedrock rejected",
                ),
            ):
                alarm = cloudwatch.Alarm(
                    self,
                    f"{model.label}-{suffix}",
                    alarm_name=f"{props.name_prefix}{model.label}-{suffix}",
                    alarm_description=f"{model.label}: {what}",
                    metric=sums[name],
                    threshold=threshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
                self.alarms.append(alarm)
