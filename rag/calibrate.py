"""Calibrate the refusal threshold on data.

    python -m rag.calibrate [--data ../shared/data] [--max-false-refusal 0.1]

Each article of XQuAD (answerable questions) and SQuAD 2.0 (with unanswerable questions) becomes
one document in a scratch collection; the seed article with our own QA set (answerable and
unanswerable questions, follow-ups) joins them in its own collection. For every question the
normal retrieval and scoring run, and the best-supported sentence's score is recorded. The
threshold is the highest score that refuses at most ``--max-false-refusal`` of the answerable
questions; it is written, with what it does on each dataset, into ``rag/scoring.json``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.pipeline import Engine
from rag.select import SCORING_FILE, choose
from rag.settings import Settings

SEED_QA = Path(__file__).resolve().parents[1] / "eval" / "seed_qa.json"


@dataclass(frozen=True)
class _Question:
    dataset: str
    text: str
    history: tuple[tuple[str, str], ...]
    source: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Outcome:
    dataset: str
    answerable: bool
    score: float
    correct: bool
    """Whether the best-supported sentence holds the gold answer."""


def _load_squad(path: Path, folder: Path, limit: int) -> list[_Question]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out: list[_Question] = []
    for a, article in enumerate(data):
        parts, offsets = [], []
        pos = 0
        for para in article["paragraphs"]:
            offsets.append(pos)
            parts.append(para["context"])
            pos += len(para["context"]) + 2
        name = f"{path.stem}-{a:03d}.txt"
        (folder / name).write_text("\n\n".join(parts), encoding="utf-8")
        for para, base in zip(article["paragraphs"], offsets, strict=True):
            for qa in para["qas"]:
                spans = () if qa.get("is_impossible") else tuple(
                    (base + ans["answer_start"], base + ans["answer_start"] + len(ans["text"]))
                    for ans in qa["answers"])
                out.append(_Question(path.stem, qa["question"], (), name, spans))
    return out[:limit] if limit else out


def _load_seed(path: Path) -> list[_Question]:
    data = json.loads(path.read_text(encoding="utf-8"))
    text = (path.parents[1] / data["source"]).read_text(encoding="utf-8")
    out = []
    for case in data["cases"]:
        spans = tuple((text.index(ev), text.index(ev) + len(ev)) for ev in case["evidence"])
        history = tuple((str(q), str(a)) for q, a in case["history"])
        out.append(_Question("seed", case["question"], history, data["source"], spans))
    return out


def outcomes(engine: Engine, questions: list[_Question], collection: str) -> list[Outcome]:
    out = []
    for q in questions:
        query = engine._prepare({"text": q.text, "history": list(q.history),
                                 "collection": collection})
        retriever = engine.retriever(collection)
        scored = engine._retrieve(query, retriever, retriever.view())
        chosen = choose(query.question, scored.candidates, 1, scored.view.weight)
        best = chosen[0] if chosen else None
        correct = best is not None and best.source.endswith(q.source) and any(
            best.start < e and s < best.end for s, e in q.spans)
        out.append(Outcome(q.dataset, bool(q.spans), best.score if best else 0.0, correct))
    return out


def choose_threshold(results: list[Outcome], max_false_refusal: float) -> float:
    """The highest threshold that refuses at most ``max_false_refusal`` of answerable ones."""
    scores = np.array([r.score for r in results if r.answerable])
    return float(np.quantile(scores, max_false_refusal)) if len(scores) else 0.5


def figures(results: list[Outcome], threshold: float) -> dict[str, float]:
    ans = [r for r in results if r.answerable]
    unans = [r for r in results if not r.answerable]
    out = {"questions": float(len(results))}
    if ans:
        out["answerable_refused"] = sum(r.score < threshold for r in ans) / len(ans)
        out["answerable_best_sentence_correct"] = sum(r.correct for r in ans) / len(ans)
    if unans:
        out["unanswerable_refused"] = sum(r.score < threshold for r in unans) / len(unans)
    return {k: round(v, 3) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.calibrate")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=SCORING_FILE)
    parser.add_argument("--limit", type=int, default=0, help="questions per SQuAD file")
    parser.add_argument("--max-false-refusal", type=float, default=0.1,
                        help="share of answerable questions the threshold may refuse")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        engine = Engine(Settings(data_dir=Path(tmp) / "data"))
        squad = (_load_squad(args.data / "xquad.en.json", folder, args.limit)
                 + _load_squad(args.data / "squad2-dev-small.json", folder, args.limit))
        engine.index([folder], "calibrate")
        engine.index([SEED_QA.parents[1] / "seeds"], "calibrate-seed",
                     base=SEED_QA.parents[1])
        results = (outcomes(engine, squad, "calibrate")
                   + outcomes(engine, _load_seed(SEED_QA), "calibrate-seed"))
    threshold = choose_threshold(results, args.max_false_refusal)
    scoring = json.loads(args.out.read_text(encoding="utf-8"))
    scoring["refuse_below"] = round(threshold, 3)
    scoring["calibration"] = {
        "rule": f"highest threshold refusing at most {args.max_false_refusal:.0%} of "
                "answerable questions",
        **{name: figures([r for r in results if r.dataset == name], threshold)
           for name in ("xquad.en", "squad2-dev-small", "seed")},
    }
    args.out.write_text(json.dumps(scoring, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(scoring["calibration"], indent=2))
    print(f"refuse_below = {threshold:.3f} written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
