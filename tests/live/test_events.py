"""LiveEvent.share: execute once per event and key, share the result."""

from __future__ import annotations

import asyncio
import gc

import pytest

from live import LiveEvent


async def test_identical_work_runs_once_and_everyone_gets_the_result() -> None:
    event = LiveEvent("order:1", {"id": 1})
    calls = 0

    async def render() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)  # concurrent callers arrive while this runs
        return "rendered"

    results = await asyncio.gather(*(event.share("query-a", render) for _ in range(20)))
    assert results == ["rendered"] * 20
    assert calls == 1
    assert await event.share("query-a", render) == "rendered"
    assert calls == 1


async def test_different_keys_compute_separately() -> None:
    event = LiveEvent("order:1", {})

    async def full() -> str:
        return "full"

    async def masked() -> str:
        return "masked"

    assert await event.share(("doc", "admin"), full) == "full"
    assert await event.share(("doc", "public"), masked) == "masked"


async def test_a_failure_reaches_every_waiter_and_is_not_reported_as_unretrieved() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    previous_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        event = LiveEvent("order:1", {})

        async def fail() -> str:
            await asyncio.sleep(0.01)
            raise LookupError("gone")

        results = await asyncio.gather(
            *(event.share("k", fail) for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(result, LookupError) for result in results)
        with pytest.raises(LookupError):  # alone: nobody else retrieves the future's error
            await LiveEvent("order:2", {}).share("k", fail)
        del event
        gc.collect()
    finally:
        loop.set_exception_handler(previous_handler)
    assert reported == []


async def test_a_cancelled_computer_hands_over_to_a_waiter() -> None:
    event = LiveEvent("order:1", {})
    started = asyncio.Event()
    calls = 0

    async def slow() -> str:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.sleep(0.05)
        return f"result {calls}"

    computer = asyncio.create_task(event.share("k", slow))
    await started.wait()
    waiter = asyncio.create_task(event.share("k", slow))
    await asyncio.sleep(0)
    computer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await computer
    async with asyncio.timeout(1):
        assert await waiter == "result 2"  # recomputed, not a CancelledError
    assert calls == 2


async def test_a_cancelled_waiter_does_not_disturb_the_computation() -> None:
    event = LiveEvent("order:1", {})

    async def slow() -> str:
        await asyncio.sleep(0.02)
        return "done"

    computer = asyncio.create_task(event.share("k", slow))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(event.share("k", slow))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await computer == "done"
