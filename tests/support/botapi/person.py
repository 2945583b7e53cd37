"""What the person does in the fake Telegram: write, share a location, send a sticker, photo or
voice note, forward, edit, press a button, delete a message, block and unblock the bot. Each
becomes an update for the bot, as Telegram would send it."""

from __future__ import annotations

import time

from tests.support.botapi.models import JSON, SentMessage
from tests.support.botapi.rules import command_entities
from tests.support.botapi.state import photo_sizes
from tests.support.botapi.updates import UpdatesMixin


class PersonMixin(UpdatesMixin):
    """The person's side of the chat."""

    # ------------------------------------------------------------------ writing

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        return self._push({kind: payload})

    def channel_post(self, chat_id: int, text: str) -> JSON:
        """Inject a channel_post from channel `chat_id` (negative, like Telegram's)."""
        if chat_id >= 0:
            raise ValueError(f"channel ids are negative, got {chat_id}")
        chat = self._chat(chat_id, "channel")
        post: JSON = {
            "message_id": self._alloc_mid(chat_id),
            "sender_chat": chat,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            post["entities"] = entities
        self._incoming[(chat_id, post["message_id"])] = post
        return self._enqueue("channel_post", post)

    def _sender(self, user_id: int, chat_id: int) -> JSON:
        """The person as the sender of an update in `chat_id` (the name the chat knows)."""
        return self._user(user_id, self._chat(chat_id).get("first_name", "Test"), None)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str,
        first_name: str,
        language_code: str | None,
        content: JSON,
    ) -> JSON:
        cid = user_id if chat_id is None else chat_id
        mid = self._alloc_mid(cid)
        msg: JSON = {
            "message_id": mid,
            "from": self._user(user_id, first_name, language_code),
            "chat": self._chat(cid, chat_type, first_name),
            "date": int(time.time()),
            **content,
        }
        self._incoming[(cid, mid)] = msg
        return msg

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Test",
        language_code: str | None = None,
    ) -> JSON:
        """Inject a text message (a leading /command gets its bot_command entity)."""
        content: JSON = {"text": text}
        if entities := command_entities(text):
            content["entities"] = entities
        msg = self._user_message(user_id, chat_id, chat_type, first_name, language_code, content)
        return self._enqueue("message", msg)

    def share_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
    ) -> JSON:
        """Inject a shared location (as from a request_location keyboard button)."""
        content = {"location": {"latitude": latitude, "longitude": longitude}}
        msg = self._user_message(user_id, chat_id, "private", first_name, None, content)
        return self._enqueue("message", msg)

    def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> JSON:
        """Inject a sticker message."""
        fid = f"sticker-{next(self._file_ids)}"
        self._issued_files.add(fid)
        sticker = {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        msg = self._user_message(user_id, chat_id, "private", "Test", None, {"sticker": sticker})
        return self._enqueue("message", msg)

    def send_photo(
        self, user_id: int, *, caption: str | None = None, chat_id: int | None = None
    ) -> JSON:
        """Inject a photo message."""
        fid = f"photo-{next(self._file_ids)}"
        self._issued_files.update((fid, f"{fid}-s"))
        content: JSON = {"photo": photo_sizes(fid, 1234)}
        if caption is not None:
            content["caption"] = caption
        msg = self._user_message(user_id, chat_id, "private", "Test", None, content)
        return self._enqueue("message", msg)

    def send_voice(self, user_id: int, *, chat_id: int | None = None) -> JSON:
        """Inject a voice message."""
        fid = f"voice-{next(self._file_ids)}"
        self._issued_files.add(fid)
        voice = {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 4321,
        }
        msg = self._user_message(user_id, chat_id, "private", "Test", None, {"voice": voice})
        return self._enqueue("message", msg)

    def forward_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> JSON:
        """Inject a text forwarded from another user."""
        origin = {
            "type": "user",
            "date": int(time.time()) - 3600,
            "sender_user": {"id": 42, "is_bot": False, "first_name": "Someone"},
        }
        content = {"text": text, "forward_origin": origin}
        msg = self._user_message(user_id, chat_id, "private", "Test", None, content)
        return self._enqueue("message", msg)

    def edit_text(
        self, user_id: int, message_id: int, new_text: str, *, chat_id: int | None = None
    ) -> JSON:
        """Inject an edited_message update for a message the user sent earlier."""
        cid = user_id if chat_id is None else chat_id
        original = self._incoming.get((cid, message_id))
        if original is None:
            raise LookupError(f"user never sent message {message_id} in chat {cid}")
        edited = {k: v for k, v in original.items() if k != "entities"}
        edited["text"] = new_text
        edited["edit_date"] = int(time.time())
        self._incoming[(cid, message_id)] = edited
        return self._enqueue("edited_message", edited)

    # ------------------------------------------------------------------ buttons and messages

    def press_button(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> str:
        """Inject a callback_query with any `data` on a bot message; returns the query id."""
        cid = user_id if chat_id is None else chat_id
        sent = self._sent.get(cid, {}).get(message_id)
        if sent is not None and not sent.deleted:
            message = self._message_json(sent)
        else:  # Telegram sends an InaccessibleMessage
            message = {"chat": self._chat(cid), "message_id": message_id, "date": 0}
        qid = f"cq{next(self._query_ids)}"
        self._issued_queries.add(qid)
        query = {
            "id": qid,
            "from": self._sender(user_id, cid),
            "message": message,
            "chat_instance": f"ci{cid}",
            "data": data,
        }
        self._enqueue("callback_query", query)
        return qid

    def press(self, user_id: int, message: SentMessage | int, button_text: str) -> str:
        """Press the inline button labelled `button_text` on a bot message; returns query id."""
        if isinstance(message, SentMessage):
            current = self.message(message.chat_id, message.message_id)
        else:
            current = self.message(user_id, message)
        button = current.button(button_text)
        if "callback_data" not in button:
            raise LookupError(f"button {button_text!r} has no callback_data: {button!r}")
        return self.press_button(
            user_id, current.message_id, button["callback_data"], chat_id=current.chat_id
        )

    def user_deletes(self, chat_id: int, message_id: int) -> None:
        """The person deletes a bot message from their chat; later edits get "not found".

        Telegram sends no update for this, so the bot cannot know: its failing edits and
        deletes of such a message are not recorded as violations.
        """
        msg = self.message(chat_id, message_id)
        msg.deleted = True
        msg.deleted_by_user = True

    # ------------------------------------------------------------------ blocking the bot

    def _member_update(self, user_id: int, old: str, new: str) -> JSON:
        bot = self._bot_user
        new_member: JSON = {"user": bot, "status": new}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: JSON = {"user": bot, "status": old}
        if old == "kicked":
            old_member["until_date"] = 0
        payload = {
            "chat": self._chat(user_id),
            "from": self._sender(user_id, user_id),
            "date": int(time.time()),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        return self._enqueue("my_chat_member", payload)

    def kick(self, user_id: int) -> JSON:
        """The user blocks the bot: my_chat_member "kicked", and sends now get 403."""
        self._forbidden.add(user_id)
        return self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> JSON:
        """The user unblocks the bot: my_chat_member "member", sends work again."""
        self._forbidden.discard(user_id)
        return self._member_update(user_id, "kicked", "member")
