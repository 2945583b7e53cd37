"""/status, the next routine, pauses, holds and their release, the next-morning follow-up,
/reminders, /weekly and /help, as messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.program import DayPlan, PatientStatus, ProgramDay
from bot.domain.safety import Tier
from bot.domain.timing import local_now
from bot.rendering.buttons import command_button, flow_button, follow_up_button
from bot.rendering.i18n import Texts
from bot.rendering.replies import Button, Keyboard, rows


def _button(nonce: str, label: str, step: str, value: object) -> Button:
    return Button(label, flow_button(nonce, f"{step}:{value}"))


# --- When the next routine comes ----------------------------------------------------------------


def when(moment: datetime, zone: ZoneInfo, now: datetime, texts: Texts) -> str:
    """ "today at 08:00", "tomorrow at 08:00" or "Friday 27 November at 08:00"."""
    local = local_now(moment, zone)
    today = local_now(now, zone).date()
    at = texts.time(local.time())
    if local.date() == today:
        return texts.t("status.today_at", time=at)
    if local.date() == today + timedelta(days=1):
        return texts.t("status.tomorrow_at", time=at)
    return texts.t("status.on_date", date=texts.date(local.date()), time=at)


def next_routine(next_send_at: datetime | None, zone: ZoneInfo, now: datetime, texts: Texts) -> str:
    """The real next send ("no routine planned" when none will be sent)."""
    if next_send_at is None:
        return texts.t("status.no_next")
    return texts.t("status.next", when=when(next_send_at, zone, now, texts), zone=zone.key)


def plan_line(plan: DayPlan, texts: Texts) -> str:
    """What the next routine holds: "Coming next: exercises 1 and 2 (2 is new)"."""
    exercises = texts.join([str(x) for x in plan.exercises])
    if not plan.exercises:
        return texts.t("status.plan_rest")
    if plan.new is not None:
        if len(plan.exercises) == 1:
            return texts.t("status.plan_first", new=plan.new)
        return texts.t("status.plan_adding", exercises=exercises, new=plan.new)
    return texts.plural("status.plan_same", len(plan.exercises), exercises=exercises)


def pause_text(until: date | None, texts: Texts) -> str:
    if until is None:
        return texts.t("pause.paused_indefinitely")
    return texts.t("pause.paused_until", date=texts.date(until))


def paused(until: date | None, texts: Texts, *, days: int | None = None) -> str:
    """The pause (for how many days, when just set), and how to end it sooner."""
    if days is not None and until is not None:
        first = texts.plural("pause.paused_for", days, date=texts.date(until))
    else:
        first = pause_text(until, texts)
    return first + "\n" + texts.t("pause.how_to_resume")


@dataclass(frozen=True)
class Ratings:
    pain: int
    numbness: int
    tingling: int
    extent: int


@dataclass(frozen=True)
class StatusView:
    """Everything /status shows, gathered by the use case."""

    status: PatientStatus
    plan: DayPlan | None
    today_open: bool  # today's routine was sent and is waiting for its answer
    next_send_at: datetime | None
    zone: ZoneInfo
    now: datetime
    paused_until: date | None
    hold_tier: Tier | None
    release_from: datetime | None  # the earliest release of a hold
    baseline: Ratings | None
    latest: Ratings | None
    nudges: bool
    weekly: bool
    assessment_advised_on: date | None
    review_advised_on: date | None
    side: str | None = None  # the leg with the symptoms: "left", "right", or not said yet
    # The day as bot.domain.program.program_day counts it (None: the plan's day, not done).
    day: ProgramDay | None = None


def _ratings(key: str, ratings: Ratings, texts: Texts) -> str:
    return texts.t(
        key,
        pain=ratings.pain,
        numbness=ratings.numbness,
        tingling=ratings.tingling,
        extent=texts.t(f"measures.extent.{ratings.extent}"),
    )


def status(view: StatusView, texts: Texts) -> str:
    lines: list[str] = []
    plan = view.plan
    if plan is not None:
        day = view.day or ProgramDay(plan.day)
        lines.append(texts.t("status.title_done" if day.done else "status.title", day=day.number))
    if view.status is PatientStatus.SAFETY_HOLD and view.hold_tier is not None:
        lines.append(hold_status(view.hold_tier, view.release_from, view.zone, view.now, texts))
    elif plan is not None:
        for exclusion in plan.excluded:
            lines.append(
                texts.t(
                    "status.excluded",
                    number=exclusion.exercise,
                    name=texts.exercise(exclusion.exercise).name,
                    reason=texts.t(f"program.excluded.{exclusion.reason.value}"),
                )
            )
        if view.status is PatientStatus.PAUSED:
            lines.append(paused(view.paused_until, texts))
        if view.today_open:
            exercises = texts.join([str(x) for x in plan.exercises]) or texts.t("status.none")
            lines.append(
                texts.plural("status.today_open", len(plan.exercises), exercises=exercises)
            )
        else:
            lines.append(plan_line(plan, texts))
        lines.append(next_routine(view.next_send_at, view.zone, view.now, texts))
    if view.assessment_advised_on is not None:
        lines.append(
            texts.t("status.assessment_advised", date=texts.date(view.assessment_advised_on))
        )
    if view.review_advised_on is not None:
        lines.append(texts.t("status.review_advised", date=texts.date(view.review_advised_on)))
    if view.baseline is not None:
        lines.append(_ratings("status.baseline", view.baseline, texts))
    if view.latest is not None:
        lines.append(_ratings("status.latest", view.latest, texts))
    if view.side in ("left", "right"):
        lines.append(texts.t("status.side", leg=texts.t(f"side.leg_{view.side}")))
    else:
        lines.append(texts.t("status.side_unknown"))
    lines.append(texts.t("status.nudges_on" if view.nudges else "status.nudges_off"))
    lines.append(texts.t("status.weekly_on" if view.weekly else "status.weekly_off"))
    return "\n".join(lines)


# --- Holds ---------------------------------------------------------------------------------------


def hold_status(
    tier: Tier, release_from: datetime | None, zone: ZoneInfo, now: datetime, texts: Texts
) -> str:
    """What a hold means and exactly how it ends (used by /status and /resume)."""
    if tier >= Tier.URGENT:
        if release_from is not None and release_from > now:
            return texts.t("hold.status_urgent_wait", when=when(release_from, zone, now, texts))
        return texts.t("hold.status_urgent")
    return texts.t("hold.status_soon")


def come_back(texts: Texts) -> tuple[str, Keyboard]:
    """Shown under the advice when a release may be asked for: it starts the checks, it does
    not lift the hold."""
    return texts.t("hold.come_back"), rows(
        Button(texts.t("hold.come_back_button"), command_button("resume"))
    )


def too_soon(release_from: datetime, zone: ZoneInfo, now: datetime, texts: Texts) -> str:
    return texts.t("hold.too_soon", when=when(release_from, zone, now, texts))


def seen_question(
    nonce: str, tier: Tier, since: date, at_start: bool, texts: Texts
) -> tuple[str, Keyboard]:
    key = "hold.seen_question_start" if at_start else "hold.seen_question"
    if tier >= Tier.URGENT:
        key = "hold.seen_question_urgent"
    return texts.t(key, date=texts.date(since)), rows(
        _button(nonce, texts.t("hold.seen_yes"), "seen", "yes"),
        _button(nonce, texts.t("hold.seen_no"), "seen", "no"),
    )


def seen_answer(yes: bool, texts: Texts) -> str:
    return texts.t("hold.seen_yes" if yes else "hold.seen_no")


# --- The next-morning follow-up ------------------------------------------------------------------


def follow_up_question(
    report_id: int, exercise: int, cause: str, texts: Texts
) -> tuple[str, Keyboard]:
    text = texts.t(
        "follow_up.question",
        number=exercise,
        name=texts.exercise(exercise).name,
        what=texts.t(f"follow_up.cause.{cause}"),
    )
    return text, rows(
        Button(texts.t("follow_up.still_there"), follow_up_button(report_id, "yes")),
        Button(texts.t("follow_up.gone"), follow_up_button(report_id, "no")),
    )


# --- Settings ------------------------------------------------------------------------------------


def weekly_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    buttons = [_button(nonce, texts.weekday(d), "weekly", d) for d in range(7)]
    buttons.append(_button(nonce, texts.t("weekly_setting.off_button"), "weekly", "off"))
    return texts.t("weekly_setting.question"), rows(*buttons, width=2)


def help_text(commands: Sequence[str | tuple[str, str]], texts: Texts) -> str:
    """Built from the one list of commands, with each command's description: each command is
    its key, or (key, the name the person's language gives it)."""
    pairs = [(c, c) if isinstance(c, str) else c for c in commands]
    lines = [f"<b>{texts.t('help.title')}</b>"]
    lines += [
        texts.t("help.line", name=name, text=texts.t(f"help.commands.{key}")) for key, name in pairs
    ]
    lines += ["", f"<i>{texts.t('help.footer')}</i>"]
    return "\n".join(lines)


def privacy_text(retention_hours: float, contact: str | None, texts: Texts) -> str:
    """/privacy: what is stored and why, for how long, who sees it, how to take or erase it."""
    hours = texts.plural("privacy.hours", max(1, round(retention_hours)))
    contact_line = (
        texts.t("privacy.contact", contact=contact) if contact else texts.t("privacy.contact_none")
    )
    return "\n".join(
        [
            f"<b>{texts.t('privacy.title')}</b>",
            texts.t("privacy.stored"),
            texts.t("privacy.messages", hours=hours),
            texts.t("privacy.how_long"),
            texts.t("privacy.who"),
            texts.t("privacy.rights"),
            contact_line,
        ]
    )


def reset_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("reset.question"), rows(
        _button(nonce, texts.t("reset.yes"), "reset", "yes"),
        _button(nonce, texts.t("common.cancel"), "reset", "no"),
    )


def delete_question(nonce: str, texts: Texts) -> tuple[str, Keyboard]:
    return texts.t("delete.question"), rows(
        _button(nonce, texts.t("delete.yes"), "delete", "yes"),
        _button(nonce, texts.t("common.cancel"), "delete", "no"),
    )


def welcome_back(texts: Texts) -> str:
    """To a person who had blocked the bot and is back."""
    return texts.t("welcome.came_back")
