"""The product's errors (defined once, in ``index.errors``, the bottom floor)."""

from index.errors import (
    ActionRefused,
    CollectionNotAllowed,
    CollectionNotFound,
    ConfigError,
    DocumentNotFound,
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
    "ActionRefused",
    "CollectionNotAllowed",
    "CollectionNotFound",
    "ConfigError",
    "DocumentNotFound",
    "IndexingCancelled",
    "InvalidCollectionName",
    "InvalidQuestion",
    "ModelUnavailable",
    "PathNotFound",
    "RagError",
    "SkippedFile",
    "StoreUnavailable",
]
