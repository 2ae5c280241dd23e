"""Hard negatives for the reader: what the first stage ranks high that does not answer.

The training articles are indexed into a scratch collection, and each training question runs the
normal retrieval and first-stage scoring (:meth:`rag.pipeline.Engine.first_stage`, no reader):
the sentences it ranks first are exactly what the reader reads when it serves, so the ones that do
not hold the answer (all of them, for an unanswerable question) are the near misses it must learn
to score low.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from index.embed import Embedder
from rag.training.data import Article, write_articles

Mined = dict[tuple[str, int], tuple[int, ...]]
"""(article title, question's index in the article) -> sentence indices, best first."""


def first_stage_ranks(articles: Sequence[Article], top: int, embedder: Embedder | None = None,
                      progress: bool = True) -> Mined:
    """For every question of ``articles``, the indices of the ``top`` sentences of its own
    article the first stage ranks highest (gold ones included: the caller leaves them out), with
    the embedder the settings name (``embedder``: another one)."""
    from tqdm import tqdm

    from rag.pipeline import Engine
    from rag.settings import Settings

    out: Mined = {}
    with tempfile.TemporaryDirectory(prefix="rag-mine-") as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        write_articles(articles, folder)
        engine = Engine(Settings(data_dir=Path(tmp) / "data", reader=False), embedder=embedder)
        engine.index([folder], "mine", base=folder)
        todo = [(a, i) for a in articles for i in range(len(a.questions))]
        index_of = {a.title: {span: i for i, span in enumerate(a.spans)} for a in articles}
        for article, i in tqdm(todo, desc="mining negatives", unit="q", disable=not progress,
                               file=sys.stderr):
            _, first, _ = engine.first_stage(article.questions[i].text, [], "mine")
            own = index_of[article.title]
            found = [own.get((c.start, c.end)) for c in first if c.source == article.source]
            out[(article.title, i)] = tuple(j for j in found if j is not None)[:top]
    return out
