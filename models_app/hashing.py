"""The six hashes tools use to find a model file (DESIGN.md section 1), computed in one read."""

import hashlib
import zlib
from typing import BinaryIO

import blake3

CHUNK_SIZE = 8 << 20
AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000


def file_hashes(f: BinaryIO, data_start: int | None = None, chunk_size: int = CHUNK_SIZE) -> dict[str, str]:
    """Hash a seekable binary stream once, front to back, with bounded memory.

    data_start is where a safetensors file's tensor data begins (8 + header length); AutoV3 is only
    defined for safetensors files, so pass None for anything else. Digests are UPPERCASE hex.
    Returns SHA256, AutoV1, AutoV2, CRC32, BLAKE3 and, for safetensors, AutoV3 (12 hex, the API form)
    and AutoV3_full (64 hex, kept internally).
    """
    sha, b3, v3, crc, pos = hashlib.sha256(), blake3.blake3(), hashlib.sha256(), 0, 0
    autov1 = hashlib.sha256()
    f.seek(0)
    while block := f.read(chunk_size):
        sha.update(block)
        b3.update(block)
        crc = zlib.crc32(block, crc)
        end = pos + len(block)
        if data_start is not None and end > data_start:
            v3.update(block[max(0, data_start - pos) :])
        # AutoV1 is A1111's legacy hash of the 64 KiB at 1 MiB; collect it from the same pass.
        lo, hi = max(pos, AUTOV1_OFFSET), min(end, AUTOV1_OFFSET + AUTOV1_LENGTH)
        if lo < hi:
            autov1.update(block[lo - pos : hi - pos])
        pos = end
    sha256 = sha.hexdigest().upper()
    out = {
        "SHA256": sha256,
        "AutoV1": autov1.hexdigest().upper()[:8],
        "AutoV2": sha256[:10],
        "CRC32": f"{crc:08X}",
        "BLAKE3": b3.hexdigest().upper(),
    }
    if data_start is not None:
        out["AutoV3_full"] = v3.hexdigest().upper()
        out["AutoV3"] = out["AutoV3_full"][:12]
    return out
