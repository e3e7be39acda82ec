"""ServingMonitoring: a CloudWatch dashboard and alarms for the models a stage serves, or imports."""

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
    """Serving entry (or import) name, used in widget titles and alarm names."""

    model_id: str
    """What applications invoke (provisioned model, deployment or imported model ARN): Bedrock's ModelId dimension."""

    alarm_label: str | None = None
    """What the model's alarms are named after, following ``name_prefix`` (default: ``label``). Give
    labels that cannot meet another set's: alarm names are unique in the account and Region."""

    imported: bool = False
    """An imported model (Custom Model Import): also graph ``ModelCopy``, the copies Bedrock runs and
    bills by; it has no capacity of its own, so a throttle is not said to mean too little of it."""


@dataclass(frozen=True, kw_only=True)
class ServingMonitoringProps:
    name_prefix: str
    """Dashboard and alarm names start with it, e.g. ``bedrock-estate-dev-`` (the topic trusts it)."""

    models: list[MonitoredModel]
    topic: sns.ITopic
    """Where alarms go: the estate's notification topic."""

    dashboard: str = "serving"
    """The dashboard's name after ``name_prefix``: ``bedrock-estate-dev-serving``."""

    note: str | None = None
    """Markdown shown above the graphs, e.g. what the graphs rest on that is not documented."""

    alarm_note: str | None = None
    """Said after every alarm's own description (an alarm description is at most 1024 characters)."""

    period: Duration = Duration.minutes(5)
    client_error_threshold: int = 10
    """Client errors (4xx) in one period before alarming. Default 10: a few bad requests are normal."""


class ServingMonitoring(Construct):
    """Per model: invocations, latency, throttles, client and server errors, token counts (and, for
    an imported model, its running copies) on one dashboard; alarms on throttling and on server and
    client errors to the topic."""

    def __init__(self, scope: Construct, id: str, props: ServingMonitoringProps):
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []
        action = actions.SnsAction(props.topic)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{props.name_prefix}{props.dashboard}")
        if props.note:
            self.dashboard.add_widgets(cloudwatch.TextWidget(markdown=props.note, width=24, height=4))

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
            tokens = cloudwatch.GraphWidget(
                title=f"{model.label}: tokens",
                left=[sums["InputTokenCount"], sums["OutputTokenCount"]],
                width=12 if model.imported else 24,
            )
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
                tokens,
                *(
                    [
                        cloudwatch.GraphWidget(
                            title=f"{model.label}: running model copies (billed per copy)",
                            left=[metric(model, "ModelCopy", "Maximum")],
                            width=12,
                        )
                    ]
                    if model.imported
                    else []
                ),
            )
            label = model.alarm_label or model.label
            throttled = "requests were throttled" + ("" if model.imported else ": the served capacity is too small")
            for suffix, name, threshold, what in (
                ("throttles", "InvocationThrottles", 1, throttled),
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
                    f"{label}-{suffix}",
                    alarm_name=f"{props.name_prefix}{label}-{suffix}",
                    alarm_description=f"{model.label}: {what}" + (f". {props.alarm_note}" if props.alarm_note else ""),
                    metric=sums[name],
                    threshold=threshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
                self.alarms.append(alarm)
