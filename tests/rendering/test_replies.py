"""Response: replies that edit a message Telegram no longer lets the bot edit."""

from __future__ import annotations

from bot.rendering.replies import Reply, Response


def test_without_edits_of_sends_replacements_anew_and_drops_tidying() -> None:
    response = Response(
        [
            Reply("tidy", edit=7, cleanup=True),
            Reply("buttons only", edit=7, markup_only=True),
            Reply("next step", edit=7),
            Reply("other card", edit=8),
            Reply("plain"),
        ]
    )
    response.without_edits_of(7)
    assert [(r.text, r.edit) for r in response.replies] == [
        ("next step", None),
        ("other card", 8),
        ("plain", None),
    ]
