"""The process environment for running offline: no model hub, no telemetry, quiet threads."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # models load from their folders; a hub download would fail
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "ANONYMIZED_TELEMETRY": "False",  # Chroma
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # idle OpenMP threads sleep instead of spinning: on a few shared cores, spinning makes
    # encoding several times slower (must be set before torch is first imported)
    "OMP_WAIT_POLICY": "PASSIVE",
}
"""Variables every entry point sets (unless the user set them) before loading a model."""


def set_offline_environment() -> None:
    """Set each of :data:`OFFLINE_ENV` that the user has not set."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
