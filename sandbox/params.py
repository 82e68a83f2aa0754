"""Reading Bot API parameters from any body format clients use, with Telegram's coercions.

Clients send parameters as a query string, a JSON object, a urlencoded form or
multipart form data. python-telegram-bot sends forms in which every value is a
string: nested objects (``reply_markup``, ``entities``, ...) are JSON text,
booleans are ``"true"``/``"false"`` and numbers are digits. :class:`Params` hides
those differences behind typed getters that fail with Telegram's 400 messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from sandbox.errors import ApiError, bad_request

# Parameters whose value is a JSON object or array (sent as JSON text inside forms).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "reply_parameters",
        "link_preview_options",
        "commands",
        "scope",
        "allowed_updates",
        "media",
    }
)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """The parameters of one Bot API request."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.uploads = uploads or {}

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        """Collect query parameters and the body (JSON, urlencoded or multipart)."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as error:
                    raise bad_request("can't parse JSON object in request body") from error
                if not isinstance(body, dict):
                    raise bad_request("request body must be a JSON object")
                values.update(body)
            else:
                form = await request.post()
                for name, value in form.items():
                    if isinstance(value, FileField):
                        uploads[name] = Upload(
                            name, value.filename, value.content_type, value.file.read()
                        )
                    elif isinstance(value, bytes | bytearray):
                        values[name] = bytes(value).decode("utf-8", errors="replace")
                    else:
                        values[name] = value
        return cls(values, uploads)

    # ------------------------------------------------------------------ getters

    def has(self, name: str) -> bool:
        value = self.values.get(name)
        return (value is not None and value != "") or name in self.uploads

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, dict | list):
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def require_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        lowered = str(value).strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise bad_request(f"invalid {name} specified")

    def get_json(self, name: str) -> Any:
        """A nested object or array, decoding JSON text when the body was a form."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer, or an ``@username`` string for public chats."""
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def file(self, name: str) -> Upload | str | None:
        """A file parameter: an upload (directly or via ``attach://``) or a file_id/URL."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if value is None or value == "":
            return None
        text = str(value)
        if text.startswith("attach://"):
            attached = self.uploads.get(text[len("attach://") :])
            if attached is None:
                raise bad_request(f"can't find attached file {text!r}")
            return attached
        return text

    # ------------------------------------------------------------------ logging

    def summary(self) -> dict[str, Any]:
        """Parameters for the call log: JSON fields decoded, file contents summarised."""
        result: dict[str, Any] = {}
        for name, value in self.values.items():
            if name in JSON_FIELDS and isinstance(value, str):
                try:
                    result[name] = json.loads(value)
                    continue
                except ValueError:
                    pass
            result[name] = value
        for name, upload in self.uploads.items():
            result[name] = {
                "upload": upload.filename,
                "size": len(upload.data),
                "content_type": upload.content_type,
            }
        return result


def ensure(condition: bool, error: ApiError) -> None:
    """Raise ``error`` unless ``condition`` holds; keeps validation code flat."""
    if not condition:
        raise error
