"""Onboarding: welcome, consent, stop-signal screening, baseline, reminder time, time zone, start.

The reminder-time and time-zone steps are reused by /time and /timezone (``then="settings"``).
"""

from __future__ import annotations

from datetime import time

from bot.domain.parsing import find_clock_in_text, parse_clock
from bot.domain.program import ProgramStatus, start_program
from bot.domain.safety import SCREENING_SIGNALS, Tier, screen
from bot.domain.timing import first_send_at
from bot.domain.zones import (
    ZoneMatch,
    describe_local_time,
    find_zones,
    zone_at,
    zones_for_local_time,
)
from bot.rendering import render_screening
from bot.replies import Keyboard, Reply, rows
from bot.usecases import checkin
from bot.usecases.flows import HOLD_TEXT, Turn
from db.models import PatientStatus, ReportKind

REMINDER_CHOICES = (time(7, 0), time(8, 0), time(9, 0), time(12, 0), time(18, 0), time(20, 0))
MAX_ZONE_CHOICES = 6


def welcome(turn: Turn) -> None:
    """Step 1 and 2: what the bot does, then consent to store ratings."""
    turn.start_flow("consent")
    turn.outcome.add(turn.t("welcome.text"))
    turn.outcome.add(
        turn.t("onboarding.consent"),
        rows(
            turn.button(turn.t("onboarding.consent_yes"), "consent:yes"),
            turn.button(turn.t("onboarding.consent_no"), "consent:no"),
        ),
    )


async def on_consent(turn: Turn, value: str, message_id: int) -> bool:
    """Returns False when the person declined and their row must be deleted."""
    if value == "no":
        turn.outcome.add(turn.t("onboarding.declined"))
        return False
    turn.patient.consent_at = turn.now
    turn.outcome.replies.append(
        Reply(
            turn.t("onboarding.consent") + "\n\n" + turn.t("onboarding.consent_given"),
            edit=message_id,
        )
    )
    ask_screening(turn)
    return True


# Step 3: screening


def ask_screening(turn: Turn) -> None:
    turn.start_flow("screening", selected=[])
    turn.outcome.add(_screening_text(turn), _screening_keyboard(turn))


def _screening_text(turn: Turn) -> str:
    items = [
        f"• <b>{turn.t(f'stop_signals.{s}.short')}</b>: {turn.t(f'stop_signals.{s}.full')}"
        for s in SCREENING_SIGNALS
    ]
    return "\n".join([turn.t("stop_signals.question_screening"), *items])


def _screening_keyboard(turn: Turn) -> Keyboard:
    return checkin.signal_keyboard(turn, SCREENING_SIGNALS, turn.data.get("selected", []), "screen")


def on_screening(turn: Turn, value: str, message_id: int) -> None:
    selected: list[str] = list(turn.data.get("selected", []))
    if value in SCREENING_SIGNALS:
        if value in selected:
            selected.remove(value)
        else:
            selected.append(value)
        turn.update_flow(selected=selected)
        turn.outcome.replies.append(
            Reply(_screening_text(turn), _screening_keyboard(turn), edit=message_id)
        )
        return
    if value not in ("none", "done"):
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    if value == "none":
        selected = []
    turn.outcome.replies.append(Reply(_screening_text(turn), (), edit=message_id))
    verdict = screen(selected)
    checkin.store_verdict(turn, verdict)
    text = render_screening(verdict, turn.content, zone=turn.patient.time_zone)
    if verdict.tier >= Tier.URGENT:
        # No program: the advice, a safety hold, and the one way out.
        turn.set_kept(HOLD_TEXT, text)
        state = start_program()
        turn.save_state(state)
        turn.set_status(state, ProgramStatus.SAFETY_HOLD)
        turn.outcome.add(text, checkin.hold_keyboard(turn))
        return
    if verdict.tier == Tier.SOON:
        turn.start_flow("soon_wait")
        turn.outcome.add(text, _soon_keyboard(turn))
        return
    turn.outcome.add(text)
    ask_baseline(turn)


def _soon_keyboard(turn: Turn) -> Keyboard:
    return rows(
        turn.button(turn.t("onboarding.soon_seen"), "soon:seen"),
        turn.button(turn.t("onboarding.soon_later"), "soon:later"),
    )


def remind_soon(turn: Turn) -> None:
    """/start while waiting to see a professional: the two choices again."""
    turn.start_flow("soon_wait")
    turn.outcome.add(turn.t("onboarding.soon_reminder"), _soon_keyboard(turn))


def on_soon(turn: Turn, value: str, message_id: int) -> None:
    turn.outcome.replies.append(Reply(turn.t("onboarding.soon_reminder"), (), edit=message_id))
    if value == "seen":
        turn.outcome.add(turn.t("onboarding.soon_thanks"))
        ask_baseline(turn)
    else:
        turn.outcome.add(turn.t("onboarding.soon_later_reply"))


# Step 4: baseline


def ask_baseline(turn: Turn) -> None:
    turn.outcome.add(turn.t("onboarding.baseline_intro"))
    checkin.begin(turn, ReportKind.BASELINE)


def after_baseline(turn: Turn) -> None:
    ask_reminder(turn, then="onboarding")


# Step 5: reminder time and time zone


def ask_reminder(turn: Turn, *, then: str) -> None:
    turn.start_flow("reminder", then=then)
    default = turn.settings.default_reminder_time
    choices = sorted({*REMINDER_CHOICES, default})
    buttons = [turn.button(f"{c:%H:%M}", f"time:{c:%H%M}") for c in choices]
    turn.outcome.add(turn.t("onboarding.reminder_question"), rows(*buttons, width=4))


