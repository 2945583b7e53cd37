"""End to end: /progress sends a chart, /report a one-page PDF, /export the person's own data."""

from __future__ import annotations

import csv
import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from db.models import SymptomReport
from tests.e2e.test_course import check_in, next_day
from tests.e2e.test_onboarding import USER, onboard, patient
from tests.support.botapi import UploadedFile, image_size
from tests.support.harness import BotHarness, running_bot


def upload(bot: BotHarness, file_id: str | None) -> UploadedFile:
    assert file_id is not None
    return bot.server._files[file_id]


async def four_days(bot: BotHarness) -> None:
    await onboard(bot)
    for pain in (5, 4, 4):
        await bot.tap(USER, "Done")
        await check_in(bot, pain, 2, 3, 3)
        await next_day(bot)
    await bot.tap(USER, "Done")
    await check_in(bot, 3, 1, 2, 2)


async def test_progress_needs_two_check_ins_then_draws_a_chart(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await onboard(bot)
        early = await bot.say(USER, "/progress")
        assert early.kind == "text"
        assert "not much to show yet" in early.text
        await bot.tap(USER, "Done")
        await check_in(bot, 3, 2, 3, 3)
        await bot.say(USER, "/progress")
        chart = bot.last(USER)
        assert chart.kind == "photo"
        assert "Pain 5 → 3 since you started: a meaningful improvement." in chart.text
        png = upload(bot, chart.file_id)
        assert png.data.startswith(b"\x89PNG")
        width, height = image_size(png.data) or (0, 0)
        assert width >= 1000 and height >= 1000


async def test_report_is_a_one_page_pdf_with_the_check_ins(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await four_days(bot)
        await bot.say(USER, "/report")
        document = bot.last(USER)
        assert document.kind == "document"
        assert "one-page summary" in document.text
        pdf = upload(bot, document.file_id)
        assert pdf.filename == "sciatica-summary-2026-03-05.pdf"
        reader = PdfReader(io.BytesIO(pdf.data))
        assert len(reader.pages) == 1
        text = reader.pages[0].extract_text()
        assert "Routines done: 4 of 4" in text
        assert "2 to 6 weeks" in text
        for row in ("2 Mar", "5 Mar"):
            assert row in text
        assert "not a diagnosis" in text.lower()
        assert "Test" not in text  # the person's Telegram name is not stored, so not shown


async def test_export_round_trips_to_the_stored_rows(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await four_days(bot)
        await bot.say(USER, "/export")
        documents = [m for m in bot.server.messages(USER) if m.kind == "document"]
        csv_file, json_file = (upload(bot, m.file_id) for m in documents[-2:])
        assert csv_file.filename.endswith(".csv")
        rows = list(csv.DictReader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
        data = json.loads(json_file.data)
        row = await patient(bot)
        assert row is not None
        async with bot.services.sessions() as db:
            stored = list(
                (await db.execute(select(SymptomReport).order_by(SymptomReport.id))).scalars()
            )
        rows = [r for r in rows if r["kind"] != "routine"]  # days without a report: see below
        assert [r["pain"] for r in rows] == [
            str(s.pain) if s.pain is not None else "" for s in stored
        ]
        assert [r["kind"] for r in rows] == [s.kind.value for s in stored]
        assert [r["pain"] for r in data["symptom_reports"]] == [s.pain for s in stored]
        assert data["person"]["telegram_user_id"] == USER
        assert data["person"]["symptom_duration"] == "2to6w"
        assert len(data["daily_sessions"]) == 4
        assert "flow_data" not in data["person"]


async def with_skipped_days(bot: BotHarness) -> None:
    """Day 1 done, day 2 "Not today", day 3 not answered, day 4 done."""
    await onboard(bot)
    await bot.tap(USER, "Done")
    await check_in(bot, 5, 2, 3, 3)
    await next_day(bot)
    await bot.tap(USER, "Not today")
    await next_day(bot)
    await next_day(bot)
    await bot.tap(USER, "Done")
    await check_in(bot, 3, 1, 2, 2)


async def test_skipped_and_unanswered_days_are_in_the_export_and_the_report(
    database_url: str,
) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await with_skipped_days(bot)
        await bot.say(USER, "/export")
        documents = [m for m in bot.server.messages(USER) if m.kind == "document"]
        csv_file = upload(bot, documents[-2].file_id)
        rows = list(csv.DictReader(io.StringIO(csv_file.data.decode("utf-8-sig"))))
        days = [(r["local_date"], r["routine_outcome"]) for r in rows if r["kind"] == "routine"]
        assert days == [("2026-03-03", "skipped"), ("2026-03-04", "no_answer")]
        assert [r["local_date"] for r in rows] == sorted(r["local_date"] for r in rows)
        assert {r["symptom_side"] for r in rows} == {"right"}

        await bot.say(USER, "/report")
        pdf = upload(bot, bot.last(USER).file_id)
        text = " ".join(PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().split())
        assert "Program weeks" in text
        assert " 1 2 Mar – 5 Mar 2 2 0 " in text  # done, skipped (one not answered), stopped
        assert "3 Mar Routines skipped 2 days in a row, to 4 Mar" in text


async def test_the_export_speaks_the_persons_language(database_url: str) -> None:
    async with running_bot(database_url, start_dispatcher=False) as bot:
        await with_skipped_days(bot)
        await bot.say(USER, "/language")
        await bot.tap(USER, "Français")
        await bot.say(USER, "/export")
        documents = [m for m in bot.server.messages(USER) if m.kind == "document"]
        csv_file = upload(bot, documents[-2].file_id)
        assert csv_file.filename == "export-sciatique-2026-03-05.csv"
        header = csv_file.data.decode("utf-8-sig").splitlines()[0]
        assert header.startswith("date,heure,type,douleur,")
        assert header.endswith(",jambe")
