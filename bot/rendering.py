"""Pure text rendering of routines and verdicts from the catalogue (no Telegram import)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from itertools import combinations

from bot.content import Content, Exercise
from bot.domain.emergency import emergency_contact
from bot.domain.program import (
    EXERCISE_ORDER,
    ActionKind,
    DayPlan,
    Exclusion,
    ExclusionReason,
    ProgramAction,
    ProgramStatus,
)
from bot.domain.safety import (
    CHECK_IN_SIGNALS,
    EXTENT,
    EXTENT_MAX,
    MEASURES,
    RULES,
    RULES_BY_ID,
    SCREENING_SIGNALS,
    STEADY,
    Rule,
    StopCause,
    Tier,
    Verdict,
)

MAX_MESSAGE_LENGTH = 4096  # Telegram's limit for one text message
BLOCK_SEPARATOR = "\n\n"


def message_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), measured on the HTML source.

    The source is never shorter than the text left after entity parsing, so this errs safe.
    """
    return len(text.encode("utf-16-le")) // 2


def _fits(text: str) -> bool:
    return message_length(text) <= MAX_MESSAGE_LENGTH


# --- Keys ----------------------------------------------------------------------------------------

_VERDICT_KEYS = [f"verdict.{rule.id}.{part}" for rule in RULES for part in ("title", "body")]


def required_keys() -> tuple[str, ...]:
    """Every key this module or the check-in flow reads; the loader checks they all exist."""
    keys = [
        "routine.header",
        "routine.header_continued",
        "routine.first_day",
        "routine.new_today",
        "routine.holding",
        "routine.rest_day",
        "routine.nothing_left",
        "routine.exercise_title",
        "routine.exercise_title_new",
        "routine.position",
        "routine.step",
        "routine.dose",
        "routine.cautions",
        "routine.caution",
        "routine.left_out",
        "routine.left_out_item",
        "routine.may_stop",
        "routine.closing",
        *(f"program.guidance.{k}" for k in _GUIDANCE),
        *(f"program.excluded.{reason.value}" for reason in ExclusionReason),
        *(f"program.next.{k}" for k in ("adds", "same", "held", "rest")),
        "verdict.signals_intro",
        "verdict.signal_item",
        "verdict.left_out",
        "verdict.centralised",
        "verdict.call_emergency.known",
        "verdict.call_emergency.unknown",
        "verdict.call_advice.known",
        "verdict.call_advice.unknown",
        "verdict.urgent_signal.after",
        *_VERDICT_KEYS,
        f"verdict.{STEADY}.title",
        f"verdict.{STEADY}.body",
        "verdict.screen_clear.title",
        "verdict.screen_clear.body",
        "measures.list_separator",
        "measures.list_last_separator",
        *(f"measures.{m}.{part}" for m in (*MEASURES, EXTENT) for part in ("name", "question")),
        *(f"measures.extent.{level}" for level in range(EXTENT_MAX + 1)),
        "stop_signals.question_check_in",
        "stop_signals.question_screening",
        "stop_signals.none",
        *(f"stop_signals.{s}.{part}" for s in SCREENING_SIGNALS for part in ("short", "full")),
        *(f"stop_causes.{q}" for q in ("question_exercise", "question_what", "question_settled")),
        *(f"stop_causes.{cause.value}" for cause in StopCause),
    ]
    return tuple(dict.fromkeys(keys))


_GUIDANCE = (
    "one_a_day",
    "why_one_a_day",
    "keep_moving",
    "see_professional",
    "not_a_replacement",
    "may_stop",
)


# --- Program -------------------------------------------------------------------------------------


def render_guidance(content: Content) -> str:
    """The article's program guidance, one paragraph each."""
    cat = content.catalogue
    return BLOCK_SEPARATOR.join(cat.text(f"program.guidance.{k}") for k in _GUIDANCE)


def render_exercise(exercise: Exercise, content: Content, *, new: bool = False) -> str:
    cat = content.catalogue
    title_key = "routine.exercise_title_new" if new else "routine.exercise_title"
    lines = [
        cat.text(title_key, number=exercise.id, name=exercise.name),
        f"<i>{html.escape(exercise.purpose, quote=False)}</i>",
        cat.text("routine.position", text=exercise.position),
        *(cat.text("routine.step", number=n, text=s) for n, s in enumerate(exercise.steps, 1)),
        cat.text("routine.dose", text=exercise.dose),
        cat.text("routine.cautions"),
        *(cat.text("routine.caution", text=c) for c in exercise.cautions),
    ]
    return "\n".join(lines)


def _left_out(excluded: Sequence[Exclusion], content: Content) -> str:
    cat = content.catalogue
    lines = [cat.text("routine.left_out")]
    for exclusion in excluded:
        lines.append(
            cat.text(
                "routine.left_out_item",
                number=exclusion.exercise,
                name=content.exercise(exclusion.exercise).name,
                reason=cat.text(f"program.excluded.{exclusion.reason.value}"),
            )
        )
    return "\n".join(lines)