def on_reminder_button(turn: Turn, value: str, message_id: int) -> None:
    chosen = parse_clock(value)
    if chosen is None:
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    turn.outcome.replies.append(
        Reply(turn.t("onboarding.reminder_chosen", time=f"{chosen:%H:%M}"), edit=message_id)
    )
    _set_reminder(turn, chosen)


def on_reminder_text(turn: Turn, text: str) -> None:
    chosen = parse_clock(text)
    if chosen is None:
        turn.outcome.add(turn.t("onboarding.reminder_invalid"))
        return
    turn.outcome.add(turn.t("onboarding.reminder_chosen", time=f"{chosen:%H:%M}"))
    _set_reminder(turn, chosen)


def _set_reminder(turn: Turn, chosen: time) -> None:
    turn.patient.reminder_time = chosen
    then = turn.data.get("then", "onboarding")
    if then == "onboarding":
        ask_zone(turn, then=then)
        return
    turn.end_flow()
    turn.schedule_next()
    _confirm_schedule(turn)


def ask_zone(turn: Turn, *, then: str) -> None:
    turn.start_flow("zone", then=then)
    turn.outcome.add(
        turn.t("onboarding.zone_question"), ask_location=turn.t("onboarding.share_location")
    )


def on_zone_location(turn: Turn, latitude: float, longitude: float) -> None:
    zone = zone_at(latitude, longitude)
    if zone is None:
        turn.outcome.add(turn.t("onboarding.zone_not_found_location"))
        return
    _confirm_zone(turn, zone)


def on_zone_text(turn: Turn, text: str) -> None:
    clock = find_clock_in_text(text) or parse_clock(text)
    matches: list[ZoneMatch]
    if clock is not None:
        matches = zones_for_local_time(clock, turn.now, limit=MAX_ZONE_CHOICES)
    else:
        matches = find_zones(text, limit=MAX_ZONE_CHOICES)
    if not matches:
        turn.outcome.add(turn.t("onboarding.zone_not_found"))
        return
    if len(matches) == 1:
        _confirm_zone(turn, matches[0].zone)
        return
    turn.update_flow(candidates=[m.zone for m in matches])
    buttons = [turn.button(m.label, f"pick:{i}") for i, m in enumerate(matches)]
    turn.outcome.add(turn.t("onboarding.zone_pick"), rows(*buttons))


def on_zone_pick(turn: Turn, value: str, message_id: int) -> None:
    candidates: list[str] = turn.data.get("candidates", [])
    if not value.isdigit() or int(value) >= len(candidates):
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    turn.outcome.replies.append(Reply(turn.t("onboarding.zone_pick"), (), edit=message_id))
    _confirm_zone(turn, candidates[int(value)])


def _confirm_zone(turn: Turn, zone: str) -> None:
    turn.update_flow(zone=zone, step="confirm")
    turn.outcome.add(
        turn.t("onboarding.zone_confirm", zone=zone, local=describe_local_time(zone, turn.now)),
        rows(
            turn.button(turn.t("onboarding.zone_yes"), "zone_ok:yes"),
            turn.button(turn.t("onboarding.zone_no"), "zone_ok:no"),
        ),
    )


def on_zone_confirm(turn: Turn, value: str, message_id: int) -> None:
    zone = turn.data.get("zone")
    if not zone:
        turn.outcome.answer = turn.t("errors.stale_button")
        return
    if value != "yes":
        turn.outcome.replies.append(Reply(turn.t("onboarding.zone_try_again"), edit=message_id))
        ask_zone(turn, then=turn.data.get("then", "onboarding"))
        return
    turn.patient.time_zone = zone
    turn.outcome.replies.append(Reply("", (), edit=message_id, markup_only=True))
    turn.outcome.add(
        turn.t("onboarding.zone_set", zone=zone, local=describe_local_time(zone, turn.now)),
        remove_keyboard=True,
    )
    if turn.data.get("then", "onboarding") == "onboarding":
        ask_start(turn)
        return
    turn.end_flow()
    turn.schedule_next()
    _confirm_schedule(turn)


def _confirm_schedule(turn: Turn) -> None:
    from bot.usecases.commands import next_routine_text

    turn.outcome.add(next_routine_text(turn))


# Step 6: start now or tomorrow


def ask_start(turn: Turn) -> None:
    turn.start_flow("start_when")
    reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
    turn.outcome.add(
        turn.t("onboarding.start_question", time=f"{reminder:%H:%M}"),
        rows(
            turn.button(turn.t("onboarding.start_now"), "start:now"),
            turn.button(turn.t("onboarding.start_tomorrow"), "start:tomorrow"),
        ),
    )


async def on_start_when(turn: Turn, value: str, message_id: int) -> None:
    from bot.usecases.commands import send_today

    reminder = turn.patient.reminder_time or turn.settings.default_reminder_time
    turn.patient.reminder_time = reminder
    turn.patient.program_started_on = turn.today
    turn.end_flow()
    state = start_program()
    turn.save_state(state)
    turn.patient.status = PatientStatus.ACTIVE
    turn.patient.next_send_at = first_send_at(reminder, turn.zone, turn.now, start_today=False)
    turn.outcome.replies.append(
        Reply(turn.t("onboarding.started", time=f"{reminder:%H:%M}"), edit=message_id)
    )
    turn.outcome.add(turn.t("onboarding.guidance"))
    if value == "now":
        await send_today(turn)
