"""Helpers shared by test modules of several layers (plain functions, data and fixtures)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def eventually(condition: Callable[[], Awaitable[bool] | bool], failure: str, timeout: float = 30.0) -> None:
    """Await until `condition()` (sync or async) holds, checking every 10 ms. The timeout only
    turns a hang into a failure: it is not a speed claim."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                held = condition()
                if await held if inspect.isawaitable(held) else held:
                    return
                await asyncio.sleep(0.01)  # other tasks, the listener and other processes run meanwhile
    except TimeoutError:
        raise AssertionError(failure) from None


def wait_for(condition: Callable[[], bool], failure: str, timeout: float = 30.0, every: float = 0.01) -> None:
    """Poll `condition()` until it holds (it may raise to give up early). The timeout only
    turns a hang into a failure: it is not a speed claim."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(every)