def render_routine(plan: DayPlan, content: Content) -> list[str]:
    """The day's routine as one message, or one message per block when it would not fit.

    Every message ends with the reminder that the person may stop any exercise that hurts.
    """
    if plan.status is not ProgramStatus.ACTIVE:
        raise ValueError(f"no routine is sent while the program is {plan.status.value}")
    cat = content.catalogue
    if plan.nothing_left:
        return [cat.text("routine.nothing_left")]

    intro = [cat.text("routine.header", day=plan.day)]
    if plan.day == 1 and plan.new == EXERCISE_ORDER[0]:
        intro.append(cat.text("routine.first_day"))
    if plan.new is not None:
        intro.append(cat.text("routine.new_today", name=content.exercise(plan.new).name))
    elif plan.holding:
        intro.append(cat.text("routine.holding"))
    if not plan.exercises:
        intro.append(cat.text("routine.rest_day"))

    blocks = [
        render_exercise(content.exercise(x), content, new=x == plan.new) for x in plan.exercises
    ]
    if plan.excluded:
        blocks.append(_left_out(plan.excluded, content))
    may_stop = cat.text("routine.may_stop")
    closing = cat.text("routine.closing")

    whole = BLOCK_SEPARATOR.join(["\n".join(intro), *blocks, f"{may_stop}\n{closing}"])
    if _fits(whole):
        return [whole]

    # Too long for one message: pack blocks greedily, each message with the may-stop reminder.
    messages: list[str] = []
    current = ["\n".join(intro)]
    continued = cat.text("routine.header_continued", day=plan.day)
    for block in blocks:
        candidate = BLOCK_SEPARATOR.join([*current, block, may_stop])
        if _fits(candidate):
            current.append(block)
            continue
        if len(current) > 1 or messages:
            messages.append(BLOCK_SEPARATOR.join([*current, may_stop]))
            current = [continued]
        current.append(block)
    messages.append(BLOCK_SEPARATOR.join([*current, f"{may_stop}\n{closing}"]))
    for message in messages:
        if not _fits(message):
            raise ValueError(
                f"a routine message for day {plan.day} has {message_length(message)} characters,"
                f" over Telegram's {MAX_MESSAGE_LENGTH}"
            )
    return messages


# --- Verdicts ------------------------------------------------------------------------------------


def join_names(names: Sequence[str], content: Content) -> str:
    """'a', 'a and b', 'a, b and c' in the catalogue's language."""
    cat = content.catalogue
    if len(names) <= 1:
        return "".join(names)
    separator = cat.text("measures.list_separator")
    last = cat.text("measures.list_last_separator")
    return separator.join(names[:-1]) + last + names[-1]


def _measure_names(measures: Iterable[str], content: Content) -> str:
    names = [content.catalogue.texts[f"measures.{m}.name"] for m in measures]
    return join_names(names, content)


def _rule_text(rule_id: str, verdict: Verdict, content: Content) -> list[str]:
    cat = content.catalogue
    params: dict[str, object] = {
        "measures": _measure_names(verdict.worse_measures or verdict.watch_measures, content),
    }
    if verdict.suspect is not None:
        params.update(number=verdict.suspect, name=content.exercise(verdict.suspect).name)
    title = cat.text(f"verdict.{rule_id}.title", **params)
    return [f"<b>{title}</b>", cat.text(f"verdict.{rule_id}.body", **params)]


def _signal_lines(verdict: Verdict, content: Content) -> list[str]:
    if not verdict.signals:
        return []
    cat = content.catalogue
    return [
        cat.text("verdict.signals_intro"),
        *(
            cat.text("verdict.signal_item", text=cat.texts[f"stop_signals.{s}.short"])
            for s in verdict.signals
        ),
    ]


def _next_line(plan: DayPlan, content: Content) -> str | None:
    if not plan.sends_routine:
        return None
    cat = content.catalogue
    if plan.new is not None:
        return cat.text("program.next.adds", number=plan.new, name=content.exercise(plan.new).name)
    if not plan.exercises:
        return cat.text("program.next.rest")
    if plan.holding:
        return cat.text("program.next.held")
    return cat.text("program.next.same")


