"""The commands run the pipeline too: their cache is signed with a key of their own."""

from __future__ import annotations

from tests.unit.pipeline.conftest import private_cache_key

__all__ = ["private_cache_key"]
