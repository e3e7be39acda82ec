"""``make mutate``: does the permission proof notice each grant the estate could lose?

The lifecycle simulations run once with the proof recording every check it judged allowed, and
every policy of the estates they play in (``ESTATE_PERMISSION_CHECKS``). Then each mutant of those
policies is judged against the same checks: one action dropped from one statement, or one
statement given a condition no request meets, in a kind's policy on a handler role or in a policy
of a role Bedrock assumes (the customization service role, the invocation-log delivery role), in
every stage of every estate a simulation plays in. A mutant is killed when at least one check it
touches is no longer allowed. A handler's checks are judged with its own kind's policy (and the
runtime's logging policy) only, so a grant another kind's policy repeats is still noticed.

A survivor is a grant no simulated request needs: either a path no simulation takes yet (add one)
or a grant no handler needs in that stage (report it). The few that stand for now are listed in
:data:`ACKNOWLEDGED`, each with its reason; like ``proof.KNOWN_GAPS``, an acknowledged survivor
that is killed fails the run until it is removed from the list.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .proof import ROOT, evaluate

UNMET = {"StringEquals": {"aws:ResourceTag/estate-mutation": "no-request-carries-this"}}


@dataclass(frozen=True)
class Mutant:
    estate: str  # the estate fixture, e.g. default_estate
    stage: str
    role: str
    policy: str  # the policy's logical id (or inline name)
    index: int  # of the mutated statement in the policy
    action: str  # the dropped action, or "" for the unmet condition
    statement: tuple[str, ...]  # the actions of the mutated statement

    @property
    def label(self) -> str:
        """``without <action>``, or ``(<the statement's actions>) with a condition no request meets``."""
        if self.action:
            return f"without {self.action}"
        return f"({', '.join(self.statement)}) with a condition no request meets"

    def __str__(self) -> str:
        role = self.role.split("/")[-1]
        return f"{self.estate} {self.stage} {role} {self.policy}: statement {self.index} {self.label}"


# Survivors that stand, each a grant no handler of that stage needs (reported, not the proof's to fix):
# (estate fixture, stage, policy name prefix, mutant label or "*" for every mutant of the policy) -> why.
# Empty: every grant of every simulated stage is needed by some request. An entry is a debt: the
# constructs should grant only what a stage's resources call (as DeleteCustomModel only for a job or
# copy whose removal is destroy, and the service role's permissions only where a stage trains).
ACKNOWLEDGED: dict[tuple[str, str, str, str], str] = {}


def record() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checks.jsonl"
        lifecycle = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "lambdas").glob("test_*_lifecycle.py"))
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *lifecycle],
            cwd=ROOT,
            env={**os.environ, "ESTATE_PERMISSION_CHECKS": str(path)},
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit("the lifecycle simulations fail before any mutation: fix them first")
        return [json.loads(line) for line in path.read_text().splitlines()]


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def mutants(document: dict[str, Any]) -> Iterator[tuple[int, str, list[str], dict[str, Any]]]:
    """(statement index, dropped action or "", the statement's actions, the mutated document) of one policy."""
    for index, statement in enumerate(document["Statement"]):
        actions = _actions(statement)
        for action in actions:
            mutated = copy.deepcopy(document)
            kept = [a for a in actions if a != action]
            if kept:
                mutated["Statement"][index]["Action"] = kept
            else:
                del mutated["Statement"][index]
            yield index, action, actions, mutated
        mutated = copy.deepcopy(document)
        conditions = mutated["Statement"][index].setdefault("Condition", {})
        conditions.setdefault("StringEquals", {}).update(UNMET["StringEquals"])
        yield index, "", actions, mutated


def _matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


@dataclass
class Outcome:
    mutants: list[Mutant]
    killed: set[Mutant]
    policies: int
    checks: int
    evaluations: int

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m not in self.killed]


