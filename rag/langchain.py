"""LangChain adapters: the cited retriever as a ``BaseRetriever``, ``ask`` as a runnable.

For users who compose LangChain chains; LangChain types stay here, never in an ``Answer``.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.pipeline import Engine
from rag.types import Answer


class CitedSentenceRetriever(BaseRetriever):
    """Retrieves the best-supported sentences, each with its exact source offsets."""

    engine: Any
    collection: str | None = None
    k: int = 4

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        answer: Answer = self.engine.ask(query, None, self.collection)
        return [
            LCDocument(page_content=c.text, metadata={
                "source": c.source, "start": c.start, "end": c.end, "score": c.score})
            for c in answer.candidates[: self.k]
        ]


def ask_runnable(engine: Engine, collection: str | None = None) -> Runnable[Any, Answer]:
    """A runnable taking ``{"question": ..., "history": [...]}`` (or a string) to an Answer."""

    def run(request: Any) -> Answer:
        if isinstance(request, str):
            return engine.ask(request, None, collection)
        return engine.ask(request["question"], request.get("history"), collection)

    return RunnableLambda(run)
