"""A local fake of the Telegram Bot API for tests and benchmarks.

`BotApiServer` is a real HTTP server on 127.0.0.1 that python-telegram-bot's `Bot` and
`Application` talk to via ``base_url``/``base_file_url``. It enforces the Telegram rules the bot
is most likely to break (text length, HTML parsing, keyboards, callback answers, edits), records
breaches in ``violations``, lets tests inject updates as a user would, and can inject failures.

It can also park requests to force an ordering (`BotApiServer.hold`), fail one chat
(`fail_chat`), check photos and albums as Telegram does, and deliver updates to a webhook.

One module per concern:

- `server`: the aiohttp server, the routing of methods, recording, `wait_for` and `settle`;
- `updates`: the update queue, getUpdates and webhook delivery;
- `person`: what the person does (`send_text`, `press`, `share_location`, `kick`...);
- `methods`: the Bot API methods on chats (send, edit, delete, photos, albums, commands);
- `rules`: Telegram's rules (limits, error texts, HTML and entities, keyboards, photos);
- `faults`: the failures a test injects (`fail_next`, `fail_chat`, `forbid_chat`, holds);
- `state`: what the fake remembers and what a test reads of it;
- `models`: the records (`SentMessage`, `Request`, `UploadedFile`).
"""

from tests.support.botapi.faults import Hold
from tests.support.botapi.models import JSON, Request, SentMessage, UploadedFile
from tests.support.botapi.rules import (
    CHAT_NOT_FOUND,
    SECRET_HEADER,
    USER_DEACTIVATED,
    EntityParseError,
    image_size,
    parse_html,
)
from tests.support.botapi.server import BotApiServer
from tests.support.botapi.state import FIRST_UPDATE_ID

__all__ = [
    "CHAT_NOT_FOUND",
    "FIRST_UPDATE_ID",
    "JSON",
    "SECRET_HEADER",
    "USER_DEACTIVATED",
    "BotApiServer",
    "EntityParseError",
    "Hold",
    "Request",
    "SentMessage",
    "UploadedFile",
    "image_size",
    "parse_html",
]
