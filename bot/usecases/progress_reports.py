"""What a person gets back from their data: /progress (a chart and its trend in words), /report
(a one-page PDF for a clinician), /export (their own data, CSV and JSON) and the weekly look
back. The Progress is read in the event's transaction; drawing happens after it, off the event
loop (``Services.offload``), so it never holds the database or delays anyone else."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.function import summarize
from bot.domain.program import ActionKind, ProgramState, plan_day
from bot.domain.progress import (
    SAFETY_TIERS,
    SYMPTOM_DURATIONS,
    CheckInPoint,
    ExerciseMark,
    ProgramDay,
    Progress,
    SafetyMark,
    Screening,
)
from bot.domain.timing import local_date
from bot.rendering import activity_texts as function_texts
from bot.rendering import offload
from bot.rendering.progress_texts import (
    file_name,
    has_enough_for_chart,
    render_caption,
    render_not_enough,
)
from bot.rendering.replies import Reply, Upload
from bot.usecases import activities
from bot.usecases.turn import Turn, UnreadableState, program_state, zone_of
from db import repo
from db.models import (
    DailySession,
    FunctionActivity,
    FunctionRating,
    Patient,
    ReportKind,
    SafetyEvent,
    SymptomReport,
)

CAPTION_MAX = 1024  # Telegram's limit for a photo's caption
_CHART_KINDS = {ReportKind.BASELINE, ReportKind.SESSION, ReportKind.ADHOC}


async def load(db: AsyncSession, patient: Patient, now: datetime, default_zone: str) -> Progress:
    """The person's current program as the progress views see it."""
    zone = zone_of(patient, default_zone)
    epoch = patient.program_epoch
    sessions = await repo.sessions_of(db, patient.id, epoch)
    by_id = {s.id: s for s in sessions}
    reports = await repo.reports_of(db, patient.id)
    started = patient.program_started_on
    since = datetime.combine(started, time(0), zone) if started else None
    baseline = next(
        (r for r in reversed(reports) if r.kind == ReportKind.BASELINE and r.has_ratings), None
    )
    check_ins = tuple(
        _point(r, by_id.get(r.session_id) if r.session_id else None, zone)
        for r in reports
        if r.kind in _CHART_KINDS
        and r.kind != ReportKind.BASELINE
        and r.has_ratings
        and r.program_epoch == epoch
        and (baseline is None or r.created_at >= baseline.created_at)
    )
    every_event = await repo.events_of(db, patient.id)
    events = [e for e in every_event if since is None or e.created_at >= since]
    signals_by_report = {r.id: tuple(r.stop_signals) for r in reports}
    try:
        state: ProgramState | None = program_state(patient)
    except UnreadableState:
        state = None
    plan = plan_day(state) if state is not None else None
    duration = patient.symptom_duration if patient.symptom_duration in SYMPTOM_DURATIONS else None
    counts = {
        outcome: sum(1 for s in sessions if s.outcome == outcome)
        for outcome in ("done", "stopped", "skipped")
    }
    return Progress(
        language=patient.language,
        time_zone=zone.key,
        today=local_date(now, zone),
        program_start=started,
        symptom_duration=duration,
        baseline=_point(baseline, None, zone) if baseline is not None else None,
        check_ins=check_ins,
        marks=_marks(sessions, events, state, zone),
        safety=tuple(_safety(e, signals_by_report, zone) for e in events if e.tier in SAFETY_TIERS),
        # A rest day has nothing to do: it is no routine sent (it still counts as a day).
        routines_sent=sum(1 for s in sessions if s.outcome != "rest"),
        routines_done=counts["done"],
        routines_stopped=counts["stopped"],
        routines_skipped=counts["skipped"],
        exercises_in_routine=plan.exercises if plan is not None else (),
        exercises_left_out=tuple((e.exercise, e.reason.value) for e in plan.excluded)
        if plan is not None
        else (),
        symptom_side=patient.symptom_side if patient.symptom_side in ("left", "right") else None,
        days=tuple(
            ProgramDay(s.local_date, s.day_number, s.outcome.value if s.outcome else None)
            for s in sorted(sessions, key=lambda s: s.local_date)
        ),
        screening=_screening(reports, every_event, zone),
        function=await activities.series(db, patient.id, zone),
    )


def _screening(
    reports: Sequence[SymptomReport], events: Sequence[SafetyEvent], zone: ZoneInfo
) -> Screening | None:
    """The latest warning-sign questions at onboarding, and the advice they led to, if any."""
    report = next((r for r in reversed(reports) if r.kind == ReportKind.SCREENING), None)
    if report is None:
        return None
    tiers = [e.tier for e in events if e.report_id == report.id and e.tier in SAFETY_TIERS]
    tier = min(tiers, key=SAFETY_TIERS.index) if tiers else None
    return Screening(local_date(report.created_at, zone), tuple(report.stop_signals), tier)


