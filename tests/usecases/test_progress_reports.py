"""What a person gets back from their stored rows: bot.usecases.progress_reports.load (the
Progress the chart, the caption and the PDF read) and the /export files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.context import Services
from bot.domain.program import (
    Exclusion,
    ExclusionReason,
    PatientStatus,
    ProgramState,
    RoutineOutcome,
)
from bot.domain.progress import CheckInPoint, ExerciseMark, Progress, SafetyMark
from bot.usecases import progress_reports
from db import repo
from db.models import Patient, ReportKind
from tests.support.harness import FakeClock
from tests.support.offline import Person, offline_services, stored_rows

USER = 1001
PARIS = ZoneInfo("Europe/Paris")  # UTC+1 until 29 March 2026
START = date(2026, 3, 2)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    """The ids of the rows the tests look for."""

    patient_id: int
    stop_report: int
    fever_report: int


async def store_history(services: Services) -> Stored:
    """A person in their second program (epoch 2), in Paris, with one of everything."""
    async with services.sessions() as db:
        patient = repo.new_patient(db, USER, USER, utc(20, 8, month=2), "en")
        patient.time_zone = "Europe/Paris"
        patient.reminder_time = time(8, 0)
        patient.symptom_duration = "2to6w"
        patient.status = PatientStatus.ACTIVE
        await db.flush()

        # The first program, before /reset: none of it is shown.
        old = repo.add_session(db, patient, date(2026, 2, 21), 1, (1,), 1, utc(21, 7, month=2))
        old.outcome = RoutineOutcome.DONE
        await db.flush()
        ratings = repo.Ratings(6, 3, 3, 4)
        repo.add_report(db, patient, ReportKind.BASELINE, utc(20, 8, month=2), ratings=ratings)
        repo.add_report(
            db, patient, ReportKind.SESSION, utc(21, 8, month=2), ratings=ratings, session_id=old.id
        )

        patient.program_epoch = 2
        patient.program_started_on = START
        patient.program_state = ProgramState(
            day=3,
            unlocked=(1, 2, 3),
            new=3,
            excluded=(Exclusion(2, ExclusionReason.STOPPED_DURING),),
        ).to_json()
        before = repo.Ratings(7, 2, 2, 3)  # before the new baseline: not on the chart
        repo.add_report(db, patient, ReportKind.ADHOC, utc(1, 8), ratings=before)
        repo.add_report(
            db, patient, ReportKind.BASELINE, utc(1, 9), ratings=repo.Ratings(5, 2, 3, 3)
        )
        day1 = repo.add_session(db, patient, date(2026, 3, 2), 1, (1,), 1, utc(2, 7))
        day2 = repo.add_session(db, patient, date(2026, 3, 3), 2, (1, 2), 2, utc(3, 7))
        skipped = repo.add_session(db, patient, date(2026, 3, 4), 2, (1,), None, utc(4, 7))
        repo.add_session(db, patient, date(2026, 3, 5), 3, (1, 3), 3, utc(5, 7))  # unanswered
        day1.outcome, day2.outcome = RoutineOutcome.DONE, RoutineOutcome.STOPPED
        skipped.outcome = RoutineOutcome.SKIPPED
        await db.flush()
        repo.add_report(
            db,
            patient,
            ReportKind.SESSION,
            utc(2, 10),
            ratings=repo.Ratings(4, 2, 3, 3),
            session_id=day1.id,
        )
        # 23:30 UTC on 3 March is 00:30 on 4 March in Paris.
        stop = repo.add_report(
            db,
            patient,
            ReportKind.SESSION,
            utc(3, 23, 30),
            ratings=repo.Ratings(6, 2, 4, 4),
            session_id=day2.id,
            stopped_exercise=2,
            stopped_reason="sharp_pain",
            settled=True,
        )
        fever = repo.add_report(
            db,
            patient,
            ReportKind.ADHOC,
            utc(4, 12),
            ratings=repo.Ratings(4, 2, 3, 3),
            stop_signals=["fever"],
        )
        repo.add_report(db, patient, ReportKind.RESCREEN, utc(5, 9), stop_signals=[])
        await db.flush()

        def event(tier: str, action: str, at: datetime, **kwargs: Any) -> None:
            repo.add_event(db, patient, tier, action, [f"{tier}_rule"], at, **kwargs)

        # 22:30 UTC on 1 March is 23:30 local, the evening before the program: left out;
        # 23:30 UTC is 00:30 on its first day: shown.
        event("review", "hold", utc(1, 22, 30))
        event("watch", "hold", utc(1, 23, 30))
        event("stop_exercise", "exclude", utc(3, 23, 30), report_id=stop.id, suspected_exercise=2)
        urgent = repo.add_event(
            db,
            patient,
            "urgent",
            "safety_hold",
            ["urgent_signal"],
            utc(4, 12),
            report_id=fever.id,
        )
        urgent.acknowledged_at = utc(4, 23, 30)  # released on 5 March, local time
        event("stop_exercise", "exclude", utc(5, 9), suspected_exercise=2)  # left out already
        event("improved", "continue", utc(5, 10))  # not a safety tier
        await db.commit()
        return Stored(patient.id, stop.id, fever.id)


@pytest.fixture
async def history(database_url: str, clock: FakeClock) -> AsyncIterator[tuple[Services, Stored]]:
    """The stored history on each backend (what load reads is the query's business)."""
    clock.set(utc(6, 8))
    async with offline_services(database_url, clock) as services:
        yield services, await store_history(services)


async def load(services: Services, default_zone: str = "UTC") -> Progress:
    async with services.sessions() as db:
        patient = await repo.get_patient(db, USER)
        assert patient is not None
        return await progress_reports.load(db, patient, services.clock(), default_zone)


def point(
    at: datetime,
    local: date,
    kind: str,
    ratings: tuple[int, int, int, int],
    day: int | None = None,
    outcome: str | None = None,
    signals: tuple[str, ...] = (),
) -> CheckInPoint:
    return CheckInPoint(at, local, kind, *ratings, day, outcome, signals)


async def test_load_builds_the_progress_of_the_current_program(
    history: tuple[Services, Stored],
) -> None:
    services, _ = history
    data = await load(services)
    assert (data.language, data.time_zone, data.today) == ("en", "Europe/Paris", date(2026, 3, 6))
    assert (data.program_start, data.symptom_duration) == (START, "2to6w")
    # The latest baseline; only this program's check-ins after it, with their routines.
    assert data.baseline == point(utc(1, 9), date(2026, 3, 1), "baseline", (5, 2, 3, 3))
    assert data.check_ins == (
        point(utc(2, 10), date(2026, 3, 2), "session", (4, 2, 3, 3), 1, "done"),
        point(utc(3, 23, 30), date(2026, 3, 4), "session", (6, 2, 4, 4), 2, "stopped"),
        point(utc(4, 12), date(2026, 3, 4), "adhoc", (4, 2, 3, 3), signals=("fever",)),
    )


async def test_load_marks_exercises_added_and_left_out(history: tuple[Services, Stored]) -> None:
    services, _ = history
    data = await load(services)
    assert data.marks == (
        ExerciseMark(date(2026, 3, 2), 1, "added"),
        ExerciseMark(date(2026, 3, 3), 2, "added"),
        ExerciseMark(date(2026, 3, 4), 2, "left_out", "stopped_during"),  # once, local date
        ExerciseMark(date(2026, 3, 5), 3, "added"),
    )
    assert data.exercises_in_routine == (1, 3)
    assert data.exercises_left_out == ((2, "stopped_during"),)


async def test_load_lists_this_programs_safety_events_with_their_release(
    history: tuple[Services, Stored],
) -> None:
    services, _ = history
    data = await load(services)
    assert data.safety == (
        SafetyMark(date(2026, 3, 2), "watch", ("watch_rule",)),
        SafetyMark(date(2026, 3, 4), "stop_exercise", ("stop_exercise_rule",)),
        SafetyMark(date(2026, 3, 4), "urgent", ("urgent_signal",), ("fever",), date(2026, 3, 5)),
        SafetyMark(date(2026, 3, 5), "stop_exercise", ("stop_exercise_rule",)),
    )
    assert [mark.holds for mark in data.safety] == [False] * 4  # the urgent one was released


async def test_load_counts_this_programs_routines(history: tuple[Services, Stored]) -> None:
    services, _ = history
    data = await load(services)
    sent = (data.routines_sent, data.routines_done, data.routines_stopped, data.routines_skipped)
    assert sent == (4, 1, 1, 1)


async def test_load_survives_an_unreadable_zone_and_program(
    history: tuple[Services, Stored],
) -> None:
    services, _ = history
    async with services.sessions() as db:
        patient = await repo.get_patient(db, USER)
        assert patient is not None
        patient.time_zone = "Mars/Olympus_Mons"
        patient.program_state = {"v": 2, "day": 0}
        patient.symptom_duration = "asked"
        await db.commit()
    data = await load(services, default_zone="Europe/London")
    assert data.time_zone == "Europe/London"  # the default zone, not an error
    assert data.symptom_duration is None
    assert (data.exercises_in_routine, data.exercises_left_out) == ((), ())
    assert [m.change for m in data.marks] == ["added", "added", "left_out", "added"]
    assert data.marks[2].reason is None  # why it was left out was in the unreadable state


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as JSON shows it: times as ISO 8601, enums as their values."""

    def value(item: object) -> object:
        if isinstance(item, datetime | date | time):
            return item.isoformat()
        return item.value if isinstance(item, Enum) else item

    return {key: value(item) for key, item in row.items()}


async def test_export_contains_every_stored_row(history: tuple[Services, Stored]) -> None:
    services, _ = history
    person = Person(services, user_id=USER)
    response = await person.send("/export")
    uploads = {r.upload.filename: r.upload.data for r in response.replies if r.upload}
    assert set(uploads) == {"sciatica-check-ins-2026-03-06.csv", "sciatica-data-2026-03-06.json"}
    exported = json.loads(uploads["sciatica-data-2026-03-06.json"])
    rows = await stored_rows(services)
    bookkeeping = {"flow", "flow_data", "claimed_until", "claimed_by", "version"}
    (person_row,) = rows["patients"]
    assert exported["person"] == {
        key: item for key, item in plain(person_row).items() if key not in bookkeeping
    }
    for table in ("daily_sessions", "symptom_reports", "safety_events"):
        assert sorted(exported[table], key=lambda r: r["id"]) == [plain(r) for r in rows[table]]
    assert exported["exported_at"] == "2026-03-06T08:00:00+00:00"
    csv_rows = list(csv.reader(io.StringIO(uploads["sciatica-check-ins-2026-03-06.csv"].decode())))
    reported = {r["session_id"] for r in rows["symptom_reports"]}
    silent = [s for s in rows["daily_sessions"] if s["id"] not in reported]
    assert len(csv_rows) == 1 + len(rows["symptom_reports"]) + len(silent)


async def test_the_csv_has_one_row_per_report_and_per_day_without_one(
    history: tuple[Services, Stored],
) -> None:
    services, stored = history
    async with services.sessions() as db:
        reports = await repo.reports_of(db, stored.patient_id)
        sessions = await repo.sessions_of(db, stored.patient_id)
    data = progress_reports.check_ins_csv(reports, sessions, PARIS, side="left")
    assert data.startswith("\ufeff".encode())  # a BOM, so spreadsheets read UTF-8
    header, *lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(header) == progress_reports.CSV_COLUMNS
    reports_only = [line for line in lines if line[2] != "routine"]
    assert [line[2] for line in reports_only] == [r.kind.value for r in reports]  # every report
    by_column = [dict(zip(header, line, strict=True)) for line in reports_only]
    stop = by_column[[r.id for r in reports].index(stored.stop_report)]
    assert stop == {
        "local_date": "2026-03-04",
        "local_time": "00:30",
        "kind": "session",
        "pain": "6",
        "numbness": "2",
        "tingling": "4",
        "furthest_point": "4",
        "program_day": "2",
        "routine_outcome": "stopped",
        "stop_signals": "",
        "stopped_exercise": "2",
        "stopped_reason": "sharp_pain",
        "settled": "true",
        "symptom_side": "left",
    }
    fever = by_column[[r.id for r in reports].index(stored.fever_report)]
    assert (fever["stop_signals"], fever["program_day"], fever["settled"]) == ("fever", "", "")
    rescreen = next(row for row in reversed(by_column) if row["kind"] == "rescreen")
    assert (rescreen["kind"], rescreen["pain"], rescreen["furthest_point"]) == ("rescreen", "", "")
    unsaid = progress_reports.check_ins_csv(reports, sessions, PARIS).decode("utf-8-sig")
    assert {row["symptom_side"] for row in csv.DictReader(io.StringIO(unsaid))} == {""}


async def test_export_json_leaves_out_the_bots_bookkeeping(
    history: tuple[Services, Stored],
) -> None:
    services, stored = history
    async with services.sessions() as db:
        patient = await db.get(Patient, stored.patient_id)
        assert patient is not None
        patient.flow, patient.flow_data = "reset", {"nonce": "abc"}
        patient.claimed_by = "dispatcher-1"
        exported = json.loads(progress_reports.export_json(patient, [], [], [], services.clock()))
    assert {"flow", "flow_data", "claimed_until", "claimed_by", "version"}.isdisjoint(
        exported["person"]
    )
    assert exported["person"]["telegram_user_id"] == USER
    assert exported["person"]["status"] == "active"
    assert exported["daily_sessions"] == exported["symptom_reports"] == []


async def test_the_export_speaks_the_persons_language(history: tuple[Services, Stored]) -> None:
    services, _ = history
    person = Person(services, user_id=USER)
    english = await person.send("/export")
    files = {r.upload.filename: r.upload.data for r in english.replies if r.upload}
    assert files["sciatica-check-ins-2026-03-06.csv"].decode("utf-8-sig").splitlines()[0] == (
        "local_date,local_time,kind,pain,numbness,tingling,furthest_point,program_day,"
        "routine_outcome,stop_signals,stopped_exercise,stopped_reason,settled,symptom_side"
    )
    await person.send("/language")
    await person.press("Français")
    french = await person.send("/exporter")
    files = {r.upload.filename: r.upload.data for r in french.replies if r.upload}
    assert set(files) == {"export-sciatique-2026-03-06.csv", "donnees-sciatique-2026-03-06.json"}
    csv_text = files["export-sciatique-2026-03-06.csv"].decode("utf-8-sig")
    assert csv_text.splitlines()[0] == (
        "date,heure,type,douleur,engourdissement,fourmillements,point_le_plus_bas,"
        "jour_du_programme,seance,signes_d_alerte,exercice_arrete,raison_de_l_arret,calme,jambe"
    )
    # The same rows under the French header.
    english_csv = {r.upload.filename: r.upload.data for r in english.replies if r.upload}
    english_lines = english_csv["sciatica-check-ins-2026-03-06.csv"].decode("utf-8-sig")
    assert csv_text.splitlines()[1:] == english_lines.splitlines()[1:]
    assert len(csv_text.splitlines()) > 1
