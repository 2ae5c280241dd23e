"""Score the recorded results and write them: per-case JSONL, summary JSON, REPORT.md."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.metrics import (
    AnswerSummary,
    CitationScore,
    CitationSummary,
    Latency,
    RefusalSummary,
    Verbatim,
    citation_score,
    contains_answer,
    exact_match,
    summarize_answers,
    summarize_citations,
    summarize_latency,
    summarize_refusals,
    token_f1,
)
from eval.runner import TOP_K, CaseResult

SYSTEMS = ("ours", "baseline")
REFERENCE: dict[str, dict[str, float]] = {
    "HotpotQA distractor, supporting-fact F1": {
        "best published (Beam Retrieval)": 90.09, "original HotpotQA baseline": 64.49},
    "ALCE (ASQA), citation precision": {"ChatGPT": 72.5, "GPT-4": 75.6},
    "ALCE (ASQA), citation recall": {"ChatGPT": 73.6, "GPT-4": 68.5},
    "SQuAD v1.1, human": {"EM": 82.3, "F1": 91.2},
}
"""Published reference points (full versions of these sets; see ../shared/data/README.md)."""


@dataclass(frozen=True)
class CurvePoint:
    k: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True)
class SystemSummary:
    cases: int
    citations: CitationSummary
    verbatim: Verbatim
    answers: AnswerSummary
    refusals: RefusalSummary
    latency: Latency
    curve: tuple[CurvePoint, ...]
    follow_ups: float | None = None
    """Share of follow-up questions handled right (see :func:`follow_up_right`)."""
    fallbacks: int = 0
    """Answers where the chat model's answer was not used and the extractive one was."""


@dataclass(frozen=True)
class CaseScore:
    citations: CitationScore | None
    exact_match: bool | None
    f1: float | None
    contained: bool | None


def score_case(r: CaseResult) -> CaseScore:
    """Citation score (answerable cases with gold) and answer scores (cases with answers)."""
    cited = [(s, a, b) for s, a, b, _ in r.citations]
    cit = citation_score(cited, r.gold) if r.answerable else None
    if not (r.answerable and r.answers):
        return CaseScore(cit, None, None, None)
    if r.refused:
        return CaseScore(cit, False, 0.0, False)
    return CaseScore(cit, exact_match(r.short_answer, r.answers),
                     token_f1(r.short_answer, r.answers), contains_answer(r.answer, r.answers))


def follow_up_right(r: CaseResult, score: CaseScore) -> bool:
    """An answerable follow-up answered citing at least one gold sentence, or an unanswerable
    one refused."""
    if not r.answerable:
        return r.refused
    return not r.refused and score.citations is not None and score.citations.correct > 0


def summarize(results: Sequence[CaseResult]) -> SystemSummary:
    scores = [score_case(r) for r in results]
    follow = [follow_up_right(r, s) for r, s in zip(results, scores, strict=True) if r.follow_up]
    answer_rows = [(bool(s.exact_match), s.f1 or 0.0, bool(s.contained))
                   for s in scores if s.exact_match is not None]
    verbatim_total = sum(len(r.citations) for r in results)
    verbatim_ok = sum(r.verbatim for r in results)
    curve = []
    gold_cases = [r for r in results if r.answerable and r.gold]
    for k in range(1, TOP_K + 1):
        summary = summarize_citations(citation_score(r.ranked[:k], r.gold) for r in gold_cases)
        curve.append(CurvePoint(k, summary.precision, summary.recall, summary.f1))
    return SystemSummary(
        cases=len(results),
        citations=summarize_citations(s.citations for s in scores),
        verbatim=Verbatim(verbatim_total, verbatim_ok, 0,
                          verbatim_ok / verbatim_total if verbatim_total else None),
        answers=summarize_answers(answer_rows),
        refusals=summarize_refusals((r.answerable, r.refused) for r in results),
        latency=summarize_latency([r.seconds for r in results]),
        curve=tuple(curve),
        follow_ups=sum(follow) / len(follow) if follow else None,
        fallbacks=sum(r.fallback is not None for r in results),
    )


