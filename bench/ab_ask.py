"""``ask()`` of two checkouts of this project beside stock LangChain, in one run: each serves
the same collection in its own process (``scale_query.py`` workers), and each question goes to
all three in a shuffled order, each timing its own call.

    python bench/ab_ask.py --data bench/out/scale/100k/data --old /path/to/old/checkout \\
        [--new .] [--queries 80] [--collection bench]

Prints the first question's seconds (a new process's cold cost), the warm p50 and its ratio to
stock, and each process's peak RSS, as JSON. Settings come from ``RAG_*`` variables (e.g.
``RAG_READER=false`` for the hand-rule answerer) and apply to both checkouts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_corpus import DEFAULT_DATA, questions
from scale_query import Worker, warm_page_cache

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="RAG_DATA_DIR of the collection")
    parser.add_argument("--old", type=Path, required=True, help="the other checkout")
    parser.add_argument("--new", type=Path, default=HERE.parent)
    parser.add_argument("--collection", default="bench")
    parser.add_argument("--queries", type=int, default=80)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    warm_page_cache(args.data)
    qs = questions(args.data_dir, args.queries + 6)
    workers: dict[str, Worker] = {}
    try:
        for name, code in (("stock", args.new), ("new", args.new), ("old", args.old)):
            os.environ["PYTHONPATH"] = str(code.resolve())  # the worker imports this checkout
            workers[name] = Worker("stock" if name == "stock" else "ours", args.data,
                                   args.collection)
        first = {k: w.call({"q": qs[args.queries]})["s"] for k, w in workers.items()}
        for q in qs[args.queries + 1 :]:
            for w in workers.values():
                w.call({"q": q})
        times: dict[str, list[float]] = {k: [] for k in workers}
        rng = random.Random(1)
        for q in qs[: args.queries]:
            order = list(workers)
            rng.shuffle(order)
            for k in order:
                times[k].append(workers[k].call({"q": q})["s"])
        peak = {k: w.close()["peak_rss_mb"] for k, w in workers.items()}
    finally:
        for w in workers.values():
            w.kill()
    p50 = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(json.dumps({"first_s": first, "p50_ms": p50,
                      "p50_ratio_to_stock": {k: p50[k] / p50["stock"] for k in ("old", "new")},
                      "peak_rss_mb": peak, "questions": args.queries}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
