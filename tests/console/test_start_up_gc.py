"""The console's start-up runs without the cyclic garbage collector, which resumes at the first frame."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.helpers.console import service_do, settle


@pytest.fixture
def gc_restored() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_the_console_is_started_with_the_collector_paused(tmp_path: Path) -> None:
    """`bfg-tui` pauses collection before it imports the console (Textual and all)."""
    code = (
        "import gc, sys, types\n"
        "fake = types.ModuleType('bfg_tui.app')\n"
        "def run_app(*args, **kwargs):\n"
        "    print('collecting' if gc.isenabled() else 'paused')\n"
        "    return 0\n"
        "fake.run_app = run_app\n"
        "sys.modules['bfg_tui.app'] = fake\n"
        "from bfg_tui.cli import main\n"
        f"main(['--db', {str(tmp_path / 'c.db')!r}, '--as', 'user_md_anna'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["paused"], out.stderr


async def test_the_first_frame_resumes_collection(make_app, db: Path, gc_restored: None) -> None:
    """What start-up made lives on: it is frozen out of later passes, and collection resumes."""
    from bfg_tui.startup import pause_gc

    await service_do(db)
    pause_gc()
    assert not gc.isenabled()
    app = make_app(first_frame_wait=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.first_frame_painted
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0


async def test_a_console_not_paused_leaves_the_collector_alone(make_app, db: Path, gc_restored: None) -> None:
    await service_do(db)
    app = make_app(first_frame_wait=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.first_frame_painted
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0


def test_the_console_compiles_no_control_pattern_for_clean_text() -> None:
    """Importing the screens and making clean text safe compiles none of the sanitiser's patterns (start-up)."""
    code = (
        "from rich.text import Text\n"
        "from bfg_tui import sanitise\n"
        "from bfg_tui.screens.base import safe_text\n"
        "safe_text(Text('2/9 gates ready\\nGo/no-go BLOCKED_PENDING_DRY_RUN ·')); safe_text(Text('x'), one_line=True)\n"
        "print(sorted(sanitise._COMPILED))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["[]"], out.stderr


def test_text_with_a_control_character_is_still_made_visible() -> None:
    from bfg_tui.screens.base import safe_text
    from rich.text import Text

    assert safe_text(Text("a\x1b[2Jb\nc")).plain == "a\\u001b[2Jb\nc"
    assert safe_text(Text("a\nb\u202e"), one_line=True).plain == "a\\nb\\u202e"
    clean = Text("a\u00a0b\nc")
    assert safe_text(clean) is clean
