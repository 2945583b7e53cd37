"""A property-based fuzz test: the real bot, through the local Bot API server, gets generated
updates of every kind from a handful of people at various stages, and must stay well.

The people: one onboarded with today's routine on screen, one in the middle of a check-in, one
in the middle of onboarding, one on a safety hold, one who paused, and one who never wrote (and
whose Telegram is in French). They send random and huge texts, numbers typed in odd forms
("³", "٦", "6/10", "7.5", "-3"), commands with odd arguments (/pause 99999999999, /howto ³,
/time 25:61, unknown ones, /start@otherbot), press their own buttons (stale ones too), other
people's real buttons and forged ones (huge ids, wrong nonces, malformed data), edit and forward
messages, send stickers, photos, voice and locations, delete the bot's messages, write in groups
and channels, add the bot to groups, block and unblock it; Telegram delivers updates twice, and
days pass.

After every update: nothing reached the pipeline's failure path (no quarantine, no "Update ...
failed" log line, no "Sorry, something went wrong"), the server rejected no call
(``server.violations``), every button press was answered, and the stored rows of everyone but
the person who acted are unchanged (nobody's at all for a group, a channel or a redelivery).

One bot per backend serves the whole module, so the people's states drift from example to
example (that is part of the fuzz); a failure reports the updates that led to it. The default
run is small and derandomized, so the suite stays fast and repeatable. A longer, random run:

    FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/e2e/test_fuzz.py -k sqlite
    FUZZ_EXAMPLES=2000 TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/pytest tests/e2e/test_fuzz.py -k postgres
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.rendering.i18n import texts_for
from bot.usecases.conversation import COMMANDS
from tests.conftest import _create_postgres_database, _drop_postgres_database
from tests.e2e.test_onboarding import onboard
from tests.e2e.test_robustness import until_processed_with_sweep
from tests.support.botapi import BotApiServer
from tests.support.harness import BotHarness, running_bot
from tests.support.rows import changed_people, everyone

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or 30
RANDOM = "FUZZ_EXAMPLES" in os.environ

ONBOARDED, CHECKING_IN, ONBOARDING, ON_HOLD, PAUSED, STRANGER = PEOPLE = (
    1001,
    1002,
    1003,
    1004,
    1005,
    1006,
)
GROUPS = {-100555: "group", -100556: "supergroup"}
CHANNEL = -100777
SORRY = texts_for("en").t("errors.unexpected")

# --------------------------------------------------------------------------- what people send

# Anything but lone surrogates, which Telegram's UTF-8 cannot carry.
CHARS = st.characters(exclude_categories=["Cs"])

ODD_NUMBERS = (
    "³",
    "²/10",
    "⁶",
    "½",
    "⑥",
    "Ⅵ",
    "٦",
    "۶",
    "६",
    "６",
    "𝟔",
    "６/１０",
    "6/10",
    "6 / 10",
    "6 out of 10",
    "6/5",
    "7.5",
    "7,5",
    "-3",
    "+4",
    "06",
    " 6 ",
    "1e3",
    "0x10",
    "nan",
    "inf",
    "11",
    "99999999999999999999",
    "9" * 64,
    "9" * 65,
    "6\u200b",
)
WORDS = (
    "Paris",
    "Reykjavik",
    "Europe/London",
    "Mars/Olympus_Mons",
    "my local time is 14:05",
    "my local time is 25:61",
    "08:00",
    "25:61",
    "7am",
    "noon",
    "yes",
    "no",
    "still there",
    "gone",
    "oui",
    "toujours là",
    "hello",
    "",
    " ",
)
COMMAND_NAMES = (*(c.name for c in COMMANDS), "dance", "START", "stop", "admin", "settings")
ODD_ARGS = (
    "",
    "99999999999",
    "99999999999999999999",
    "³",
    "-1",
    "0",
    "3",
    "7.5",
    "25:61",
    "07:30",
    "on",
    "off",
    "OFF",
    "Paris",
    "1 2 3",
    "x" * 300,
)
SUFFIXES = ("", "", "@otherbot", "@sciatica_test_bot", "@")

commands = st.builds(
    lambda name, suffix, args: f"/{name}{suffix} {args}".rstrip(),
    st.sampled_from(COMMAND_NAMES),
    st.sampled_from(SUFFIXES),
    st.one_of(st.sampled_from(ODD_ARGS), st.text(CHARS, max_size=20)),
)
huge = st.builds(
    lambda piece, n: (piece * n)[:4096], st.sampled_from("x9é😀 /"), st.integers(1000, 4096)
)
texts = st.one_of(
    st.integers(0, 11).map(str),
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(WORDS),
    st.integers(-(10**25), 10**25).map(str),
    st.text(CHARS, max_size=60),
    huge,
    commands,
)

FORGED = (
    "r|99999999999999999999|done",
    "r|2147483648|done",
    "r|9223372036854775808|stopped",
    "u|99999999999999999999|yes",
    "h|99999999999999999999|",
    "r|0|done",
    "r|-1|done",
    "r|1|done",
    "r|2|skipped",
    "u|1|yes",
    "h|3|",
    "h|0|",
    "c|reset|",
    "c|delete|",
    "c|start|",
    "c|nope|",
    "a|help|",
    "f|AAAAAAAA|pain:3",
    "f|AAAAAAAA|pick:³",
    "f||",
    "r|1|",
    "||",
    "|",
    "",
    "x" * 65,
    "r|1|done|extra",
)
forged = st.one_of(
    st.sampled_from(FORGED),
    st.builds(
        lambda action, ref, value: f"{action}|{ref}|{value}",
        st.sampled_from("rfuhcaR"),
        st.one_of(st.integers(-5, 10**25).map(str), st.text(CHARS, max_size=12)),
        st.one_of(
            st.sampled_from(("done", "skipped", "stopped", "yes", "no", "pain:5", "pick:0")),
            st.text(CHARS, max_size=10),
        ),
    ),
    st.text(CHARS, max_size=70),
)

person = st.sampled_from(PEOPLE)
index = st.integers(0, 10**6)
Action = tuple[Any, ...]
actions: st.SearchStrategy[Action] = st.one_of(
    st.tuples(st.just("say"), person, texts),
    st.tuples(st.just("say"), person, st.one_of(st.sampled_from(ODD_NUMBERS), commands)),
    # Their own buttons: mostly the ones on screen now (so people move through their flows),
    # else any they were ever shown (stale ones).
    st.tuples(st.just("tap"), person, index),
    st.tuples(st.just("tap"), person, index),
    st.tuples(st.just("tap"), person, index),
    # A button the latest message showed before (a double tap, a slow phone), or any button
    # the person was ever shown.
    st.tuples(st.just("again"), person, index),
    st.tuples(st.just("press"), person, index),
    st.tuples(st.just("press_foreign"), person, person, index),
    st.tuples(st.just("forge"), person, forged, index),
    st.tuples(st.just("edit"), person, texts, index),
    st.tuples(st.just("media"), person, st.sampled_from(("sticker", "photo", "voice"))),
    st.tuples(st.just("forward"), person, texts),
    st.tuples(
        st.just("location"),
        person,
        st.floats(-90, 90, allow_nan=False),
        st.floats(-180, 180, allow_nan=False),
    ),
    st.tuples(st.just("group"), person, st.sampled_from(sorted(GROUPS)), texts),
    st.tuples(st.just("group_press"), person, forged),
    st.tuples(st.just("channel"), st.text(CHARS, max_size=20)),
    st.tuples(
        st.just("added"),
        person,
        st.sampled_from(sorted(GROUPS)),
        st.sampled_from(("member", "administrator", "left", "kicked")),
    ),
    st.tuples(st.just("member"), person, st.sampled_from(("kick", "unblock"))),
    st.tuples(st.just("redeliver"), index),
    st.tuples(st.just("delete"), person, index),
    st.tuples(st.just("hours"), st.integers(1, 30)),
)


# --------------------------------------------------------------------------- the world


class _Failures(logging.Handler):
    """Collects the pipeline's and the error handler's warnings (an update that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


@dataclass
class World:
    """The bot, the people, and what the test has seen so far."""

    bot: BotHarness
    failures: _Failures
    history: list[str] = field(default_factory=list)
    # What each person can press: (message id, callback data) of every button they were shown.
    buttons: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    # The messages each person sent in their private chat (to edit one).
    sent: dict[int, list[int]] = field(default_factory=dict)
    updates: list[int] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    @property
    def server(self) -> BotApiServer:
        return self.bot.server

    def see(self) -> None:
        """Remember every button each person has on screen now."""
        for user in PEOPLE:
            known = self.buttons.setdefault(user, [])
            for message in self.server.messages(user, include_deleted=True):
                if message.kind != "text":
                    continue  # album pictures carry no buttons
                for data in message.callback_data:
                    if (message.message_id, data) not in known:
                        known.append((message.message_id, data))

    def text_messages(self, user: int) -> list[int]:
        """The bot's text messages to a person (deleted ones too: a press still comes)."""
        return [
            m.message_id
            for m in self.server.messages(user, include_deleted=True)
            if m.kind == "text"
        ]

    async def play(self, action: Action) -> None:
        self.history.append(repr(action)[:300])
        before = await everyone(self.bot.services.sessions)
        actor = await self._inject(action)
        await self.bot.until_processed()
        after = await everyone(self.bot.services.sessions)
        self.see()
        try:
            self._check()
            moved = changed_people(before, after)
            assert moved <= ({actor} if actor is not None else set()), (
                f"rows of {sorted(moved)} changed when {actor} acted"
            )
        except AssertionError as exc:
            recent = "\n  ".join(self.history[-40:])
            raise AssertionError(f"{exc}\nafter these updates (latest last):\n  {recent}") from exc

    def _check(self) -> None:
        assert self.bot.runtime.pipeline.failed == 0
        assert self.failures.lines == []
        assert self.server.violations == []
        sorry = [r for r in self.server.calls("sendMessage") if r.params.get("text") == SORRY]
        assert sorry == []
        unanswered = [q for q in self.queries if q not in self.server.callback_answers]
        assert unanswered == []

    async def _inject(self, action: Action) -> int | None:
        """Send one update as a person would; returns who acted (None: nobody's rows may
        change)."""
        kind = action[0]
        server = self.server
        if kind == "say":
            _, user, text = action
            # The stranger's Telegram is in French: if they start, it is in French.
            language = "fr" if user == STRANGER else None
            self._sent(user, server.send_text(user, text, language_code=language))
            return int(user)
        if kind == "tap":
            _, user, pick = action
            on_screen = [m for m in server.messages(user) if m.kind == "text" and m.callback_data]
            if not on_screen:
                return None
            message = on_screen[-1 - pick % min(len(on_screen), 2)]
            data = message.callback_data[pick % len(message.callback_data)]
            self.queries.append(server.press_button(user, message.message_id, data))
            return int(user)
        if kind == "again":
            _, user, pick = action
            known = self.buttons.get(user) or []
            if not known:
                return None
            latest = max(message_id for message_id, _data in known)
            shown = [data for message_id, data in known if message_id == latest]
            data = shown[pick % len(shown)]
            self.queries.append(server.press_button(user, latest, data))
            return int(user)
        if kind == "press":
            _, user, pick = action
            known = self.buttons.get(user) or []
            if not known:
                return None
            message_id, data = known[pick % len(known)]
            self.queries.append(server.press_button(user, message_id, data))
            return int(user)
        if kind == "press_foreign":
            _, user, other, pick = action
            theirs = self.buttons.get(other) or []
            mine = self.text_messages(user)
            if not theirs or not mine:
                return None
            _message_id, data = theirs[pick % len(theirs)]
            self.queries.append(server.press_button(user, mine[pick % len(mine)], data))
            return int(user)
        if kind == "forge":
            _, user, data, pick = action
            mine = [m for m, _data in self.buttons.get(user) or []]
            if not mine:
                return None
            self.queries.append(server.press_button(user, mine[pick % len(mine)], data))
            return int(user)
        if kind == "edit":
            _, user, text, pick = action
            mine = self.sent.get(user) or []
            if not mine:
                return None
            server.edit_text(user, mine[pick % len(mine)], text or ".")
            return int(user)
        if kind == "media":
            _, user, what = action
            getattr(server, f"send_{what}")(user)
            return int(user)
        if kind == "forward":
            _, user, text = action
            server.forward_text(user, text or ".")
            return int(user)
        if kind == "location":
            _, user, latitude, longitude = action
            server.share_location(user, latitude, longitude)
            return int(user)
        if kind == "group":
            _, user, chat, text = action
            server.send_text(user, text or ".", chat_id=chat, chat_type=GROUPS[chat])
            return None  # the bot is personal: a group changes nothing stored
        if kind == "group_press":
            _, user, data = action
            chat = min(GROUPS)
            answers = server.messages(chat)
            if not answers:
                return None
            query = server.press_button(user, answers[-1].message_id, data, chat_id=chat)
            self.queries.append(query)
            return None
        if kind == "added":
            _, user, chat, status = action
            server.inject_raw({"my_chat_member": _group_member(server, user, chat, status)})
            return None
        if kind == "channel":
            _, text = action
            post = server.channel_post(CHANNEL, text or ".")
            # Not in the bot's allowed_updates: Telegram (the fake) never hands it out.
            self.bot.handled.add(post["update_id"])
            return None
        if kind == "member":
            _, user, change = action
            if change == "kick":
                server.kick(user)
            else:
                server.unblock(user)
            return int(user)
        if kind == "redeliver":
            _, pick = action
            if not self.updates:
                return None
            server.redeliver(self.updates[-1 - pick % min(len(self.updates), 30)])
            return None  # applied once: a second delivery changes nothing
        if kind == "delete":
            _, user, pick = action
            mine = [m.message_id for m in server.messages(user)]
            if mine:
                server.user_deletes(user, mine[pick % len(mine)])
            return None
        if kind == "hours":
            self.bot.clock.advance(hours=action[1])
            return None
        raise AssertionError(f"unknown action {action!r}")

    def _sent(self, user: int, update: dict[str, Any]) -> None:
        self.updates.append(int(update["update_id"]))
        self.sent.setdefault(user, []).append(int(update["message"]["message_id"]))


# What Telegram says about an administrator (PTB needs every one of these).
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_invite_users": True,
    **dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        ),
        False,
    ),
}


