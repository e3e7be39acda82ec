"""``make mutate``: does the permission proof notice each grant the estate could lose?

The lifecycle simulations run once with the proof recording every check it judged allowed
(``ESTATE_PERMISSION_CHECKS``). Then each mutant of the synthesized policies is judged against the
same checks: one action dropped from one statement of a handler role (the kinds' policies) or of
the customization service role, or one statement given a condition no request meets. A mutant is
killed when at least one check it touches is no longer allowed. The survivors are printed: each is
a grant no simulated request needs, or one the proof does not see used.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .proof import ROOT, evaluate

UNMET = {"StringEquals": {"aws:ResourceTag/estate-mutation": "no-request-carries-this"}}
# The handler Lambdas' own logging and tracing (not a call a handler makes) are not mutated.
RUNTIME_POLICY = "EstateProviderHandlerPolicy"


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


def mutants(policy: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    statements = policy["Statement"]
    for index, statement in enumerate(statements):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            mutated = copy.deepcopy(policy)
            kept = [a for a in actions if a != action]
            if kept:
                mutated["Statement"][index]["Action"] = kept
            else:
                del mutated["Statement"][index]
            yield f"statement {index}: without {action}", mutated
        mutated = copy.deepcopy(policy)
        conditions = mutated["Statement"][index].setdefault("Condition", {})
        conditions.setdefault("StringEquals", {}).update(UNMET["StringEquals"])
        yield f"statement {index} ({', '.join(actions)}): with a condition no request meets", mutated


def main() -> int:
    scenarios = record()
    checks = [j["check"] for s in scenarios for j in s["judged"]]
    policies: dict[tuple[str, str], dict[str, Any]] = {}
    for check in checks:
        for policy in check["identityPolicies"]:
            if not policy["name"].startswith(RUNTIME_POLICY):
                policies[(check["request"]["principal"], policy["name"])] = policy["policy"]
    simulations, owners = [], []
    for (principal, name), document in sorted(policies.items()):
        touched = [
            c
            for c in checks
            if c["request"]["principal"] == principal and any(p["name"] == name for p in c["identityPolicies"])
        ]
        for label, mutated in mutants(document):
            for check in touched:
                simulation = copy.deepcopy(check)
                simulation["identityPolicies"] = [
                    {"name": p["name"], "policy": mutated if p["name"] == name else p["policy"]}
                    for p in check["identityPolicies"]
                ]
                simulations.append(simulation)
                owners.append((principal, name, label))
    answers = evaluate(simulations)
    mutant_ids = sorted({o for o in owners})
    killed = {o for o, a in zip(owners, answers, strict=True) if a["result"] != "Allowed"}
    survivors = [o for o in mutant_ids if o not in killed]
    print(
        f"{len(mutant_ids)} mutants of {len(policies)} policies, {len(checks)} recorded checks: {len(killed)} killed, {len(survivors)} survived"
    )
    for principal, name, label in survivors:
        print(f"survived: {principal.split('/')[-1]} {name} {label}")
    return 1 if survivors else 0


if __name__ == "__main__":
    raise SystemExit(main())
