"""RFC 6587 framing of a syslog TCP stream: octet counting and LF/NUL/CRLF delimiting.

The framing is detected per message: a frame that starts with a non-zero digit run
followed by a space is octet-counted (``LEN SP MSG``), anything else runs to the next
LF or NUL. Frames larger than the cap are cut to the cap (flagged as truncated) and the
rest of the frame is skipped, so one client can never make the buffer grow unbounded.
"""

from __future__ import annotations

_LEN_DIGITS = 10  # at most 9 digits plus the space: 999,999,999 bytes
_DELIMS = b"\r\n\x00"


class FrameDecoder:
    """Feed raw bytes from one connection; get back complete ``(message, truncated)`` pairs."""

    __slots__ = ("_buf", "_discarding", "_max", "_skip")

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self._max = max_bytes
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversize octet-counted frame still to discard
        self._discarding = False  # inside an oversize delimited frame: drop to the delimiter

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        buf = self._buf
        buf += data
        out: list[tuple[bytes, bool]] = []
        while buf:
            if self._skip:
                n = min(self._skip, len(buf))
                del buf[:n]
                self._skip -= n
                continue
            if self._discarding:
                end = self._delimiter()
                if end < 0:
                    buf.clear()
                    break
                del buf[: end + 1]
                self._discarding = False
                continue
            if buf[0] in _DELIMS:
                del buf[0]
                continue
            if 0x31 <= buf[0] <= 0x39:  # 1-9: maybe octet counting
                status = self._octet_frame(out)
                if status == "need":
                    break
                if status == "done":
                    continue
            if not self._delimited_frame(out):
                break
        return out

    def finish(self) -> list[tuple[bytes, bool]]:
        """End of stream: an unterminated delimited frame still counts as a message."""
        out: list[tuple[bytes, bool]] = []
        buf = self._buf
        if buf and not self._skip and not self._discarding:
            head = bytes(buf[:_LEN_DIGITS])
            sp = head.find(b" ")
            octet = sp > 0 and head[:sp].isdigit() and head[:1] != b"0"
            if not octet:  # a partial octet-counted frame is incomplete, not a message
                text = bytes(buf[: self._max]).rstrip(_DELIMS)
                if text:
                    out.append((text, len(buf) > self._max))
        buf.clear()
        self._skip = 0
        self._discarding = False
        return out

    def _delimiter(self) -> int:
        buf = self._buf
        nl = buf.find(b"\n")
        nul = buf.find(b"\x00", 0, nl if nl >= 0 else len(buf))
        return nul if nul >= 0 else nl

    def _octet_frame(self, out: list[tuple[bytes, bool]]) -> str:
        """``done`` (frame taken), ``need`` (wait for more bytes) or ``no`` (not counted)."""
        buf = self._buf
        sp = buf.find(b" ", 0, _LEN_DIGITS)
        if sp < 0:
            prefix = bytes(buf[:_LEN_DIGITS])
            return "need" if len(buf) < _LEN_DIGITS and prefix.isdigit() else "no"
        digits = bytes(buf[:sp])
        if not digits.isdigit():
            return "no"
        length = int(digits)
        start = sp + 1
        if length <= self._max:
            if len(buf) < start + length:
                return "need"
            out.append((bytes(buf[start : start + length]), False))
            del buf[: start + length]
            return "done"
        if len(buf) < start + self._max:
            return "need"
        out.append((bytes(buf[start : start + self._max]), True))
        end = start + length
        if len(buf) >= end:
            del buf[:end]
        else:
            self._skip = end - len(buf)
            buf.clear()
        return "done"

    def _delimited_frame(self, out: list[tuple[bytes, bool]]) -> bool:
        """Take one delimited frame; ``False`` when it is not complete yet."""
        buf = self._buf
        end = self._delimiter()
        if end < 0:
            if len(buf) > self._max:
                out.append((bytes(buf[: self._max]), True))
                buf.clear()
                self._discarding = True
            return False
        frame = bytes(buf[:end])
        del buf[: end + 1]
        if frame.endswith(b"\r"):
            frame = frame[:-1]
        if len(frame) > self._max:
            out.append((frame[: self._max], True))
        elif frame:
            out.append((frame, False))
        return True