def _point(report: SymptomReport, session: DailySession | None, zone: ZoneInfo) -> CheckInPoint:
    assert report.has_ratings
    return CheckInPoint(
        at=report.created_at,
        local_date=local_date(report.created_at, zone),
        kind=str(report.kind.value),
        pain=report.pain or 0,
        numbness=report.numbness or 0,
        tingling=report.tingling or 0,
        extent=report.extent or 0,
        day=session.day_number if session else None,
        routine_outcome=session.outcome.value if session and session.outcome else None,
        signals=tuple(report.stop_signals),
    )


def _marks(
    sessions: Sequence[DailySession],
    events: Sequence[SafetyEvent],
    state: ProgramState | None,
    zone: ZoneInfo,
) -> tuple[ExerciseMark, ...]:
    marks: list[ExerciseMark] = []
    seen: set[int] = set()
    for session in sessions:
        new = session.new_exercise
        if new is not None and new not in seen:
            seen.add(new)
            marks.append(ExerciseMark(session.local_date, new, "added"))
    reasons = {e.exercise: e.reason.value for e in state.excluded} if state else {}
    for event in events:
        exercise = event.suspected_exercise
        if exercise is not None and event.action in (
            ActionKind.EXCLUDE.label,
            ActionKind.PAUSE.label,
            ActionKind.SAFETY_HOLD.label,
        ):
            if any(m.exercise == exercise and m.change == "left_out" for m in marks):
                continue
            marks.append(
                ExerciseMark(
                    local_date(event.created_at, zone), exercise, "left_out", reasons.get(exercise)
                )
            )
    return tuple(sorted(marks, key=lambda m: (m.local_date, m.exercise)))


def _safety(event: SafetyEvent, signals: dict[int, tuple[str, ...]], zone: ZoneInfo) -> SafetyMark:
    released = local_date(event.acknowledged_at, zone) if event.acknowledged_at else None
    return SafetyMark(
        local_date=local_date(event.created_at, zone),
        tier=event.tier,
        reasons=tuple(event.reasons),
        signals=signals.get(event.report_id or 0, ()),
        released_on=released,
    )


# --- The commands --------------------------------------------------------------------------------


async def progress_command(turn: Turn, _args: str | None) -> None:
    """/progress: a chart of the program so far, with the trend in words under it."""
    data = await load(turn.db, turn.patient, turn.now, turn.settings.default_time_zone)
    # Everyday activities (PSFS): one line each, start → latest, and the average.
    activities = function_texts.progress_lines(summarize(data.function), turn.texts)
    if not has_enough_for_chart(data):
        turn.response.add(render_not_enough(turn.texts.content))
        if activities:
            turn.response.add(activities)
        return
    caption = render_caption(data, turn.texts.content)
    after = ""
    if activities:
        joined = f"{caption}\n\n{activities}"
        if len(joined) <= CAPTION_MAX:
            caption = joined
        else:
            after = activities  # too long for a photo's caption: the next message

    async def draw() -> None:
        png = await turn.offload(offload.chart_png, data)
        turn.response.replies.append(
            Reply(caption, upload=Upload(_file_name(turn, "chart"), png, photo=True))
        )
        if after:
            turn.response.add(after)

    turn.later(draw)


async def report_command(turn: Turn, _args: str | None) -> None:
    """/report: the one-page summary to show a doctor or physiotherapist."""
    data = await load(turn.db, turn.patient, turn.now, turn.settings.default_time_zone)
    caption = turn.t("documents.report")

    async def draw() -> None:
        name, pdf = await turn.offload(offload.report_pdf, data)
        turn.response.replies.append(Reply(caption, upload=Upload(name, pdf)))

    turn.later(draw)


async def export_command(turn: Turn, _args: str | None) -> None:
    """/export: everything stored about the person (what /delete erases), CSV and JSON."""
    patient = turn.patient
    sessions = await repo.sessions_of(turn.db, patient.id)
    reports = await repo.reports_of(turn.db, patient.id)
    events = await repo.events_of(turn.db, patient.id)
    header = [turn.t(f"export_columns.{column}") for column in CSV_COLUMNS]
    turn.response.add(turn.t("export.intro"))
    turn.response.replies.append(
        Reply(
            turn.t("export.csv"),
            upload=Upload(
                _file_name(turn, "check_ins"),
                check_ins_csv(reports, sessions, turn.zone, header, side=patient.symptom_side),
            ),
        )
    )
    activities = await repo.activities_of(turn.db, patient.id)
    ratings = await repo.function_ratings_of(turn.db, patient.id)
    if ratings:
        function_header = [
            turn.t(f"export_function_columns.{column}") for column in FUNCTION_CSV_COLUMNS
        ]
        turn.response.replies.append(
            Reply(
                turn.t("export.function"),
                upload=Upload(
                    _file_name(turn, "function"),
                    function_csv(activities, ratings, turn.zone, function_header),
                ),
            )
        )
    everything = export_json(
        patient, sessions, reports, events, turn.now, activities=activities, ratings=ratings
    )
    turn.response.replies.append(
        Reply(turn.t("export.json"), upload=Upload(_file_name(turn, "data"), everything))
    )


