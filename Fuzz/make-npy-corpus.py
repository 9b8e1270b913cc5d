#!/usr/bin/env python3
"""Writes the NpyFuzzer seed corpus, Corpus/Npy: valid .npy files made by
NumPy's own writer, and subtly invalid ones made by editing its output.

Run from Fuzz/:  python3 make-npy-corpus.py   (needs NumPy; rewrites its own files)
Every file is under 2 kB, so the corpus stays small. The found-*.npy files
beside them are inputs the fuzzer found crashes with, kept as they were.
"""
import io
import os

import numpy as np
from numpy.lib import format as npy_format

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus", "Npy")


def saved(array, version=None):
    """The bytes np.save writes (version 1.0 unless the array needs more), or
    write_array at the given format version."""
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        npy_format.write_array(buffer, array, version=version)
    return buffer.getvalue()


def handmade(header, data=b"", version=(1, 0)):
    """A file with `header` as its dictionary text, padded as NumPy pads it
    (spaces and a newline, total a multiple of 64), for headers NumPy's writer
    would never produce."""
    prefix_length = 10 if version[0] == 1 else 12
    text = header.encode("utf-8" if version[0] == 3 else "latin1")
    padding = (64 - (prefix_length + len(text) + 1) % 64) % 64
    text += b" " * padding + b"\n"
    length = len(text).to_bytes(2 if version[0] == 1 else 4, "little")
    return b"\x93NUMPY" + bytes(version) + length + text + data


def header(descr="'<f8'", fortran="False", shape="(2, 3)"):
    return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


rng = np.random.default_rng(1)
matrix = rng.standard_normal((2, 3))
files = {
    # Valid: every dtype the loader reads, both orders, every version, odd shapes.
    "f8-2x3": saved(matrix),
    "f4-2x3": saved(matrix.astype("<f4")),
    "f8-big-endian": saved(matrix.astype(">f8")),
    "i8": saved(np.array([-3, 0, 2**62], dtype="<i8")),
    "i1": saved(np.array([-128, 0, 127], dtype="<i1")),
    "i2": saved(np.array([-32768, 7], dtype=">i2")),
    "i4": saved(np.arange(6, dtype="<i4").reshape(3, 2)),
    "u1": saved(np.array([[0, 255], [1, 128]], dtype="|u1")),
    "u8-max": saved(np.array([2**64 - 1, 0], dtype="<u8")),
    "bool": saved(np.array([True, False, True])),
    "fortran-true": saved(np.asfortranarray(matrix)),
    "fortran-false-3d": saved(rng.standard_normal((2, 2, 2))),
    "version-2": saved(matrix, version=(2, 0)),
    "version-3": saved(matrix, version=(3, 0)),
    "scalar-0d": saved(np.array(1.5)),
    "vector-1": saved(np.array([4.0])),
    "empty-0": saved(np.zeros((0,))),
    "empty-0x3": saved(np.zeros((0, 3))),
    "empty-4d": saved(np.zeros((0, 3, 3, 3))),
    "image-1x1x4x4": saved(rng.standard_normal((1, 1, 4, 4))),
    "nan-inf": saved(np.array([[np.nan, np.inf], [-np.inf, 0.0]])),
    "denormal-huge": saved(np.array([5e-324, 1.7976931348623157e308, -0.0])),
    "logits-1x3": saved(np.array([[3.2, 5.1, -1.7]])),
    # Valid headers written by hand: other quoting and spacing NumPy accepts.
    "header-double-quotes": handmade('{"descr": "<f8", "fortran_order": False, "shape": (2,), }', matrix.tobytes()[:16]),
    "header-key-order": handmade("{'shape': (3,), 'fortran_order': False, 'descr': '<f8'}", np.arange(3.0).tobytes()),
    "header-long-suffix": handmade(header(shape="(2L, 3L)"), matrix.tobytes()),
    # Big shapes in the header, with little or no data.
    "big-shape-2x2^32": handmade(header(shape="(0, 4294967296, 4294967296)")),
    "big-shape-over-limit": handmade(header(shape="(100000, 100000)"), b"\0" * 64),
    "big-shape-overflow": handmade(header(shape="(9223372036854775807, 2)")),
    "big-shape-huge-digits": handmade(header(shape="(99999999999999999999999,)")),
    "negative-shape": handmade(header(shape="(-1, 3)"), matrix.tobytes()),
    "many-axes": handmade(header(shape="(" + "1, " * 40 + ")"), b"\0" * 8),
    # Truncated: the data, the header, the prefix.
    "truncated-data": saved(matrix)[:-5],
    "truncated-header": saved(matrix)[:40],
    "truncated-prefix": saved(matrix)[:9],
    "truncated-v2-prefix": saved(matrix, version=(2, 0))[:11],
    "header-length-past-end": saved(matrix)[:8] + b"\xff\xff" + saved(matrix)[10:],
    # Subtly invalid headers: NumPy refuses each of these (but one).
    "unknown-key": handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", b"\0" * 16),
    "missing-brace": handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), ", b"\0" * 16),
    "double-comma": handmade(header(shape="(2, 3,,)"), matrix.tobytes()),
    # NumPy reads the header as a Python literal, so the last 'shape' wins.
    "duplicate-shape": handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'shape': (1,)}", b"\0" * 16),
    "missing-shape": handmade("{'descr': '<f8', 'fortran_order': False}", b"\0" * 8),
    "missing-fortran": handmade("{'descr': '<f8', 'shape': (1,)}", b"\0" * 8),
    "fortran-not-bool": handmade(header(fortran="'no'"), matrix.tobytes()),
    "shape-not-tuple": handmade(header(shape="[2, 3]"), matrix.tobytes()),
    "shape-float": handmade(header(shape="(2.0, 3)"), matrix.tobytes()),
    "shape-in-descr-string": handmade("{'descr': \"'shape': (1,)\", 'fortran_order': False, 'shape': (2,)}", b"\0" * 16),
    "not-a-dict": handmade("['descr', '<f8']", b"\0" * 8),
    "empty-header": handmade("", b""),
    "version-3-utf8": handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'ü': 1}", b"\0" * 8, version=(3, 0)),
    "version-4": saved(matrix)[:6] + b"\x04\x00" + saved(matrix)[8:],
    "version-0": saved(matrix)[:6] + b"\x00\x00" + saved(matrix)[8:],
    "bad-magic": b"\x93NUMPZ" + saved(matrix)[6:],
    # Dtypes the loader refuses (NumPy reads all but '<f0').
    "f2": saved(np.array([1.0, 2.0], dtype="<f2")),
    "c16": saved(np.array([1 + 2j])),
    "str-U3": saved(np.array(["abc"])),
    "structured": saved(np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")])),
    "descr-f16": handmade(header(descr="'<f16'"), b"\0" * 96),
    "descr-f0": handmade(header(descr="'<f0'"), b""),
    "descr-short": handmade(header(descr="'f'"), b"\0" * 48),
    "descr-native": handmade(header(descr="'=f8'"), matrix.tobytes()),
}

os.makedirs(OUT, exist_ok=True)
for name, data in files.items():
    with open(os.path.join(OUT, name + ".npy"), "wb") as f:
        f.write(data)
print(f"{len(files)} files, {sum(map(len, files.values()))} bytes in {OUT}")
