"""Fit the reader's settings on validation articles, never on the articles the eval reports.

    python -m rag.calibrate [--data ../shared/data] [--limit N]

The validation articles of ``squad2-dev-half.json`` (:data:`rag.training.data.VALIDATION_TITLES`:
not trained on, not reported) become documents in a scratch collection. Every question runs the
normal retrieval and first-stage scoring, and the reader reads the best ``MAX_CANDIDATES``
sentences. Off-topic questions join them: questions of the other articles asked of a collection
holding one article alone, which must be refused. From these, with no further model calls, it picks:

- ``candidates``: how many first-stage sentences the reader reads;
- ``require_fit``: whether a sentence must hold the kind of thing asked for (a hand rule; kept
  only if it helps here);
- ``threshold``: the refusal threshold, the value that gets the most questions right (the best
  sentence answers an answerable question, or an unanswerable one is refused) among those that
  refuse at most ``--max-false-refusal`` of the answerable questions;
- ``second``: the probability a second sentence needs to be cited too (best citation F1).

The choices and what they do on the validation questions are written into the ``reader``
section of ``rag/scoring.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.pipeline import Engine
from rag.reader import SCORING_FILE
from rag.select import HEAD_FEATURES, Head, head_row
from rag.settings import Settings
from rag.training.data import (
    TRAIN_FILE,
    VALIDATION_TITLES,
    Article,
    read_articles,
    write_articles,
)

MAX_CANDIDATES = 24
OFF_TOPIC_QUESTIONS = 100
"""Questions of the other articles asked of each article alone (see observe_elsewhere)."""
CANDIDATE_CHOICES = (8, 12, 16, 24)
SECOND_CHOICES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01)


@dataclass(frozen=True)
class Observation:
    """One validation question: the first-stage candidates the reader read, in first-stage
    order, with the reader's probability, whether each fits the asked kind and holds the
    answer."""

    answerable: bool
    probabilities: tuple[float, ...]
    fits: tuple[bool, ...]
    correct: tuple[bool, ...]
    rows: tuple[tuple[float, ...], ...]
    """The head's inputs for each candidate (:func:`rag.select.head_row`)."""
    article: str


@dataclass(frozen=True)
class Choice:
    candidates: int
    require_fit: bool
    threshold: float
    right: float
    answerable_refused: float
    unanswerable_refused: float
    best_correct: float


def observe(engine: Engine, articles: Sequence[Article], folder: Path,
            limit: int | None = None, progress: bool = True) -> list[Observation]:
    from tqdm import tqdm

    write_articles(articles, folder)
    engine.index([folder], "calibrate", base=folder)
    todo = [(a, q) for a in articles for q in a.questions[:limit]]
    out = []
    for article, q in tqdm(todo, desc="validation questions", disable=not progress,
                           file=sys.stderr):
        out.append(_observation(engine, q.text, "calibrate", article,
                                [article.spans[i] for i in q.gold]))
    return out


def _observation(engine: Engine, question: str, collection: str, article: Article,
                 gold: Sequence[tuple[int, int]]) -> Observation:
    """Ask ``question`` of ``collection``; ``gold`` are its answer's spans in ``article``
    (none: the right outcome is a refusal)."""
    assert engine.reader is not None
    _, first, passages = engine.first_stage(question, [], collection)
    first, passages = first[:MAX_CANDIDATES], passages[:MAX_CANDIDATES]
    probs = engine.reader.probabilities(question, passages)
    return Observation(
        bool(gold), tuple(float(p) for p in probs), tuple(c.fits for c in first),
        tuple(c.source == article.source and any(c.start < e and s < c.end
                                                         for s, e in gold)
              for c in first),
        tuple(tuple(round(x, 6) for x in head_row(c, p)) for c, p in zip(
            first, probs, strict=True)),
        article.title)


