"""``klachtwacht train``, ``evaluate`` and ``classify``: no database needed."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifiers.classifier import Classifier

__all__ = ["register", "classify_eml", "review_files", "FROM_DATABASE"]

#: The value of ``--with-reviews`` / ``--reviews`` given without a file: export from the configured database.
FROM_DATABASE = ""


def register(sub: Any) -> None:
    """Add the classifier's sub-commands to the ``klachtwacht`` parser."""
    train = sub.add_parser("train", help="build the classifier from the corpus (seeded, reproducible)")
    train.add_argument("--output", type=Path, default=None, help="model folder (default: the shipped model)")
    train.add_argument("--seed", type=int, default=7)
    train.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: the shipped corpus)")
    train.add_argument("--with-reviews", nargs="?", const=FROM_DATABASE, default=None, metavar="FILE",
                       help="also train on people's decisions: a file or folder from 'klachtwacht reviews export' (without FILE: exported from the database now)")
    train.set_defaults(handler=cmd_train)

    evaluate = sub.add_parser("evaluate", help="precision, recall, F1 and confusion matrix of the model and the baseline")
    evaluate.add_argument("--model", type=Path, default=None)
    evaluate.add_argument("--split", default="test", choices=("dev", "test"))
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--datasheet", action="store_true", help="also print the corpus datasheet")
    evaluate.add_argument("--no-lowo", dest="lowo", action="store_false", help="skip the leave-one-writer-out evaluation")
    evaluate.add_argument("--no-baseline-lowo", dest="baseline_lowo", action="store_false", help="leave-one-writer-out for the model only")
    evaluate.add_argument("--reviews", nargs="?", const=FROM_DATABASE, default=None, metavar="FILE",
                          help="only how the model does on people's decisions (a file or folder from 'klachtwacht reviews export'; without FILE: from the database)")
    evaluate.set_defaults(handler=cmd_evaluate)

    add = sub.add_parser("corpus-add", help="copy new writers' corpus files into the corpus, leaving out malformed records")
    add.add_argument("files", nargs="+", type=Path)
    add.set_defaults(handler=cmd_corpus_add)

    classify = sub.add_parser("classify", help="classify .eml files (or - for stdin) without a database")
    classify.add_argument("paths", nargs="+", help=".eml files, folders of them, or - for standard input")
    classify.add_argument("--json", action="store_true")
    classify.add_argument("--model", type=Path, default=None)
    classify.set_defaults(handler=cmd_classify)


@contextmanager
def review_files(args: argparse.Namespace, value: str | None) -> Iterator[list[Path]]:
    """The corpus files of people's decisions named by ``value``: a file, a folder of them, or (empty) exported from the database now."""
    from klachtwacht.errors import UsageError

    if value is None:
        yield []
        return
    if value != FROM_DATABASE:
        path = Path(value)
        files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):
            raise UsageError(f"no review records in {path} (write them with 'klachtwacht reviews export {path}')")
        yield files
        return
    from klachtwacht.cli import database, load_command_config
    from klachtwacht.review.export import export

    config = load_command_config(args, secrets=False)
    with tempfile.TemporaryDirectory(prefix="klachtwacht-reviews-") as folder:
        with database(args) as sessions:
            written = export(sessions, config, Path(folder))
        if not written:
            raise UsageError("no decisions by people in the database yet: nothing to add")
        yield sorted(written)


def cmd_train(args: argparse.Namespace) -> int:
    from classifiers.classifier import DEFAULT_MODEL_DIR
    from classifiers.corpus import CORPUS_DIR
    from classifiers.train import train_model

    with review_files(args, args.with_reviews) as extra:
        _, summary = train_model(args.output or DEFAULT_MODEL_DIR, seed=args.seed, corpus_dir=args.corpus or CORPUS_DIR, extra=extra)
    print(summary)
    return 0


