"""``klachtwacht check``: everything klachtwacht needs, tried once, one line each.

Before going live and whenever in doubt: the configuration, the database and
its migration level, the broker, the SMTP server, each mailbox, the register,
the model and the templates. Nothing is sent, written or changed.
"""

from __future__ import annotations

from klachtwacht.check.local import check_mailbox, check_model, check_templates
from klachtwacht.check.result import FAIL, OK, WARN, CheckResult, as_json, passed, table
from klachtwacht.check.services import check_broker, check_database, check_register, check_smtp
from klachtwacht.config import Config

__all__ = ["run_checks", "check_broker", "check_database", "check_register", "check_smtp", "CheckResult", "OK", "WARN", "FAIL", "table", "as_json", "passed"]


def run_checks(config: Config) -> list[CheckResult]:
    """Every check, in the order an operator would look."""
    results = [CheckResult("configuration", OK, f"{config.path}: {len(config.mailboxes)} mailboxes, {len(config.organisations) or 1} organisations")]
    results.append(check_database(config))
    results.append(check_broker(config))
    results.append(check_smtp(config))
    for index, mailbox in enumerate(config.mailboxes):
        results.extend(check_mailbox(mailbox, index))
    results.extend(check_register(config))
    results.append(check_model(config))
    results.extend(check_templates(config))
    return results
