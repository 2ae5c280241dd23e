"""How well a run's support scores separate answerable from unanswerable questions, per dataset,
whatever the refusal threshold (so two readers with thresholds fitted elsewhere compare fairly).

    python -m eval.separate RUN/cases.jsonl [--system ours] [--false-refusal 0.10]

Per dataset: questions; best sentence right (the top-ranked sentence overlaps a gold one, over
answerable questions); AUC of the best score, answerable vs unanswerable; unanswerable questions
refused at the threshold that refuses ``--false-refusal`` of the answerable ones.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.compare import read_cases
from eval.metrics import overlaps, separation


def _top_right(case: dict[str, Any], system: str) -> bool:
    ranked = case["systems"][system]["ranked"]
    if not ranked:
        return False
    return any(overlaps(tuple(ranked[0]), tuple(g)) for g in case["gold"])


def rows(cases: Sequence[dict[str, Any]], system: str,
         false_refusal: float) -> list[tuple[str, int, float | None, float | None, float | None]]:
    """``(dataset, questions, best sentence right, AUC, unanswerable refused)`` per dataset."""
    out = []
    for dataset in sorted({str(c["dataset"]) for c in cases}):
        own = [c for c in cases if c["dataset"] == dataset and system in c["systems"]]
        answerable = [c for c in own if c["answerable"]]
        right = (sum(_top_right(c, system) for c in answerable) / len(answerable)
                 if answerable else None)
        sep = separation([float(c["systems"][system]["score"]) for c in answerable],
                         [float(c["systems"][system]["score"]) for c in own
                          if not c["answerable"]], false_refusal)
        out.append((dataset, len(own), right, sep.auc if sep else None,
                    sep.refused_at if sep else None))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.separate",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("cases", type=Path, help="a run's cases.jsonl")
    p.add_argument("--system", default="ours")
    p.add_argument("--false-refusal", type=float, default=0.10)
    args = p.parse_args(argv)
    cases = list(read_cases(args.cases).values())

    def show(x: float | None, percent: bool = True) -> str:
        return "–" if x is None else f"{100 * x:.1f}" if percent else f"{x:.3f}"

    print(f"{'dataset':20} {'questions':>9} {'best right':>10} {'AUC':>6} "
          f"{'unans refused at ' + show(args.false_refusal) + ' % false refusals':>36}")
    for dataset, n, right, auc, refused in rows(cases, args.system, args.false_refusal):
        print(f"{dataset:20} {n:9} {show(right):>10} {show(auc, False):>6} {show(refused):>36}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