def observe_elsewhere(engine: Engine, articles: Sequence[Article], folder: Path,
                      per_article: int = OFF_TOPIC_QUESTIONS,
                      progress: bool = True) -> list[Observation]:
    """Questions asked of a collection that holds only another article: the documents do not
    cover them at all, and the right answer is a refusal (SQuAD has no such questions)."""
    from tqdm import tqdm

    todo = []
    for i, article in enumerate(articles):
        own = folder / f"only-{i}"
        own.mkdir()
        write_articles([article], own)
        engine.index([own], f"calibrate-only-{i}", base=own)
        others = [(a, q) for a in articles if a is not article for q in a.questions]
        todo += [(f"calibrate-only-{i}", a, q)
                 for a, q in others[::max(1, len(others) // per_article)][:per_article]]
    out = []
    for collection, asked_of, q in tqdm(todo, desc="off-topic questions", disable=not progress,
                                        file=sys.stderr):
        out.append(_observation(engine, q.text, collection, asked_of, []))
    return out


def fit_head(observations: Sequence[Observation], k: int) -> Head:
    """Logistic regression of "holds the answer" on the head's inputs, over the first ``k``
    candidates of every validation question."""
    from sklearn.linear_model import LogisticRegression

    x = [r for o in observations for r in o.rows[:k]]
    y = [c for o in observations for c in o.correct[:k]]
    model = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(x), np.array(y))
    return Head(tuple(round(float(w), 5) for w in model.coef_[0]),
                round(float(model.intercept_[0]), 5))


def with_head(observations: Sequence[Observation], head: Head) -> list[Observation]:
    """The observations with each candidate's probability replaced by the head's."""
    return [replace(o, probabilities=tuple(head.probability(r) for r in o.rows))
            for o in observations]


def cross_fit(observations: Sequence[Observation], k: int) -> list[Observation]:
    """Each article's observations scored by a head fitted on the other articles (an honest
    estimate of what the head does on articles it was not fitted on)."""
    out = []
    for article in sorted({o.article for o in observations}):
        head = fit_head([o for o in observations if o.article != article], k)
        out += with_head([o for o in observations if o.article == article], head)
    return out


def ranked(o: Observation, k: int, require_fit: bool) -> list[tuple[float, bool]]:
    """(score, correct) of the first ``k`` candidates as the answerer ranks them."""
    rows = [(p if f or not require_fit else 0.0, c)
            for p, f, c in zip(o.probabilities[:k], o.fits[:k], o.correct[:k], strict=True)]
    return sorted(rows, key=lambda r: -r[0])


def fit(observations: Sequence[Observation], k: int, require_fit: bool,
        max_false_refusal: float) -> Choice:
    best = [(r[0] if (r := ranked(o, k, require_fit)) else (0.0, False)) for o in observations]
    answerable = np.array([o.answerable for o in observations])
    score = np.array([b[0] for b in best])
    correct = np.array([b[1] for b in best])
    choice: Choice | None = None
    for t in np.unique(np.concatenate([score, [0.0]])):
        refused = score < t
        false_refusal = float(refused[answerable].mean()) if answerable.any() else 0.0
        if false_refusal > max_false_refusal:
            break
        right = float(np.mean(np.where(answerable, ~refused & correct, refused)))
        if choice is None or right > choice.right:
            choice = Choice(k, require_fit, float(t), right, false_refusal,
                            float(refused[~answerable].mean()) if (~answerable).any() else 0.0,
                            float(correct[answerable].mean()) if answerable.any() else 0.0)
    assert choice is not None
    return choice


def fit_second(observations: Sequence[Observation], choice: Choice) -> tuple[float, float]:
    """The ``second`` probability with the best citation F1 on answerable questions."""
    results = []
    for second in SECOND_CHOICES:
        f1s = []
        for o in observations:
            if not o.answerable:
                continue
            rows = ranked(o, choice.candidates, choice.require_fit)
            if not rows or rows[0][0] < choice.threshold:
                f1s.append(0.0)
                continue
            cited = [rows[0]] + [r for r in rows[1:3] if r[0] >= second]
            hits = sum(c for _, c in cited)
            gold = max(1, sum(o.correct))  # gold sentences among the candidates read
            p, r = hits / len(cited), hits / gold
            f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        results.append((float(np.mean(f1s)), -second))
    f1, neg = max(results)
    return -neg, f1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.calibrate")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=SCORING_FILE)
    parser.add_argument("--limit", type=int, default=None, help="questions per article")
    parser.add_argument("--max-false-refusal", type=float, default=0.08,
                        help="share of answerable validation questions the threshold may refuse")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep the validation observations here and reuse them")
    args = parser.parse_args(argv)
    if args.cache is not None and args.cache.exists():
        observations = [Observation(**{k: _tuples(v) for k, v in row.items()})
                        for row in json.loads(args.cache.read_text(encoding="utf-8"))]
    else:
        articles = read_articles(args.data / TRAIN_FILE, titles=VALIDATION_TITLES)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "docs"
            folder.mkdir()
            engine = Engine(Settings(data_dir=Path(tmp) / "data", reader=True))
            observations = (observe(engine, articles, folder, args.limit)
                            + observe_elsewhere(engine, articles, folder))
        if args.cache is not None:
            args.cache.write_text(json.dumps([o.__dict__ for o in observations]),
                                  encoding="utf-8")
    # each choice is judged on cross-fitted scores: a head fitted on the other articles
    choices = []
    for k in CANDIDATE_CHOICES:
        for use_head in (False, True):
            scored = cross_fit(observations, k) if use_head else observations
            for rf in (True, False):
                choices.append((fit(scored, k, rf, args.max_false_refusal), use_head))
    top = max(c.right for c, _ in choices)
    # the fewest candidates (fastest) within half a point of the best
    best, use_head = min((c for c in choices if c[0].right >= top - 0.005),
                         key=lambda c: (c[0].candidates, -c[0].right))
    head = fit_head(observations, best.candidates) if use_head else None
    final = with_head(observations, head) if head else observations
    best = fit(final, best.candidates, best.require_fit, args.max_false_refusal)
    second, f1 = fit_second(final, best)
    scoring = json.loads(args.out.read_text(encoding="utf-8"))
    scoring["reader"] = {
        # rounded down: a rounded-up threshold would refuse questions the fit accepted
        "threshold": math.floor(best.threshold * 1e4) / 1e4, "second": second,
        "candidates": best.candidates, "require_fit": best.require_fit,
        "max_pieces": scoring.get("reader", {}).get("max_pieces", 128),
        "head": None if head is None else {"features": list(HEAD_FEATURES),
                                           "weights": list(head.weights), "bias": head.bias},
        "note": ("Fitted by python -m rag.calibrate on the validation articles "
                 f"{', '.join(sorted(VALIDATION_TITLES))} of {TRAIN_FILE} (not trained on, not "
                 "reported). head: logistic regression of 'holds the answer' on the reader's "
                 "logit and the first-stage features, used when it beats the reader alone "
                 "with cross-fitted scores (fitted on two articles, scored on the third); "
                 "threshold: the most questions right while refusing at most "
                 f"{args.max_false_refusal:.0%} of answerable ones; candidates, require_fit, "
                 "head: the fastest choice within half a point of the best; second: best "
                 "citation F1."),
        "validation": {
            "questions": len(observations),
            "answerable": sum(o.answerable for o in observations),
            "chosen": {**best.__dict__, "head": use_head, "second_f1": round(f1, 4)},
            "ablation (cross-fitted)": [
                {**{k: round(v, 4) if isinstance(v, float) else v
                    for k, v in c.__dict__.items()}, "head": h} for c, h in choices],
        },
    }
    args.out.write_text(json.dumps(scoring, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(scoring["reader"], indent=2))
    return 0


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


if __name__ == "__main__":
    raise SystemExit(main())