def _group_member(server: BotApiServer, user: int, chat: int, status: str) -> dict[str, Any]:
    """Someone adds the bot to a group, or removes it (my_chat_member in a group)."""
    me = {"id": server.bot_id, "is_bot": True, "first_name": "Bot", "username": "bot"}
    new: dict[str, Any] = {"user": me, "status": status}
    if status == "kicked":
        new["until_date"] = 0
    elif status == "administrator":
        new.update(ADMIN_RIGHTS)
    return {
        "chat": {"id": chat, "type": GROUPS[chat], "title": f"Chat {chat}"},
        "from": {"id": user, "is_bot": False, "first_name": "Test"},
        "date": 1_700_000_000,
        "old_chat_member": {"user": me, "status": "left"},
        "new_chat_member": new,
    }


async def _set_up(world: World) -> None:
    """The people at their stages (every button they are shown on the way is remembered)."""
    bot = world.bot
    original = bot.until_processed

    async def until_processed() -> None:
        await original()
        world.see()

    bot.until_processed = until_processed  # type: ignore[method-assign]
    await onboard(bot, ONBOARDED)
    await onboard(bot, CHECKING_IN)
    await bot.tap(CHECKING_IN, "Done")
    await bot.tap(CHECKING_IN, "5")
    await bot.say(ONBOARDING, "/start")
    await bot.tap(ONBOARDING, "Yes, store my answers")
    await bot.tap(ONBOARDING, "Less than 2 weeks")
    await bot.tap(ONBOARDING, "None of these")
    await bot.say(ON_HOLD, "/start")
    await bot.tap(ON_HOLD, "Yes, store my answers")
    await bot.tap(ON_HOLD, "Less than 2 weeks")
    await bot.tap(ON_HOLD, "Bladder changes")
    await bot.tap(ON_HOLD, "Continue")
    await bot.tap(ON_HOLD, "Yes, that is right")
    await onboard(bot, PAUSED)
    await bot.say(PAUSED, "/pause 3")
    del bot.until_processed  # back to the class's


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One running bot per backend for the whole module, with the people set up."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz') / 'bot.db'}"
    else:
        url = await _create_postgres_database()
    failures = _Failures()
    watched = [logging.getLogger(name) for name in ("bot.runtime.pipeline", "bot.runtime.jobs")]
    try:
        with pytest.MonkeyPatch.context() as patch:
            # The harness runs no jobs: wait the way production's inbox sweep would.
            patch.setattr(BotHarness, "until_processed", until_processed_with_sweep)
            async with running_bot(url) as bot:
                for logger in watched:
                    logger.addHandler(failures)
                try:
                    state = World(bot, failures)
                    await _set_up(state)
                    state._check()
                    yield state
                finally:
                    for logger in watched:
                        logger.removeHandler(failures)
    finally:
        if request.param != "sqlite":
            await _drop_postgres_database(url)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    database=None,
    # The bot's state drifts between examples, so shrinking would replay on another state.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
@given(steps=st.lists(actions, min_size=1, max_size=8))
async def test_anything_a_chat_can_send(world: World, steps: list[Action]) -> None:
    for action in steps:
        await world.play(action)
