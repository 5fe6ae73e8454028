"""The simulator reads image sizes from header bytes (PNG, JPEG, GIF, WEBP) and describes and bills media parts."""

from __future__ import annotations

import base64
import struct

import pytest

from autodevai.sim.media import describe_size, image_header, parse_media, png_bytes


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof2 = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"  # progressive
    return b"\xff\xd8" + app0 + sof2 + b"\xff\xd9"


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + bits.to_bytes(4, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_extended(width: int, height: int) -> bytes:
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (width - 1).to_bytes(3, "little")
    body += (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (png_bytes("x", 37), ("PNG", 37, 37)),
        (jpeg(640, 480), ("JPEG", 640, 480)),
        (b"GIF87a" + struct.pack("<HH", 320, 200) + b"\x00" * 8, ("GIF", 320, 200)),
        (webp_lossless(1000, 3), ("WEBP", 1000, 3)),
        (webp_extended(4096, 2160), ("WEBP", 4096, 2160)),
        (b"BM" + b"\x00" * 40, None),
        (b"\xff\xd8\xff", None),
    ],
)
def test_image_header_reads_format_and_size(data: bytes, expected: tuple[str, int, int] | None) -> None:
    assert image_header(data) == expected


def test_parse_media_describes_and_bills_each_part() -> None:
    photo = jpeg(800, 600)
    url = "data:image/jpeg;base64," + base64.b64encode(photo).decode()
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": url, "detail": "low"}},
            {"type": "image_url", "image_url": "https://cdn.example.org/a.png"},
            {"type": "file", "file": {"filename": "notes.csv", "file_data": "data:;base64," + "QUJD" * 300}},
        ]},
    ]  # fmt: skip
    media = parse_media(messages)
    assert not isinstance(media, str)
    assert [(m.kind, m.message, m.tokens) for m in media] == [("image", 1, 85), ("image", 1, 765), ("file", 1, 30)]
    assert media[0].description == f"The attached image is a 800×600 JPEG ({len(photo)} bytes)."
    assert "not fetched" in media[1].description and "cdn.example.org" in media[1].description
    assert media[2].description == "The attached file notes.csv is text/csv (900 bytes)."


@pytest.mark.parametrize(
    ("part", "needle"),
    [
        ({"type": "video_url", "video_url": {}}, "Supported values are"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "not valid base64"),
        ({"type": "file", "file": {"filename": "x.pdf"}}, "file_data"),
        ({"type": "input_audio", "input_audio": {"format": "wav"}}, "input_audio.data"),
    ],
)
def test_bad_parts_give_a_400_message_naming_the_part(part: dict[str, object], needle: str) -> None:
    result = parse_media([{"role": "user", "content": [part]}])
    assert isinstance(result, str) and needle in result and "messages[0].content[0]" in result


def test_sizes_read_like_people_write_them() -> None:
    assert [describe_size(n) for n in (5, 1536, 3 * 1024 * 1024)] == ["5 bytes", "1.5 KB", "3.0 MB"]
