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
    action: str  # the dropped action, or "" for the unmet condition
    statement: tuple[str, ...]  # the actions of the mutated statement

    def __str__(self) -> str:
        what = f"without {self.action}" if self.action else "with a condition no request meets"
        return f"{self.estate} {self.stage} {self.role.split('/')[-1]} {self.policy}: statement ({', '.join(self.statement)}) {what}"


# Survivors that stand, each a grant no handler of that stage needs (reported, not the proof's to fix):
# (estate fixture, stage, policy name prefix, dropped action or "" for the condition) -> why.
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


def mutants(document: dict[str, Any]) -> Iterator[tuple[str, list[str], dict[str, Any]]]:
    """(dropped action or "", the statement's actions, the mutated document) of one policy."""
    for index, statement in enumerate(document["Statement"]):
        actions = _actions(statement)
        for action in actions:
            mutated = copy.deepcopy(document)
            kept = [a for a in actions if a != action]
            if kept:
                mutated["Statement"][index]["Action"] = kept
            else:
                del mutated["Statement"][index]
            yield action, actions, mutated
        mutated = copy.deepcopy(document)
        conditions = mutated["Statement"][index].setdefault("Condition", {})
        conditions.setdefault("StringEquals", {}).update(UNMET["StringEquals"])
        yield "", actions, mutated


def _matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def main() -> int:
    started = time.monotonic()
    scenarios = record()
    recorded = time.monotonic()
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
        for action, statement, mutated in mutants(document):
            mutant = Mutant(estate, stage, role, name, action, tuple(statement))
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
    survivors = [m for m in every if m not in killed]

    def acknowledged(mutant: Mutant) -> str | None:
        for (estate, stage, prefix, action), why in ACKNOWLEDGED.items():
            if (mutant.estate, mutant.stage, mutant.action) == (estate, stage, action) and mutant.policy.startswith(
                prefix
            ):
                return why
        return None

    unexplained = [m for m in survivors if acknowledged(m) is None]
    stale = [
        key
        for key in ACKNOWLEDGED
        if not any(
            (m.estate, m.stage, m.action) == (key[0], key[1], key[3]) and m.policy.startswith(key[2]) for m in survivors
        )
    ]
    seconds = time.monotonic() - started
    print(
        f"{len(every)} mutants of {len(targets)} policies, {sum(len(c) for c in checks.values())} recorded checks, "
        f"{len(simulations)} evaluations: {len(killed)} killed, {len(survivors) - len(unexplained)} acknowledged, "
        f"{len(unexplained)} survived ({seconds:.0f} s, {recorded - started:.0f} s of them recording)"
    )
    for mutant in survivors:
        why = acknowledged(mutant)
        if why is not None:
            print(f"acknowledged: {mutant}: {why}")
    for mutant in unexplained:
        print(f"survived: {mutant}")
    for key in stale:
        print(f"acknowledged survivor now killed (remove it from mutate.ACKNOWLEDGED): {key}")
    return 1 if unexplained or stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
