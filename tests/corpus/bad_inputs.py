"""A corpus of bad (and odd but valid) media, file names and request bodies, built by code.

Nothing is downloaded and no binary is committed: every case is made here, in memory, from
Pillow, PyAV and hand-packed headers, so a reader sees exactly what each one is. Used by
``tests/hardening/test_bad_input.py`` (every case to every media endpoint) and as the seed
corpus of ``bench/fuzz.py``. ``python tests/corpus/bad_inputs.py DIR`` writes the media to DIR.

Each media case says what the product must do with it:

* ``reject``: a 4xx with one of ``codes`` (the media-level codes of ``detection.errors`` and
  ``moderation.core.media``; endpoints may answer an earlier check of their own first, e.g.
  ``source_not_image`` for a video sent as a generation's source),
* ``accept``: the media is valid, however unusual: it is scanned (200/202),
* ``either``: damaged in a way a decoder may conceal (accepted) or refuse with one of ``codes``.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

REJECT, ACCEPT, EITHER = "reject", "accept", "either"

# Media-level codes (README: Errors).
EMPTY = "empty_input"
UNSUPPORTED = "unsupported_media_type"
CORRUPT = "corrupt_media"
TOO_LARGE = "image_too_large"
TOO_LONG = "video_too_long"

TEN_HOURS_S = 10 * 3600


@dataclass(frozen=True)
class MediaCase:
    name: str
    data: bytes
    filename: str
    content_type: str
    expect: str  # REJECT | ACCEPT | EITHER
    codes: frozenset[str] = frozenset()
    note: str = ""

    def __repr__(self) -> str:  # pytest ids and failure messages: the name, not 100 kB of bytes
        return f"MediaCase({self.name}, {len(self.data)} bytes, {self.expect} {sorted(self.codes)})"


@dataclass(frozen=True)
class FieldCase:
    """A request whose media (if any) is fine but whose other fields are not."""

    name: str
    endpoint: str  # a key of ENDPOINT_PATHS
    body: dict[str, Any] | list[Any] | bytes | str | int | None
    format: str  # "json" (body serialised), "raw-json" (body bytes as is), "multipart"
    codes: frozenset[str]
    # Multipart: the files to add, as (field, MediaCase name); the bytes come from media_cases().
    files: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FieldCase({self.endpoint}:{self.name})"


ENDPOINT_PATHS = {
    "scans": "/api/v1/scans",
    "watermark": "/api/v1/watermark/recover",
    "reports": "/api/v1/reports",
    "appeals": "/api/v1/appeals",
    "generations": "/api/v1/generations",
    "known_fakes": "/api/v1/known-fakes",
    "protected_identities": "/api/v1/protected-identities",
}


# -- building blocks -------------------------------------------------------------------------
def picture(width: int = 160, height: int = 136, seed: int = 7) -> np.ndarray:
    """A deterministic textured RGB picture without a face (gradients, blocks and noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / width * 255, y / height * 255, (x + y) / (width + height) * 255], axis=-1)
    rgb[(x // 16 + y // 16) % 2 == 0] *= 0.6
    rgb += rng.normal(0, 8, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def encode(image: np.ndarray | Image.Image, fmt: str, **params: Any) -> bytes:
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **params)
    return buf.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_raw(
    width: int, height: int, depth: int, colour: int, rows: bytes | None, *, idat: bool = True
) -> bytes:
    """A PNG from its parts: ``rows`` are the filtered scanlines (None: an all-zero image)."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    out = PNG_SIGNATURE + png_chunk(b"IHDR", ihdr)
    if idat:
        if rows is None:
            row = b"\x00" * (1 + width * channels * depth // 8)
            compressor = zlib.compressobj(9)
            parts = [compressor.compress(row) for _ in range(height)]
            data = b"".join(parts) + compressor.flush()
        else:
            data = zlib.compress(rows, 9)
        out += png_chunk(b"IDAT", data)
    return out + png_chunk(b"IEND", b"")


def png_rgb16(rgb: np.ndarray) -> bytes:
    """48-bit RGB (Pillow reads it but cannot write it)."""
    wide = rgb.astype(">u2") * 257
    rows = b"".join(b"\x00" + wide[r].tobytes() for r in range(rgb.shape[0]))
    return png_raw(rgb.shape[1], rgb.shape[0], 16, 2, rows)


def jpeg_with_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The JPEG with its start-of-frame dimensions rewritten (the entropy data stays small)."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def gif_header_bomb(width: int, height: int) -> bytes:
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global table of 2 colours
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    lzw = b"\x02\x02\x4c\x01\x00"  # one pixel, then the end-of-information code
    return b"GIF89a" + screen + b"\x00\x00\x00\xff\xff\xff" + descriptor + lzw + b";"


def tiff_header(width: int, height: int) -> bytes:
    """A baseline greyscale TIFF whose IFD declares ``width`` × ``height`` over a 16-byte strip."""
    tags = [
        (256, 4, 1, width),  # ImageWidth, LONG
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: BlackIsZero
        (273, 4, 1, 8 + 2 + 12 * 8 + 4),  # StripOffsets: just after the IFD
        (278, 4, 1, height),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(tags))
    for tag, typ, count, value in tags:
        packed = struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, typ, count) + packed
    return b"II*\x00" + struct.pack("<I", 8) + ifd + b"\x00\x00\x00\x00" + b"\x80" * 16


def bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + 64, 0, 0, 14 + 40) + info + b"\x00" * 64


def webp_canvas(webp: bytes, width: int, height: int) -> bytes:
    """An extended (VP8X) WebP whose canvas is ``width`` × ``height`` around the original bitstream."""
    chunks = webp[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def jpeg_with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """A COM segment right after SOI (a JPEG that an HTML sniffer also takes for a page)."""
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


# -- videos (PyAV) -----------------------------------------------------------------------------
def _frames(n: int, size: tuple[int, int]) -> list[np.ndarray]:
    width, height = size
    base = picture(width, height, seed=3)
    return [np.roll(base, 4 * i, axis=1) for i in range(n)]


def video(
    container: str,
    codec: str,
    *,
    n: int = 6,
    size: tuple[int, int] = (64, 48),
    rate: int | Fraction = 25,
    time_base: Fraction | None = None,
    pts: list[int] | None = None,
    audio: str | None = None,
    video_stream: bool = True,
) -> bytes:
    """A small clip; ``pts`` (in ``time_base``) puts frames at chosen times (gaps, hours apart)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container) as out:
        stream = None
        if video_stream:
            stream = out.add_stream(codec, rate=rate)
            stream.width, stream.height = size
            stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
            if time_base is not None:
                stream.codec_context.time_base = time_base
                stream.time_base = time_base
        sound = out.add_stream(audio, rate=48000) if audio else None
        if stream is not None:
            for i, rgb in enumerate(_frames(n, size)):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = pts[i] if pts is not None else i
                frame.time_base = time_base if pts is not None else 1 / Fraction(rate)
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        if sound is not None:
            samples = sound.codec_context.frame_size or 1024
            layout = "stereo"
            for i in range(20):
                tone = np.sin(np.arange(samples) * 0.05 + i).astype(np.float32) * 0.2
                planes = np.stack([tone, tone])
                frame = av.AudioFrame.from_ndarray(
                    planes, format="fltp" if audio != "pcm_s16le" else "s16p", layout=layout
                )
                frame.sample_rate = 48000
                frame.pts = i * samples
                for packet in sound.encode(frame):
                    out.mux(packet)
            for packet in sound.encode():
                out.mux(packet)
    return buf.getvalue()


def mp4_with_durations(mp4: bytes, seconds: float) -> bytes:
    """Rewrite the duration fields of every mvhd, tkhd and mdhd box (version 0) to ``seconds``."""
    out = bytearray(mp4)
    for box in (b"mvhd", b"mdhd"):
        start = 0
        while (at := out.find(box, start)) >= 0:
            start = at + 4
            if out[at + 4] != 0:
                continue
            timescale = struct.unpack(">I", out[at + 16 : at + 20])[0]
            out[at + 20 : at + 24] = struct.pack(">I", min(int(seconds * timescale), 0xFFFFFFFF))
    mvhd = out.find(b"mvhd")
    movie_scale = struct.unpack(">I", out[mvhd + 16 : mvhd + 20])[0]
    start = 0
    while (at := out.find(b"tkhd", start)) >= 0:
        start = at + 4
        if out[at + 4] == 0:
            out[at + 24 : at + 28] = struct.pack(">I", min(int(seconds * movie_scale), 0xFFFFFFFF))
    return bytes(out)


def webm_with_duration(webm: bytes, seconds: float) -> bytes:
    """Rewrite the Segment Info Duration (EBML id 0x4489, a float in TimestampScale units: ms)."""
    at = webm.index(b"\x44\x89")
    size = webm[at + 2]
    if size == 0x88:  # 8-byte float
        return webm[: at + 3] + struct.pack(">d", seconds * 1000.0) + webm[at + 11 :]
    if size == 0x84:  # 4-byte float
        return webm[: at + 3] + struct.pack(">f", seconds * 1000.0) + webm[at + 7 :]
    raise ValueError("unexpected Duration element size")


def mjpeg_avi_with_size(avi: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame size of an MJPEG AVI everywhere it is said: the main header, the stream
    format (BITMAPINFOHEADER) and every frame's JPEG start-of-frame (a video decompression bomb)."""
    out = bytearray(avi)
    avih = out.index(b"avih")
    out[avih + 8 + 32 : avih + 8 + 40] = struct.pack("<II", width, height)
    strf = out.index(b"strf")
    out[strf + 8 + 4 : strf + 8 + 12] = struct.pack("<ii", width, height)
    start = 0
    while (at := out.find(b"\xff\xc0", start)) >= 0:
        out[at + 5 : at + 9] = struct.pack(">HH", height, width)
        start = at + 2
    return bytes(out)


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    """One RIFF chunk: id, little-endian size, payload, a pad byte to an even length."""
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) % 2 else b"")


