#!/usr/bin/env python3
"""Zeroes, in place, the GPU machine code that a shared library embeds for every architecture but the ones kept.

ONNX Runtime's CUDA provider carries its kernels compiled for several GPU generations (sm_75 to sm_120), about 220 MB
of its 284. A GPU loads only the code of its own architecture (or PTX, which this library has none of), so on a known
GPU the rest is dead weight; zeroed, it compresses to nothing and the bundle that tests/gpu/bundle.sh makes fits a
machine reached through a size-limited copy. File size, offsets and the code kept are unchanged.

Usage: slim_fatbin.py LIBRARY --keep 90 [--keep 100 ...]   (architectures as CUDA numbers them: 90 = sm_90, Hopper)
Prints the bytes kept and zeroed per architecture; exits 1 when the library has no fatbin or no code for a kept one.
"""
import argparse
import collections
import struct
import sys

FATBIN_MAGIC = 0xBA55ED50
KINDS = {1: "ptx", 2: "elf"}


def section(data, wanted):
    """(offset, size) of the ELF64 section named `wanted`, or None."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    names = struct.unpack_from("<IIQQQQIIQQ", data, shoff + shstrndx * shentsize)[4]
    for i in range(shnum):
        name_off, _, _, _, off, size, *_ = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        end = data.index(b"\0", names + name_off)
        if data[names + name_off:end].decode() == wanted:
            return off, size
    return None


def slim(data, keep):
    """Zeroes the payload of every fatbin entry whose architecture is not in `keep`; returns per-(kind, arch) byte counts."""
    found = section(data, ".nv_fatbin")
    if found is None:
        raise SystemExit("no .nv_fatbin section: not a library with embedded CUDA code")
    start, size = found
    kept, zeroed = collections.Counter(), collections.Counter()
    pos, end = start, start + size
    while pos + 16 <= end:
        magic, _, header_size, fat_size = struct.unpack_from("<IHHQ", data, pos)
        if magic != FATBIN_MAGIC:
            pos += 8  # fatbins are 8-byte aligned, with padding between them
            continue
        entry, stop = pos + header_size, pos + header_size + fat_size
        while entry < stop:
            kind, _, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
            arch, = struct.unpack_from("<I", data, entry + 28)
            key = (KINDS.get(kind, str(kind)), arch)
            body = entry + entry_header
            if arch in keep:
                kept[key] += payload
            else:
                data[body:body + payload] = bytes(payload)
                zeroed[key] += payload
            entry = body + payload
        pos = stop
    return kept, zeroed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library")
    parser.add_argument("--keep", type=int, action="append", required=True, help="architecture to keep, e.g. 90")
    args = parser.parse_args()
    with open(args.library, "rb") as f:
        data = bytearray(f.read())
    kept, zeroed = slim(data, set(args.keep))
    for (kind, arch), n in sorted(kept.items()):
        print(f"kept   {kind} sm_{arch}: {n:,} bytes")
    for (kind, arch), n in sorted(zeroed.items()):
        print(f"zeroed {kind} sm_{arch}: {n:,} bytes")
    missing = set(args.keep) - {arch for _, arch in kept}
    if missing:
        print(f"no code for sm_{', sm_'.join(map(str, sorted(missing)))} in {args.library}", file=sys.stderr)
        return 1
    with open(args.library, "r+b") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
