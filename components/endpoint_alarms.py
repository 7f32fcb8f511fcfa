"""EndpointAlarms: the 5xx-error and latency alarms of one SageMaker endpoint variant (the rollback triggers)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
_PERIOD_SECONDS = 60
_MICROSECONDS_PER_MS = 1000  # ModelLatency is reported in microseconds


@dataclass
class EndpointAlarmsArgs:
    """Inputs of EndpointAlarms. Omitted fields take the defaults documented here."""

    endpoint_name: str
    """Name of the endpoint watched. A plain string, not the endpoint's output: the endpoint's deployment
    config lists these alarms, so depending on the endpoint would be a cycle."""
    alarm_topic_arn: pulumi.Input[str]
    """SNS topic notified when an alarm fires and when it clears."""
    variant_name: str = "AllTraffic"
    """Production variant watched."""
    errors_per_minute: int = 5
    """Invocation5XXErrors per minute at which the error alarm fires."""
    latency_p99_ms: int = 1000
    """p99 ModelLatency, in milliseconds, at which the latency alarm fires."""
    evaluation_minutes: int = 2
    """Consecutive breaching minutes before an alarm fires; fewer means faster rollbacks and more false ones."""


class EndpointAlarms(pulumi.ComponentResource):
    """Two alarms on an endpoint variant, with actions, that SageMaker deployments roll back on."""

    errors: aws.cloudwatch.MetricAlarm
    """Fires on server errors (Invocation5XXErrors)."""
    latency: aws.cloudwatch.MetricAlarm
    """Fires on slow predictions (p99 ModelLatency)."""
    alarm_names: pulumi.Output[list[str]]
    """Names of both alarms, for the endpoint's auto-rollback configuration."""

    def __init__(self, name: str, args: EndpointAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:serving:EndpointAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.errors = self._alarm(
            f"{name}-errors", args, child,
            alarm_name=f"{args.endpoint_name}-invocation-5xx-errors",
            description=f"{args.endpoint_name}: the model container returns server errors",
            metric_name="Invocation5XXErrors", statistic="Sum", threshold=args.errors_per_minute,
        )
        self.latency = self._alarm(
            f"{name}-latency", args, child,
            alarm_name=f"{args.endpoint_name}-model-latency-p99",
            description=f"{args.endpoint_name}: p99 model latency above {args.latency_p99_ms} ms",
            metric_name="ModelLatency", extended_statistic="p99",
            threshold=args.latency_p99_ms * _MICROSECONDS_PER_MS,
        )
        self.alarm_names = pulumi.Output.all(self.errors.name, self.latency.name)
        self.register_outputs({"alarm_names": self.alarm_names})

    @staticmethod
    def _alarm(
        resource_name: str,
        args: EndpointAlarmsArgs,
        opts: pulumi.ResourceOptions,
        *,
        alarm_name: str,
        description: str,
        metric_name: str,
        threshold: float,
        statistic: str | None = None,
        extended_statistic: str | None = None,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            resource_name,
            # Fixed, readable names: operators find them by endpoint, and the endpoint lists them by name.
            name=alarm_name,
            alarm_description=description,
            namespace=SAGEMAKER_NAMESPACE,
            metric_name=metric_name,
            dimensions={"EndpointName": args.endpoint_name, "VariantName": args.variant_name},
            statistic=statistic,
            extended_statistic=extended_statistic,
            period=_PERIOD_SECONDS,
            evaluation_periods=args.evaluation_minutes,
            datapoints_to_alarm=args.evaluation_minutes,
            threshold=threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            # No traffic is not an outage; an idle endpoint must not roll back or page anyone.
            treat_missing_data="notBreaching",
            # A p99 over a handful of requests is noise; wait for enough samples.
            evaluate_low_sample_count_percentiles="ignore" if extended_statistic else None,
            actions_enabled=True,
            alarm_actions=[args.alarm_topic_arn],
            ok_actions=[args.alarm_topic_arn],
            opts=opts,
        )
