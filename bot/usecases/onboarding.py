"""Onboarding, declared as an ordered list of steps: the first one not done yet is the next one.
So /start always picks up where the person left off, and each step's flow only has to say
"onboarding goes on" when it is done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from bot.domain.flows import (
    SIDE_ASKED,
    ConsentData,
    DurationData,
    Flow,
    LegSide,
    Next,
    ScreeningData,
    ScreeningStep,
    SideData,
    SideStep,
    StartData,
)
from bot.domain.parsing import parse_choice
from bot.domain.program import ActionKind, PatientStatus, start_program
from bot.domain.safety import (
    ASSESSMENT_RULE,
    SymptomDuration,
    Tier,
    advised_at_answer,
    symptoms_since,
)
from bot.domain.timing import first_send_at
from bot.rendering import checkin_card as card_texts
from bot.rendering import onboarding_texts as texts
from bot.rendering.replies import Reply
from bot.rendering.routine_texts import render_guidance
from bot.usecases import activities, checkin, routine, schedule, screening
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind

# --- Consent -------------------------------------------------------------------------------------


def ask_consent(turn: Turn) -> None:
    """Step 1 and 2: what the bot does, then consent to store ratings."""
    data = turn.open(ConsentData())
    turn.response.add(turn.t("welcome.text"))
    turn.response.add(*texts.consent(data.nonce, turn.texts))


async def on_consent(turn: Turn, data: ConsentData, value: str, message_id: int) -> None:
    if value == "no":
        # Nothing is kept about a person who does not agree.
        turn.response.add(turn.t("onboarding.declined"))
        await turn.erase()
    if value != "yes":
        turn.response.answer = turn.t("errors.stale_button")
        return
    turn.patient.consent_at = turn.now
    turn.close()
    turn.response.replies.append(Reply(texts.consent_given(turn.texts), edit=message_id))
    turn.then(Next.ONBOARDING)


# --- How long the symptoms have lasted -----------------------------------------------------------


def ask_duration(turn: Turn, then: Next = Next.ONBOARDING) -> None:
    data = turn.open(DurationData(then=then.value))
    turn.response.add(*texts.duration_question(data.nonce, turn.texts))


async def on_duration(turn: Turn, data: DurationData, value: str, message_id: int) -> None:
    try:
        duration = SymptomDuration(value)
    except ValueError:
        turn.response.answer = turn.t("errors.stale_button")
        return
    turn.patient.symptom_duration = duration.value
    turn.patient.symptoms_since = symptoms_since(duration, turn.now)
    turn.close()
    turn.response.replies.append(
        Reply(texts.duration_answered(duration, turn.texts), edit=message_id)
    )
    if Next(data.then) is not Next.ONBOARDING:
        advise_duration(turn)  # asked later than onboarding: told now, once
    turn.then(Next(data.then))


# --- Which leg has the symptoms (clinical.md §3) -------------------------------------------------

BOTH_LEGS = "both"
BOTH_LEGS_SIGNAL = "both_legs"  # stop signal 4: EMERGENCY (clinical.md §2)


def side_of(turn: Turn) -> LegSide:
    """The leg the pictures show: the person's, or the right one until they have said."""
    try:
        return LegSide(turn.patient.symptom_side or "")
    except ValueError:
        return LegSide.RIGHT


def side_unasked(turn: Turn) -> bool:
    """Someone past onboarding who was never asked which leg (they started before the
    question existed): asked once, at their next check-in or /today."""
    return turn.patient.status is not PatientStatus.ONBOARDING and turn.patient.symptom_side is None


def ask_side(turn: Turn, then: Next = Next.ONBOARDING) -> None:
    if turn.patient.symptom_side is None and then is not Next.ONBOARDING:
        turn.patient.symptom_side = SIDE_ASKED  # asked once, even if never answered
    data = turn.open(SideData(then=then.value))
    turn.response.add(*texts.side_question(data.nonce, turn.texts))


async def side_command(turn: Turn, _args: str | None) -> None:
    """/side: change which leg has the symptoms."""
    if turn.patient.consent_at is None:
        turn.response.add(turn.t("errors.not_started"))
        return
    onboarding = turn.patient.status is PatientStatus.ONBOARDING
    ask_side(turn, Next.ONBOARDING if onboarding else Next.NOTHING)


async def on_side(turn: Turn, data: SideData, value: str, message_id: int) -> None:
    if data.step != SideStep.ASK or value not in (*LegSide, BOTH_LEGS):
        turn.response.answer = turn.t("errors.stale_button")
        return
    await _side_chosen(turn, data, value, edit=message_id)


async def on_side_text(turn: Turn, data: SideData, text: str) -> None:
    choices = {value: turn.t(f"answers.{value}") for value in (*LegSide, BOTH_LEGS)}
    value = parse_choice(text, choices) if data.step == SideStep.ASK else None
    if value is None:
        turn.response.add(turn.t("side.use_buttons"))
        return
    await _side_chosen(turn, data, value, edit=None)


