"""The safety engine's verdicts as messages: next step first, never a diagnosis, no line twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.domain.emergency import EmergencyContact, emergency_contact
from bot.domain.program import ActionKind, DayPlan
from bot.domain.safety import RULES_BY_ID, SIGNALS, Rule, Tier, Verdict
from bot.rendering.buttons import ack_button, flow_button
from bot.rendering.i18n import Texts
from bot.rendering.replies import Button, Keyboard, rows

BLOCK_SEPARATOR = "\n\n"


def _measure_names(measures: Iterable[str], texts: Texts) -> str:
    return texts.join([texts.content.catalogue.texts[f"measures.{m}.name"] for m in measures])


def _rule_text(rule_id: str, verdict: Verdict, texts: Texts) -> list[str]:
    params: dict[str, object] = {
        "measures": _measure_names(verdict.worse_measures or verdict.watch_measures, texts),
    }
    if verdict.suspect is not None:
        params.update(number=verdict.suspect, name=texts.exercise(verdict.suspect).name)
    title = texts.t(f"verdict.{rule_id}.title", **params)
    return [f"<b>{title}</b>", texts.t(f"verdict.{rule_id}.body", **params)]


def signal_lines(signals: Sequence[str], texts: Texts) -> list[str]:
    """The stop signals the person reported, in short words."""
    if not signals:
        return []
    return [
        texts.t("verdict.signals_intro"),
        *(texts.t("verdict.signal_item", text=texts.t(f"stop_signals.{s}.short")) for s in signals),
    ]


def emergency_line(contact: EmergencyContact, texts: Texts) -> str:
    """Who to call in an emergency: the country's numbers (with its own words where the locale
    has them), else the list of the person's language (clinical.md §1)."""
    own = f"verdict.call_emergency.{(contact.country or '').lower()}"
    if contact.country and texts.has(own):
        return texts.t(own, number=contact.emergency, also=contact.also)
    if contact.emergency and contact.also:
        return texts.t(
            "verdict.call_emergency.known_or", number=contact.emergency, also=contact.also
        )
    if contact.emergency:
        return texts.t("verdict.call_emergency.known", number=contact.emergency)
    return texts.t("verdict.call_emergency.unknown")


def advice_line(contact: EmergencyContact, texts: Texts) -> str:
    """Where to get medical advice today (URGENT), as clinical.md §1 says per country."""
    own = f"verdict.call_advice.{(contact.country or '').lower()}"
    if contact.country and texts.has(own):
        return texts.t(own, number=contact.non_emergency)
    if contact.non_emergency:
        return texts.t("verdict.call_advice.known", number=contact.non_emergency)
    if contact.eu:
        return texts.t("verdict.call_advice.eu")
    return texts.t("verdict.call_advice.unknown")


def _next_line(plan: DayPlan, texts: Texts) -> str | None:
    if not plan.sends_routine:
        return None
    if plan.new is not None:
        return texts.t("program.next.adds", number=plan.new, name=texts.exercise(plan.new).name)
    if not plan.exercises:
        return texts.t("program.next.rest")
    if plan.holding:
        return texts.t("program.next.held")
    return texts.t("program.next.same")


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


def render_verdict(
    verdict: Verdict,
    texts: Texts,
    *,
    zone: str | None = None,
    next_plan: DayPlan | None = None,
) -> str:
    """One verdict as a message, next step first.

    ``zone`` is the person's IANA time zone (for the emergency number); ``next_plan`` is the
    plan after the verdict was recorded (for "tomorrow adds exercise N").
    """
    contact = emergency_contact(zone)
    lead = verdict.lead_rule
    lines = _rule_text(lead, verdict, texts)

    if verdict.tier is Tier.EMERGENCY:
        lines.insert(1, emergency_line(contact, texts))
        return "\n".join([*lines, *signal_lines(verdict.signals, texts)])
    if verdict.tier is Tier.URGENT:
        lines.insert(1, advice_line(contact, texts))
        lines.append(emergency_line(contact, texts))
        lines.append(texts.t("verdict.urgent_signal.after"))
        return "\n".join([*lines, *signal_lines(verdict.signals, texts)])

    blocks = ["\n".join(lines)]
    lead_rule = RULES_BY_ID.get(lead)
    if verdict.suspect is not None and (lead_rule is None or lead_rule.excludes is None):
        blocks.append(
            texts.t(
                "verdict.left_out",
                number=verdict.suspect,
                name=texts.exercise(verdict.suspect).name,
            )
        )
    if verdict.tier is Tier.SOON:
        found = signal_lines(verdict.signals, texts)
        if found:
            blocks.append("\n".join(found))
        blocks.append(texts.t("verdict.soon_next_step"))
        return BLOCK_SEPARATOR.join(blocks)

    for rule in _secondary_rules(verdict):
        blocks.append("\n".join(_rule_text(rule.id, verdict, texts)))
    if verdict.centralised and lead != "centralising":
        blocks.append(texts.t("verdict.centralised"))
    if next_plan is not None:
        blocks.extend(_what_next([verdict], next_plan, texts))
    return BLOCK_SEPARATOR.join(blocks)


def _leaves_out(verdict: Verdict) -> bool:
    rule = RULES_BY_ID.get(verdict.lead_rule)
    return verdict.suspect is not None or (rule is not None and rule.excludes is not None)


