"""Warm query latency and serving memory: our ``ask()`` beside stock LangChain, each in its own
process, driven alternately question by question.

The parent (:func:`measure`) starts two workers on the same collection, one serving
``Engine.ask`` and one serving ``langchain_chroma.Chroma.similarity_search(q, k=4)`` with the
same embedding model, loads both (model load not timed; the ``ask()`` worker then calls
``Engine.warm`` as the chat does at start, timed on its own: it loads the reader, the lexical
index and Chroma's vector index), times the first question of each (for stock, the cold cost:
loading the vector index; for ``ask()``, what is left after the warm-up), warms
both up on other questions, then sends each timed question to both, alternating which goes
first. Each worker times its own call, so pipe overhead is not counted, and reports its own peak
RSS. While one worker answers, the other waits on its pipe. Then the ``ask()`` worker indexes a
few new files into the collection it serves (the encoder alone on their sentences first, then
the indexing run, each timed) and times its first question after that run; the files are
removed again by a further run.

    python bench/scale_query.py --role ours|stock --data DIR --collection NAME   (a worker)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker(role: str, data: Path, collection: str, reply: IO[str]) -> None:
    from index.embed import Embedder
    from rag.settings import Settings

    settings = Settings(data_dir=data)
    started = time.perf_counter()
    embedder = Embedder.from_settings(settings)
    embedder.embed(["warm up the model"])
    if role == "ours":
        from rag.pipeline import Engine

        engine = Engine(settings, embedder=embedder)
        loaded = time.perf_counter()
        engine.warm(collection, indexing=True)  # as the chat (uploads on) does at start
        warm_s = time.perf_counter() - loaded

        def call(q: str) -> dict[str, Any]:
            a = engine.ask(q, collection=collection)
            return {"refused": a.refused, "citations": len(a.citations)}
    else:
        from langchain_chroma import Chroma
        from langchain_core.embeddings import Embeddings

        from index.store import open_client

        class Model(Embeddings):
            def embed_documents(self, texts: list[str]) -> list[list[float]]:
                return embedder.embed(texts).tolist()  # type: ignore[no-any-return]

            def embed_query(self, text: str) -> list[float]:
                return embedder.embed([text])[0].tolist()  # type: ignore[no-any-return]

        stock = Chroma(client=open_client(settings), collection_name=collection,
                       embedding_function=Model())

        def call(q: str) -> dict[str, Any]:
            return {"hits": len(stock.similarity_search(q, k=4))}

    def send(msg: dict[str, Any]) -> None:
        reply.write(json.dumps(msg) + "\n")
        reply.flush()

    send({"ready": time.perf_counter() - started, "rss_mb": _rss_mb(),
          "warm_s": warm_s if role == "ours" else None,
          "backend": str(getattr(embedder.model, "backend", "torch"))})
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("add") and role == "ours":
            send(add_files(engine, embedder, Path(msg["add"]), collection, msg["q"]))
            continue
        if msg.get("remove") and role == "ours":
            t = time.perf_counter()
            report = engine.index([Path(msg["remove"])], collection,
                                  base=Path(msg["remove"]).parent)
            send({"remove_s": time.perf_counter() - t, "removed": report.removed})
            continue
        if msg.get("quit"):
            send({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_mb": _rss_mb()})
            return
        t = time.perf_counter()
        out = call(msg["q"])
        send({"s": time.perf_counter() - t, **out})


def add_files(engine: Any, embedder: Any, folder: Path, collection: str,
              question: str) -> dict[str, Any]:
    """Index the files of ``folder`` into the served collection and time the next question;
    the raw encoder on the same sentences first (the run's floor)."""
    from index.segment import split_sentences

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sentences = [s.text for f in sorted(folder.glob("*.txt"))
                 for s in split_sentences(f.read_text(encoding="utf-8"))]
    t = time.perf_counter()
    embedder.embed(sentences)
    encoder_s = time.perf_counter() - t
    t = time.perf_counter()
    report = engine.index([folder], collection, base=folder.parent)
    index_s = time.perf_counter() - t
    t = time.perf_counter()
    engine.ask(question, collection=collection)
    return {"encoder_s": encoder_s, "index_s": index_s, "first_s": time.perf_counter() - t,
            "files": report.indexed, "chunks": report.chunks, "peak_rss_before_mb": peak}


class Worker:
    def __init__(self, role: str, data: Path, collection: str) -> None:
        self.role = role
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--role", role, "--data", str(data),
             "--collection", collection],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.role} worker died (exit {self.proc.wait()})")
        return dict(json.loads(line))

    def call(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> dict[str, Any]:
        out = self.call({"quit": True})
        self.proc.wait(timeout=120)
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def warm_page_cache(folder: Path) -> None:
    """Read every file of the collection once, so that neither side's timing depends on what
    an earlier step left in the OS page cache (a server that has run a while has its data
    there)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                while handle.read(1 << 24):
                    pass


def measure(data: Path, collection: str, qs: list[str], warmup: list[str],
            label: str = "", added: Path | None = None) -> dict[str, Any]:
    """Both workers, alternately; latencies in seconds, memory in MB. ``added``: a folder of
    new files the ``ask()`` worker indexes after the timed questions (then removes)."""
    from tqdm import tqdm

    warm_page_cache(data)
    workers: list[Worker] = []
    try:
        workers.append(Worker("stock", data, collection))
        workers.append(Worker("ours", data, collection))
        stock, ours = workers
        first = {w.role: w.call({"q": warmup[0]}) for w in (stock, ours)}
        for q in warmup[1:]:
            stock.call({"q": q})
            ours.call({"q": q})
        times: dict[str, list[float]] = {"ours": [], "stock": []}
        answers: list[dict[str, Any]] = []
        for i, q in enumerate(tqdm(qs, desc=f"queries {label}", unit="q", file=sys.stderr)):
            for w in (stock, ours) if i % 2 == 0 else (ours, stock):
                got = w.call({"q": q})
                times[w.role].append(got["s"])
                if w.role == "ours":
                    answers.append(got)
        after = {}
        if added is not None:
            after = ours.call({"add": str(added), "q": qs[0]})
            shutil.rmtree(added)
            added.mkdir()
            after |= ours.call({"remove": str(added)})
        mem = {w.role: w.close() for w in workers}
    finally:
        for w in workers:
            w.kill()
    return {
        "questions": len(qs), "warmup": len(warmup),
        "ours_s": times["ours"], "stock_s": times["stock"],
        "ours_first_s": first["ours"]["s"], "stock_first_s": first["stock"]["s"],
        "ours_load_s": ours.ready["ready"], "stock_load_s": stock.ready["ready"],
        "ours_warm_s": ours.ready.get("warm_s"),
        "backend": ours.ready.get("backend"),
        # the serving peak, before the worker indexed the added files
        "ours_peak_rss_mb": after.get("peak_rss_before_mb", mem["ours"]["peak_rss_mb"]),
        "after_add": after or None,
        "stock_peak_rss_mb": mem["stock"]["peak_rss_mb"],
        "answered": sum(1 for a in answers if not a["refused"] and a["citations"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=("ours", "stock"), required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--collection", required=True)
    args = parser.parse_args()
    # replies go on a private copy of stdout; anything a library prints goes to stderr
    reply = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker(args.role, args.data, args.collection, reply)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
