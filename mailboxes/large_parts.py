"""Big base64 bodies cut out of a message while it is read, decoded to temporary files.

The stdlib parser handles a 40 MB attachment line by line (seconds and hundreds of MB),
and even a fast decode of the whole message needs the raw bytes and the decoded bytes in
memory at once. Here a large message is read in 1 MB chunks; every long run of base64
lines is decoded chunk by chunk into a temporary file and replaced by one marker line, so
the parser only sees a small skeleton. Memory stays at a few chunks whatever the size.

A run is only a guess (a body of plain letters and digits looks the same), so the caller
keeps the extraction only for base64 leaf parts and puts the original text back for
anything else (``Extracted.original``). Markers carry a random token: a sender cannot
forge one.
"""

import binascii
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from typing import IO

CHUNK = 2**20
# Shorter runs stay in the skeleton: not worth a file.
LARGE_RUN = 16 * 2**10
_RUN = re.compile(rb"(?:[A-Za-z0-9+/=]{1,998}\r?\n)+")
_LINE_BREAKS = b"\r\n"


@dataclass
class Run:
    key: str
    start: int  # offsets of the original lines in the source
    end: int
    spool: IO[bytes]
    size: int = 0


@dataclass
class Extracted:
    """The skeleton the parser reads, and the runs cut out of it, by marker."""

    skeleton: bytes
    runs: dict[str, Run] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    source: IO[bytes] | None = None

    def original(self, key: str) -> str:
        """The run's lines exactly as they were in the message (ASCII by construction)."""
        run = self.runs[key]
        assert self.source is not None  # noqa: S101 (set whenever runs exist)
        self.source.seek(run.start)
        return self.source.read(run.end - run.start).decode("ascii")

    def close(self) -> None:
        for run in self.runs.values():
            run.spool.close()


class _Decoder:
    """Base64 text in, bytes out to a temporary file, four characters at a time."""

    def __init__(self) -> None:
        self.spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by Extracted)
        self.pending = b""
        self.size = 0
        self.defect = ""

    def feed(self, lines: bytes) -> None:
        text = self.pending + lines.translate(None, _LINE_BREAKS)
        usable = len(text) - len(text) % 4
        self.pending = text[usable:]
        self._write(text[:usable])

    def finish(self) -> IO[bytes]:
        if self.pending:
            # A truncated last group: padded, as a forgiving reader would.
            self._write(self.pending + b"=" * (-len(self.pending) % 4))
        self.spool.seek(0)
        return self.spool

    def _write(self, text: bytes) -> None:
        if not text:
            return
        try:
            decoded = binascii.a2b_base64(text)
        except binascii.Error as error:
            self.defect = f"bad base64 in a large part: {error}"
            return
        self.spool.write(decoded)
        self.size += len(decoded)


class _Cutter:
    def __init__(self, source: IO[bytes]):
        self.token = secrets.token_hex(8)
        self.out: list[bytes] = []
        self.result = Extracted(skeleton=b"", source=source)
        self.run_start = -1
        self.run_lines: list[bytes] = []
        self.run_length = 0
        self.decoder: _Decoder | None = None

    def text(self, data: bytes) -> None:
        if data:
            self.close_run()
            self.out.append(data)

    def run(self, data: bytes, offset: int) -> None:
        if self.run_start < 0:
            self.run_start = offset
        self.run_length += len(data)
        if self.decoder is not None:
            self.decoder.feed(data)
            return
        self.run_lines.append(data)
        if self.run_length >= LARGE_RUN:
            self.decoder = _Decoder()
            self.decoder.feed(b"".join(self.run_lines))
            self.run_lines = []

    def close_run(self) -> None:
        if self.run_start < 0:
            return
        if self.decoder is None:
            self.out.extend(self.run_lines)
        else:
            key = f"{self.token}-{len(self.result.runs)}"
            spool = self.decoder.finish()
            end = self.run_start + self.run_length
            self.result.runs[key] = Run(key, self.run_start, end, spool, self.decoder.size)
            if self.decoder.defect:
                self.result.defects.append(self.decoder.defect)
            self.out.append(key.encode() + b"\r\n")
        self.run_start, self.run_lines, self.run_length, self.decoder = -1, [], 0, None


def extract(source: IO[bytes]) -> Extracted:
    """Read ``source`` (seekable, at its start) and cut out its long base64 runs."""
    cutter = _Cutter(source)
    offset = 0  # of ``buffer`` in the source
    buffer = b""
    while True:
        chunk = source.read(CHUNK)
        buffer += chunk
        if chunk:
            # Only whole lines are looked at; the tail waits for the next chunk.
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:
                if len(buffer) > CHUNK:
                    # A line longer than any base64 line: text, passed on without waiting
                    # for its end (no growing buffer copied again and again).
                    cutter.text(buffer)
                    offset += len(buffer)
                    buffer = b""
                continue
            lines, buffer = buffer[:cut], buffer[cut:]
        else:
            lines, buffer = buffer, b""
        position = 0
        for match in _RUN.finditer(lines):
            cutter.text(lines[position : match.start()])
            cutter.run(match.group(), offset + match.start())
            position = match.end()
        cutter.text(lines[position:])
        offset += len(lines)
        if not chunk:
            break
    cutter.close_run()
    cutter.result.skeleton = b"".join(cutter.out)
    return cutter.result
