"""The demo, for the people it is for: a Dutch summary, the technical detail after it, and no personal data in a log line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.cli import klachtwacht

from klachtwacht.demo.samples import SAMPLES
from klachtwacht.demo.summary import DECISIONS, DemoMessage, dutch_report

ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _body_fragments() -> list[str]:
    """A distinctive stretch of every sample body (the first 40 characters after the salutation)."""
    fragments = []
    for _, _, _, body, _ in SAMPLES:
        text = body.split("\n\n", 1)[-1].replace("\n", " ")
        fragments.append(text[:40])
    return fragments


@pytest.mark.parametrize("flags", [(), ("--debug",), ("--log-format", "json")], ids=["default", "debug", "json"])
def test_no_log_line_of_a_full_demo_run_holds_an_address_or_a_message_body(tmp_path: Path, flags: tuple[str, ...]) -> None:
    run = klachtwacht("demo", "--no-serve", *flags, cwd=tmp_path)
    assert run.status == 0, run.err
    assert run.err.strip(), "the demo logs something"
    for line in run.err.splitlines():
        assert not ADDRESS.search(line), line
        for fragment in _body_fragments():
            assert fragment not in line, line
        for _, _, subject, _, _ in SAMPLES:
            assert subject not in line, line
    if flags == ("--log-format", "json"):
        assert all(json.loads(line)["message"] is not None for line in run.err.splitlines())


def test_the_demo_summary_is_dutch_first_with_the_technical_detail_after_it(tmp_path: Path) -> None:
    run = klachtwacht("demo", "--no-serve", cwd=tmp_path)
    assert run.status == 0, run.err
    out = run.out
    dutch, _, technical = out.partition("Technical detail (for functioneel beheer)")
    assert technical, out
    for word in ("registreren", "beleidsvraag", "archiveren", "beoordelen", "In het kort: 3 klachten geregistreerd"):
        assert word in dutch, word
    for code in (" policy ", " archive ", " register "):
        assert code not in dutch  # the English codes only in the technical part
    assert " policy " in technical
    # the audit of the wethouder's history: kept as history, one complaint found in the municipality's register export, two not
    assert "4 berichten van vóór de start van klachtwacht zijn bewaard als geschiedenis" in dutch
    assert "6 klachten in de mailboxen: 4 geregistreerd, 2 niet." in dutch and "geregistreerd als Z-2026-0311" in dutch
    assert not ADDRESS.search(dutch), "the summary names recipients by role, not by address"
    assert "mail.log" not in out + run.err
    assert "removed at the end" in technical and "--keep" in out


def test_the_commands_the_demo_suggests_work_on_the_folder_it_keeps(tmp_path: Path) -> None:
    run = klachtwacht("demo", "--no-serve", "--keep", cwd=tmp_path)
    assert run.status == 0, run.err
    suggested = [line.strip() for line in run.out.splitlines() if line.strip().startswith("klachtwacht --config")]
    assert len(suggested) == 2, run.out
    for command in suggested:
        args = command.split()[1:]
        follow = klachtwacht(*args, cwd=tmp_path)  # no password needed: these only read the database
        assert follow.status == 0, follow.err
        assert follow.out.strip()
    folder = Path(suggested[0].split()[2]).parent
    assert folder.is_dir()
    import shutil

    shutil.rmtree(folder)


def test_each_decision_has_the_secretarys_word() -> None:
    messages = [
        DemoMessage("Klacht", ("w",), "done", "klacht", 0.99, "register", "KL-2026-000001", ("register", "notice_sender")),
        DemoMessage("Vraag", ("w",), "done", "beleidsvraag", 0.9, "policy", None, ("notice_secretary",)),
        DemoMessage("Twijfel", ("w",), "review", "klacht", 0.5, "review", None, ()),
        DemoMessage("Nieuwsbrief", ("w",), "done", "overig", 0.99, "archive", None, ()),
    ]
    report = dutch_report(messages, ["de afzender", "het secretariaat"], "Gemeente Veenstad")
    for word in ("registreren", "beleidsvraag", "beoordelen", "archiveren", "afzender bevestigd", "wacht op beoordeling"):
        assert word in report
    assert set(DECISIONS) == {"register", "review", "policy", "bezwaar", "woo", "archive"}