async def _side_chosen(turn: Turn, data: SideData, value: str, *, edit: int | None) -> None:
    if value == BOTH_LEGS:
        # Stop signal 4: the screening's "Is that right?" with the sign's full words first.
        data = turn.save(replace(data, step=SideStep.CONFIRM))
        text = card_texts.confirm_signals([BOTH_LEGS_SIGNAL], turn.texts)
        keyboard = card_texts.confirm_keyboard(data.nonce, "side_confirm", turn.texts)
        turn.response.replies.append(Reply(text, keyboard, edit=edit))
        return
    side = LegSide(value)
    turn.patient.symptom_side = side.value
    turn.close()
    turn.response.replies.append(Reply(texts.side_answered(side, turn.texts), edit=edit))
    turn.then(Next(data.then))


async def on_side_confirm(turn: Turn, data: SideData, value: str, message_id: int) -> None:
    """ "Both legs", is that right? Yes: the screening's verdict and hold (emergency advice);
    a slip of the finger: the question again."""
    if data.step != SideStep.CONFIRM or value not in ("yes", "no"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    if value == "no":
        data = turn.save(replace(data, step=SideStep.ASK))
        turn.response.replies.append(
            Reply(*texts.side_question(data.nonce, turn.texts), edit=message_id)
        )
        return
    text = card_texts.confirm_signals([BOTH_LEGS_SIGNAL], turn.texts)
    turn.response.replies.append(Reply(text, (), edit=message_id))
    if turn.patient.symptom_side == SIDE_ASKED:
        turn.patient.symptom_side = None  # asked again once the hold is lifted
    confirmed = ScreeningData(selected=(BOTH_LEGS_SIGNAL,), step=ScreeningStep.CONFIRM)
    await screening.finish(turn, confirmed)


def advise_duration(turn: Turn) -> None:
    """Symptoms of 6 weeks or more: worth having assessed, and the program can go on meanwhile
    (clinical.md §5). Said once, when the answer is known; stored like the same advice given at
    a check-in, so /status says when, and never repeated after a session."""
    if not advised_at_answer(turn.patient.symptom_duration):
        return
    turn.response.add(turn.t("onboarding.duration_advice"))
    repo.add_event(
        turn.db,
        turn.patient,
        Tier.REVIEW.label,
        ActionKind.CONTINUE.label,
        (ASSESSMENT_RULE,),
        turn.now,
    )


# --- The baseline --------------------------------------------------------------------------------


def ask_baseline(turn: Turn) -> None:
    turn.response.add(turn.t("onboarding.baseline_intro"))
    checkin.begin(turn, ReportKind.BASELINE, then=Next.ONBOARDING)


# --- Start now or tomorrow -----------------------------------------------------------------------


def ask_start(turn: Turn) -> None:
    data = turn.open(StartData())
    reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
    turn.response.add(*texts.start_question(data.nonce, reminder, turn.texts))


async def on_start_when(turn: Turn, data: StartData, value: str, message_id: int) -> None:
    if value not in ("now", "tomorrow"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
    turn.patient.reminder_time = reminder
    turn.patient.program_started_on = turn.today
    turn.close()
    turn.save_state(start_program())
    turn.patient.next_send_at = first_send_at(reminder, turn.zone, turn.now, start_today=False)
    turn.schedule_weekly()
    turn.response.replies.append(
        Reply(turn.t("onboarding.started", time=turn.texts.time(reminder)), edit=message_id)
    )
    advise_duration(turn)  # the end of onboarding
    # The seed article's advice on how to use the program, as the person starts it.
    turn.response.add(render_guidance(turn.texts))
    if value == "now":
        await routine.send_today(turn)


# --- The order -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    flow: Flow
    done: Callable[[Turn], Awaitable[bool]]
    ask: Callable[[Turn], None]


async def _consented(turn: Turn) -> bool:
    return turn.patient.consent_at is not None


async def _duration_known(turn: Turn) -> bool:
    return turn.patient.symptom_duration is not None


async def _screened(turn: Turn) -> bool:
    return turn.patient.screened_at is not None


async def _side_known(turn: Turn) -> bool:
    return turn.patient.symptom_side is not None


async def _has_baseline(turn: Turn) -> bool:
    return await repo.has_baseline(turn.db, turn.patient.id)


async def _function_asked(turn: Turn) -> bool:
    return turn.patient.function_asked_at is not None


async def _has_reminder(turn: Turn) -> bool:
    return turn.patient.reminder_time is not None


async def _has_zone(turn: Turn) -> bool:
    return turn.patient.time_zone is not None


async def _never(turn: Turn) -> bool:
    return False


STEPS: tuple[Step, ...] = (
    Step(Flow.CONSENT, _consented, ask_consent),
    Step(Flow.DURATION, _duration_known, ask_duration),
    Step(Flow.SCREENING, _screened, screening.ask),
    Step(Flow.SIDE, _side_known, ask_side),
    Step(Flow.CHECKIN, _has_baseline, ask_baseline),
    Step(Flow.FUNCTION, _function_asked, activities.ask),  # everyday activities (PSFS), skippable
    Step(Flow.REMINDER, _has_reminder, lambda turn: schedule.ask_reminder(turn, Next.ONBOARDING)),
    Step(Flow.ZONE, _has_zone, lambda turn: schedule.ask_zone(turn, Next.ONBOARDING)),
    Step(Flow.START, _never, ask_start),
)


async def resume(turn: Turn) -> None:
    """Ask the first onboarding step that is not done yet."""
    if turn.patient.status is not PatientStatus.ONBOARDING:
        return
    for step in STEPS:
        if not await step.done(turn):
            step.ask(turn)
            return
