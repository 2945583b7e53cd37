"""Onboarding, declared as an ordered list of steps: the first one not done yet is the next one.
So /start always picks up where the person left off, and each step's flow only has to say
"onboarding goes on" when it is done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.flows import (
    ConsentData,
    DurationData,
    Flow,
    Next,
    StartData,
)
from bot.domain.program import ActionKind, PatientStatus, start_program
from bot.domain.safety import (
    ASSESSMENT_RULE,
    SymptomDuration,
    Tier,
    advised_at_answer,
    symptoms_since,
)
from bot.domain.timing import first_send_at
from bot.rendering import onboarding as texts
from bot.rendering.program import render_guidance
from bot.rendering.replies import Reply
from bot.usecases import checkin, routine, schedule, screening
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


async def _has_baseline(turn: Turn) -> bool:
    return await repo.has_baseline(turn.db, turn.patient.id)


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
    Step(Flow.CHECKIN, _has_baseline, ask_baseline),
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
