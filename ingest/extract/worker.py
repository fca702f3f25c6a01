"""The extraction process: ``python -m ingest.extract.worker KIND LIMITS_JSON`` reads the bytes on stdin, prints JSON.

It lowers its own limits first (address space, CPU time), so a hostile
attachment ends this process, never the worker that parses the message. It
prints one :class:`~ingest.extract.result.Extraction` as JSON and exits 0
whenever it could say what happened; a crash or a kill is noticed by the
parent from the exit status.
"""

from __future__ import annotations

import json
import sys
import time

from ingest.extract.limits import Limits
from ingest.extract.result import Extraction, ExtractionError


def _lower_limits(limits: Limits) -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the parent's timeout still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.timeout) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def run(kind: str, data: bytes, limits: Limits) -> Extraction:
    """Read ``data`` as ``kind``; every failure is an Extraction with a defect."""
    from ingest.extract.readers import READERS

    deadline = time.monotonic() + limits.timeout
    try:
        return READERS[kind](data, limits, deadline)
    except ExtractionError as exc:
        return Extraction("", False, (str(exc),))
    except MemoryError:
        return Extraction("", False, ("reading it needs more memory than allowed (%d MB)" % (limits.memory_bytes // 2**20),))
    except RecursionError:
        return Extraction("", False, ("it is nested too deeply to read",))
    except Exception as exc:  # a third-party parser failing in an unforeseen way
        return Extraction("", False, ("the %s reader failed (%s)" % (kind, type(exc).__name__),))


def main() -> int:
    kind = sys.argv[1]
    limits = Limits(**json.loads(sys.argv[2]))
    _lower_limits(limits)
    data = sys.stdin.buffer.read()
    result = run(kind, data, limits)
    sys.stdout.write(json.dumps(result.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
