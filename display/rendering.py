"""Charts and workbooks drawn in a child process that exits when they are done.

Why: matplotlib (with NumPy) and openpyxl are the heaviest things the bot ever
loads, and memory a process has once touched mostly stays with it: drawing a
/report inside the bot took its peak resident memory past 360 MiB
(`benchmarks/scale.py --quick`). So nothing in the bot draws. `draw` starts
`python -m display.rendering`, which imports them, draws, writes the bytes and
exits, giving all of that memory back; the bot process never imports either
library (`tests/report/test_render_child.py` checks).

What crosses to the child is the drawings only, pickled on its stdin: a
`charts.BarChart` or `charts.LineChart` (titles, labels, numbers) or a
`sheets.Book` (cells already disarmed), so the same words and numbers the
caller computed and nothing more (no session, no translator, no member). The
PNG and XLSX bytes come back on its stdout, in the order asked.

A child that dies, raises, answers nonsense or outlives `TIMEOUT` (`limit`; it is then
killed) is logged once here, saying which kinds of drawing and how it failed,
never what they showed, and `draw` raises `RenderFailed`. Callers let it
through like any failed step: `bot.errors` tells the person who asked to try
again, a job's run fails and its next tick draws again.

At most `CONCURRENT` children run at once per event loop; more wait their turn,
so a rush of reports does not start twenty interpreters on a small machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import pickle
import signal
import sys
import weakref
from collections.abc import Sequence
from pathlib import Path

from display.charts import BarChart, LineChart, render, render_lines
from display.sheets import Book

__all__ = ["CONCURRENT", "TIMEOUT", "Drawing", "RenderFailed", "draw", "draw_here"]

log = logging.getLogger(__name__)

Drawing = BarChart | LineChart | Book
TIMEOUT = 120.0  # seconds: a report's two charts and workbook take 2-3 s on a busy machine
CONCURRENT = 2
ROOT = Path(__file__).resolve().parent.parent  # the directory holding `display/`

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class RenderFailed(Exception):
    """The child drew nothing: it died, raised, answered nonsense or timed out."""


def draw_here(drawing: Drawing) -> bytes:
    """One drawing's bytes, in this process: what the child runs (and tests may)."""
    if isinstance(drawing, BarChart):
        return render(drawing)
    if isinstance(drawing, LineChart):
        return render_lines(drawing)
    return drawing.to_bytes()


def command() -> list[str]:
    """How the child is started: this interpreter, this module, no current directory on
    the path (``-P``)."""
    return [sys.executable, "-P", "-m", "display.rendering"]


def _environment() -> dict[str, str]:
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(CONCURRENT)
    return gate


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


async def draw(*drawings: Drawing, limit: float = TIMEOUT) -> list[bytes]:
    """Every drawing's bytes (PNG for a chart, XLSX for a book), drawn in a child process."""
    payload = pickle.dumps(list(drawings), protocol=pickle.HIGHEST_PROTOCOL)
    async with _gate():
        out = await _run_child(payload, limit)
    answer = out if isinstance(out, str) else _files(out, len(drawings))
    if isinstance(answer, str):
        kinds = ",".join(type(d).__name__ for d in drawings)
        log.error("drawing %s in the render child failed: %s", kinds, answer)
        raise RenderFailed(answer)
    return answer


async def _run_child(payload: bytes, limit: float) -> bytes | str:
    """The child's stdout once it exited normally, else how it failed."""
    try:
        process = await asyncio.create_subprocess_exec(
            *command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Not kept: a traceback's last line may quote a label, a name among them.
            stderr=asyncio.subprocess.DEVNULL,
            env=_environment(),
        )
    except OSError as error:
        return f"the child could not be started ({type(error).__name__})"
    try:
        out, _ = await asyncio.wait_for(process.communicate(payload), limit)
    except TimeoutError:
        return f"the child took longer than {limit:g} s and was killed"
    finally:
        if process.returncode is None:  # timed out, or the caller was cancelled
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    code = process.returncode
    return f"the child {_exit_reason(code)}" if code else out


def _files(out: bytes, count: int) -> list[bytes] | str:
    """The ``count`` files in the child's answer, or how the answer failed."""
    try:
        answer = pickle.loads(out)
    except Exception:
        return "the child answered something unreadable"
    match answer:
        case ("ok", list() as files) if len(files) == count and all(
            isinstance(f, bytes) for f in files
        ):
            return files
        case ("error", str() as name):
            return f"the child raised {name}"
    return "the child answered something unreadable"


def main() -> None:
    """The child: drawings from stdin, ``("ok", [bytes, ...])`` or ``("error", class)`` to
    stdout. Anything a library prints goes to stderr, so stdout carries the answer only."""
    answer_to = sys.stdout.buffer
    sys.stdout = sys.stderr
    drawings: Sequence[Drawing] = pickle.load(sys.stdin.buffer)
    try:
        answer: tuple[str, object] = ("ok", [draw_here(d) for d in drawings])
    except Exception as error:
        answer = ("error", type(error).__name__)
    buffer = io.BytesIO()
    pickle.dump(answer, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    answer_to.write(buffer.getvalue())
    answer_to.flush()


if __name__ == "__main__":
    main()
