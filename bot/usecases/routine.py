"""The daily routine: today's plan from the stored program state, its messages and buttons."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.callbacks import routine_button
from bot.content import Content, load_content
from bot.domain.program import DayPlan, ProgramState, plan_day, start_program
from bot.rendering import render_routine
from bot.replies import Button, Reply, rows
from db.models import Patient

# The values a routine button carries (with the session id).
DONE = "done"
SKIP = "skip"
STOP = "stop"
ROUTINE_VALUES = (DONE, SKIP, STOP)


def program_state(patient: Patient) -> ProgramState:
    """The stored program state (a person who never started gets day 1)."""
    if not patient.program_state:
        return start_program()
    return ProgramState.from_json(patient.program_state)


def zone_of(patient: Patient, default: str = "UTC") -> ZoneInfo:
    return ZoneInfo(patient.time_zone or default)


def plan_for(patient: Patient) -> DayPlan:
    return plan_day(program_state(patient))


def routine_buttons(session_id: int, content: Content) -> tuple[tuple[Button, ...], ...]:
    cat = content.catalogue
    return rows(
        Button(cat.text("buttons.done"), routine_button(session_id, DONE)),
        Button(cat.text("buttons.not_today"), routine_button(session_id, SKIP)),
        Button(cat.text("buttons.had_to_stop"), routine_button(session_id, STOP)),
        width=3,
    )


# Rendered routines by (language, plan): a morning sends the same few plans to everyone.
_RENDERED: dict[tuple[str, DayPlan], tuple[str, ...]] = {}
_RENDERED_MAX = 1024


def routine_texts(plan: DayPlan, content: Content) -> tuple[str, ...]:
    """render_routine, cached for the loaded catalogues (any other Content is rendered afresh)."""
    if content is not load_content(content.language):
        return tuple(render_routine(plan, content))
    key = (content.language, plan)
    texts = _RENDERED.get(key)
    if texts is None:
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        texts = _RENDERED[key] = tuple(render_routine(plan, content))
    return texts


def routine_replies(plan: DayPlan, session_id: int, content: Content) -> list[Reply]:
    """The routine as messages; the last one carries Done / Not today / Had to stop."""
    texts = routine_texts(plan, content)
    if plan.nothing_left:
        return [Reply(text) for text in texts]
    buttons = routine_buttons(session_id, content)
    return [Reply(text, buttons if i == len(texts) - 1 else ()) for i, text in enumerate(texts)]
