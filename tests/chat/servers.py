"""Local stand-ins for the messaging platforms, speaking their documented HTTP protocols.

Each runs a real HTTP server on 127.0.0.1 in a thread; the adapters reach it through the
channel's configurable base URL. Requests and answers follow the pages cited in
chat/adapters/*.py:
- ``TelegramServer``: Bot API methods at ``/bot<token>/<method>`` answering ``{"ok": true,
  "result": ...}`` or ``{"ok": false, "error_code", "description", "parameters":
  {"retry_after"}}``; files at ``/file/bot<token>/<file_path>``.
- ``GraphServer``: Meta's Graph API for WhatsApp Cloud API (``/<version>/<phone number
  id>/messages`` and ``/media``, ``/<version>/<media id>`` then the media URL, bearer
  token required) and Messenger (``/<version>/<page id>/messages``, the User Profile API,
  attachment URLs); errors as ``{"error": {"message", "type", "code", "error_subcode",
  "error_data", "fbtrace_id"}}``, including WhatsApp's 24-hour rule (131047) for numbers
  whose window the test closed.
``fail_next(status, body)`` makes the next send answer an error (rate limits, refusals).
"""

import json
import threading
import urllib.parse
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_multipart(content_type: str, body: bytes) -> tuple[dict, dict]:
    """(fields, files) of a multipart/form-data body; files as (filename, bytes, type)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields, files = {}, {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = (filename, payload, part.get_content_type())
        else:
            fields[name] = payload.decode()
    return fields, files


class _Server:
    """A threaded HTTP server whose handler calls ``self.handle(request)``."""

    def __init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = {
                    "method": self.command,
                    "path": urllib.parse.urlsplit(self.path).path,
                    "query": dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
                content_type = request["headers"].get("content-type", "")
                if content_type.startswith("application/json"):
                    request["json"] = json.loads(body or b"null")
                elif content_type.startswith("multipart/form-data"):
                    request["fields"], request["files"] = parse_multipart(content_type, body)
                with server.lock:
                    server.requests.append(request)
                status, payload, headers = server.handle(request)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                kind = headers.pop("Content-Type", "application/json")
                self.send_header("Content-Type", kind)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815 (BaseHTTPRequestHandler's names)

        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.failures: list[tuple[int, dict, dict]] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail_next(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.failures.append((status, body, dict(headers or {})))

    def _scripted_failure(self):
        with self.lock:
            return self.failures.pop(0) if self.failures else None

    def sent(self) -> list[dict]:
        """The send requests that reached the server (not downloads or look-ups)."""
        return [r for r in self.requests if r["method"] == "POST"]

    def handle(self, request):  # pragma: no cover - overridden
        raise NotImplementedError


class TelegramServer(_Server):
    def __init__(self, token: str):
        super().__init__()
        self.token = token
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.next_message_id = 1000

    def add_file(self, file_id: str, file_path: str, content: bytes) -> None:
        self.files[file_id] = (file_path, content)

    def _error(self, code: int, description: str, **parameters):
        body = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, body, {}

    def handle(self, request):
        path = request["path"]
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            if token != self.token:
                return self._error(401, "Unauthorized")
            for stored_path, content in self.files.values():
                if stored_path == file_path:
                    return 200, content, {"Content-Type": "application/octet-stream"}
            return self._error(404, "Not Found")
        token, _, method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            return self._error(401, "Unauthorized")
        if method == "getFile":
            file_id = (request.get("json") or {}).get("file_id")
            if file_id not in self.files:
                return self._error(400, "Bad Request: invalid file_id")
            file_path, content = self.files[file_id]
            result = {"file_id": file_id, "file_size": len(content), "file_path": file_path}
            return 200, {"ok": True, "result": result}, {}
        failure = self._scripted_failure()
        if failure:
            return failure
        if method == "sendMessage":
            params = request.get("json") or {}
            if not params.get("chat_id") or not params.get("text"):
                return self._error(400, "Bad Request: message text is empty")
            return self._sent({"chat": {"id": int(params["chat_id"])}, "text": params["text"]})
        if method in ("sendPhoto", "sendDocument"):
            field = "photo" if method == "sendPhoto" else "document"
            if field not in request.get("files", {}):
                return self._error(400, f"Bad Request: there is no {field} in the request")
            return self._sent({"chat": {"id": int(request["fields"]["chat_id"])}, field: {}})
        return self._error(404, "Not Found")

    def _sent(self, message: dict):
        self.next_message_id += 1
        result = {"message_id": self.next_message_id, "date": 1_800_000_000, **message}
        return 200, {"ok": True, "result": result}, {}


def graph_error(code: int, message: str, *, subcode=None, details="", status=400):
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return status, {"error": error}, {}


class GraphServer(_Server):
    def __init__(
        self, token: str, *, version: str = "v21.0", phone_number_id: str = "", page_id: str = ""
    ):
        super().__init__()
        self.token = token
        self.version = version
        self.phone_number_id = phone_number_id
        self.page_id = page_id
        self.media: dict[str, tuple[bytes, str]] = {}  # id -> (content, mime type)
        self.cdn: dict[str, tuple[bytes, str]] = {}  # path -> (content, mime type)
        self.closed_windows: set[str] = set()  # wa_ids whose 24-hour window is closed
        self.profiles: dict[str, dict] = {}
        self.counter = 0

    def add_media(self, media_id: str, content: bytes, mime_type: str) -> None:
        self.media[media_id] = (content, mime_type)

    def add_cdn_file(self, name: str, content: bytes, mime_type: str) -> str:
        self.cdn[f"/cdn/{name}"] = (content, mime_type)
        return f"{self.url}/cdn/{name}"

    def _authorised(self, request) -> bool:
        return request["headers"].get("authorization") == f"Bearer {self.token}"

    def handle(self, request):
        path = request["path"]
        if path in self.cdn:  # Messenger attachment URLs: public CDN links, no token
            content, mime = self.cdn[path]
            return 200, content, {"Content-Type": mime}
        if not self._authorised(request):
            return graph_error(190, "Invalid OAuth access token.", status=401)
        if path.startswith("/media-download/"):
            media_id = path.rsplit("/", 1)[-1]
            if media_id not in self.media:
                return 404, b"", {}
            content, mime = self.media[media_id]
            return 200, content, {"Content-Type": mime}
        prefix = f"/{self.version}/"
        if not path.startswith(prefix):
            return graph_error(100, "Unknown path components")
        rest = path.removeprefix(prefix)
        if request["method"] == "GET":
            return self._get(rest, request)
        failure = self._scripted_failure()
        if failure:
            return failure
        if rest == f"{self.phone_number_id}/messages":
            return self._whatsapp_message(request.get("json") or {})
        if rest == f"{self.phone_number_id}/media":
            fields = request.get("fields", {})
            if fields.get("messaging_product") != "whatsapp" or "file" not in request.get(
                "files", {}
            ):
                return graph_error(100, "(#100) The parameter messaging_product is required.")
            self.counter += 1
            media_id = f"uploaded-{self.counter}"
            _filename, content, mime = request["files"]["file"]
            self.media[media_id] = (content, mime)
            return 200, {"id": media_id}, {}
        if rest == f"{self.page_id}/messages":
            return self._messenger_message(request)
        return graph_error(100, "Unsupported post request.")

    def _get(self, rest: str, request):
        if rest in self.media:
            content, mime = self.media[rest]
            url = f"{self.url}/media-download/{rest}"
            body = {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": mime,
                "sha256": "0" * 64,
                "file_size": len(content),
                "id": rest,
            }
            return 200, body, {}
        if rest in self.profiles:
            return 200, {**self.profiles[rest], "id": rest}, {}
        return graph_error(100, "Unsupported get request. Object does not exist.")

    def _whatsapp_message(self, body: dict):
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return graph_error(100, "(#100) Invalid parameter")
        kind = body.get("type")
        if kind not in ("text", "image", "document", "template") or kind not in body:
            return graph_error(100, "(#100) Invalid parameter")
        if kind != "template" and body["to"] in self.closed_windows:
            return graph_error(
                131047,
                "Re-engagement message",
                details="Message failed to send because more than 24 hours have passed "
                "since the customer last replied to this number.",
            )
        if kind in ("image", "document") and body[kind].get("id") not in self.media:
            return graph_error(131053, "Media upload error")
        self.counter += 1
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.OUT{self.counter}"}],
        }
        return 200, answer, {}

    def _messenger_message(self, request):
        if "json" in request:
            body = request["json"]
            recipient = (body.get("recipient") or {}).get("id")
            message = body.get("message") or {}
        else:
            fields = request.get("fields", {})
            recipient = json.loads(fields.get("recipient", "{}")).get("id")
            message = json.loads(fields.get("message", "{}"))
            if "filedata" not in request.get("files", {}):
                return graph_error(100, "(#100) Upload attachment failure.")
        if not recipient or not message:
            return graph_error(100, "(#100) The parameter recipient is required")
        self.counter += 1
        return 200, {"recipient_id": recipient, "message_id": f"m_OUT{self.counter}"}, {}
