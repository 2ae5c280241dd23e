"""The errors of answering: those of the bottom floor (``index.errors``) and the model's."""

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
    OlderCollection,
    PathNotFound,
    RagError,
    SkippedFile,
    StoreUnavailable,
)


class ModelFailed(RagError):
    """The chat model could not give a usable answer (see the message for what to do)."""


__all__ = [
    "ActionRefused",
    "CollectionNotAllowed",
    "CollectionNotFound",
    "ConfigError",
    "DocumentNotFound",
    "IndexingCancelled",
    "InvalidCollectionName",
    "InvalidQuestion",
    "ModelFailed",
    "ModelUnavailable",
    "OlderCollection",
    "PathNotFound",
    "RagError",
    "SkippedFile",
    "StoreUnavailable",
]
