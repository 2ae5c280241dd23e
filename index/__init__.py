"""Build the index: load → sentences → chunks → vectors → Chroma."""

from index.build import Indexer, IndexReport, build_index
from index.embed import Embedder
from index.settings import IndexSettings
from index.store import Store, open_client
from index.types import Chunk, Document, Sentence

__all__ = [
    "Chunk",
    "Document",
    "Embedder",
    "IndexReport",
    "IndexSettings",
    "Indexer",
    "Sentence",
    "Store",
    "build_index",
    "open_client",
]