def riff_list(kind: bytes, payload: bytes) -> bytes:
    return riff_chunk(b"LIST", kind + payload)


def mjpeg_avi(jpegs: list[bytes], width: int, height: int, fps: int = 25) -> bytes:
    """An MJPEG AVI packed by hand around the given JPEG frames, which may be of any size: the main
    header (avih), stream header (strh) and format (BITMAPINFOHEADER) say ``width`` × ``height``
    whatever the frames are, and an idx1 index lists every frame as a keyframe."""
    n = len(jpegs)
    avih = struct.pack("<14I", 1_000_000 // fps, 0, 0, 0x10, n, 0, 1, 0, width, height, 0, 0, 0, 0)
    # flags, priority, language, initial frames, scale, rate, start, length, buffer, quality, sample, rcFrame
    fields = (0, 0, 0, 0, 1, fps, 0, n, 0, -1, 0, 0, 0, width, height)
    strh = b"vidsMJPG" + struct.pack("<IHHIIIIIIiI4h", *fields)
    strf = struct.pack("<IiiHH4sIiiII", 40, width, height, 1, 24, b"MJPG", width * height * 3, 0, 0, 0, 0)
    strl = riff_list(b"strl", riff_chunk(b"strh", strh) + riff_chunk(b"strf", strf))
    hdrl = riff_list(b"hdrl", riff_chunk(b"avih", avih) + strl)
    movi, index, offset = b"", b"", 4  # idx1 offsets count from the 'movi' list type
    for frame in jpegs:
        chunk = riff_chunk(b"00dc", frame)
        index += b"00dc" + struct.pack("<III", 0x10, offset, len(frame))
        movi += chunk
        offset += len(chunk)
    body = b"AVI " + hdrl + riff_list(b"movi", movi) + riff_chunk(b"idx1", index)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_padded(jpeg: bytes, size: int) -> bytes:
    """The JPEG grown to at least ``size`` bytes by comment (COM) segments after its SOI marker."""
    out = jpeg
    while len(out) < size:
        out = jpeg_with_comment(out, b"\x00" * min(65_533, size - len(out)))
    return out


def mjpeg_avi_growing(side: int, *, small: int = 3, large: int = 2) -> bytes:
    """The attack of issue 21: a 160×136 header and first frames, then frames of ``side`` × ``side``.

    Their start-of-frame says ``side``² and comment segments make each packet as long as FFmpeg asks
    of a picture that size (it refuses a packet under 1 byte per 256 pixels as a bomb), so a decoder
    without a pixel limit allocates the full picture while the file stays small (1/256 byte per pixel)."""
    frame = encode(picture(160, 136, seed=5), "JPEG", quality=85)  # big enough to carry a watermark
    big = jpeg_padded(jpeg_with_size(frame, side, side), side * side // 256 + 1024)
    return mjpeg_avi([frame] * small + [big] * large, 160, 136)


def scramble(data: bytes, start: int, seed: int = 1) -> bytes:
    """Random bytes from ``start`` to the end, the header before it kept."""
    rng = np.random.default_rng(seed)
    return data[:start] + rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()


# -- the media corpus --------------------------------------------------------------------------
@cache
def media_cases() -> tuple[MediaCase, ...]:
    """Every media case (built once per process: about a second)."""
    return tuple(_build_media_cases())


def media_case(name: str) -> MediaCase:
    return next(c for c in media_cases() if c.name == name)


def _build_media_cases() -> list[MediaCase]:
    cases: list[MediaCase] = []

    def add(
        name: str, data: bytes, filename: str, content_type: str, expect: str, *codes: str, note: str = ""
    ) -> None:
        cases.append(MediaCase(name, data, filename, content_type, expect, frozenset(codes), note))

    rgb = picture()
    jpeg, png = encode(rgb, "JPEG", quality=90), encode(rgb, "PNG")
    gif, webp = encode(rgb, "GIF"), encode(rgb, "WEBP", quality=90)
    bmp, tiff = encode(rgb, "BMP"), encode(rgb, "TIFF")
    mp4 = video("mp4", "mpeg4")
    webm = video("webm", "libvpx")

    # Empty and truncated.
    add("zero_bytes", b"", "empty.jpg", "image/jpeg", REJECT, EMPTY, note="the same code on every endpoint")
    add("jpeg_magic_only", jpeg[:3], "x.jpg", "image/jpeg", REJECT, CORRUPT)
    add("jpeg_header_only", jpeg[:200], "x.jpg", "image/jpeg", REJECT, CORRUPT)
    add("jpeg_truncated_half", jpeg[: len(jpeg) // 2], "x.jpg", "image/jpeg", REJECT, CORRUPT)
    add("png_truncated_idat", png[: len(png) * 2 // 3], "x.png", "image/png", REJECT, CORRUPT)
    add("png_without_idat", png_raw(160, 136, 8, 2, None, idat=False), "x.png", "image/png", REJECT, CORRUPT)
    add("png_zero_size", png_raw(0, 0, 8, 2, b""), "x.png", "image/png", REJECT, CORRUPT)
    add("gif_truncated", gif[: len(gif) // 2], "x.gif", "image/gif", REJECT, CORRUPT)
    add("webp_truncated", webp[: len(webp) // 2], "x.webp", "image/webp", REJECT, CORRUPT)
    add("bmp_truncated", bmp[: len(bmp) // 3], "x.bmp", "image/bmp", REJECT, CORRUPT)
    add("tiff_truncated", tiff[: len(tiff) // 3], "x.tif", "image/tiff", REJECT, CORRUPT)

    # Wrong extensions and MIME types: the content decides, never the name or the declared type.
    add(
        "text_named_jpg",
        b"just some text, not a picture\n" * 10,
        "photo.jpg",
        "image/jpeg",
        REJECT,
        UNSUPPORTED,
    )
    add(
        "pdf_named_png",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 400,
        "scan.png",
        "image/png",
        REJECT,
        UNSUPPORTED,
    )
    add(
        "exe_named_jpg",
        b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200,
        "x.jpg",
        "image/jpeg",
        REJECT,
        UNSUPPORTED,
    )
    add("zip_named_jpg", zip_bytes({"a.txt": b"hello"}), "x.jpg", "image/jpeg", REJECT, UNSUPPORTED)
    add("png_named_jpg", png, "photo.jpg", "image/jpeg", ACCEPT)
    add("jpeg_sent_as_html", jpeg, "page.html", "text/html", ACCEPT)
    add("mp4_named_jpg", mp4, "photo.jpg", "image/jpeg", ACCEPT, note="scanned as the video it is")

    # Polyglots: valid images that other programs read as something else; scanned as the image.
    evil = b"<html><body><script>alert(document.cookie)</script></body></html>"
    add("jpeg_zip_polyglot", jpeg + zip_bytes({"evil.html": evil}), "x.jpg", "image/jpeg", ACCEPT)
    add("jpeg_html_polyglot", jpeg_with_comment(jpeg, evil) + evil, "x.jpg", "image/jpeg", ACCEPT)
    add("gif_zip_polyglot", gif + zip_bytes({"a.class": b"\xca\xfe\xba\xbe"}), "x.gif", "image/gif", ACCEPT)
    add("html_then_jpeg", evil + jpeg, "x.jpg", "image/jpeg", REJECT, UNSUPPORTED)

    # Decompression bombs: huge declared sizes in tiny files; refused from the header.
    add(
        "png_bomb_100k",
        png_raw(100_000, 100_000, 8, 2, b"\x00" * 64),
        "x.png",
        "image/png",
        REJECT,
        TOO_LARGE,
    )
    # 50.4 Mpx of real zeros (~150 kB): over FakeME's limit, under Pillow's own bomb check.
    add("png_bomb_50mpx", png_raw(7100, 7100, 8, 2, None), "x.png", "image/png", REJECT, TOO_LARGE)
    add("png_bomb_aspect", png_raw(40_000, 1, 8, 0, None), "x.png", "image/png", REJECT, TOO_LARGE)
    add("jpeg_bomb", jpeg_with_size(jpeg, 65_500, 65_500), "x.jpg", "image/jpeg", REJECT, TOO_LARGE)
    add("gif_bomb", gif_header_bomb(65_535, 65_535), "x.gif", "image/gif", REJECT, TOO_LARGE)
    add("webp_bomb", webp_canvas(webp, 16_384, 16_384), "x.webp", "image/webp", REJECT, TOO_LARGE, CORRUPT)
    add("tiff_bomb", tiff_header(100_000, 100_000), "x.tif", "image/tiff", REJECT, TOO_LARGE)
    add("bmp_bomb", bmp_header(30_000, 30_000), "x.bmp", "image/bmp", REJECT, TOO_LARGE)

    # Unusual but valid images: decoded and scanned.
    grey16 = (rgb[:, :, 0].astype(np.uint16) * 257).astype(np.uint16)
    add("png_grey16", encode(Image.fromarray(grey16), "PNG"), "x.png", "image/png", ACCEPT)
    add("png_rgb48", png_rgb16(rgb), "x.png", "image/png", ACCEPT)
    add("jpeg_cmyk", encode(Image.fromarray(rgb).convert("CMYK"), "JPEG"), "x.jpg", "image/jpeg", ACCEPT)
    add("tiff_cmyk", encode(Image.fromarray(rgb).convert("CMYK"), "TIFF"), "x.tif", "image/tiff", ACCEPT)
    add(
        "tiff_float",
        encode(Image.fromarray(rgb[:, :, 1].astype(np.float32) / 255.0), "TIFF"),
        "x.tif",
        "image/tiff",
        ACCEPT,
    )
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    add("png_palette_transparent", encode(palette, "PNG", transparency=0), "x.png", "image/png", ACCEPT)
    add("png_grey_alpha", encode(Image.fromarray(rgb).convert("LA"), "PNG"), "x.png", "image/png", ACCEPT)
    frames = [Image.fromarray(np.roll(rgb, 10 * i, axis=1)) for i in range(4)]
    add(
        "gif_animated",
        encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0),
        "x.gif",
        "image/gif",
        ACCEPT,
    )
    add(
        "png_animated",
        encode(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100),
        "x.png",
        "image/png",
        ACCEPT,
    )
    add(
        "webp_animated",
        encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100),
        "x.webp",
        "image/webp",
        ACCEPT,
    )
    exif = Image.Exif()
    exif[0x0112] = 99  # an orientation that does not exist
    add("jpeg_bad_orientation", encode(rgb, "JPEG", exif=exif.tobytes()), "x.jpg", "image/jpeg", ACCEPT)

    # Formats FakeME does not read.
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9999999" height="9999999">'
    svg += b'<script>alert(1)</script><rect width="100%" height="100%"/></svg>'
    add("svg", svg, "x.svg", "image/svg+xml", REJECT, UNSUPPORTED)
    add("svg_named_png", svg, "x.png", "image/png", REJECT, UNSUPPORTED)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x01\x00meta" + b"\x00" * 400
    add("heic", heic, "x.heic", "image/heic", REJECT, UNSUPPORTED)
    avif = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 400
    add("avif_garbage", avif, "x.avif", "image/avif", REJECT, UNSUPPORTED, CORRUPT)
    add(
        "psd",
        b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 100, 100, 8, 3) + b"\x00" * 200,
        "x.psd",
        "image/vnd.adobe.photoshop",
        REJECT,
        UNSUPPORTED,
    )
    add(
        "ico",
        encode(Image.fromarray(rgb).resize((32, 32)), "ICO"),
        "x.ico",
        "image/x-icon",
        REJECT,
        UNSUPPORTED,
    )

    # Videos without a video stream, with absurd rates, with 10 hours declared, damaged.
    add(
        "mp4_audio_only",
        video("mp4", "", audio="aac", video_stream=False),
        "x.mp4",
        "video/mp4",
        REJECT,
        CORRUPT,
    )
    add(
        "webm_audio_only",
        video("webm", "", audio="libopus", video_stream=False),
        "x.webm",
        "video/webm",
        REJECT,
        CORRUPT,
    )
    add("mp4_1000_fps", video("mp4", "libx264", rate=1000), "x.mp4", "video/mp4", ACCEPT)
    add(
        "mp4_100000_fps",
        video("mp4", "libx264", rate=100_000),
        "x.mp4",
        "video/mp4",
        EITHER,
        CORRUPT,
        note="the muxer writes every decode timestamp as 0: FFmpeg decodes no frame of it",
    )
    add(
        "mp4_one_frame_per_hour",
        video("mp4", "libx264", n=3, rate=Fraction(1, 3600)),
        "x.mp4",
        "video/mp4",
        REJECT,
        TOO_LONG,
    )
    hours = [0, 5 * 3600, TEN_HOURS_S]
    add(
        "mp4_frames_10h_apart",
        video("mp4", "libx264", n=3, rate=25, time_base=Fraction(1, 1000), pts=[h * 1000 for h in hours]),
        "x.mp4",
        "video/mp4",
        REJECT,
        TOO_LONG,
    )
    add(
        "mp4_declares_10h",
        mp4_with_durations(mp4, TEN_HOURS_S),
        "x.mp4",
        "video/mp4",
        EITHER,
        TOO_LONG,
        note="FFmpeg takes the length from the sample table, not mvhd/mdhd: capped to the real 0.24 s",
    )
    add("webm_declares_10h", webm_with_duration(webm, TEN_HOURS_S), "x.webm", "video/webm", REJECT, TOO_LONG)
    add(
        "webm_frames_10h_apart",
        video("webm", "libvpx", n=3, rate=25, time_base=Fraction(1, 1000), pts=[h * 1000 for h in hours]),
        "x.webm",
        "video/webm",
        REJECT,
        TOO_LONG,
    )
    avi = video("avi", "mjpeg", size=(64, 48))
    add(
        "avi_mjpeg_bomb",
        mjpeg_avi_with_size(avi, 16_000, 16_000),
        "x.avi",
        "video/x-msvideo",
        REJECT,
        TOO_LARGE,
    )
    small_frame = encode(picture(64, 48, seed=5), "JPEG", quality=85)
    add("avi_mjpeg_hand_packed", mjpeg_avi([small_frame] * 6, 64, 48), "x.avi", "video/x-msvideo", ACCEPT)
    for side in (8_000, 16_000):
        add(
            f"avi_mjpeg_frames_grow_to_{side}",
            mjpeg_avi_growing(side),
            "x.avi",
            "video/x-msvideo",
            REJECT,
            TOO_LARGE,
            note="header and first frames 160×136, later frames larger than the pixel limit",
        )
    add(
        "mp4_ftyp_then_zeros",
        b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000,
        "x.mp4",
        "video/mp4",
        REJECT,
        CORRUPT,
    )
    add(
        "mp4_moov_cut_off",
        mp4[: len(mp4) * 3 // 4],
        "x.mp4",
        "video/mp4",
        REJECT,
        CORRUPT,
        note="PyAV writes moov last: three quarters of the file has no index",
    )
    mdat = mp4.index(b"mdat") - 4
    mdat_end = mdat + struct.unpack(">I", mp4[mdat : mdat + 4])[0]
    scrambled = scramble(mp4[:mdat_end], mdat + 8 + 16) + mp4[mdat_end:]  # frames damaged, index intact
    add("mp4_scrambled_frames", scrambled, "x.mp4", "video/mp4", EITHER, CORRUPT)
    add("webm_header_only", webm[:120], "x.webm", "video/webm", REJECT, CORRUPT)
    add("webm_scrambled", scramble(webm, 200), "x.webm", "video/webm", EITHER, CORRUPT)
    add(
        "avi_garbage",
        b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(range(256)) * 8,
        "x.avi",
        "video/x-msvideo",
        REJECT,
        CORRUPT,
    )
    add(
        "mov_atom_garbage",
        b"\x00\x00\x00\x08wide" + b"\xde\xad\xbe\xef" * 500,
        "x.mov",
        "video/quicktime",
        REJECT,
        CORRUPT,
    )
    add("ebml_magic_only", b"\x1a\x45\xdf\xa3", "x.webm", "video/webm", REJECT, CORRUPT)
    # Found by bench/fuzz.py (one byte of mp4_1000_fps changed): with its 'minf' box renamed the track
    # has no sample description, and PyAV's stream has no codec context (an AttributeError, a 500).
    add("mp4_minf_renamed", mp4.replace(b"minf", b"mind", 1), "x.mp4", "video/mp4", REJECT, UNSUPPORTED)
    return cases


# -- file names ---------------------------------------------------------------------------------
# Raw bytes as a client may put them in a multipart Content-Disposition (RFC 7578 filename).
HOSTILE_FILENAMES: dict[str, bytes] = {
    "traversal": b"../../../../etc/passwd.jpg",
    "absolute": b"/etc/passwd",
    "windows_traversal": b"..\\..\\..\\Windows\\win.ini.jpg",
    "nul_byte": b"photo.jpg\x00.exe",
    "non_utf8": b"\xff\xfe\xfd\xfc.jpg",
    "rtl_override": "photo\u202egpj.exe".encode(),
    "very_long": b"a" * 5000 + b".jpg",
    "dots_only": b"..",
    "control_chars": b"line\r\nbreak\t.jpg",
    "html": b"<img src=x onerror=alert(1)>.png",
}


# -- request bodies -------------------------------------------------------------------------------
def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _field_cases() -> list[FieldCase]:
    cases: list[FieldCase] = []

    def add(
        name: str, endpoint: str, body: Any, fmt: str, *codes: str, files: tuple = (), **extra: Any
    ) -> None:
        cases.append(FieldCase(name, endpoint, body, fmt, frozenset(codes), files, extra))

    url = "http://127.0.0.1:9/a.jpg"  # if a case ever got past validation: refused (loopback), never fetched
    invalid, malformed = "invalid", "malformed_request"
    # JSON bodies with wrong types, huge arrays, hostile numbers and nesting (every JSON endpoint).
    for endpoint in ("scans", "reports", "known_fakes", "appeals"):
        add("top_level_list", endpoint, [1, 2, 3], "json", invalid, malformed)
        add("top_level_string", endpoint, "hello", "json", invalid, malformed)
        add("top_level_null", endpoint, None, "json", invalid, malformed, "no_media")
        add("nested_100k", endpoint, deep_json(100_000), "raw-json", malformed)
        add("not_utf8", endpoint, b'{"external_id": "\xff\xfe\xfd"}', "raw-json", malformed)
        add("nan", endpoint, b'{"external_id": NaN}', "raw-json", malformed)
        add(
            "huge_number",
            endpoint,
            b'{"external_id": 1e999999, "media_index": 1e999999}',
            "raw-json",
            invalid,
            malformed,
            "no_media",
        )
        add("truncated", endpoint, b'{"external_id": "abc', "raw-json", malformed)
    add("media_urls_object", "scans", {"media_urls": {"a": url}}, "json", invalid)
    add("media_urls_number", "scans", {"media_urls": 5}, "json", invalid)
    add("media_urls_nulls", "scans", {"media_urls": [None, None]}, "json", invalid)
    add("media_urls_100k", "scans", {"media_urls": [url] * 100_000}, "json", invalid, "request_too_large")
    add("hashtags_100k", "scans", {"media_urls": [url], "hashtags": ["#a"] * 100_000}, "json", invalid)
    add(
        "hashtags_mixed_types",
        "scans",
        {"media_urls": [url], "hashtags": [1, {"x": 2}, [3]]},
        "json",
        invalid,
    )
    add("hashtag_nul", "scans", {"media_urls": [url], "hashtags": ["#a\x00b"]}, "json", invalid)
    add("external_id_list", "scans", {"media_urls": [url], "external_id": ["a", "b"]}, "json", invalid)
    add("external_id_long", "scans", {"media_urls": [url], "external_id": "x" * 100_000}, "json", invalid)
    add("author_id_nul", "scans", {"media_urls": [url], "author_id": "a\x00"}, "json", invalid)
    add(
        "comment_long",
        "reports",
        {
            "external_id": "p",
            "reporter_id": "u",
            "category": "other",
            "comment": "c" * 1001,
            "media_url": url,
        },
        "json",
        invalid,
    )
    add(
        "category_list",
        "reports",
        {"external_id": "p", "reporter_id": "u", "category": ["other"], "media_url": url},
        "json",
        invalid,
    )
    add(
        "scan_id_not_uuid",
        "reports",
        {"external_id": "p", "reporter_id": "u", "category": "other", "scan_id": "../../etc/passwd"},
        "json",
        invalid,
    )
    add(
        "scan_id_number",
        "reports",
        {"external_id": "p", "reporter_id": "u", "category": "other", "scan_id": 12345},
        "json",
        invalid,
        "not_found",
    )  # DRF takes an integer for a UUID's value
    add(
        "reporter_id_object",
        "reports",
        {"external_id": "p", "reporter_id": {"$gt": ""}, "category": "other", "media_url": url},
        "json",
        invalid,
    )
    add(
        "media_index_huge",
        "known_fakes",
        {"scan_id": "00000000-0000-0000-0000-000000000000", "media_index": 10**30},
        "json",
        invalid,
        "not_found",
    )
    add(
        "media_index_negative",
        "known_fakes",
        {"scan_id": "00000000-0000-0000-0000-000000000000", "media_index": -1},
        "json",
        invalid,
    )
    add("note_long", "known_fakes", {"media_url": url, "note": "n" * 100_000}, "json", invalid)
    add("media_url_list", "known_fakes", {"media_url": [url] * 1000}, "json", invalid)
    add(
        "statement_long",
        "appeals",
        {"external_id": "p", "appellant_id": "u", "statement": "s" * 100_000},
        "json",
        invalid,
    )
    # Multipart text fields: over-long, NUL, bytes that are not UTF-8 (with a valid image attached, so
    # only the field can be at fault). Non-UTF-8 text is decoded with replacement characters, so
    # it may also be accepted: the test allows that, never a 5xx.
    image = (("media", "png_named_jpg"),)
    add("external_id_long", "scans", {"external_id": "x" * 300}, "multipart", invalid, files=image)
    add("hashtag_nul", "scans", {"hashtags": "#a\x00b"}, "multipart", invalid, files=image)
    add(
        "external_id_not_utf8",
        "scans",
        {"external_id": b"\xff\xfe\xfd\x80"},
        "multipart",
        invalid,
        files=image,
        may_accept=True,
    )
    add(
        "note_not_utf8",
        "known_fakes",
        {"note": b"\xc3\x28\xa0\xa1"},
        "multipart",
        invalid,
        files=image,
        may_accept=True,
    )
    add(
        "comment_long",
        "reports",
        {"external_id": "p", "reporter_id": "u", "category": "other", "comment": "c" * 5000},
        "multipart",
        invalid,
        files=image,
    )
    add(
        "reporter_id_nul",
        "reports",
        {"external_id": "p", "reporter_id": "u\x00", "category": "other"},
        "multipart",
        invalid,
        files=image,
    )
    gen = (("source", "png_named_jpg"), ("target", "png_named_jpg"))
    base = {"user_id": "u1", "consent": "Both people agreed in writing."}
    add(
        "options_nested_100k",
        "generations",
        {**base, "options": deep_json(100_000).decode()},
        "multipart",
        invalid,
        files=gen,
    )
    add("options_not_json", "generations", {**base, "options": "{nope"}, "multipart", invalid, files=gen)
    add("options_list", "generations", {**base, "options": "[1, 2]"}, "multipart", invalid, files=gen)
    add(
        "options_huge_array",
        "generations",
        {**base, "options": json.dumps({"blend": [0] * 200_000})},
        "multipart",
        invalid,
        files=gen,
    )
    add("seed_huge", "generations", {**base, "seed": str(10**40)}, "multipart", invalid, files=gen)
    add("seed_text", "generations", {**base, "seed": "abc"}, "multipart", invalid, files=gen)
    add("engine_unknown", "generations", {**base, "engine": "../../bin/sh"}, "multipart", invalid, files=gen)
    add("consent_long", "generations", {**base, "consent": "c" * 200_000}, "multipart", invalid, files=gen)
    add("user_id_long", "generations", {**base, "user_id": "u" * 300}, "multipart", invalid, files=gen)
    add(
        "label_long",
        "protected_identities",
        {"label": "l" * 300},
        "multipart",
        invalid,
        files=(("image", "png_named_jpg"),),
    )
    return cases


@cache
def field_cases() -> tuple[FieldCase, ...]:
    return tuple(_field_cases())


def write_media(directory: Path, select: Callable[[MediaCase], bool] = lambda c: True) -> list[Path]:
    """Write the media cases to ``directory`` (one file each, named after the case)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for case in media_cases():
        if select(case):
            path = directory / f"{case.name}{Path(case.filename).suffix}"
            path.write_bytes(case.data)
            paths.append(path)
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/corpus/bad_inputs.py OUTPUT_DIR")
    for written in write_media(Path(sys.argv[1])):
        print(written)
