"""What every page handler needs, made once by :func:`klachtwacht.web.app.create_app`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker
from starlette.templating import Jinja2Templates

from klachtwacht.config import Config

__all__ = ["WebState"]


@dataclass(frozen=True)
class WebState:
    config: Config
    sessions: sessionmaker[Session]
    flow: Any  # klachtwacht.flow.Flow (Any: the app runs read-only pages without one)
    hasher: PasswordHasher
    templates: Jinja2Templates
    #: Called with a message's id after a decision put work in its outbox (a worker or the broker picks it up).
    kick: Callable[[int], None]

    @property
    def idle(self) -> timedelta:
        return timedelta(minutes=self.config.web.session_idle_minutes)
