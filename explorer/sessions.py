"""The one link from the window to the engine: the model thread builds its Session here.

The Qt side names no engine module (tests/test_layering.py); the entry points hand it this
factory, which imports torch only when called, on the model thread.
"""

from __future__ import annotations

from typing import Any


def new_session() -> Any:
    from explorer.engine.session import Session

    return Session()
