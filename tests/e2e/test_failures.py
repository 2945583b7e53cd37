"""Races and failures: two presses at once record one answer; an unexpected error is retried,
then quarantined, told kindly, answers the button once, and loses nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.logs import PrivateFormatter
from bot.rendering.buttons import decode
from bot.usecases import conversation, routine
from bot.usecases.turn import Event
from db.models import DailySession
from tests.e2e.test_onboarding import USER, onboard
from tests.support.harness import running_bot


async def test_two_racing_presses_record_one_answer(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        routine = bot.last(USER)
        done, skip = routine.callback_data[0], routine.callback_data[1]
        assert decode(done) is not None
        who = Event(USER, USER)
        results = await asyncio.gather(
            conversation.on_button(bot.services, who, routine.message_id, done),
            conversation.on_button(bot.services, who, routine.message_id, skip),
            return_exceptions=True,
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
        answered = [r for r in results if r.answer and "already" in r.answer.lower()]  # type: ignore[union-attr]
        assert len(answered) == 1
        async with bot.services.sessions() as db:
            outcomes = list((await db.execute(select(DailySession.outcome))).scalars())
        assert len(outcomes) == 1
        assert outcomes[0] in ("done", "skipped")


async def test_unexpected_error_is_told_kindly_and_changes_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The production formatter: tracebacks without the exception's message.
    caplog.handler.setFormatter(PrivateFormatter("%(message)s", personal=False, secrets=[]))
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        message = bot.last(USER)

        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(routine, "record", broken)
        query = bot.server.press(USER, message, "Done")
        await bot.until_processed()
        assert query in bot.server.callback_answers  # answered exactly once, even so
        assert "Nothing you told me was lost" in bot.last(USER).text
        async with bot.services.sessions() as db:
            outcomes = list((await db.execute(select(DailySession.outcome))).scalars())
        assert outcomes == [None]
        # The error class is logged, with its traceback, but never its message (it may quote
        # what the person typed).
        assert "RuntimeError" in caplog.text
        assert "RuntimeError: boom" not in caplog.text
        monkeypatch.undo()
        await bot.tap(USER, "Done", message=message)
        assert "How strong is your pain" in bot.last(USER).text
