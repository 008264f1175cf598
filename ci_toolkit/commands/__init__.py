"""One module per command family; each turns its options into one call into the package."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def option_group(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Bundle click options so several commands can share them in the order given."""
    def apply(function: Any) -> Any:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function
    return apply
