"""A fake Telegram Bot API server on the loopback interface, for testing the bot end to end.

It speaks the parts of the Bot API the bot uses (getMe, getUpdates with long polling,
sendMessage, sendPhoto, getFile and file downloads), serves the updates a test queues, and
records every call. A token in ``revoked`` gets 401 Unauthorized, as Telegram answers.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TOKEN = "123456789:AAFakeTokenForImagevarsTests_abcdef"


class FakeTelegram:
    def __init__(self, revoked: tuple[str, ...] = ()):
        self.revoked = set(revoked)
        self.updates: list[dict] = []
        self.calls: list[tuple[str, dict]] = []  # (method, fields)
        self.files: dict[str, bytes] = {}
        self.cond = threading.Condition()
        self._next_update = 1
        self._next_message = 1000
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # file downloads: /file/bot<token>/<path>
                m = re.match(r"^/file/bot([^/]+)/(.+)$", self.path)
                data = server.files.get(m.group(2)) if m else None
                self.send_response(200 if data is not None else 404)
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self):
                m = re.match(r"^/bot([^/]+)/(\w+)$", self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                token, method = m.group(1), m.group(2)
                if token in server.revoked or token != TOKEN:
                    return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                fields = server._fields(self.headers.get("Content-Type", ""), body)
                result = server.answer(method, fields)
                self._reply(200, {"ok": True, "result": result})

            def _reply(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that hung up (bot stopping): fine
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- what the test does ------------------------------------------------------------------
    def push(self, update: dict) -> None:
        with self.cond:
            update.setdefault("update_id", self._next_update)
            self._next_update = update["update_id"] + 1
            self.updates.append(update)
            self.cond.notify_all()

    def message(self, user: int, text: str | None = None, **extra) -> None:
        msg = {
            "message_id": self._new_id(),
            "date": int(time.time()),
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": f"user{user}"},
            **extra,
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.push({"message": msg})

    def photo(self, user: int, data: bytes, as_document: bool = False) -> None:
        file_id = f"file{self._new_id()}"
        self.files[f"photos/{file_id}.jpg"] = data
        if as_document:
            media = {
                "document": {
                    "file_id": file_id,
                    "file_unique_id": file_id,
                    "file_name": "upload.jpg",
                    "mime_type": "image/jpeg",
                    "file_size": len(data),
                }
            }
        else:
            media = {
                "photo": [
                    {"file_id": file_id, "file_unique_id": file_id, "width": 64, "height": 64, "file_size": len(data)}
                ]
            }
        self.message(user, **media)

    def replies(self, chat: int | None = None) -> list[tuple[str, dict]]:
        with self.cond:
            return [
                (m, f)
                for m, f in self.calls
                if m in ("sendMessage", "sendPhoto") and (chat is None or str(f.get("chat_id")) == str(chat))
            ]

    def wait_for(self, n: int, chat: int | None = None, timeout: float = 60.0) -> list[tuple[str, dict]]:
        """Block until at least ``n`` replies (to ``chat``) were sent; fail after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.replies(chat)) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} replies, got {self.replies(chat)}")
                self.cond.wait(left)
            return self.replies(chat)

    # ---- the API -----------------------------------------------------------------------------
    def answer(self, method: str, f: dict):
        with self.cond:
            self.calls.append((method, f))
            self.cond.notify_all()
        if method == "getMe":
            return {"id": 42, "is_bot": True, "first_name": "imagevars", "username": "imagevars_test_bot"}
        if method == "getUpdates":
            offset = int(f.get("offset") or 0)
            end = time.monotonic() + min(float(f.get("timeout") or 0), 2.0)
            with self.cond:
                while True:
                    pending = [u for u in self.updates if u["update_id"] >= offset]
                    if pending or time.monotonic() >= end:
                        return pending
                    self.cond.wait(max(0.0, end - time.monotonic()))
        if method in ("sendMessage", "sendPhoto"):
            msg = {
                "message_id": self._new_id(),
                "date": int(time.time()),
                "chat": {"id": int(f["chat_id"]), "type": "private"},
            }
            if method == "sendPhoto":
                msg["photo"] = [{"file_id": "sent", "file_unique_id": "sent", "width": 64, "height": 64}]
            else:
                msg["text"] = f.get("text", "")
            return msg
        if method == "getFile":
            path = f"photos/{f['file_id']}.jpg"
            return {
                "file_id": f["file_id"],
                "file_unique_id": f["file_id"],
                "file_path": path,
                "file_size": len(self.files.get(path, b"")),
            }
        return True  # deleteWebhook, close, ...

    def _new_id(self) -> int:
        self._next_message += 1
        return self._next_message

    @staticmethod
    def _fields(content_type: str, body: bytes) -> dict:
        if content_type.startswith("application/json"):
            return json.loads(body or b"{}")
        if content_type.startswith("multipart/form-data"):
            out = {}
            for part in body.split(b"--" + content_type.split("boundary=")[1].encode()):
                head, _, value = part.partition(b"\r\n\r\n")
                name = re.search(rb'name="([^"]+)"', head)
                if name:
                    value = value.rstrip(b"\r\n")
                    out[name.group(1).decode()] = value if b"filename=" in head else value.decode(errors="replace")
            return out
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}
