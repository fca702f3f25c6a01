"""The Grafana dashboard and the Prometheus alert rules in docker/ load and use metrics klachtwacht exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "docker" / "grafana" / "dashboards" / "klachtwacht.json"
RULES = ROOT / "docker" / "prometheus" / "klachtwacht-alerts.yaml"


def _exported() -> set[str]:
    names = set()
    for source in (ROOT / "klachtwacht" / "metrics").glob("*.py"):
        names |= set(re.findall(r'"(klachtwacht_[a-z_]+)"', source.read_text(encoding="utf-8")))
    counters = {n + "_total" for n in names}
    return names | counters


def _metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\bklachtwacht_[a-z_]+\b", expr))


def test_the_dashboard_has_a_stable_uid_and_every_panel_queries_an_exported_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "klachtwacht-overzicht" and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) >= 6
    exported = _exported()
    for panel in dashboard["panels"]:
        assert {"type", "title", "gridPos", "targets"} <= set(panel)
        for target in panel["targets"]:
            used = _metrics_in(target["expr"])
            assert used and used <= exported, (panel["title"], used - exported)


def test_the_alert_rules_cover_an_unpolled_mailbox_a_missing_canary_and_a_drop() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    assert {"KlachtwachtMailboxNotPolled", "KlachtwachtCanaryMissing", "KlachtwachtVolumeDrop"} <= set(alerts)
    exported = _exported()
    for rule in alerts.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert _metrics_in(rule["expr"]) <= exported
