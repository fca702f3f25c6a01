"""Sub-commands contributed by the classifier, the register, review and reconciliation."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the further sub-commands to the ``klachtwacht`` parser."""
    from classifiers import cli as classifier_cli

    classifier_cli.register(sub)
