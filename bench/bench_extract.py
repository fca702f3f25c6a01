"""Attachment text extraction: time per kind, and how much of the golden corpus is read fully.

    python bench/bench_extract.py [--runs 5]

Times each kind of attachment of the whole-record golden corpus
(``tests/golden/whole``) through the default extractor (a process per
attachment, as the parser uses it) and in-process (the readers alone), and
prints the median per kind. Then parses every golden message and counts
those read fully: every attachment of a kind whose text is read was read
completely, and no replacement character is left in subject, names or text.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = {
    "pdf (text)": "complaint_as_pdf",
    "pdf (scan, OCR)": "complaint_as_scanned_pdf",
    "docx": "complaint_as_docx",
    "odt": "complaint_as_odt",
    "rtf": "complaint_as_rtf",
    "msg": "complaint_as_outlook_msg",
    "image (OCR)": "complaint_as_photographed_letter",
    "html": "complaint_as_html_attachment",
    "text": "complaint_as_text_attachment",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from ingest.attachtext import read_attachments
    from ingest.extract import InProcessExtractor, ProcessExtractor
    from ingest.parse import parse_message
    from ingest.records import ParsedMessage

    whole = ROOT / "tests" / "golden" / "whole"
    isolated, inline = ProcessExtractor(), InProcessExtractor()
    print("%-18s %8s %12s %12s" % ("kind", "bytes", "process ms", "in-proc ms"))
    for label, name in KINDS.items():
        from ingest.parse import _prepare  # the parts of parse_message before the attachments are read
        from ingest.walk import walk_tree

        raw, _ = _prepare((whole / (name + ".eml")).read_bytes())
        import mailparser

        message = mailparser.parse_from_bytes(raw).message
        walk = walk_tree(message, None)
        index = next(i for i, p in enumerate(walk.payloads) if p.data)
        pair = ([walk.attachments[index]], [walk.payloads[index]])
        times = {}
        for which, extractor in (("process", isolated), ("inline", inline)):
            runs = []
            for _ in range(args.runs):
                started = time.perf_counter()
                [got] = read_attachments(*pair, [""], extractor, [])
                runs.append((time.perf_counter() - started) * 1000)
                assert got.text_status in ("read", "ocr"), (name, got.text_status)
            times[which] = statistics.median(runs)
        print("%-18s %8d %12.0f %12.0f" % (label, len(walk.payloads[index].data), times["process"], times["inline"]))

    def read_fully(parsed: ParsedMessage) -> bool:
        names = [parsed.subject, parsed.text, *(a.name for a in (parsed.sender, *parsed.to) if a)]
        return all(a.text_status in ("", "read", "ocr") for a in parsed.attachments) and not any("\ufffd" in n for n in names)

    golden = ROOT / "tests" / "golden"
    for title, files in (("whole-record corpus", sorted(whole.glob("*.eml"))), ("older corpus", sorted(golden.glob("*.eml")))):
        results = []
        for path in files:
            try:
                results.append(read_fully(parse_message(path.read_bytes())))
            except Exception:  # quarantined on purpose (binary junk): not read
                results.append(False)
        print("%s: %d of %d messages read fully (%.0f%%)" % (title, sum(results), len(results), 100 * sum(results) / len(results)))


if __name__ == "__main__":
    main()