def cmd_corpus_add(args: argparse.Namespace) -> int:
    from classifiers.corpus import add_writer_file

    for path in args.files:
        intake = add_writer_file(path)
        print(f"{intake.writer}: {intake.kept} records kept, {len(intake.dropped)} left out")
        for problem in intake.dropped:
            print(f"    - {problem}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from classifiers.classifier import Classifier
    from classifiers.corpus import comparison, datasheet, load_corpus
    from classifiers.evaluate import evaluate, evaluate_lowo
    from classifiers.lowo import format_lowo
    from classifiers.metrics import format_report

    model = Classifier.load(args.model)
    if args.reviews is not None:
        return _evaluate_reviews(args, model)
    reports = evaluate(model, args.split)
    lowo = evaluate_lowo(model, args.model, baseline=args.baseline_lowo) if args.lowo else []
    if args.json:
        print(json.dumps({"fixed_split": [r.as_dict() for r in reports], "leave_one_writer_out": [r.as_dict() for r in lowo]}, indent=2))
    else:
        print(f"operating thresholds (chosen on held-out writers): register at p(klacht) >= {model.meta.register_threshold:.3f}, "
              f"review from {model.meta.review_threshold:.3f}; label klacht from {model.meta.klacht_label_threshold:.2f}")
        for rep in reports:
            print()
            print(format_report(rep))
        if lowo:
            print()
            print(format_lowo(lowo))
        if args.datasheet:
            print()
            print(datasheet(load_corpus()))
            print()
            print(comparison(load_corpus()))
    return 0


def _evaluate_reviews(args: argparse.Namespace, model: Classifier) -> int:
    """How ``model`` does on what people decided: per-label precision, recall, F1 and the agreement; no leave-one-writer-out."""
    from classifiers.corpus import parse_corpus_text
    from classifiers.evaluate import evaluate_examples
    from classifiers.metrics import format_report
    from klachtwacht.errors import UsageError

    with review_files(args, args.reviews) as files:
        examples = [e for f in files for e in parse_corpus_text(f.read_text(encoding="utf-8"), f.name)]
        names = ", ".join(f.stem for f in files)
    if not examples:
        raise UsageError(f"no review records in {names}")
    rep = evaluate_examples(model, examples, f"{model.meta.model_id} on people's decisions ({names})")
    if args.json:
        print(json.dumps({"reviews": {**rep.as_dict(), "agreement": rep.accuracy}}, indent=2))
    else:
        print(format_report(rep))
        print(f"agreement with people's decisions: {rep.accuracy:.3f} ({round(rep.accuracy * rep.n)} of {rep.n})")
    return 0


def _eml_paths(paths: list[str]) -> Iterator[str]:
    for name in paths:
        if name == "-":
            yield "-"
            continue
        path = Path(name)
        if path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*.eml")))
        else:
            yield str(path)


def classify_eml(model: Classifier, raw: bytes) -> dict[str, Any]:
    """Parse ``raw`` and classify it; a message that cannot be parsed gets a review judgment, not an exception."""
    from ingest.parse import parse_message
    from klachtwacht.errors import ParseError

    try:
        parsed = parse_message(raw)
    except ParseError as exc:
        third = round(1 / 3, 4)
        return {
            "label": "overig",
            "confidence": third,
            "scores": {"klacht": round(1 - 2 * third, 4), "beleidsvraag": third, "overig": third},
            "reasons": [f"het bericht is niet te lezen en gaat ter beoordeling: {exc}"],
            "model": model.meta.model_id,
            "subtype": None,
            "language": "und",
            "needs_review": True,
        }
    return model.classify_parsed(parsed).to_dict()


def cmd_classify(args: argparse.Namespace) -> int:
    from classifiers.classifier import Classifier

    model = Classifier.load(args.model)
    status = 0
    for path in _eml_paths(args.paths):
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            print(f"klachtwacht classify: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 2
            continue
        row = {"path": path, **classify_eml(model, raw)}
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{path}: {row['label']} ({row['confidence']:.0%})" + (" -> ter beoordeling" if row["needs_review"] else ""))
            for reason in row["reasons"]:
                print(f"    - {reason}")
    return status
