"""RFC 6587 framing of syslog TCP streams."""

from __future__ import annotations

import random

import pytest

from sensor.parsers.framing import FrameDecoder


def frames(decoder: FrameDecoder, *chunks: bytes, eof: bool = False) -> list[tuple[bytes, bool]]:
    out: list[tuple[bytes, bool]] = []
    for chunk in chunks:
        out += decoder.feed(chunk)
    if eof:
        out += decoder.finish()
    return out


def test_octet_counting_and_newline_mixed() -> None:
    got = frames(FrameDecoder(1024), b"5 hello12 <13>x y: abc\nline two\r\nline three\x00")
    assert got == [(b"hello", False), (b"<13>x y: abc", False), (b"line two", False),
                   (b"line three", False)]  # fmt: skip


def test_split_at_every_byte() -> None:
    stream = b"12 <13>h a: one<13>h a: two\n3 abc\r\n"
    decoder = FrameDecoder(1024)
    got = frames(decoder, *(stream[i : i + 1] for i in range(len(stream))))
    assert got == [(b"<13>h a: one", False), (b"<13>h a: two", False), (b"abc", False)]
    assert decoder.buffered == 0


def test_random_splits_give_the_same_frames() -> None:
    rng = random.Random(7)
    messages = [f"<13>host app[{i}]: message number {i} ".encode() * rng.randint(1, 4)
                for i in range(200)]  # fmt: skip
    stream = b"".join(
        (b"%d %s" % (len(m), m)) if i % 2 else m + b"\n" for i, m in enumerate(messages)
    )
    for _ in range(20):
        decoder = FrameDecoder(4096)
        cuts = sorted(rng.sample(range(1, len(stream)), 50))
        chunks = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
        assert [m for m, _ in frames(decoder, *chunks)] == messages


def test_oversize_octet_frame_is_cut_and_rest_skipped() -> None:
    decoder = FrameDecoder(64)
    body = b"A" * 200
    got = frames(decoder, b"200 " + body[:100], body[100:], b"ok\n")
    assert got == [(b"A" * 64, True), (b"ok", False)]


def test_oversize_delimited_frame_is_cut_and_rest_dropped() -> None:
    decoder = FrameDecoder(64)
    got = frames(decoder, b"B" * 100, b"B" * 100, b"B\nnext\n")
    assert got == [(b"B" * 64, True), (b"next", False)]
    got = frames(FrameDecoder(64), b"C" * 70 + b"\nnext\n")
    assert got == [(b"C" * 64, True), (b"next", False)]


def test_buffer_stays_bounded_with_garbage() -> None:
    decoder = FrameDecoder(128)
    rng = random.Random(3)
    for _ in range(500):
        decoder.feed(rng.randbytes(rng.randint(1, 3000)))
        assert decoder.buffered <= 128 + 3000


def test_eof_flushes_unterminated_line_but_not_partial_count() -> None:
    assert frames(FrameDecoder(64), b"last line", eof=True) == [(b"last line", False)]
    assert frames(FrameDecoder(64), b"10 short", eof=True) == []
    assert frames(FrameDecoder(64), b"12", eof=True) == [(b"12", False)]


def test_digits_without_space_fall_back_to_newline() -> None:
    got = frames(FrameDecoder(64), b"1234567890123 not a count\n", b"1.2.3.4 - - x\n")
    assert got == [(b"1234567890123 not a count", False), (b"1.2.3.4 - - x", False)]


def test_invalid_size() -> None:
    with pytest.raises(ValueError, match="positive"):
        FrameDecoder(0)
