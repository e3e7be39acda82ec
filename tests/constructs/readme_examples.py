"""The marked Python examples of the construct READMEs: where they are and what they read.

An example is marked by the line ``<!-- example: synthesized by the tests -->`` right before its
```` ```python ```` block. Examples of one README run in order in one namespace, so a later one may use
what an earlier one made; the first receives only ``app`` (a ``cdk.App``, as the READMEs say) and
makes its own stacks (tests/constructs/readme_runner.py runs them; tests/installed_wheel.py starts it).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "constructs_lib"
MARKER = "<!-- example: synthesized by the tests -->"
FOLDER_READMES = sorted(p for p in LIBRARY.glob("*/README.md"))

# Files the examples read, by the relative path they give, and the repository file the test puts
# there: the READMEs show a user's own layout (a grader beside the app, a dataset under data/).
FILES_THE_EXAMPLES_READ = {
    "graders/exact_match.py": ROOT / "examples" / "graders" / "exact_match.py",
    "data/train.jsonl": ROOT / "tests" / "fixtures" / "datasets" / "summarization" / "nova" / "train.jsonl",
}


def marked_examples(readme: Path) -> list[tuple[int, str]]:
    """(line of the code's first line, code) of each marked ```python block, in order."""
    lines = readme.read_text().splitlines()
    examples = []
    for index, line in enumerate(lines):
        if line.strip() == MARKER:
            assert lines[index + 1].strip() == "```python", (
                f"{readme}:{index + 1}: the marker must precede a ```python block"
            )
            end = lines.index("```", index + 2)
            examples.append((index + 3, "\n".join(lines[index + 2 : end])))
    return examples


def readme_name(readme: Path) -> str:
    return readme.relative_to(ROOT).as_posix()
