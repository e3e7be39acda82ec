"""Stacks: short compositions of the constructs in constructs_lib, one file per stack."""
