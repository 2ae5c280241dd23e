"""The one errors module. Every message says what went wrong and what to do.

``index`` is the bottom floor, so the errors live here; ``rag`` re-exports them.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error this product raises on purpose."""


class ConfigError(RagError):
    """A setting is missing or invalid."""


class SkippedFile(RagError):
    """One input file cannot be indexed; the run goes on without it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"skipped {path}: {reason}")
        self.path = path
        self.reason = reason


class IndexingCancelled(RagError):
    """An indexing run stopped on request; nothing of it is visible (the collection keeps its
    previous state)."""


class PathNotFound(RagError):
    """A path given to index does not exist."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path} does not exist: pass a file or folder that exists "
            "(paths are relative to the current folder)"
        )
        self.path = path


class CollectionNotFound(RagError):
    """A named collection has not been indexed."""

    def __init__(self, name: str, known: list[str]) -> None:
        names = ", ".join(sorted(known)) or "none yet"
        super().__init__(
            f"collection {name!r} does not exist (indexed collections: {names}); "
            f"index documents into it first: rag index PATH --collection {name}"
        )
        self.name = name


class OlderCollection(RagError):
    """A collection written by an older version of this program, in a format it no longer
    reads."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"the collection {name!r} was written by an older version of this program and "
            "cannot be read: rebuild it from its files with `rag index PATH ... --rebuild "
            f"--collection {name}` (or delete it: rag collections --delete {name})")
        self.name = name


class InvalidCollectionName(RagError):
    """A collection name that Chroma cannot hold."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"invalid collection name {name!r}: use 3-60 characters from letters, digits, "
            "'-' and '_', starting and ending with a letter or digit"
        )


class StoreUnavailable(RagError):
    """The Chroma store cannot be opened or reached."""


class ModelUnavailable(RagError):
    """The embedding model cannot be loaded."""


class OnnxUnavailable(ModelUnavailable):
    """The ONNX backend cannot be used with this model or installation; the message says why."""


class InvalidQuestion(RagError):
    """A question that cannot be answered as given (empty, too long, not text)."""


class LexicalIndexMissing(RagError):
    """A collection's lexical index is missing or older than its vectors."""

    def __init__(self, name: str, folder: object) -> None:
        super().__init__(
            f"the lexical index of the collection {name!r} is missing or older than its vectors "
            f"(no current index in {folder}): rebuild it once with `rag index --repair "
            f"--collection {name}` (any indexing run of the collection also does); with "
            "RAG_CHROMA_URL, give every app process the RAG_DATA_DIR the indexer writes to")
        self.name = name


class DocumentNotFound(RagError):
    """A document the collection does not hold."""

    def __init__(self, source: str, collection: str) -> None:
        super().__init__(
            f"{source} is not in the collection {collection!r}: pick one of the documents it "
            "lists")
        self.source = source


class CollectionNotAllowed(RagError):
    """A collection this deployment does not serve (``RAG_UI_COLLECTIONS``)."""

    def __init__(self, name: str, allowed: list[str]) -> None:
        super().__init__(
            f"the collection {name!r} is not served here (this app serves: "
            f"{', '.join(sorted(allowed))}); pick one of those")
        self.name = name


class ActionRefused(RagError):
    """An action this deployment turned off (uploads and changes in a read-only app)."""
