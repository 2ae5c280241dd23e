"""Cited document Q&A: ``ask()`` answers with sentences cited at exact character offsets."""

from rag.errors import RagError
from rag.pipeline import Engine, ask, get_engine
from rag.settings import Settings
from rag.types import Answer, Citation

__all__ = ["Answer", "Citation", "Engine", "RagError", "Settings", "ask", "get_engine"]
