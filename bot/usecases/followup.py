"""The next-morning follow-up of a "had to stop" that had not settled (clinical.md §5): before
anything else the next morning, "is it still there?". Still there: SOON (pause, see a
professional within days). Gone: the routine, that exercise still left out."""

from __future__ import annotations

from bot.domain.parsing import parse_yes_no
from bot.domain.program import RoutineOutcome
from bot.domain.safety import StopCause, StoppedEarly, assess
from bot.domain.timing import local_date
from bot.rendering import status as status_texts
from bot.rendering.replies import Reply
from bot.rendering.verdict_texts import hold_keyboard, render_verdict
from bot.usecases import holds, routine, verdicts
from bot.usecases.turn import Turn
from db import repo
from db.models import ReportKind, SymptomReport


async def pending(turn: Turn) -> SymptomReport | None:
    """The "had to stop" report awaiting its follow-up, if any."""
    report_id = turn.patient.follow_up_report_id
    if report_id is None:
        return None
    report = await repo.get_report(turn.db, report_id)
    if report is None or report.patient_id != turn.patient.id or report.stopped_exercise is None:
        turn.patient.follow_up_report_id = None
        return None
    return report


async def due(turn: Turn) -> SymptomReport | None:
    """The follow-up to ask now: a report from an earlier local day than today."""
    report = await pending(turn)
    if report is None or local_date(report.created_at, turn.zone) >= turn.today:
        return None
    return report


def ask(turn: Turn, report: SymptomReport) -> None:
    assert report.stopped_exercise is not None
    text, keyboard = status_texts.follow_up_question(
        report.id, report.stopped_exercise, report.stopped_reason or StopCause.OTHER, turn.texts
    )
    turn.patient.follow_up_asked_at = turn.now
    turn.response.add(text, keyboard)


async def on_button(turn: Turn, report_id: int, value: str, message_id: int | None = None) -> None:
    report = await pending(turn)
    if report is None or report.id != report_id or value not in ("yes", "no"):
        turn.response.answer = turn.t("errors.stale_button")
        return
    if message_id is not None and report.stopped_exercise is not None:
        # The question keeps the answer given, without its buttons.
        question, _ = status_texts.follow_up_question(
            report.id,
            report.stopped_exercise,
            report.stopped_reason or StopCause.OTHER,
            turn.texts,
        )
        chosen = turn.t("follow_up.still_there" if value == "yes" else "follow_up.gone")
        turn.response.replies.append(
            Reply(turn.t("follow_up.chosen", question=question, answer=chosen), (), edit=message_id)
        )
    await answer(turn, report, still_there=value == "yes")


async def on_text(turn: Turn, text: str) -> bool:
    """A typed "still there" / "gone" (in the person's language); False if it was not one."""
    report = await pending(turn)
    if report is None:
        return False
    still_there = parse_yes_no(text, turn.t("answers.yes"), turn.t("answers.no"))
    if still_there is None:
        return False
    await answer(turn, report, still_there=still_there)
    return True


async def answer(turn: Turn, report: SymptomReport, *, still_there: bool) -> None:
    assert report.stopped_exercise is not None
    turn.patient.follow_up_report_id = None
    follow_up = repo.add_report(
        turn.db,
        turn.patient,
        ReportKind.FOLLOW_UP,
        turn.now,
        stopped_exercise=report.stopped_exercise,
        stopped_reason=report.stopped_reason,
        settled=not still_there,
    )
    await turn.db.flush()
    if not still_there:
        turn.response.add(turn.t("follow_up.gone_reply"))
        await routine.send_today(turn)
        return
    history = await verdicts.history_of(turn)
    stop = StoppedEarly(
        at=turn.now,
        exercise=report.stopped_exercise,
        what=StopCause(report.stopped_reason or StopCause.OTHER),
        settled=False,
    )
    if history is None:
        return
    verdict = assess(history, stop, turn.now)
    holds.store_verdict(turn, verdict, report_id=follow_up.id)
    verdicts.apply_verdicts(turn, [verdict], RoutineOutcome.NO_ANSWER)
    text = render_verdict(verdict, turn.texts, zone=turn.patient.time_zone)
    turn.response.add(text, hold_keyboard(turn.texts, verdict.tier))
