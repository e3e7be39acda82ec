"""Problems a construct finds in its props fail synthesis (``cdk synth``, ``app.synth()``), each
reported with the construct's path, the way CDK reports its own validation errors."""

from __future__ import annotations

import jsii
from constructs import IConstruct, IValidation


@jsii.implements(IValidation)
class _Problems:
    def __init__(self, problems: list[str]):
        self._problems = problems

    def validate(self) -> list[str]:
        return list(self._problems)


def fail_synthesis_on(construct: IConstruct, problems: list[str]) -> None:
    """Every message in ``problems`` fails synthesis, reported at ``construct``'s path.

    Props are final when a construct is made, so the problems are found then; only a construct
    with problems registers a validation. Each registered one is a call back from the CDK into
    Python at synthesis, which a stage of 150 jobs would otherwise pay 150 times for nothing.
    """
    if problems:
        construct.node.add_validation(_Problems(problems))
