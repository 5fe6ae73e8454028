"""Images, files and audio in chat messages: what the simulator reads from them, says about them and bills.

Owns: parsing OpenAI's content parts (``image_url``, ``file`` in OpenRouter's shape with ``filename`` and
``file_data``, ``input_audio``) into ``Media`` values; reading an image's format and pixel size from its header
bytes (PNG, JPEG, GIF, WEBP; stdlib only), a PDF's page count and a WAV clip's length; the sentence a model with
that input says about each ("The attached image is a 64×48 PNG (1.2 KB)."); the prompt tokens each part costs;
and the small PNG an image-output model returns. Remote URLs are never fetched: the description says so and
names the host.

Token costs, as a provider bills them: an image 765 tokens at detail high/auto and 85 at low (OpenAI's numbers
for a 1024×1024 image); a file its decoded bytes / 4, capped at 50,000; audio 32 tokens per second (Gemini's
rate; a clip whose length is unknown, its bytes / 500).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import mimetypes
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Media", "describe_size", "image_header", "parse_media", "png_bytes"]

IMAGE_TOKENS = 765
IMAGE_TOKENS_LOW = 85
FILE_BYTES_PER_TOKEN = 30  # decoded bytes; the engine estimates the same from base64 length / 40
FILE_TOKENS_MAX = 50_000
AUDIO_TOKENS_PER_S = 32
AUDIO_BYTES_PER_TOKEN = 500  # ~128 kbit/s compressed audio at 32 tokens per second
_PART_TYPES = ("text", "image_url", "input_audio", "file")
_BAD_IMAGE = (
    "You uploaded an unsupported image. Please make sure your image has of one the following formats: "
    "['png', 'jpeg', 'gif', 'webp']."
)  # OpenAI's own wording, typo included
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # JPEG start-of-frame markers (ITU T.81, table B.1)


@dataclass(frozen=True, slots=True)
class Media:
    """One non-text part: ``kind`` is "image", "file" or "audio"; ``message`` the index of its message."""

    kind: str
    message: int
    description: str
    tokens: int


def describe_size(size: int) -> str:
    """A byte count as people write it: "512 bytes", "1.2 KB", "3.4 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def image_header(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from an image's first bytes, or None for anything but PNG/JPEG/GIF/WEBP."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])  # PNG spec §11.2.2: IHDR comes first
        return "PNG", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])  # the logical screen descriptor
        return "GIF", width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 25:
        return _webp(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg(data)
    return None


def _webp(data: bytes) -> tuple[str, int, int] | None:
    chunk = data[12:16]  # RFC 9649 §2.5-2.7: simple lossy, lossless, extended
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a" and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return "WEBP", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return "WEBP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        return "WEBP", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _jpeg(data: bytes) -> tuple[str, int, int] | None:
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return "JPEG", width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def _wav_seconds(data: bytes) -> float | None:
    """A WAV clip's length from its ``fmt `` byte rate and ``data`` size, or None if it is not WAV."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    i, byte_rate, size = 12, 0, None
    while i + 8 <= len(data):
        tag, length = data[i : i + 4], struct.unpack("<I", data[i + 4 : i + 8])[0]
        if tag == b"fmt " and length >= 12:
            byte_rate = struct.unpack("<I", data[i + 16 : i + 20])[0]
        elif tag == b"data":
            size = min(length, len(data) - i - 8)
            break
        i += 8 + length + (length & 1)
    return size / byte_rate if byte_rate and size is not None else None


def _decode(data_url: str) -> tuple[str, bytes] | None:
    """(media type, bytes) of a base64 ``data:`` URL, or None if it is not one or does not decode."""
    head, sep, payload = data_url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    try:
        return head[5:-7].split(";")[0], base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _host(url: str) -> str:
    return urlsplit(url).hostname or "an unknown host"


def _image(part: dict[str, Any], where: str) -> tuple[str, int] | str:
    raw = part.get("image_url")
    spec = raw if isinstance(raw, dict) else {"url": raw}
    url = spec.get("url")
    if not isinstance(url, str) or not url:
        return f"{where}: an image_url part needs 'image_url.url' (an https URL or a base64 data URL)"
    tokens = IMAGE_TOKENS_LOW if spec.get("detail") == "low" else IMAGE_TOKENS
    if not url.startswith("data:"):
        return (
            f"The attached image at {url} was not fetched (the simulator reads no remote URLs; host {_host(url)}).",
            tokens,
        )
    decoded = _decode(url)
    if decoded is None:
        return f"{where}: the image data URL is not valid base64 (data:image/png;base64,...)"
    head = image_header(decoded[1])
    if head is None:
        return f"{where}: {_BAD_IMAGE}"
    fmt, width, height = head
    return f"The attached image is a {width}×{height} {fmt} ({describe_size(len(decoded[1]))}).", tokens


def _file(part: dict[str, Any], where: str) -> tuple[str, int] | str:
    spec = part.get("file")
    if not isinstance(spec, dict):
        return f"{where}: a file part needs a 'file' object with 'filename' and 'file_data'"
    name = spec.get("filename") if isinstance(spec.get("filename"), str) else None
    data = spec.get("file_data")
    if not isinstance(data, str) or not data:
        file_id = spec.get("file_id")
        if isinstance(file_id, str) and file_id:
            return f"The attached file {name or file_id} is an uploaded file id the simulator cannot read.", 0
        return f"{where}: a file part needs 'file.file_data' (a base64 data URL) or 'file.file_id'"
    label = name or "(unnamed)"
    if not data.startswith("data:"):
        return f"The attached file {label} at {data} was not fetched (host {_host(data)}).", 0
    decoded = _decode(data)
    if decoded is None:
        return f"{where}: the file's data URL is not valid base64 (data:application/pdf;base64,...)"
    media_type = decoded[0] or (mimetypes.guess_type(label)[0] if name else None) or "application/octet-stream"
    size = len(decoded[1])
    extra = ""
    if media_type == "application/pdf" and (pages := len(_PDF_PAGE.findall(decoded[1]))):
        extra = f", {pages} page{'s' if pages != 1 else ''}"
    tokens = min(FILE_TOKENS_MAX, max(1, size // FILE_BYTES_PER_TOKEN))
    return f"The attached file {label} is {media_type} ({describe_size(size)}{extra}).", tokens


def _audio(part: dict[str, Any], where: str) -> tuple[str, int] | str:
    spec = part.get("input_audio")
    if not isinstance(spec, dict) or not isinstance(spec.get("data"), str):
        return f"{where}: an input_audio part needs 'input_audio.data' (base64) and 'input_audio.format'"
    fmt = str(spec.get("format") or "audio").upper()
    try:
        data = base64.b64decode(spec["data"].strip(), validate=True)
    except (binascii.Error, ValueError):
        return f"{where}: 'input_audio.data' is not valid base64"
    seconds = _wav_seconds(data)
    if seconds is None:
        tokens = max(1, len(data) // AUDIO_BYTES_PER_TOKEN)
        return f"The attached audio is a {fmt} clip ({describe_size(len(data))}).", min(tokens, FILE_TOKENS_MAX)
    tokens = max(1, math.ceil(seconds * AUDIO_TOKENS_PER_S))
    clip = f"The attached audio is a {fmt} clip of {seconds:.1f} s ({describe_size(len(data))})."
    return clip, min(tokens, FILE_TOKENS_MAX)


_READERS = {"image_url": ("image", _image), "file": ("file", _file), "input_audio": ("audio", _audio)}


def parse_media(messages: list[Any]) -> list[Media] | str:
    """Every image, file and audio part of ``messages`` as ``Media``, or the 400 message for a bad part."""
    found: list[Media] = []
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for n, part in enumerate(content):
            where = f"messages[{index}].content[{n}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text":
                continue
            if kind not in _READERS:
                allowed = ", ".join(repr(t) for t in _PART_TYPES)
                return f"Invalid value for '{where}.type': {kind!r}. Supported values are: {allowed}."
            name, reader = _READERS[kind]
            read = reader(part, where)
            if isinstance(read, str):
                return read
            found.append(Media(name, index, read[0], read[1]))
    return found


def png_bytes(seed: str, size: int = 64) -> bytes:
    """A ``size``×``size`` PNG in one colour chosen by ``seed``: what an image-output model "draws"."""
    rgb = hashlib.blake2b(seed.encode(), digest_size=3).digest()
    raw = (b"\x00" + rgb * size) * size  # filter byte 0 per scanline (PNG spec §9.2)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
