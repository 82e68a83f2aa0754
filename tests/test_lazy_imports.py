"""The heavy libraries load when first used, not with the bot: the memory budget.

Importing them all with the bot took its resident memory from about 125 MB to
225 MB before a single chart, export, PDF or table needed them (measured by
`benchmarks/report.py`, which prints the RSS after imports).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import loading
from storage import segmenter

HEAVY = ("matplotlib", "openpyxl", "numpy", "scipy", "pypdf", "PIL", "dateparser")
# Imported with the bot, but without its 44 MB phrase dictionary (core/collation.py).
PHRASES = "pypinyin.phrases_dict"
# Needed only when used, not before the first answer: Alembic when there is something
# to migrate (storage.migrate), aiohttp's server for /healthz on a port (bot.health) or
# the webhook, the calendars for a greeting's or a report's dates (storage.occasions)
# and pypinyin for a name's place in a list (core.collation). About 0.3 s of every
# start-up between them on a quiet machine.
WHEN_USED = ("alembic", "aiohttp.web", "holidays", "lunar_python", "pypinyin")


def _loaded(modules: tuple[str, ...], imports: str = "bot.app, bot.cli") -> list[str]:
    """Which of ``modules`` a fresh interpreter holds once it imported ``imports``."""
    probe = (
        f"import json, sys, {imports};"
        f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_starting_the_bot_loads_no_heavy_library() -> None:
    assert _loaded((*HEAVY, PHRASES)) == []


def test_starting_the_bot_loads_what_only_some_updates_need_when_they_come() -> None:
    assert _loaded(WHEN_USED, "bot.app, bot.cli, bot.health") == []


def test_the_dictionary_loads_without_pkg_resources() -> None:
    """jieba would load it (4.8 MiB) only to open its own files."""
    loads = "storage.segmenter; storage.segmenter.cut_for_search('工伤认定怎么申请')"
    assert _loaded(("jieba", "pkg_resources"), loads) == ["jieba"]


def test_the_trimmed_dictionary_is_written_once_and_keeps_frequent_words(tmp_path: Path) -> None:
    path = segmenter.trimmed_dictionary(tmp_path)
    words = {line.split()[0]: int(line.split()[1]) for line in path.read_text("utf-8").splitlines()}
    assert min(words.values()) >= segmenter.MIN_FREQUENCY
    assert {"工资", "工会", "会费", "工伤", "仲裁"} <= words.keys()
    assert "劳动合同" not in words  # a set phrase at the floor count: cut into 劳动 / 合同
    made = path.stat().st_mtime_ns
    assert segmenter.trimmed_dictionary(tmp_path) == path
    assert path.stat().st_mtime_ns == made
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no scratch file left


def test_the_collector_is_off_while_the_bot_loads_and_back_on_after() -> None:
    assert gc.isenabled()
    with loading():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(SystemExit), loading():  # a settings error stops the start
        raise SystemExit(2)
    assert gc.isenabled()
    gc.disable()  # whoever turned it off keeps it off
    try:
        with loading():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
