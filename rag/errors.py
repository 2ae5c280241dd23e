"""The product's errors (defined once, in ``index.errors``, the bottom floor)."""

from index.errors import (
    CollectionNotFound,
    ConfigError,
    IndexingCancelled,
    InvalidCollectionName,
    InvalidQuestion,
    ModelUnavailable,
    PathNotFound,
    RagError,
    SkippedFile,
    StoreUnavailable,
)

__all__ = [
    "CollectionNotFound",
    "ConfigError",
    "IndexingCancelled",
    "InvalidCollectionName",
    "InvalidQuestion",
    "ModelUnavailable",
    "PathNotFound",
    "RagError",
    "SkippedFile",
    "StoreUnavailable",
]
