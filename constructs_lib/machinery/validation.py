"""Problems a construct finds in its props fail synthesis (``cdk synth``, ``app.synth()``), each
reported with the construct's path, the way CDK reports its own validation errors."""

from __future__ import annotations

from collections.abc import Callable

import jsii
from constructs import IConstruct, IValidation


@jsii.implements(IValidation)
class _Problems:
    def __init__(self, find: Callable[[], list[str]]):
        self._find = find

    def validate(self) -> list[str]:
        return list(self._find())


def fail_synthesis_on(construct: IConstruct, find: Callable[[], list[str]]) -> None:
    """Run ``find`` when the app synthesizes; every message it returns fails synthesis."""
    construct.node.add_validation(_Problems(find))
