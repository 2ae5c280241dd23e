"""Fit the reader's settings on validation articles, never on the articles the eval reports.

    python -m rag.calibrate [--data ../shared/data] [--limit N]

Two groups of validation documents, neither trained on nor reported: the validation articles of
``squad2-dev-half.json`` (:data:`rag.training.data.VALIDATION_TITLES`) and the calibration
documents of our own corpus (:data:`rag.training.corpus.CALIBRATION_DOCS`: a manual, terms, an
abstract, a news page, a history, minutes). Each group becomes a scratch collection. Every
question runs the normal retrieval and first-stage scoring, and the reader reads the best
``MAX_CANDIDATES`` sentences. Off-topic questions join them: questions of the group's other
documents asked of a collection holding one document alone, which must be refused. The two groups
weigh the same in every fit below, however many questions each has. From these, with no further
model calls, it picks:

- ``candidates``: how many first-stage sentences the reader reads;
- ``require_fit``: whether a sentence must hold the kind of thing asked for (a hand rule; kept
  only if it helps here);
- ``threshold``: the refusal threshold, the value that gets the most questions right (the best
  sentence answers an answerable question, or an unanswerable one is refused) among those that
  refuse at most ``--max-false-refusal`` of the answerable questions (the groups weighing the
  same; bounding each group's share instead was tried and answered too many near misses);
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
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.pipeline import Engine
from rag.reader import SCORING_FILE
from rag.select import HEAD_FEATURES, Head, head_row
from rag.settings import Settings
from rag.training.corpus import CALIBRATION_DOCS, read_corpus
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
    group: str = "squad"
    """Which validation documents asked it: ``squad`` or ``own``."""


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
            limit: int | None = None, progress: bool = True,
            group: str = "squad") -> list[Observation]:
    from tqdm import tqdm

    folder.mkdir(parents=True, exist_ok=True)
    write_articles(articles, folder)
    engine.index([folder], f"calibrate-{group}", base=folder)
    todo = [(a, q) for a in articles for q in a.questions[:limit]]
    out = []
    for article, q in tqdm(todo, desc=f"validation questions ({group})",
                           disable=not progress, file=sys.stderr):
        out.append(_observation(engine, q.text, f"calibrate-{group}", article,
                                [article.spans[i] for i in q.gold], group))
    return out


def _observation(engine: Engine, question: str, collection: str, article: Article,
                 gold: Sequence[tuple[int, int]], group: str) -> Observation:
    """Ask ``question`` of ``collection``; ``gold`` are its answer's spans in ``article``
    (none: the right outcome is a refusal); ``group`` names its validation documents."""
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
        article.title, group)


def observe_elsewhere(engine: Engine, articles: Sequence[Article], folder: Path,
                      per_article: int = OFF_TOPIC_QUESTIONS, progress: bool = True,
                      group: str = "squad") -> list[Observation]:
    """Questions asked of a collection that holds only another article: the documents do not
    cover them at all, and the right answer is a refusal (SQuAD has no such questions)."""
    from tqdm import tqdm

    todo = []
    for i, article in enumerate(articles):
        own = folder / f"only-{group}-{i}"
        own.mkdir(parents=True)
        write_articles([article], own)
        engine.index([own], f"calibrate-only-{group}-{i}", base=own)
        others = [(a, q) for a in articles if a is not article for q in a.questions]
        todo += [(f"calibrate-only-{group}-{i}", a, q)
                 for a, q in others[::max(1, len(others) // per_article)][:per_article]]
    out = []
    for collection, asked_of, q in tqdm(todo, desc=f"off-topic questions ({group})",
                                        disable=not progress, file=sys.stderr):
        out.append(_observation(engine, q.text, collection, asked_of, [], group))
    return out


def weights(observations: Sequence[Observation]) -> np.ndarray:
    """Each observation's weight: the groups weigh the same, each question alike within one."""
    counts = Counter(o.group for o in observations)
    return np.array([1.0 / (len(counts) * counts[o.group]) for o in observations])


def fit_head(observations: Sequence[Observation], k: int) -> Head:
    """Logistic regression of "holds the answer" on the head's inputs, over the first ``k``
    candidates of every validation question."""
    from sklearn.linear_model import LogisticRegression

    x = [r for o in observations for r in o.rows[:k]]
    y = [c for o in observations for c in o.correct[:k]]
    w = np.repeat(weights(observations), [len(o.rows[:k]) for o in observations])
    # rescaled to a mean of 1, so the regularisation is as strong as with plain counts
    model = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(x), np.array(y),
                                                         sample_weight=w * len(w) / w.sum())
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
    w = weights(observations)
    choice: Choice | None = None
    for t in np.unique(np.concatenate([score, [0.0]])):
        refused = score < t
        false_refusal = _share(refused, w, answerable)
        if false_refusal > max_false_refusal:
            break
        right = float(np.sum(w * np.where(answerable, ~refused & correct, refused)))
        if choice is None or right > choice.right:
            choice = Choice(k, require_fit, float(t), right, false_refusal,
                            _share(refused, w, ~answerable), _share(correct, w, answerable))
    assert choice is not None
    return choice


def _share(flags: np.ndarray, w: np.ndarray, where: np.ndarray) -> float:
    """The weighted share of ``flags`` among the observations ``where`` holds."""
    return float(np.sum(w * flags * where) / np.sum(w * where)) if where.any() else 0.0


def fit_second(observations: Sequence[Observation], choice: Choice) -> tuple[float, float]:
    """The ``second`` probability with the best citation F1 on answerable questions."""
    results = []
    w = weights(observations)
    for second in SECOND_CHOICES:
        f1s = []
        for o, weight in zip(observations, w, strict=True):
            if not o.answerable:
                continue
            rows = ranked(o, choice.candidates, choice.require_fit)
            if not rows or rows[0][0] < choice.threshold:
                f1s.append((0.0, weight))
                continue
            cited = [rows[0]] + [r for r in rows[1:3] if r[0] >= second]
            hits = sum(c for _, c in cited)
            gold = max(1, sum(o.correct))  # gold sentences among the candidates read
            p, r = hits / len(cited), hits / gold
            f1s.append((2 * p * r / (p + r) if p + r else 0.0, weight))
        results.append((sum(f * x for f, x in f1s) / sum(x for _, x in f1s), -second))
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
        own = read_corpus(only=CALIBRATION_DOCS)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "docs"
            engine = Engine(Settings(data_dir=Path(tmp) / "data", reader=True))
            observations = (observe(engine, articles, folder / "squad", args.limit)
                            + observe_elsewhere(engine, articles, folder)
                            + observe(engine, own, folder / "own", args.limit, group="own")
                            + observe_elsewhere(engine, own, folder, group="own"))
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
                 f"{', '.join(sorted(VALIDATION_TITLES))} of {TRAIN_FILE} and the calibration "
                 f"documents {', '.join(sorted(CALIBRATION_DOCS))} of rag/training/corpus (not "
                 "trained on, not reported; the two groups weigh the same). head: logistic "
                 "regression of 'holds the answer' on the reader's logit and the first-stage "
                 "features, used when it beats the reader alone with cross-fitted scores (each "
                 "document scored by a head fitted on the others); threshold: the most "
                 "questions right while refusing at most "
                 f"{args.max_false_refusal:.0%} of the answerable ones; candidates, "
                 "require_fit, head: the fastest choice within half a point of the best; "
                 "second: best citation F1."),
        "validation": {
            "questions": dict(Counter(o.group for o in observations)),
            "answerable": dict(Counter(o.group for o in observations if o.answerable)),
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
