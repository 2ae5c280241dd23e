"""Compare two eval runs case by case: the same citations, refusals and scores, or each
difference listed.

    python -m eval.compare BEFORE/cases.jsonl AFTER/cases.jsonl [--systems ours,rules]

Exit status 0 when every case of every compared system matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FIELDS = ("refused", "score", "citations", "answer")


def read_cases(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``(dataset, id) -> case`` of a ``cases.jsonl`` file."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            out[(str(case["dataset"]), str(case["id"]))] = case
    return out


def differences(before: dict[tuple[str, str], dict[str, Any]],
                after: dict[tuple[str, str], dict[str, Any]],
                systems: Iterable[str]) -> list[str]:
    """One line per case, system and field that differ (a case missing on one side too)."""
    out: list[str] = []
    for key in sorted(set(before) | set(after)):
        name = f"{key[0]}/{key[1]}"
        if key not in before or key not in after:
            out.append(f"{name}: only in {'after' if key not in before else 'before'}")
            continue
        for system in systems:
            old = before[key].get("systems", {}).get(system)
            new = after[key].get("systems", {}).get(system)
            if old is None and new is None:
                continue
            if old is None or new is None:
                out.append(f"{name} [{system}]: only in {'after' if old is None else 'before'}")
                continue
            for field in FIELDS:
                if old.get(field) != new.get(field):
                    out.append(f"{name} [{system}] {field}: {old.get(field)!r} -> "
                               f"{new.get(field)!r}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.compare",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--systems", default="ours,rules",
                   help="comma-separated systems to compare (default: ours,rules)")
    args = p.parse_args(argv)
    try:
        before, after = read_cases(args.before), read_cases(args.after)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot read the runs ({exc}): pass two cases.jsonl files written by "
              "rag eval", file=sys.stderr)
        return 2
    found = differences(before, after, [s for s in args.systems.split(",") if s])
    for line in found:
        print(line)
    print(f"{len(before)} cases before, {len(after)} after; {len(found)} difference(s)")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