def summarize_all(results: Iterable[CaseResult]) -> dict[str, dict[str, SystemSummary]]:
    """``dataset -> system -> summary``, datasets in run order."""
    grouped: dict[str, dict[str, list[CaseResult]]] = {}
    for r in results:
        grouped.setdefault(r.dataset, {}).setdefault(r.system, []).append(r)
    return {d: {s: summarize(rows) for s, rows in systems.items()}
            for d, systems in grouped.items()}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def system_row(r: CaseResult) -> dict[str, Any]:
    """What one system did with a case. For the baseline, its retrieved chunks and the number
    of sentences it cited (the document sentences overlapping those chunks)."""
    s = score_case(r)
    row: dict[str, Any] = {"refused": r.refused, "score": _round(r.score)}
    if r.system != "baseline":
        row |= {"answer": r.answer, "short_answer": r.short_answer,
                "citations": [list(c) for c in r.citations],
                "ranked": [list(c) for c in r.ranked], "fallback": r.fallback}
    else:
        row |= {"chunks": [list(c) for c in r.chunks], "cited": len(r.citations)}
    c = s.citations
    row |= {
        "seconds": _round(r.seconds), "verbatim": r.verbatim,
        "metrics": {
            "citation_precision": _round(c.precision) if c else None,
            "citation_recall": _round(c.recall) if c else None,
            "citation_f1": _round(c.f1) if c else None,
            "citation_exact": c.exact if c else None,
            "answer_em": s.exact_match, "answer_f1": _round(s.f1),
            "answer_contained": s.contained,
        },
    }
    return row


def case_rows(results: Iterable[CaseResult]) -> list[dict[str, Any]]:
    """One row per case (in run order) with each system's outcome under ``systems``."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        row = rows.setdefault((r.dataset, r.case_id), {
            "dataset": r.dataset, "id": r.case_id, "question": r.question,
            "answerable": r.answerable, "answers": list(r.answers),
            "gold": [list(g) for g in r.gold], "gold_text": list(r.gold_text), "systems": {}})
        row["systems"][r.system] = system_row(r)
    return list(rows.values())


def write_cases(path: Path, results: Iterable[CaseResult]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in case_rows(results):
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def pick_failures(results: Sequence[CaseResult], n: int = 5) -> list[CaseResult]:
    """Real failures of our system, worst first and spread over datasets: confident wrong
    citations (none of the cited sentences is gold or holds a gold answer), then a false
    refusal, then an unanswerable question that was answered."""
    ours = [r for r in results if r.system == "ours"]
    wrong = [r for r in ours if r.answerable and r.gold and not r.refused
             and (citation_score([c[:3] for c in r.citations], r.gold) or _ZERO).correct == 0
             # a cited sentence holding the answer is more likely a gold-offset slip
             and not contains_answer(" ".join(c[3] for c in r.citations), r.answers)]
    wrong.sort(key=lambda r: -(r.score or 0.0))
    picked: list[CaseResult] = []
    datasets = list(dict.fromkeys(r.dataset for r in wrong))
    for dataset in datasets:  # the most confident wrong citation of each dataset
        if len(picked) < n - 2:
            picked.append(next(r for r in wrong if r.dataset == dataset))
    false_refusals = sorted((r for r in ours if r.answerable and r.refused and r.gold),
                            key=lambda r: -(r.score or 0.0))
    answered = sorted((r for r in ours if not r.answerable and not r.refused),
                      key=lambda r: -(r.score or 0.0))
    picked += false_refusals[:1] + answered[:1]
    for r in wrong:
        if len(picked) >= n:
            break
        if r not in picked:
            picked.append(r)
    return picked[:n]


_ZERO = CitationScore(0, 0, 0, 0)


def summary_json(summaries: dict[str, dict[str, SystemSummary]], run: dict[str, Any],
                 failures: Sequence[CaseResult]) -> dict[str, Any]:
    return {
        "run": run,
        "datasets": {d: {s: asdict(v) for s, v in systems.items()}
                     for d, systems in summaries.items()},
        "reference": REFERENCE,
        "failures": [{"dataset": r.dataset, "id": r.case_id, "question": r.question,
                      "refused": r.refused, "score": r.score,
                      "cited": [c[3] for c in r.citations], "gold": list(r.gold_text)}
                     for r in failures],
    }
