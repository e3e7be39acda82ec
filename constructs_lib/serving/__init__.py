"""Serving: custom models served as provisioned throughput or on-demand deployments, their monitoring, and the evaluation gate's role."""
