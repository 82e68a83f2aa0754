"""Where in the project's own code an error happened, for logs that may not quote it.

Error logs name a place instead of printing a traceback (tracebacks quote SQL
parameters and payloads: chat ids, message text). One home for what counts as
ours: a frame in one of the project's packages, less the modules that are
plumbing standing in for a library (`storage.sqlite_driver` registers itself),
so the place named is the caller's line, not the adapter's.
"""

from __future__ import annotations

import traceback
from pathlib import Path

_PROJECT = Path(__file__).resolve().parents[1]
_PACKAGES = ("bot", "core", "display", "handlers", "jobs", "notices", "storage")
_PLUMBING: set[Path] = set()


def plumbing(filename: str) -> None:
    """Leave the module at ``filename`` out of the places named (it is a library's stand-in)."""
    _PLUMBING.add(Path(filename).resolve())


def ours(frame: traceback.FrameSummary) -> str | None:
    """``module.function:line`` for a frame of the project's own code, else None."""
    resolved = Path(frame.filename).resolve()
    try:
        path = resolved.relative_to(_PROJECT)
    except ValueError:
        return None
    if path.parts[0] not in _PACKAGES or resolved in _PLUMBING:
        return None
    module = ".".join(path.with_suffix("").parts)
    return f"{module}.{frame.name}:{frame.lineno}"


def our_frames(error: BaseException) -> list[str]:
    """The project's frames of ``error``'s traceback, outermost first."""
    return [f for f in (ours(s) for s in traceback.extract_tb(error.__traceback__)) if f]
