"""The Bot API methods the bot calls on chats, checked against Telegram's rules: sending,
editing and deleting messages, photos, documents and albums, callback answers, chat actions,
the command menu, files."""

from __future__ import annotations

import time

from tests.support.botapi.models import JSON, ApiError, SentMessage, UploadedFile, bad
from tests.support.botapi.rules import (
    ANIMATION_WRONG_TYPE,
    BLOCKED,
    CHAT_ACTIONS,
    COMMAND_RE,
    DELETE_NOT_FOUND,
    EDIT_NOT_FOUND,
    MAX_ALBUM,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_PHOTO_BYTES,
    MAX_TEXT_LENGTH,
    MAX_UPLOAD_BYTES,
    MIN_ALBUM,
    NOT_MODIFIED,
    PHOTO_INVALID_DIMENSIONS,
    QUERY_INVALID,
    WRONG_FILE_ID,
    WRONG_MEDIA_COUNT,
    EntityParseError,
    animation_kind,
    check_entities,
    commands_key,
    image_size,
    inline_only,
    parse_html,
    photo_dimensions_ok,
    trim,
    utf16_len,
    validate_markup,
)
from tests.support.botapi.state import ServerState


class MethodsMixin(ServerState):
    """The Bot API methods that act on chats and their messages."""

    # ------------------------------------------------------------------ checks shared by methods

    def _chat_id(self, params: JSON, *, send: bool = True) -> int:
        cid = params.get("chat_id")
        if cid is None or cid == "":
            raise bad("chat_id is empty")
        if not isinstance(cid, int):
            raise bad("chat not found")
        if send and cid in self._forbidden:
            raise ApiError(403, BLOCKED, violation=False)
        return cid

    def _format(
        self, params: JSON, key: str, mode_key: str, entities_key: str, *, caption: bool
    ) -> tuple[str, str, list[JSON]]:
        raw = params.get(key)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise bad(f"field {key} must be a string")
        mode = params.get(mode_key) or None
        if mode is None:
            text = raw
            given = params.get(entities_key) or []
            entities = check_entities(given, utf16_len(raw))
        elif str(mode).lower() == "html":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as exc:
                raise bad(f"can't parse entities: {exc}") from None
        elif str(mode).lower() in ("markdownv2", "markdown"):
            raise bad(f"parse_mode {mode} is not supported by this fake (use HTML)")
        else:
            raise bad(f"unsupported parse_mode {mode!r}")
        text, entities = trim(text, entities)
        if caption:
            if len(text) > MAX_CAPTION_LENGTH:
                raise bad("message caption is too long")
        elif not text:
            raise bad("message text is empty")
        elif len(text) > MAX_TEXT_LENGTH:
            raise bad("message is too long")
        return raw, text, entities

    def _sent_message(self, params: JSON, *, for_edit: bool = True) -> SentMessage:
        cid = self._chat_id(params)
        if "inline_message_id" in params:
            raise bad("inline_message_id is not supported by this fake")
        mid = params.get("message_id")
        msg = self._sent.get(cid, {}).get(mid) if isinstance(mid, int) else None
        if msg is None or msg.deleted:
            description = EDIT_NOT_FOUND if for_edit else "Bad Request: message not found"
            # The bot cannot know the person deleted it; anything else is the bot's mistake.
            violation = msg is None or not msg.deleted_by_user
            raise ApiError(400, description, violation=violation)
        return msg

    def _store(
        self,
        cid: int,
        raw: str,
        text: str,
        entities: list[JSON],
        params: JSON,
        mode_key: str,
        kind: str = "text",
        file_id: str | None = None,
    ) -> SentMessage:
        markup = params.get("reply_markup")
        if markup is not None:
            validate_markup(markup, allow_reply=True)
            if "inline_keyboard" not in markup:
                self._reply_keyboards[cid] = markup
        msg = SentMessage(
            message_id=self._alloc_mid(cid),
            chat_id=cid,
            text=text,
            html=raw,
            parse_mode=params.get(mode_key) or None,
            reply_markup=markup,
            entities=entities,
            date=int(time.time()),
            kind=kind,
            file_id=file_id,
        )
        chat_msgs = self._sent.get(cid)
        if chat_msgs is None:
            chat_msgs = self._sent[cid] = {}
        chat_msgs[msg.message_id] = msg
        if kind == "photo" and file_id is not None:
            # Photo ids were checked before; the sizes in the answer can be sent again too.
            self._issued_files.update((file_id, f"{file_id}-s"))
        return msg

    # ------------------------------------------------------------------ methods

    def _get_me(self, _params: JSON) -> JSON:
        return self._bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: JSON) -> JSON:
        cid = self._chat_id(params)
        raw, text, entities = self._format(params, "text", "parse_mode", "entities", caption=False)
        return self._message_json(self._store(cid, raw, text, entities, params, "parse_mode"))

    def _send_media(self, params: JSON, kind: str) -> JSON:
        cid = self._chat_id(params)
        media = params.get(kind)
        if isinstance(media, str) and media.startswith("attach://"):
            media = params.get(media.removeprefix("attach://"), media)
        if not isinstance(media, UploadedFile) and not (isinstance(media, str) and media):
            raise bad(f"there is no {kind} in the request")
        raw, text, entities = self._format(
            params, "caption", "parse_mode", "caption_entities", caption=True
        )
        if kind == "photo":
            self._check_photo(media, "sendPhoto")
        elif kind == "animation":
            self._check_animation(media)
        fid = self._issue_file(media, kind)
        msg = self._store(cid, raw, text, entities, params, "parse_mode", kind, fid)
        return self._message_json(msg)

    def _check_photo(self, media: UploadedFile | str, method: str) -> None:
        """Telegram's checks of one photo: size and dimensions of uploads, known file_ids."""
        if isinstance(media, UploadedFile):
            if len(media.data) > MAX_PHOTO_BYTES:
                raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            size = image_size(media.data)
            if size is None:
                if self.strict_photos:
                    raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            elif not photo_dimensions_ok(*size):
                raise ApiError(400, PHOTO_INVALID_DIMENSIONS)
            return
        self.file_id_reuses[method] = self.file_id_reuses.get(method, 0) + 1
        if media in self._issued_files:
            return
        # A forgotten id stands for one Telegram stopped accepting: not the bot's mistake.
        raise ApiError(400, WRONG_FILE_ID, violation=media not in self._forgotten_files)

    def _check_animation(self, media: UploadedFile | str) -> None:
        """Telegram's checks of an animation: an MP4 or GIF of at most 50 MB, or the file_id of
        an animation it issued."""
        if isinstance(media, UploadedFile):
            if len(media.data) > MAX_UPLOAD_BYTES:
                raise ApiError(400, "Bad Request: file is too big")
            if animation_kind(media.data) is None:
                raise ApiError(400, ANIMATION_WRONG_TYPE)
            return
        self.file_id_reuses["sendAnimation"] = self.file_id_reuses.get("sendAnimation", 0) + 1
        if media in self._issued_files and media.startswith("animation-"):
            return
        raise ApiError(400, WRONG_FILE_ID, violation=media not in self._forgotten_files)

    def _issue_file(self, media: UploadedFile | str, kind: str) -> str:
        if isinstance(media, str):
            return media
        fid = f"{kind}-{next(self._file_ids)}"
        self._files[fid] = media
        self._issued_files.add(fid)
        return fid

    def _send_photo(self, params: JSON) -> JSON:
        return self._send_media(params, "photo")

    def _send_animation(self, params: JSON) -> JSON:
        return self._send_media(params, "animation")

    def _send_document(self, params: JSON) -> JSON:
        return self._send_media(params, "document")

    def _send_media_group(self, params: JSON) -> list[JSON]:
        cid = self._chat_id(params)
        items = params.get("media")
        if not isinstance(items, list):
            raise bad("can't parse media JSON object: an array expected")
        if not MIN_ALBUM <= len(items) <= MAX_ALBUM:
            raise ApiError(400, WRONG_MEDIA_COUNT)
        # Check every item before storing any, so a rejected album leaves no messages.
        checked: list[tuple[JSON, UploadedFile | str, str, str, list[JSON]]] = []
        for item in items:
            if not isinstance(item, dict):
                raise bad("can't parse InputMedia: an object expected")
            if item.get("type") != "photo":
                raise bad(f"media type {item.get('type')!r} is not supported by this fake")
            media = item.get("media")
            if isinstance(media, str) and media.startswith("attach://"):
                upload = params.get(media.removeprefix("attach://"))
                if not isinstance(upload, UploadedFile):
                    raise ApiError(400, WRONG_FILE_ID)
                media = upload
            if not isinstance(media, UploadedFile) and not (isinstance(media, str) and media):
                raise ApiError(400, WRONG_FILE_ID)
            raw, text, entities = self._format(
                item, "caption", "parse_mode", "caption_entities", caption=True
            )
            self._check_photo(media, "sendMediaGroup")
            checked.append((item, media, raw, text, entities))
        group = str(next(self._media_groups))
        out: list[JSON] = []
        for item, media, raw, text, entities in checked:
            fid = self._issue_file(media, "photo")
            msg = self._store(cid, raw, text, entities, item, "parse_mode", "photo", fid)
            msg.media_group_id = group
            out.append(self._message_json(msg))
        return out

    def _edit_message_text(self, params: JSON) -> JSON:
        msg = self._sent_message(params)
        if msg.kind != "text":
            raise bad("there is no text in the message to edit")
        raw, text, entities = self._format(params, "text", "parse_mode", "entities", caption=False)
        markup = params.get("reply_markup")
        if markup is not None:
            validate_markup(markup, allow_reply=False)
        if (
            text == msg.text
            and entities == msg.entities
            and markup == inline_only(msg.reply_markup)
        ):
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        msg.history.append(msg.text)
        msg.text, msg.html, msg.entities = text, raw, entities
        msg.parse_mode = params.get("parse_mode") or None
        msg.reply_markup = markup
        msg.edited = True
        return self._message_json(msg)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        msg = self._sent_message(params)
        markup = params.get("reply_markup")
        if markup is not None:
            validate_markup(markup, allow_reply=False)
            if not markup.get("inline_keyboard"):
                markup = None
        if markup == inline_only(msg.reply_markup):
            raise bad(NOT_MODIFIED.removeprefix("Bad Request: "))
        msg.reply_markup = markup
        msg.edited = True
        return self._message_json(msg)

    def _answer_callback_query(self, params: JSON) -> bool:
        qid = params.get("callback_query_id")
        if not isinstance(qid, str) or qid not in self._issued_queries:
            raise bad(QUERY_INVALID.removeprefix("Bad Request: "))
        if qid in self.callback_answers:
            raise bad(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG: callback query answer text is longer than 200")
        self.callback_answers[qid] = params
        return True

    def _send_chat_action(self, params: JSON) -> bool:
        self._chat_id(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        return True

    def _delete_message(self, params: JSON) -> bool:
        cid = self._chat_id(params)
        mid = params.get("message_id")
        sent = self._sent.get(cid, {}).get(mid) if isinstance(mid, int) else None
        if sent is not None and not sent.deleted:
            sent.deleted = True
            return True
        if isinstance(mid, int) and self._incoming.pop((cid, mid), None) is not None:
            return True
        # The bot cannot know the person already deleted it.
        violation = sent is None or not sent.deleted_by_user
        raise ApiError(400, DELETE_NOT_FOUND, violation=violation)

    def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad("commands must be an array")
        if len(commands) > 100:
            raise bad("too many commands")
        for cmd in commands:
            if not isinstance(cmd, dict) or not COMMAND_RE.fullmatch(str(cmd.get("command"))):
                raise bad(f"BOT_COMMAND_INVALID: {cmd!r}")
            desc = cmd.get("description")
            if not isinstance(desc, str) or not 1 <= len(desc.strip()) <= 256:
                raise bad(f"BOT_COMMAND_DESCRIPTION_INVALID: {cmd!r}")
        key = commands_key(params.get("scope"), params.get("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands_for(params.get("scope"), params.get("language_code") or "")

    def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(
            commands_key(params.get("scope"), params.get("language_code") or ""), None
        )
        return True

    def _get_file(self, params: JSON) -> JSON:
        fid = params.get("file_id")
        upload = self._files.get(fid) if isinstance(fid, str) else None
        if upload is None or not isinstance(fid, str):
            raise bad("invalid file_id")
        if fid in self._forgotten_files:
            raise ApiError(400, "Bad Request: invalid file_id", violation=False)
        return {
            "file_id": fid,
            "file_unique_id": f"u{fid}",
            "file_size": len(upload.data),
            "file_path": fid,
        }
