"""The chat's memory as a collection grows: resident memory of the serving process after each
upload, with questions answered through ``/ask`` in between.

    python bench/memory_growth.py [--steps 4] [--sentences 50000] [--questions 20]

The real app (``ui.app.build_app`` over an Engine with the seed indexed) serves on a loopback
port in this process. Each step uploads a text file of ``--sentences`` sentences through the
app's upload handler (``ChatApp.upload``, what the Documents panel calls) into one collection,
then one ``gradio_client`` client asks ``--questions`` seed questions through ``/ask`` against
that collection; the process's resident memory (VmRSS) and its peak (VmHWM) are read after each
step. Finally the collection is deleted through the app and memory read once more.

Prints a Markdown snippet and writes it to ``OUT/memory.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import _client, load_cases, seed_engine, serve  # noqa: E402

COLLECTION = "bench-growth"


def memory_mb() -> tuple[float, float]:
    """(resident, peak resident) of this process in MB."""
    fields = dict(line.split(":", 1) for line in
                  Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def ask_some(url: str, n: int) -> tuple[int, list[str]]:
    """Ask ``n`` seed questions against the grown collection; (answered, errors)."""
    client = _client(url)
    cases = [c for c in load_cases() if not c.history]
    errors: list[str] = []
    for i in range(n):
        try:
            got = client.predict(cases[i % len(cases)].question, COLLECTION, [],
                                 api_name="/ask")
            if not isinstance(got, dict) or got.get("error"):
                errors.append(f"not an answer: {str(got)[:200]}")
        except Exception as exc:  # a benchmark records every failure
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
    return n - len(errors), errors



def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--sentences", type=int, default=50_000, help="per step")
    p.add_argument("--questions", type=int, default=20, help="after each step")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = p.parse_args(argv)
    from ui.app import ChatApp

    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    rows = ["| step | sentences in the collection | upload s | questions (errors) | "
            "RSS MB | peak RSS MB |", "|---|---|---|---|---|---|"]
    errors: list[str] = []
    with seed_engine() as engine, serve(engine, concurrency=4) as url, \
            tempfile.TemporaryDirectory(prefix="rag-grow-") as tmp:
        rss, peak = memory_mb()
        rows.append(f"| served, seed only | 0 | - | - | {rss:.0f} | {peak:.0f} |")
        app = ChatApp(engine, stream_delay=0)
        for step in range(1, args.steps + 1):
            doc = Path(tmp) / f"part-{step}.txt"
            doc.write_text(" ".join(
                f"Record {step}-{i} says the Kestrel bridge carried {i % 9000} cars on day "
                f"{i % 365}." for i in range(args.sentences)))
            started = time.perf_counter()
            status = [item[0] for item in app.upload([str(doc)], COLLECTION)][-1:]
            took = time.perf_counter() - started
            if not status or 'class="ok"' not in str(status[0]):
                errors.append(f"step {step}: upload not indexed: {str(status)[:300]}")
            doc.unlink()
            answered, errs = ask_some(url, args.questions)
            errors += errs
            gc.collect()
            rss, peak = memory_mb()
            rows.append(f"| {step} | {step * args.sentences:,} | {took:.0f} | "
                        f"{answered} ({len(errs)}) | {rss:.0f} | {peak:.0f} |")
            print(rows[-1], flush=True)
        said = app.delete_collection(COLLECTION)[0]
        if "Deleted" not in str(said):
            errors.append(f"delete: {str(said)[:300]}")
        del app
        gc.collect()
        rss, peak = memory_mb()
        rows.append(f"| collection deleted | 0 | - | - | {rss:.0f} | {peak:.0f} |")
    lines = [f"## Memory as a collection grows (`python bench/memory_growth.py --steps "
             f"{args.steps} --sentences {args.sentences}`), {stamp}", "", *rows]
    lines += [f"- error: {e}" for e in errors[:10]]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
