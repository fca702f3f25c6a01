"""``klachtwacht classify --json``: one JSON object per .eml file, no database needed."""

from __future__ import annotations

import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from classifiers.records import LABELS
from klachtwacht.cli import main

REPO = Path(__file__).resolve().parents[2]
CONTRACT_KEYS = {"path", "label", "confidence", "scores", "reasons", "model"}


def eml(subject: str, body: str, *, sender: str = "A. Jansen <a.jansen@ziggo.nl>", message_id: str = "<cmd-1@example.nl>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "wethouder@gemeente-veenstad.nl"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 02 Mar 2026 09:30:00 +0100"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return bytes(msg)


MAILS = {
    "klacht.eml": eml("Lantaarnpaal", "Ik heb de kapotte lantaarnpaal voor ons huis al drie keer gemeld en niemand doet iets. Ik ben het zat.", message_id="<cmd-klacht@example.nl>"),
    "vraag.eml": eml("OZB", "Geachte wethouder,\n\nWaarom gaat de OZB weer omhoog? Wat is het beleid van het college voor de komende jaren?\n\nMet vriendelijke groet,\nP. Bakker", message_id="<cmd-vraag@example.nl>"),
    "sub/bezwaar.eml": eml("Bezwaar", "Hierbij maak ik bezwaar tegen de beschikking van 3 maart met kenmerk 2026-0113.", message_id="<cmd-bezwaar@example.nl>"),
}
# no header/body separator, a NUL in the headers, a lone CR, truncated in the middle of a base64 part
MALFORMED = (
    b"From: \x00kapot\r\nSubject: =?utf-8?B?broken\rContent-Type: multipart/mixed; boundary=\"x\"\r\n"
    b"--x\r\nContent-Type: text/plain; charset=nonsense\r\nContent-Transfer-Encoding: base64\r\n\r\nSGFsbG8gZGl0IGlz\xff\xfe"
)


def assert_contract(row: dict[str, Any]) -> None:
    assert CONTRACT_KEYS <= set(row), f"missing {CONTRACT_KEYS - set(row)}"
    assert row["label"] in LABELS
    assert set(row["scores"]) == set(LABELS)
    assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert 0.0 <= row["confidence"] <= 1.0
    assert isinstance(row["reasons"], list) and row["reasons"] and all(isinstance(r, str) and r for r in row["reasons"])
    assert isinstance(row["model"], str) and "@" in row["model"]


@pytest.fixture(autouse=True)
def loaded_once(classifier: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs reuse the session's model; the subprocess tests load it the way the command does."""
    from classifiers.classifier import Classifier

    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, directory=None: classifier))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "mail"
    for name, raw in MAILS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(raw)
    (root / "notes.txt").write_text("geen mail", encoding="utf-8")
    return root


def _rows(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_classify_json_prints_one_contract_object_per_eml_file(folder: Path, capsys: pytest.CaptureFixture[str], classifier: Any) -> None:
    status = main(["classify", "--json", str(folder)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = _rows(captured.out)
    assert [Path(r["path"]).relative_to(folder).as_posix() for r in rows] == sorted(MAILS)
    for row in rows:
        assert_contract(row)
        assert row["model"] == classifier.meta.model_id
    labels = {Path(r["path"]).name: r["label"] for r in rows}
    assert labels["klacht.eml"] == "klacht"
    assert labels["vraag.eml"] == "beleidsvraag"
    assert labels["bezwaar.eml"] == "overig"


def test_classify_json_takes_single_files_and_folders_together(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["classify", "--json", str(folder / "klacht.eml"), str(folder / "sub")])
    rows = _rows(capsys.readouterr().out)
    assert status == 0
    assert [Path(r["path"]).name for r in rows] == ["klacht.eml", "bezwaar.eml"]


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b"dit is geen mail maar gewoon tekst\nnog een regel\n"],
    ids=["empty-file", "png-named-eml", "no-header-block"],
)
def test_a_file_that_is_no_mail_at_all_still_gives_a_json_object_for_review(tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    (tmp_path / "kapot.eml").write_bytes(raw)
    status = main(["classify", "--json", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    (row,) = _rows(captured.out)
    assert_contract(row)
    assert row["needs_review"] is True
    assert any("niet te lezen" in r for r in row["reasons"])


def test_a_structurally_broken_eml_still_gives_a_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kapot.eml").write_bytes(MALFORMED)
    status = main(["classify", "--json", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    (row,) = _rows(captured.out)
    assert CONTRACT_KEYS <= set(row)
    assert row["label"] in LABELS
    assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)


def test_a_structurally_broken_eml_goes_to_review_with_a_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kapot.eml").write_bytes(MALFORMED)
    main(["classify", "--json", str(tmp_path)])
    (row,) = _rows(capsys.readouterr().out)
    assert row["reasons"]
    assert row["needs_review"] is True


def test_the_row_for_an_unparseable_message_has_confidence_equal_to_the_label_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "leeg.eml").write_bytes(b"")
    main(["classify", "--json", str(tmp_path)])
    (row,) = _rows(capsys.readouterr().out)
    assert row["confidence"] == pytest.approx(row["scores"][row["label"]])


def test_the_rows_of_parsed_messages_have_confidence_equal_to_the_label_score(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["classify", "--json", str(folder)])
    for row in _rows(capsys.readouterr().out):
        assert row["confidence"] == pytest.approx(row["scores"][row["label"]], abs=1e-4)


def test_an_unreadable_path_gives_exit_status_2_and_a_message_on_stderr(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = folder / "bestaat-niet.eml"
    status = main(["classify", "--json", str(missing), str(folder / "klacht.eml")])
    captured = capsys.readouterr()
    assert status == 2
    assert str(missing) in captured.err
    assert "cannot read" in captured.err
    # the readable file is still classified, and stdout holds only JSON
    rows = _rows(captured.out)
    assert [Path(r["path"]).name for r in rows] == ["klacht.eml"]


def test_a_folder_named_like_an_eml_file_is_searched_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "map.eml"
    odd.mkdir()
    (odd / "binnen.txt").write_text("geen mail", encoding="utf-8")
    status = main(["classify", "--json", str(odd)])
    captured = capsys.readouterr()
    # a folder named *.eml is searched for .eml files; there are none, so nothing is printed
    assert status == 0
    assert captured.out == ""


def test_the_plain_output_names_the_file_label_and_reasons(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["classify", str(folder / "klacht.eml")])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"{folder / 'klacht.eml'}: klacht (")
    assert "\n    - " in out


def test_classify_reads_a_message_from_stdin_in_a_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "klachtwacht.cli", "classify", "--json", "-"],
        input=MAILS["klacht.eml"],
        capture_output=True,
        cwd=REPO,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    rows = _rows(proc.stdout.decode("utf-8"))
    assert len(rows) == 1
    assert_contract(rows[0])
    assert rows[0]["path"] == "-"
    assert rows[0]["label"] == "klacht"


def test_a_missing_file_in_a_subprocess_exits_2_with_the_reason_on_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "weg.eml"
    proc = subprocess.run(
        [sys.executable, "-m", "klachtwacht.cli", "classify", "--json", str(missing)],
        capture_output=True,
        cwd=REPO,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert str(missing) in proc.stderr.decode("utf-8", "replace")
