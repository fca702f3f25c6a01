"""The review web app: pages, sign-in, the queue and the safe rendering of messages.

:func:`create_app` builds it; ``klachtwacht serve`` and ``klachtwacht demo`` run it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:  # the command line imports klachtwacht.web.command without loading Starlette
    if name == "create_app":
        from klachtwacht.web.app import create_app

        return create_app
    raise AttributeError(name)
