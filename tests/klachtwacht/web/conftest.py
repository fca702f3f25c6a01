"""Fixtures of the review app's tests: a :class:`site.Site` on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from review_site import Site
from support.smtp import SmtpSink


@pytest.fixture
def site(tmp_path: Path, db_url: str, smtp: SmtpSink) -> Iterator[Site]:
    made = Site(tmp_path, db_url, smtp)
    try:
        yield made
    finally:
        made.close()
