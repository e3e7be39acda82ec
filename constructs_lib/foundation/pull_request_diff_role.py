"""PullRequestDiffRole: the role a pull request's ``cdk diff`` assumes in a stage account, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

GITHUB_OIDC = "token.actions.githubusercontent.com"

# The repository's OIDC subject template the trust is written for (GitHub, "OpenID Connect reference",
# "Customizing the subject claims for an organization or repository", read 2026-12-07): the subject
# then reads repo:<owner>/<repo>:pull_request:base_ref:<branch>:job_workflow_ref:<owner>/<repo>/<file>@<ref>.
SUBJECT_CLAIM_KEYS = ("repo", "context", "base_ref", "job_workflow_ref")


@dataclass(frozen=True, kw_only=True)
class PullRequestDiffRoleProps:
    role_name: str
    """The name the workflow assumes it by (``<estate>-pr-diff``)."""

    repository: str
    """``<owner>/<name>`` of the GitHub repository whose pull requests may assume it."""

    base_branch: str
    """Only pull requests to this branch."""

    workflow: str = ".github/workflows/pull-request.yml"
    """Only jobs defined in this workflow file of the repository."""

    lookup_regions: tuple[str, ...]
    """The regions of this account whose CDK bootstrap lookup role the diff reads through."""

    bootstrap_qualifier: str = "hnb659fds"
    """The CDK bootstrap qualifier (the default one unless you bootstrapped with another)."""


class PullRequestDiffRole(Construct):
    """An IAM role for a pull request's ``cdk diff``: GitHub's OIDC provider of this account (which
    must exist: ``arn:<partition>:iam::<account>:oidc-provider/token.actions.githubusercontent.com``)
    may let only the repository's pull-request workflow, for pull requests to the base branch,
    assume it; it may then assume only the CDK bootstrap's lookup roles of this account, which read
    the deployed templates (their AWS managed ReadOnlyAccess policy, with kms:Decrypt denied).

    The repository must use the OIDC subject template :data:`SUBJECT_CLAIM_KEYS`
    (``PUT /repos/<owner>/<repo>/actions/oidc/customization/sub``); GitHub's default subject names
    neither the base branch nor the workflow file, and AWS reads no other GitHub claim."""

    def __init__(self, scope: Construct, id: str, props: PullRequestDiffRoleProps) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        provider = f"arn:{stack.partition}:iam::{stack.account}:oidc-provider/{GITHUB_OIDC}"
        subject = (
            f"repo:{props.repository}:pull_request:base_ref:{props.base_branch}"
            f":job_workflow_ref:{props.repository}/{props.workflow}@*"
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=props.role_name,
            description=f"cdk diff of {props.repository}'s pull requests to {props.base_branch}: assumes the CDK lookup roles only",
            assumed_by=iam.WebIdentityPrincipal(
                provider,
                conditions={
                    "StringEquals": {f"{GITHUB_OIDC}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{GITHUB_OIDC}:sub": subject},
                },
            ),
        )
        lookup_roles = [
            f"arn:{stack.partition}:iam::{stack.account}:role/cdk-{props.bootstrap_qualifier}-lookup-role-{stack.account}-{region}"
            for region in sorted(set(props.lookup_regions))
        ]
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Assume the CDK bootstrap's read-only lookup roles of this account, nothing else",
            roles=[self.role],
            statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=lookup_roles)],
        )
