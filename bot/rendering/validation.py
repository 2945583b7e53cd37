"""Start-up checks: every message the bot can send renders, in every language, within Telegram's
limits. A missing text, a broken placeholder or a message too long fails the start (a
ContentError naming the language), never a chat."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from functools import cache, cached_property, partial
from itertools import combinations, product
from zoneinfo import ZoneInfo

from bot.content import Content, ContentError
from bot.domain.flows import CheckinData, CheckinStep
from bot.domain.program import (
    EXERCISE_ORDER,
    ActionKind,
    DayPlan,
    Exclusion,
    ExclusionReason,
    PatientStatus,
    ProgramAction,
)
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    EXTENT,
    MEASURES,
    RULES,
    SCREENING_SIGNALS,
    STEADY,
    StopCause,
    Tier,
    Verdict,
)
from bot.domain.zones import ZoneMatch
from bot.rendering import checkin_card, onboarding_texts, status
from bot.rendering.i18n import Texts, available_languages, texts_for
from bot.rendering.routine_texts import (
    MAX_CAPTION_LENGTH,
    exercise_pictures,
    fits,
    render_guidance,
    render_routine,
    routine_replies,
)
from bot.rendering.verdict_texts import render_screening, render_verdicts

ACTIVE = PatientStatus.ACTIVE
NONCE = "AbCdEfGh"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def all_plans(*, every_combination: bool = False) -> Iterable[DayPlan]:
    """Every routine shape the progression can produce (a superset: every subset of exercises,
    each with each of them new). A hold and the first day change one line each: at start-up
    each subset is rendered with them once; ``every_combination``, with each new exercise too
    (tests/rendering/test_validation.py)."""
    longest_reason = ExclusionReason.NEEDS_SLIDERS
    for size in range(len(EXERCISE_ORDER) + 1):
        for subset in combinations(EXERCISE_ORDER, size):
            excluded = tuple(
                Exclusion(x, longest_reason) for x in EXERCISE_ORDER if x not in subset
            )
            for new in (None, *subset):
                for holding, day in product((False, True), (1, 10_000)):
                    start_up = (holding, day) == (False, 10_000) or (
                        new is None and (holding, day) == (True, 1)
                    )
                    if every_combination or start_up:
                        yield DayPlan(day, subset, new, excluded, holding, ACTIVE)
    yield DayPlan(1, (), None, (), False, ACTIVE, complete=True, nothing_left=True)


def all_verdicts() -> Iterable[Verdict]:
    measures = (*MEASURES, EXTENT)
    for lead in RULES:
        others = tuple(r.id for r in RULES if r.tier <= lead.tier and r is not lead)
        for suspect in EXERCISE_ORDER:
            yield Verdict(
                tier=lead.tier,
                reasons=(lead.id, *others),
                action=ProgramAction(
                    max(lead.action, ActionKind.EXCLUDE),
                    suspect,
                    ExclusionReason.WORSE_AFTER_ADDING,
                ),
                suspect=suspect,
                signals=SCREENING_SIGNALS,
                worse=True,
                worse_measures=measures,
                watch_measures=measures,
                centralised=True,
            )
    yield Verdict(Tier.NONE, (STEADY,), ProgramAction(), centralised=True)


def _check(text: str, what: str, limit: int | None = None) -> None:
    if not (fits(text) if limit is None else fits(text, limit)):
        raise ValueError(f"{what} is too long")


# The zones and next plans a verdict is rendered with: no number known, a country with its own
# words, numbers with an "also", the longest numbers; each kind of "what comes next".
ZONES = (None, "Europe/London", "America/New_York", "Australia/Sydney")


def next_plans() -> list[DayPlan]:
    return [
        *(DayPlan(9, EXERCISE_ORDER, x, (), False, ACTIVE) for x in EXERCISE_ORDER),
        DayPlan(9, (1,), None, (), True, ACTIVE),
        DayPlan(9, (), None, (), True, ACTIVE),
        DayPlan(9, (1,), None, (), False, ACTIVE),
    ]


def verdict_cases(*, every_combination: bool = False) -> Iterator[tuple[str | None, DayPlan]]:
    """The (zone, next plan) pairs each verdict is rendered with: at start-up every zone and
    every next plan (each text and each branch of the message, about 11 messages a verdict);
    ``every_combination``, all 32 of them. The combinations differ only by how long they are,
    which is a property of the shipped files: tests/rendering/test_validation.py renders them
    all in every language, so that start-up does not have to (0.3 s, half of it)."""
    plans = next_plans()
    if every_combination:
        yield from product(ZONES, plans)
        return
    yield from ((zone, plans[0]) for zone in ZONES)
    yield from ((ZONES[-1], plan) for plan in plans[1:])


def validate_rendering(
    texts: Texts, commands: Sequence[str] = (), *, every_combination: bool = False
) -> None:
    """Render every shape of every message in one language; ValueError/KeyError if one breaks."""
    texts = _RenderedOnce(texts.content)
    for plan in all_plans(every_combination=every_combination):
        for message in render_routine(plan, texts):
            _check(message, f"the routine for day {plan.day} {plan.exercises}")
        if plan.exercises:
            routine_replies(plan, 123_456_789, texts)
    verdicts = list(all_verdicts())
    for verdict in verdicts:
        for zone, plan in verdict_cases(every_combination=every_combination):
            text = render_verdicts([verdict, verdicts[0]], texts, zone=zone, next_plan=plan)
            _check(text, f"the verdict text for {verdict.lead_rule!r}")
        for zone in ZONES:
            render_screening(verdict, texts, zone=zone)
    render_screening(Verdict(Tier.NONE, (STEADY,), ProgramAction()), texts)
    _check(render_guidance(texts), "the program guidance")
    for exercise in EXERCISE_ORDER:
        for picture in exercise_pictures(exercise, texts):
            _check(picture.caption, f"the caption of picture {picture.key}", MAX_CAPTION_LENGTH)
    _validate_conversation(texts, commands)


class _RenderedOnce(Texts):
    """The check renders the same text with the same values thousands of times (a stop
    signal's words in every verdict, the list separators, a day's number): each once."""

    @cached_property
    def _rendered(self) -> dict[tuple[object, ...], str]:
        return {}

    def number(self, value: int) -> str:
        found = ("#number", value)
        try:
            return self._rendered[found]
        except KeyError:
            text = self._rendered[found] = super().number(value)
            return text

    def t(self, key: str, /, **params: object) -> str:
        found = (key, *params.items())
        try:
            return self._rendered[found]
        except KeyError:
            text = self._rendered[found] = super().t(key, **params)
            return text


def _validate_conversation(texts: Texts, commands: Sequence[str]) -> None:
    """One rendering of every card, question and status, with the longest inputs."""
    every: list[Callable[[], object]] = []
    for step in CheckinStep:
        for stopped in (False, True):
            data = CheckinData(
                nonce=NONCE,
                kind="session",
                step=step.value,
                stopped=stopped,
                exercises=EXERCISE_ORDER,
                answers={m: 10 for m in ("pain", "numbness", "tingling")} | {"extent": 5},
                signals=CHECK_IN_SIGNALS,
                stop_exercise=4 if stopped else None,
                stop_cause=StopCause.NUMBNESS_TINGLING.value if stopped else None,
                settled="unsure" if stopped else None,
            )
            card_text, _ = checkin_card.card(data, texts)
            _check(card_text, f"the check-in card at {step.value}", checkin_card.CARD_MAX_LENGTH)
    every.append(partial(checkin_card.signal_descriptions, CHECK_IN_SIGNALS, texts))
    for kind in ("baseline", "adhoc"):
        every.append(partial(checkin_card.card, CheckinData(nonce=NONCE, kind=kind), texts))
    every += [
        lambda: checkin_card.signal_list("?", SCREENING_SIGNALS, texts),
        lambda: checkin_card.signal_keyboard(
            NONCE, "s", SCREENING_SIGNALS, SCREENING_SIGNALS, texts
        ),
        lambda: onboarding_texts.consent(NONCE, texts),
        lambda: onboarding_texts.duration_question(NONCE, texts),
        lambda: onboarding_texts.reminder_question(NONCE, time(8), texts),
        lambda: onboarding_texts.zone_pick(NONCE, [ZoneMatch("Europe/Paris", "Paris")] * 6, texts),
        lambda: onboarding_texts.zone_confirm(NONCE, "America/Argentina/Buenos_Aires", NOW, texts),
        lambda: onboarding_texts.zone_set("Europe/Paris", NOW, texts),
        lambda: onboarding_texts.start_question(NONCE, time(8), texts),
        lambda: onboarding_texts.language_question(NONCE, texts),
        lambda: status.help_text(commands, texts),
        lambda: status.privacy_text(24 * 30, "x" * 200, texts),  # the longest it can be
        lambda: status.privacy_text(1, None, texts),
        *(partial(texts.t, f"commands.{name}") for name in commands),
        lambda: status.weekly_question(NONCE, texts),
        lambda: status.reset_question(NONCE, texts),
        lambda: status.delete_question(NONCE, texts),
        lambda: status.come_back(texts),
        lambda: status.too_soon(NOW, ZoneInfo("Europe/Paris"), NOW, texts),
        lambda: status.pause_text(date(2026, 12, 31), texts),
        lambda: status.pause_text(None, texts),
        lambda: status.paused(date(2026, 12, 31), texts, days=1),
        lambda: status.paused(date(2026, 12, 31), texts, days=90),
    ]
    for exercise in EXERCISE_ORDER:
        for cause in StopCause:
            every.append(partial(status.follow_up_question, 1, exercise, cause.value, texts))
    for tier in (Tier.SOON, Tier.URGENT, Tier.EMERGENCY):
        for start in (True, False):
            every.append(partial(status.seen_question, NONCE, tier, date(2026, 1, 1), start, texts))
    for value in (Tier.SOON, Tier.URGENT, Tier.EMERGENCY, None):
        for state in PatientStatus:
            view = status.StatusView(
                status=state,
                plan=DayPlan(10_000, EXERCISE_ORDER, 5, (), True, ACTIVE),
                today_open=value is None,
                next_send_at=NOW,
                zone=ZoneInfo("America/Argentina/Buenos_Aires"),
                now=NOW,
                paused_until=date(2026, 12, 31),
                hold_tier=value,
                release_from=NOW,
                baseline=status.Ratings(10, 10, 10, 5),
                latest=status.Ratings(10, 10, 10, 5),
                nudges=True,
                weekly=False,
                assessment_advised_on=date(2026, 12, 31),
                review_advised_on=date(2026, 12, 31),
            )
            every.append(partial(status.status, view, texts))
    for render in every:
        result = render()
        text = result[0] if isinstance(result, tuple) else result
        if isinstance(text, str):
            _check(text, "a message")


def validate_content(content: Content, commands: Sequence[str] = ()) -> None:
    """Every message of one language's content: a ContentError naming it if one breaks."""
    try:
        validate_rendering(Texts(content), commands)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else repr(exc)
        raise ContentError(f"{content.catalogue.source}: {message}") from None


@cache
def validate_all(commands: tuple[str, ...]) -> None:
    """Every language, every message (``commands``: the menu, for /help and its texts); once
    per process, since the content does not change once loaded."""
    for language in available_languages():
        validate_content(texts_for(language).content, commands)
