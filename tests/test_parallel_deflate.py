"""Zip members deflated on both cores are one valid deflate stream, the same bytes every time, and as small
as a single stream's."""

from __future__ import annotations

import random
import zipfile
import zlib

import pytest

from passport_pipelines.delivery import parallel_deflate
from passport_pipelines.delivery.oneroster_export import _member
from passport_pipelines.delivery.parallel_deflate import ParallelDeflate


def _csv_like(size: int) -> bytes:
    rng = random.Random(7)
    names = [f"usr-{rng.getrandbits(96):024x},active,Name{i},Family{i % 97},{i % 13}\n" for i in range(4096)]
    out = bytearray()
    while len(out) < size:
        out += names[rng.randrange(len(names))].encode()
    return bytes(out[:size])


def _deflated(data: bytes, writes: int) -> bytes:
    compressor = ParallelDeflate(1)
    step = max(1, len(data) // writes)
    out = [compressor.compress(data[i:i + step]) for i in range(0, len(data), step)]
    return b"".join([*out, compressor.flush()])


@pytest.mark.parametrize("size", [0, 1, 1000, parallel_deflate.BLOCK, parallel_deflate.BLOCK * 2 + 12345])
def test_the_blocks_are_one_stream_that_inflates_to_the_data(size):
    data = _csv_like(size)
    inflate = zlib.decompressobj(-15)
    assert inflate.decompress(_deflated(data, writes=7)) + inflate.flush() == data
    assert inflate.eof  # the last block ends the stream


def test_the_bytes_do_not_depend_on_how_the_data_was_written_and_are_as_small_as_one_stream():
    data = _csv_like(parallel_deflate.BLOCK * 3 + 999)
    once, in_pieces = _deflated(data, writes=1), _deflated(data, writes=50)
    assert once == in_pieces
    single = zlib.compressobj(1, zlib.DEFLATED, -15)
    assert len(once) <= 1.01 * len(single.compress(data) + single.flush())


def test_a_package_written_with_it_reads_back(tmp_path):
    data = _csv_like(parallel_deflate.BLOCK + 77)
    with zipfile.ZipFile(tmp_path / "p.zip", "w") as zf:
        with _member(zf, "users.csv", big=False) as f:
            f.write(data[:1000])
            f.write(data[1000:])
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        assert zf.testzip() is None and zf.read("users.csv") == data