def render_verdict(
    verdict: Verdict,
    content: Content,
    *,
    zone: str | None = None,
    next_plan: DayPlan | None = None,
) -> str:
    """The verdict as one message, next step first.

    ``zone`` is the person's IANA time zone (for the emergency number); ``next_plan`` is the
    plan after the verdict was recorded (for "tomorrow adds exercise N").
    """
    cat = content.catalogue
    contact = emergency_contact(zone)
    lead = verdict.lead_rule
    lines = _rule_text(lead, verdict, content)

    if verdict.tier is Tier.EMERGENCY:
        lines.insert(1, _emergency_line(contact.emergency, content))
        return "\n".join([*lines, *_signal_lines(verdict, content)])
    if verdict.tier is Tier.URGENT:
        advice = (
            cat.text("verdict.call_advice.known", number=contact.non_emergency)
            if contact.non_emergency
            else cat.text("verdict.call_advice.unknown")
        )
        lines.insert(1, advice)
        lines.append(_emergency_line(contact.emergency, content))
        lines.append(cat.text("verdict.urgent_signal.after"))
        return "\n".join([*lines, *_signal_lines(verdict, content)])

    blocks = ["\n".join(lines)]
    lead_rule = RULES_BY_ID.get(lead)
    if verdict.suspect is not None and (lead_rule is None or lead_rule.excludes is None):
        blocks.append(
            cat.text(
                "verdict.left_out",
                number=verdict.suspect,
                name=content.exercise(verdict.suspect).name,
            )
        )
    if verdict.tier is Tier.SOON:
        signal_lines = _signal_lines(verdict, content)
        if signal_lines:
            blocks.append("\n".join(signal_lines))
        return BLOCK_SEPARATOR.join(blocks)

    for rule in _secondary_rules(verdict):
        blocks.append("\n".join(_rule_text(rule.id, verdict, content)))
    if verdict.centralised and lead != "centralising":
        blocks.append(cat.text("verdict.centralised"))
    if next_plan is not None:
        line = _next_line(next_plan, content)
        if line:
            blocks.append(line)
    return BLOCK_SEPARATOR.join(blocks)


def _emergency_line(number: str | None, content: Content) -> str:
    cat = content.catalogue
    if number:
        return cat.text("verdict.call_emergency.known", number=number)
    return cat.text("verdict.call_emergency.unknown")


def _secondary_rules(verdict: Verdict) -> list[Rule]:
    """Other matching rules worth saying too: a review, or a hold on the program."""
    lead = RULES_BY_ID.get(verdict.lead_rule)
    if lead is None or lead.tier > Tier.STOP_EXERCISE:
        return []
    return [
        rule
        for rule in (RULES_BY_ID[r] for r in verdict.reasons[1:] if r in RULES_BY_ID)
        if rule.tier < lead.tier and (rule.tier >= Tier.REVIEW or rule.action >= ActionKind.HOLD)
    ]


def render_screening(verdict: Verdict, content: Content, *, zone: str | None = None) -> str:
    """The onboarding screening result: the all-clear, or the escalation."""
    if verdict.tier is Tier.NONE:
        cat = content.catalogue
        title = cat.text("verdict.screen_clear.title")
        return f"<b>{title}</b>\n{cat.text('verdict.screen_clear.body')}"
    return render_verdict(verdict, content, zone=zone)


# --- Validation at load --------------------------------------------------------------------------


def _all_plans() -> Iterable[DayPlan]:
    """Every routine shape the progression can produce (a superset: every subset of exercises)."""
    longest_reason = ExclusionReason.NEEDS_SLIDERS
    for size in range(len(EXERCISE_ORDER) + 1):
        for subset in combinations(EXERCISE_ORDER, size):
            excluded = tuple(
                Exclusion(x, longest_reason) for x in EXERCISE_ORDER if x not in subset
            )
            for new in (None, *subset):
                for holding in (False, True):
                    for day in (1, 10_000):
                        yield DayPlan(
                            day=day,
                            exercises=subset,
                            new=new,
                            excluded=excluded,
                            holding=holding,
                            status=ProgramStatus.ACTIVE,
                        )
    yield DayPlan(1, (), None, (), False, ProgramStatus.ACTIVE, complete=True, nothing_left=True)


def _all_verdicts() -> Iterable[Verdict]:
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


def validate_rendering(content: Content) -> None:
    """Render every routine and verdict shape; raise ValueError if any breaks or is too long."""
    for plan in _all_plans():
        for message in render_routine(plan, content):
            if not _fits(message):
                raise ValueError(f"routine for day {plan.day} {plan.exercises} is too long")
    next_plans = [
        DayPlan(9, EXERCISE_ORDER, x, (), False, ProgramStatus.ACTIVE) for x in EXERCISE_ORDER
    ]
    next_plans.append(DayPlan(9, (1,), None, (), True, ProgramStatus.ACTIVE))
    next_plans.append(DayPlan(9, (), None, (), True, ProgramStatus.ACTIVE))
    next_plans.append(DayPlan(9, (1,), None, (), False, ProgramStatus.ACTIVE))
    zones = (None, "Europe/London", "America/New_York", "Australia/Sydney")
    for verdict in _all_verdicts():
        for zone in zones:
            for plan in next_plans:
                text = render_verdict(verdict, content, zone=zone, next_plan=plan)
                if not _fits(text):
                    raise ValueError(f"verdict text for {verdict.lead_rule!r} is too long")
    render_screening(Verdict(Tier.NONE, (STEADY,), ProgramAction()), content)
    for signal in (*CHECK_IN_SIGNALS, *SCREENING_SIGNALS):
        content.catalogue.text(f"stop_signals.{signal}.full")
    text = render_guidance(content)
    if not _fits(text):
        raise ValueError("program guidance is too long")
