"""CDK values that are fixed once their construct exists, read from the CDK once.

Reading an attribute of a CDK construct from Python (a stack's region, a role's ARN) is a round
trip to the CDK's Node process. These values (tokens or literals) never change after the
construct is made, and a stage of 150 jobs reads the same few of them thousands of times, so each
is read once and kept beside its construct for as long as the construct lives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms


@dataclass(frozen=True)
class StackEnvironment:
    """A stack's partition, region and account as the CDK writes them (tokens when the stack is
    environment-agnostic)."""

    partition: str
    region: str
    account: str
    known_region: str | None
    """The region when it is known at synthesis, else None."""


_environments: WeakKeyDictionary[Stack, StackEnvironment] = WeakKeyDictionary()
_arns: WeakKeyDictionary[object, str] = WeakKeyDictionary()


def environment_of(stack: Stack) -> StackEnvironment:
    """``stack``'s partition, region and account, read once per stack."""
    environment = _environments.get(stack)
    if environment is None:
        region = stack.region
        known_region = None if Token.is_unresolved(region) else region
        environment = _environments[stack] = StackEnvironment(stack.partition, region, stack.account, known_region)
    return environment


def role_arn(role: iam.IRole) -> str:
    """``role.role_arn``, read once per role."""
    return _arn_once(role, lambda: role.role_arn)


def key_arn(key: kms.IKey) -> str:
    """``key.key_arn``, read once per key."""
    return _arn_once(key, lambda: key.key_arn)


def _arn_once(construct: object, read: Callable[[], str]) -> str:
    arn = _arns.get(construct)
    if arn is None:
        arn = _arns[construct] = read()
    return arn


def elsewhere_problem(arn: str, env: StackEnvironment, what: str, doing: str = "take it over") -> str | None:
    """Why ``arn`` (a resource to take over, or to ``doing`` otherwise) cannot be acted on from
    ``env``'s stack: it is in another account or Region, where the stack's handler does not act.
    None when it is here, when ``arn`` is not an ARN (reported elsewhere), or when the stack is
    environment-agnostic."""
    parts = arn.split(":")
    if len(parts) < 6 or Token.is_unresolved(arn) or Token.is_unresolved(env.account) or env.known_region is None:
        return None
    region, account = parts[3], parts[4]
    if (account, region) == (env.account, env.known_region):
        return None
    return (
        f"the {what} is in {account} / {region}, but this stack is in {env.account} / {env.known_region}; "
        f"{doing} from a stack in its own account and Region"
    )
