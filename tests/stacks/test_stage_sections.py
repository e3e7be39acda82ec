"""A kind's stage section (``constructs_lib.spec.sections``) reaches the estate's stacks through
one builder each (the import kind's tests, ``test_import_stack.py``, show a section's entries
composed, and refused without a builder)."""

from __future__ import annotations

from constructs_lib.spec.sections import stage_sections
from stacks import customization_stack


def test_every_stage_section_has_its_builder_in_the_stack():
    assert set(customization_stack.SECTION_BUILDERS) == {section.key for section in stage_sections()}