def _file_name(turn: Turn, key: str) -> str:
    """The name of a file sent today, in the person's language (``files.*`` in progress.toml)."""
    return file_name(turn.texts.content.catalogue, key, turn.today)


# The person's row without the bot's own bookkeeping (an open dialogue, dispatcher leases).
_BOOKKEEPING = {"flow", "flow_data", "claimed_until", "claimed_by", "version"}

CSV_COLUMNS = (
    "local_date",
    "local_time",
    "kind",
    "pain",
    "numbness",
    "tingling",
    "furthest_point",
    "program_day",
    "routine_outcome",
    "stop_signals",
    "stopped_exercise",
    "stopped_reason",
    "settled",
    "symptom_side",
)


def check_ins_csv(
    reports: Sequence[SymptomReport],
    sessions: Sequence[DailySession],
    zone: ZoneInfo,
    header: Sequence[str] = CSV_COLUMNS,
    *,
    side: str | None = None,
) -> bytes:
    """One row per report, and one per program day that has none (a routine skipped or not
    answered: its outcome, no ratings), in date order and the person's local time (UTF-8 with a
    BOM for spreadsheets), under ``header`` (the columns' names in the person's language,
    ``export_columns.*``); ``side``, the leg with the symptoms ("left", "right"), is on every
    row."""
    by_id = {s.id: s for s in sessions}
    leg = side if side in ("left", "right") else ""
    rows: list[tuple[datetime, list[str]]] = []
    reported = {r.session_id for r in reports if r.session_id is not None}
    for silent in sessions:
        if silent.id in reported:
            continue
        sent = silent.sent_at.astimezone(zone)
        outcome = silent.outcome.value if silent.outcome else "no_answer"
        cells = [silent.local_date.isoformat(), sent.strftime("%H:%M"), "routine"]
        cells += ["", "", "", "", str(silent.day_number), outcome, "", "", "", "", leg]
        rows.append((silent.sent_at, cells))
    for report in reports:
        local = report.created_at.astimezone(zone)
        session = by_id.get(report.session_id) if report.session_id else None
        rows.append(
            (
                report.created_at,
                [
                    local.date().isoformat(),
                    local.strftime("%H:%M"),
                    report.kind.value,
                    _cell(report.pain),
                    _cell(report.numbness),
                    _cell(report.tingling),
                    _cell(report.extent),
                    _cell(session.day_number if session else None),
                    session.outcome.value if session and session.outcome else "",
                    " ".join(report.stop_signals),
                    _cell(report.stopped_exercise),
                    report.stopped_reason or "",
                    "" if report.settled is None else str(report.settled).lower(),
                    leg,
                ],
            )
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for _at, cells in sorted(rows, key=lambda row: row[0]):
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


FUNCTION_CSV_COLUMNS = ("local_date", "activity", "rating", "kind")


def function_csv(
    activities: Sequence[FunctionActivity],
    ratings: Sequence[FunctionRating],
    zone: ZoneInfo,
    header: Sequence[str] = FUNCTION_CSV_COLUMNS,
) -> bytes:
    """One row per rating of an everyday activity (PSFS), oldest first: the local date, the
    activity's words, the rating (0 unable to 10 as before) and its kind (start, weekly)."""
    labels = {a.id: a.label for a in activities}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for rating in ratings:
        writer.writerow(
            [
                rating.rated_at.astimezone(zone).date().isoformat(),
                labels.get(rating.activity_id, ""),
                str(rating.rating),
                rating.kind,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def export_json(
    patient: Patient,
    sessions: Sequence[DailySession],
    reports: Sequence[SymptomReport],
    events: Sequence[SafetyEvent],
    now: datetime,
    *,
    activities: Sequence[FunctionActivity] = (),
    ratings: Sequence[FunctionRating] = (),
) -> bytes:
    """Every stored row about the person, as it is stored (timestamps in UTC)."""
    data = {
        "exported_at": now.isoformat(),
        "person": _row(
            patient, exclude={"flow", "flow_data", "claimed_until", "claimed_by", "version"}
        ),
        "daily_sessions": [_row(s) for s in sessions],
        "symptom_reports": [_row(r) for r in reports],
        "safety_events": [_row(e) for e in events],
        "function_activities": [_row(a) for a in activities],
        "function_ratings": [_row(r) for r in ratings],
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_value).encode("utf-8")


def _row(obj: object, exclude: set[str] | None = None) -> dict[str, Any]:
    table = obj.__table__  # type: ignore[attr-defined]
    return {
        column.name: getattr(obj, column.key)
        for column in table.columns
        if not exclude or column.name not in exclude
    }


def _json_value(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    raise TypeError(f"cannot export {type(value).__name__}")
