"""Request parsers: DRF's, with the failures Python's decoders raise outside ``ValueError`` made 400s."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

_BOUNDARY = re.compile(rb'boundary="?([^";,\s]+)"?', re.IGNORECASE)
_TAIL = 4096


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser; a body nested deeper than Python's decoder recurses (``[[[[...``, a few
    kilobytes) is a ``malformed_request`` like any other unparsable body, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc


class _TailRecorder:
    """A read-only stream that remembers the last bytes read from the wrapped one."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size) if size is not None and size >= 0 else self._stream.read()
        if data:
            self.tail = (self.tail + data)[-_TAIL:]
        return data


class MultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser; a body that is not a complete multipart message (cut off before its
    closing boundary, or no multipart at all) is ``malformed_request`` (400). Django's parser takes
    such a body for an empty form, which the views would answer with ``no_media``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        match = _BOUNDARY.search((media_type or "").encode("latin-1", "replace"))
        if stream is None or match is None:
            return super().parse(stream, media_type, parser_context)
        recorder = _TailRecorder(stream)
        result = super().parse(recorder, media_type, parser_context)
        if b"--" + match.group(1) + b"--" not in recorder.tail:
            raise ParseError("Multipart form parse error - the body ends before its closing boundary.")
        return result
