"""Runs the marked examples of the construct READMEs as a user's app runs: in a process of its own
whose working directory (the CDK's Node process inherits it) holds the files the examples read,
with the library installed from its wheel (tests/installed_wheel.py copies this file there and runs
it with that virtualenv's Python).

Reads ``{"outdir": ..., "result": ..., "readmes": [[name, [[line, code], ...]], ...]}`` as JSON on
stdin; runs each README's examples in order in one namespace that starts with ``app`` (what they
print goes to stderr); adds the five nag packs and synthesizes the one app; writes
``{"errors": {name: traceback}, "stacks": {name: [ids]}, "synthesized": [ids], "synth_error": str | null,
"library": constructs_lib.__file__}``
as JSON to the ``result`` file.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback


def main() -> None:
    import aws_cdk as cdk

    import constructs_lib
    from constructs_lib import add_nag_packs

    request = json.load(sys.stdin)
    app = cdk.App(outdir=request["outdir"])
    errors: dict[str, str] = {}
    stacks: dict[str, list[str]] = {}
    for name, examples in request["readmes"]:
        namespace: dict = {"app": app}
        before = {child.node.id for child in app.node.children}
        for line, code in examples:
            source = "\n" * (line - 1) + code  # a traceback names the README's own line numbers
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    exec(compile(source, name, "exec"), namespace)
            except Exception:  # noqa: BLE001 - reported by the README's own test
                errors[name] = traceback.format_exc(limit=-4)
                break
        stacks[name] = sorted({child.node.id for child in app.node.children} - before)
    add_nag_packs(app)
    synthesized: list[str] = []
    synth_error = None
    try:
        synthesized = [artifact.id for artifact in app.synth().stacks]
    except Exception as error:  # noqa: BLE001 - reported by the synthesis test
        synth_error = str(error)
    result = {
        "errors": errors,
        "stacks": stacks,
        "synthesized": synthesized,
        "synth_error": synth_error,
        "library": constructs_lib.__file__,
    }
    with open(request["result"], "w", encoding="utf-8") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main()
