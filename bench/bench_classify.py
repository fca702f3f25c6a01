"""Classifier benchmark: model load time and messages per second in one process.

    python bench/bench_classify.py [--messages 2000]

Classifies realistic messages (the corpus, with full reasons, as the worker
does) and prints the load time and the throughput.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped one)")
    parser.add_argument("--batch", type=int, action="append", default=None, help="messages per classify call (the worker uses 1); repeatable; default 1 and 64")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from classifiers.classifier import Classifier

    model = Classifier.load(args.model)
    load = time.perf_counter() - t0
    from classifiers.corpus import load_corpus

    corpus = load_corpus()
    items = [(e.subject, e.body, (), 0) for e in (corpus * (args.messages // len(corpus) + 1))[: args.messages]]
    chars = sum(len(s) + len(b) for s, b, _, _ in items)
    print(f"model {model.meta.model_id}: load {load:.2f} s (import of spaCy included)")
    model.classify_many(items[:20])  # warm-up
    for batch in args.batch or [1, 64]:
        t1 = time.perf_counter()
        for i in range(0, len(items), batch):
            model.classify_many(items[i : i + batch])
        seconds = time.perf_counter() - t1
        print(f"{len(items)} messages ({chars / len(items):.0f} characters on average), batch {batch}: "
              f"{seconds:.2f} s = {len(items) / seconds:.0f} messages/s")


if __name__ == "__main__":
    main()