def judge(scenarios: list[dict[str, Any]]) -> Outcome:
    """Every mutant of every recorded target, killed or not by the recorded checks (one evaluator batch)."""
    # Checks by (estate, stage, principal), each once; targets by (estate, stage, role, policy), each once.
    checks: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
    targets: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for scenario in scenarios:
        estate = scenario["estate"]
        for judged in scenario["judged"]:
            check = judged["check"]
            where = (estate, judged["stage"], check["request"]["principal"])
            checks.setdefault(where, {})[json.dumps(check, sort_keys=True)] = check
        for target in scenario["targets"]:
            targets[(estate, target["stage"], target["role"], target["policy"])] = target["document"]
    simulations: list[dict[str, Any]] = []
    owners: list[Mutant] = []
    every: list[Mutant] = []
    for (estate, stage, role, name), document in sorted(targets.items()):
        touching = [
            c
            for c in checks.get((estate, stage, role), {}).values()
            if any(p["name"] == name for p in c["identityPolicies"])
        ]
        for index, action, statement, mutated in mutants(document):
            mutant = Mutant(estate, stage, role, name, index, action, tuple(statement))
            every.append(mutant)
            # Only a check of an action the mutated statement grants can change its answer.
            for check in touching:
                if not _matches(check["request"]["action"], [action] if action else statement):
                    continue
                simulation = dict(check)
                simulation["identityPolicies"] = [
                    {"name": p["name"], "policy": mutated if p["name"] == name else p["policy"]}
                    for p in check["identityPolicies"]
                ]
                simulations.append(simulation)
                owners.append(mutant)
    answers = evaluate(simulations)
    killed = {m for m, a in zip(owners, answers, strict=True) if a["result"] != "Allowed"}
    count = sum(len(c) for c in checks.values())
    return Outcome(every, killed, len(targets), count, len(simulations))


def covers(key: tuple[str, str, str, str], mutant: Mutant) -> bool:
    """Whether the :data:`ACKNOWLEDGED` entry ``key`` is about ``mutant``."""
    estate, stage, prefix, label = key
    return (
        (mutant.estate, mutant.stage) == (estate, stage)
        and mutant.policy.startswith(prefix)
        and label in ("*", mutant.label)
    )


def acknowledged(mutant: Mutant, table: dict[tuple[str, str, str, str], str]) -> str | None:
    return next((why for key, why in table.items() if covers(key, mutant)), None)


def stale(outcome: Outcome, table: dict[tuple[str, str, str, str], str]) -> list[tuple[str, str, str, str]]:
    """Entries of ``table`` to remove, strict like ``proof.KNOWN_GAPS``: an entry no survivor is left
    for, and an entry for every mutant of a policy ("*") once any of them is killed."""
    survivors = outcome.survivors
    return [
        key
        for key in table
        if not any(covers(key, m) for m in survivors) or (key[3] == "*" and any(covers(key, m) for m in outcome.killed))
    ]


def recorded_by(path: Path) -> list[dict[str, Any]]:
    """The checks a run of the whole suite recorded (``make test`` with ESTATE_PERMISSION_CHECKS):
    the same lifecycle simulations :func:`record` runs, so ``.ci/run`` does not play them twice."""
    scenarios = [json.loads(line) for line in path.read_text().splitlines()]
    if not scenarios:
        raise SystemExit(f"{path} holds no recorded checks: record them with a whole `make test`, or leave it out")
    return scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--recorded",
        type=Path,
        help="judge the checks a whole `make test` recorded in this file (ESTATE_PERMISSION_CHECKS=file) "
        "instead of running the lifecycle simulations again",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    scenarios = recorded_by(args.recorded) if args.recorded else record()
    recorded = time.monotonic()
    outcome = judge(scenarios)
    survivors = outcome.survivors
    unexplained = [m for m in survivors if acknowledged(m, ACKNOWLEDGED) is None]
    gone = stale(outcome, ACKNOWLEDGED)
    seconds = time.monotonic() - started
    print(
        f"{len(outcome.mutants)} mutants of {outcome.policies} policies, {outcome.checks} recorded checks, "
        f"{outcome.evaluations} evaluations: {len(outcome.killed)} killed, "
        f"{len(survivors) - len(unexplained)} acknowledged, {len(unexplained)} survived "
        + (
            f"({seconds:.0f} s, {recorded - started:.0f} s of them recording)"
            if not args.recorded
            else f"({seconds:.0f} s)"
        )
    )
    for mutant in survivors:
        why = acknowledged(mutant, ACKNOWLEDGED)
        if why is not None:
            print(f"acknowledged: {mutant}: {why}")
    for mutant in unexplained:
        print(f"survived: {mutant}")
    for key in gone:
        print(f"acknowledged survivor now killed (remove it from mutate.ACKNOWLEDGED): {key}")
    return 1 if unexplained or gone else 0


if __name__ == "__main__":
    raise SystemExit(main())
