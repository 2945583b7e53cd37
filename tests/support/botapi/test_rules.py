"""Telegram's rules as the fake enforces them: text length, HTML, callback data, keyboards,
photo sizes and albums."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.support.botapi import BotApiServer, EntityParseError, image_size, parse_html
from tests.support.botapi.testkit import (
    TOKEN,
    USER,
    image,
    jpeg_header,
    keyboard,
    png_header,
    raw_call,
)

# --------------------------------------------------------------------------- text and HTML


async def test_too_long_text(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    # Length counts after entity parsing: 4096 visible characters from a longer source.
    await bot.send_message(USER, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    assert server.violations == []
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    assert len(server.violations) == 1
    assert server.violations[0].startswith("sendMessage: Bad Request: message is too long")
    assert server.calls("sendMessage")[-1].status == 400


async def test_empty_text(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(server.violations) == 1


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "a < b",
        "AT&T",
        "&nbsp;",
        "<div>x</div>",
        "<b><i>x</b></i>",
        "<span>x</span>",
        "x</b>",
        "<br>",
    ],
)
async def test_bad_html_is_rejected(server: BotApiServer, bot: Bot, html: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert len(server.violations) == 1


async def test_markdown_is_not_supported(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="not supported"):
        await bot.send_message(USER, "*x*", parse_mode=ParseMode.MARKDOWN_V2)
    assert server.violations


# --------------------------------------------------------------------------- keyboards


async def test_callback_data_byte_limit(server: BotApiServer, bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard(("A", "é" * 32)))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=keyboard(("A", "x" * 65)))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=keyboard(("A", "é" * 33)))
    assert len(server.violations) == 2
    assert len(server.messages(USER)) == 1


async def test_inline_button_needs_one_action(server: BotApiServer) -> None:
    url = f"{server.base_url}{TOKEN}/sendMessage"
    markups = [
        {"inline_keyboard": [[{"text": "no action"}]]},
        {"inline_keyboard": [[{"text": "two", "callback_data": "a", "url": "https://x.org"}]]},
        {"inline_keyboard": [[{"text": "", "callback_data": "a"}]]},
    ]
    async with aiohttp.ClientSession() as session:
        for markup in markups:
            async with session.post(
                url, json={"chat_id": USER, "text": "t", "reply_markup": markup}
            ) as resp:
                body = await resp.json()
                assert resp.status == 400
                assert body["ok"] is False
                assert body["error_code"] == 400
    assert len(server.violations) == 3


# --------------------------------------------------------------------------- parse_html


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("plain", "plain", []),
        ("a &lt;b&gt; &amp; &quot;c&quot; &#33; &#x41;", 'a <b> & "c" ! A', []),
        ("<B>x</B>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            "<b>a<i>b</i></b>",
            "ab",
            [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "italic", "offset": 1, "length": 1},
            ],
        ),
        (
            '<a href="https://x.org/?a=1&amp;b=2">link</a>',
            "link",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "https://x.org/?a=1&b=2"}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            "<blockquote expandable>q</blockquote>",
            "q",
            [{"type": "expandable_blockquote", "offset": 0, "length": 1}],
        ),
        ("😀<u>x</u>", "😀x", [{"type": "underline", "offset": 2, "length": 1}]),
        ("<b></b>x", "x", []),
    ],
)
def test_parse_html(html: str, text: str, entities: list[dict[str, object]]) -> None:
    assert parse_html(html) == (text, entities)


def test_parse_html_error_mentions_tag() -> None:
    with pytest.raises(EntityParseError, match=r'expected "</i>", found "</b>"'):
        parse_html("<b><i>x</b></i>")


# --------------------------------------------------------------------------- photos and albums


def test_image_size_reads_headers() -> None:
    assert image_size(png_header(640, 480)) == (640, 480)
    assert image_size(jpeg_header(300, 200)) == (300, 200)
    assert image_size(image(33, 21)) == (33, 21)
    assert image_size(image(47, 19, "JPEG")) == (47, 19)
    assert image_size(b"\x89PNG fake") is None
    assert image_size(b"\xff\xd8\xff\xd9") is None
    assert image_size(b"GIF89a") is None


async def test_send_photo_checks_dimensions(server: BotApiServer, bot: Bot) -> None:
    for ok in (image(64, 48), image(64, 48, "JPEG"), png_header(5000, 5000), png_header(2000, 100)):
        await bot.send_photo(USER, ok)
    assert server.uploads == {"sendPhoto": 4}
    assert server.violations == []
    bad = (
        png_header(9000, 1001),  # width + height > 10000
        png_header(2100, 100),  # aspect ratio 21
        jpeg_header(100, 2001),
        png_header(0, 10),
        png_header(100, 100) + bytes(10 * 1024 * 1024),  # over 10 MB
    )
    for photo in bad:
        with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
            await bot.send_photo(USER, photo)
    assert len(server.violations) == len(bad)
    assert len(server.messages(USER)) == 4


async def test_unreadable_photo_rejected_only_when_strict(server: BotApiServer, bot: Bot) -> None:
    await bot.send_photo(USER, b"not an image")  # placeholder bytes, as older tests send
    server.strict_photos = True
    with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
        await bot.send_photo(USER, b"not an image")


async def test_photo_caption_length_after_parsing(server: BotApiServer, bot: Bot) -> None:
    await bot.send_photo(USER, image(8, 8), caption="&lt;" * 1024, parse_mode=ParseMode.HTML)
    assert server.last_message(USER).text == "<" * 1024
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, image(8, 8), caption="<b>x</b>" + "y" * 1024, parse_mode="HTML")


async def test_media_group_rejections(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)wrong number of media items"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(8, 8))])
    with pytest.raises(BadRequest, match=r"(?i)wrong number of media items"):
        await bot.send_media_group(USER, [InputMediaPhoto(image(8, 8)) for _ in range(11)])
    with pytest.raises(BadRequest, match=r"^Photo_invalid_dimensions$"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(image(8, 8)), InputMediaPhoto(png_header(3000, 100))]
        )
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_media_group(
            USER, [InputMediaPhoto(image(8, 8)), InputMediaPhoto(image(8, 8), caption="x" * 1025)]
        )
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_media_group(USER, [InputMediaPhoto("nope"), InputMediaPhoto("nope2")])
    assert server.messages(USER) == []  # a rejected album sends nothing
    assert len(server.violations) == 5
    assert server.violations[0].startswith(
        "sendMediaGroup: Bad Request: wrong number of media items"
    )
    status, body = await raw_call(
        server,
        "sendMediaGroup",
        chat_id=USER,
        media=[{"type": "video", "media": "v1"}, {"type": "video", "media": "v2"}],
    )
    assert status == 400 and "not supported" in body["description"]
