"""JSON that every parser takes: no NaN or Infinity, which Python writes by default and JSON
has not (Node's JSON.parse, jq and most other languages reject them).

A number that is not finite (a model with broken weights gives NaN scores) becomes null,
and the caller learns how many did, to say so. Standard library only.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> tuple[Any, int]:
    """`value` with every float that is not finite replaced by None, and how many were."""
    count = 0

    def clean(v: Any) -> Any:
        nonlocal count
        if isinstance(v, float) and not math.isfinite(v):
            count += 1
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return clean(value), count


def not_finite_warning(count: int) -> str:
    return (
        f"{count} values were not finite numbers (NaN or infinity) and are written as null: "
        "the model's weights may be broken."
    )


def dumps(value: Any, **kwargs: Any) -> str:
    """json.dumps that never writes NaN or Infinity (they become null), non-ASCII as it is."""
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(finite(value)[0], allow_nan=False, **kwargs)