def _what_next(verdicts: Sequence[Verdict], next_plan: DayPlan, texts: Texts) -> list[str]:
    """What carries on, said once at the end: the other exercises (only when an exercise was
    left out and others remain), then what the next routine brings."""
    lines = []
    if next_plan.sends_routine and next_plan.exercises and any(map(_leaves_out, verdicts)):
        lines.append(texts.t("verdict.others_continue"))
    line = _next_line(next_plan, texts)
    if line:
        lines.append(line)
    return lines


def render_verdicts(
    verdicts: Sequence[Verdict],
    texts: Texts,
    *,
    zone: str | None = None,
    next_plan: DayPlan | None = None,
) -> str:
    """Several verdicts on one report (a check-in and a "had to stop"), most severe first, as
    one message in which no line appears twice."""
    primary, *others = verdicts
    blocks = [render_verdict(primary, texts, zone=zone)]
    shown = [primary]
    for other in others:
        if other.tier >= Tier.STOP_EXERCISE and other.lead_rule != primary.lead_rule:
            blocks.append(render_verdict(other, texts, zone=zone))
            shown.append(other)
    if next_plan is not None and primary.tier < Tier.SOON:
        # Said once, after every verdict: what carries on and what comes next.
        blocks.extend(_what_next(shown, next_plan, texts))
    seen: set[str] = set()
    kept_blocks = []
    for block in blocks:
        kept = [line for line in block.split("\n") if not line.strip() or line not in seen]
        seen.update(line for line in kept if line.strip())
        text = "\n".join(kept).strip("\n")
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        if text:
            kept_blocks.append(text)
    return BLOCK_SEPARATOR.join(kept_blocks)


def render_screening(verdict: Verdict, texts: Texts, *, zone: str | None = None) -> str:
    """The onboarding screening result: the all-clear, or the escalation."""
    if verdict.tier is Tier.NONE:
        title = texts.t("verdict.screen_clear.title")
        return f"<b>{title}</b>\n{texts.t('verdict.screen_clear.body')}"
    if verdict.tier is Tier.SOON:
        return render_verdict(verdict, texts, zone=zone).replace(
            texts.t("verdict.soon_next_step"), texts.t("verdict.soon_next_step_start")
        )
    return render_verdict(verdict, texts, zone=zone)


def hold_keyboard(texts: Texts, tier: Tier) -> Keyboard:
    """What the emergency or urgent advice carries: nothing that restarts exercise."""
    if tier < Tier.URGENT:
        return ()
    return rows(Button(texts.t("hold.getting_help"), ack_button("help")))


# --- Free text ------------------------------------------------------------------------------------


def emergency_numbers(texts: Texts, zone: str | None) -> str:
    """The emergency numbers for the person, short: "15 / 112", or their language's list."""
    contact = emergency_contact(zone)
    if contact.emergency is None:
        return texts.t("errors.numbers_unknown")
    return " / ".join(contact.numbers(texts.language))


def free_text(texts: Texts, zone: str | None, *, short: bool = False) -> str:
    """The kind answer to text the bot cannot use where it is (clinical.md §2): no questions
    answered, stop what hurts, a warning sign -> /checkin or the emergency number; /today, /help."""
    key = "errors.free_text_short" if short else "errors.free_text"
    return texts.t(key, numbers=emergency_numbers(texts, zone))


def words_confirm(signals: Sequence[str], texts: Texts) -> str:
    """Free text that names warning signs: those signs in full words, and "Is that right?"."""
    ordered = sorted(signals, key=lambda s: -SIGNALS[s].tier)
    items = [f"• {texts.t(f'stop_signals.{s}.full')}" for s in ordered]
    question = texts.t("stop_signals.confirm_question")
    return "\n".join([texts.t("verdict.words.intro"), *items, "", question])


def words_keyboard(nonce: str, step: str, texts: Texts) -> Keyboard:
    """ "Yes, that is right" / "No, change" (the change goes back to the list, signs ticked)."""
    return rows(
        Button(texts.t("stop_signals.confirm_yes"), flow_button(nonce, f"{step}:yes")),
        Button(texts.t("verdict.words.change"), flow_button(nonce, f"{step}:no")),
    )


def words_before_start(signals: Sequence[str], texts: Texts, zone: str | None) -> str:
    """Warning signs named by someone who has not started (nothing may be stored): the signs,
    and who to call, in their language."""
    contact = emergency_contact(zone)
    ordered = sorted(signals, key=lambda s: -SIGNALS[s].tier)
    lines = [texts.t("verdict.words.intro")]
    lines += [f"• {texts.t(f'stop_signals.{s}.full')}" for s in ordered]
    lines.append("")
    if any(SIGNALS[s].tier >= Tier.EMERGENCY for s in ordered):
        lines += [f"<b>{texts.t('verdict.words.not_started')}</b>", emergency_line(contact, texts)]
    else:
        lines += [
            f"<b>{texts.t('verdict.words.urgent')}</b>",
            advice_line(contact, texts),
            texts.t("verdict.urgent_signal.body").split("\n")[-1],
            emergency_line(contact, texts),
        ]
    lines += ["", texts.t("verdict.words.start")]
    return "\n".join(lines)
