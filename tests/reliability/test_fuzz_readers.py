"""Property tests: every reader of an untrusted file ends in data or in an embedlab error.

Each reader gets arbitrary bytes and mutated real files (small files written by embedlab,
pyarrow and h5py here, then truncated, flipped, cut, spliced, their numbers made huge,
negative or zero). Whatever it gets, a reader returns data or raises an `EmbedlabError`;
anything else escaping (ValueError, struct.error, zlib.error, MemoryError...) fails the
test. Each example is also bounded: it must end within `HANG_SECONDS` (a timer interrupts
a hang), its Python-traced peak memory (numpy included) must stay under 64 MB + 50 times
the input's size, and so must the growth of the process's peak resident set.

The suite runs a few examples per reader (`EXAMPLES`, derandomised, so every run tries the
same inputs). A longer, random run:

    EMBEDLAB_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/reliability/test_fuzz_readers.py

The regression tests below the properties pin each bug the properties found.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import lzma
import os
import re
import resource
import shutil
import signal
import struct
import tempfile
import tracemalloc
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyarrow import csv as pcsv

from embedlab import artifacts
from embedlab.data.readers import read_table
from embedlab.data.stream import TableStream
from embedlab.errors import EmbedlabError
from embedlab.text.categorical import CategoricalVocabulary, load_vocabularies, save_vocabularies
from embedlab.text.encoder import TextEncoder
from embedlab.text.vocabulary import Vocabulary
from embedlab.vectors import WordVectors, detect_format
from embedlab.vectors.formats import FASTTEXT_MAGIC

EXAMPLES = int(os.environ.get("EMBEDLAB_FUZZ_EXAMPLES", "0")) or 50
HANG_SECONDS = 20.0
MEMORY_FLOOR = 64 << 20
MEMORY_FACTOR = 50

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=5),
    derandomize="EMBEDLAB_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)


# ---------------------------------------------------------------------------- the bound
class Hang(BaseException):
    """Raised by the timer in a reader that runs past HANG_SECONDS."""


def _alarm(signum, frame):
    raise Hang(f"the reader ran past {HANG_SECONDS} s")


def _max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bounded(read, path: Path, size: int):
    """Run `read(path)`: data or an EmbedlabError, in bounded time and memory."""
    limit = MEMORY_FLOOR + MEMORY_FACTOR * size
    rss = _max_rss()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    tracemalloc.start()
    try:
        result = read(path)
    except EmbedlabError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip(), repr(exc)
        result = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= limit, f"traced peak {peak:,} bytes for a {size:,}-byte input"
    assert _max_rss() - rss <= limit, f"peak RSS grew {_max_rss() - rss:,} bytes"
    return result


# ---------------------------------------------------------------------------- the seeds
def _words(n: int = 12) -> list[str]:
    return ["the", "naïve", "日本", "a,b", '"q"', "NA"] + [f"w{i}" for i in range(n - 6)]


def _fasttext_bin(dim: int = 4, bucket: int = 6, minn: int = 2, maxn: int = 3,
                  long_word: bytes = b"") -> bytes:
    """A tiny fastText .bin model, laid out as fastText 0.9 writes it."""
    words = [b"</s>", b"cat", b"dog", "naïve".encode()] + ([long_word] if long_word else [])
    out = struct.pack("<2i", FASTTEXT_MAGIC, 12)
    out += struct.pack("<12id", dim, 5, 5, 1, 5, 1, 1, 1, bucket, minn, maxn, 100, 1e-4)
    out += struct.pack("<3i2q", len(words), len(words), 0, 100, -1)
    for k, word in enumerate(words):
        out += word + b"\x00" + struct.pack("<qb", 10 - k, 0)
    rows = len(words) + bucket
    out += struct.pack("<?2q", False, rows, dim)
    out += np.arange(rows * dim, dtype="<f4").tobytes()
    return out


def _compressed(data: bytes, kind: str | None) -> bytes:
    return {None: bytes, "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](
        data)


@functools.cache
def vector_seeds() -> dict[str, bytes]:
    words = _words()
    matrix = np.random.default_rng(0).standard_normal((len(words), 5)).astype(np.float32)
    matrix[3, 2] = 1e30
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        wv = WordVectors(words, matrix)
        for name in ("v.txt", "v.vec", "v.bin"):
            seeds[name] = wv.save(Path(tmp) / name).read_bytes()
        plain = [w for w in words if " " not in w]
        WordVectors(plain, matrix[: len(plain)]).save(Path(tmp) / "b.bin")
        seeds["b.bin"] = (Path(tmp) / "b.bin").read_bytes()
    seeds["ft.bin"] = _fasttext_bin()
    for kind in ("gz", "bz2", "xz"):
        seeds[f"v.txt.{kind}"] = _compressed(seeds["v.txt"], kind)
        seeds[f"v.vec.{kind}"] = _compressed(seeds["v.vec"], kind)
    return seeds


@functools.cache
def table_seeds() -> dict[str, bytes]:
    table = pa.table({
        "user": ["u1", "u2", None, "ü3", "u1", "u5"],
        "item": [1, 2, 3, 4, 5, 6],
        "score": [0.5, None, 1e300, -2.0, 0.0, 3.25],
        "flag": [True, False, True, None, False, True],
    })
    seeds = {}
    for name, opts in (("t.csv", ","), ("t.tsv", "\t")):
        sink = io.BytesIO()
        pcsv.write_csv(table, sink, write_options=pcsv.WriteOptions(delimiter=opts))
        seeds[name] = sink.getvalue()
    seeds["t.jsonl"] = "".join(json.dumps(row) + "\n" for row in table.to_pylist()).encode()
    for name, compression in (("t.parquet", "snappy"), ("p.parquet", "none")):
        sink = io.BytesIO()
        pq.write_table(table, sink, row_group_size=2, compression=compression)
        seeds[name] = sink.getvalue()
    return seeds


@functools.cache
def text_seeds() -> dict[str, bytes]:
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        vocab = Vocabulary.build([["a", "b", "a"], ["c", "ü", "a"]])
        seeds["vocabulary.txt"] = vocab.save(tmp / "vocabulary.txt").read_bytes()
        TextEncoder(max_tokens=50).fit(["a b c", "b c d", "ü a"]).save(tmp / "enc")
        seeds["encoder.json"] = (tmp / "enc" / "encoder.json").read_bytes()
        vocabularies = {
            "city": CategoricalVocabulary().fit(["x", "y", "x", "z"]),
            "user": CategoricalVocabulary(buckets=8).fit(["u1", "u2", "u3"]),
        }
        save_vocabularies(tmp / "categorical.json", vocabularies, hashes=tmp / "h.npz")
        seeds["categorical.json"] = (tmp / "categorical.json").read_bytes()
        seeds["h.npz"] = (tmp / "h.npz").read_bytes()
    return seeds


@functools.cache
def bundle_seeds() -> dict[str, bytes]:
    import h5py

    seeds = {}
    manifest = {"embedlab_version": "0.1", "format_version": 1, "kind": "text",
                "task": "binary", "recipe": "bag", "columns": {"text": "review"},
                "attributes": [{"table": "tokens", "name": "share", "key": "a0"}]}
    seeds["manifest.json"] = json.dumps(manifest, indent=1).encode()
    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        h5.create_dataset("layers/embedding/vars/0", data=np.ones((7, 3), np.float32))
        h5.create_dataset("layers/dense/vars/0", data=np.ones((3, 1), np.float32))
    config = {"config": {"layers": [
        {"class_name": "InputLayer", "config": {"name": "ids"}},
        {"class_name": "Embedding", "config": {"name": "tokens"}},
        {"class_name": "Dense", "config": {"name": "out"}}]}}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("config.json", json.dumps(config))
        zipped.writestr("model.weights.h5", weights.getvalue())
    seeds["model.keras"] = archive.getvalue()
    for name, save in (("attributes.npz", np.savez_compressed), ("plain.npz", np.savez)):
        sink = io.BytesIO()
        save(sink, a0=np.linspace(0, 1, 7), users=np.arange(12, dtype=np.int64).reshape(3, 4))
        seeds[name] = sink.getvalue()
    sink = io.BytesIO()
    np.save(sink, np.ones((7, 3), np.float32))
    seeds["embedding_initial.npy"] = sink.getvalue()
    return seeds


# ---------------------------------------------------------------------------- mutation
_NUMBERS = [b"0", b"-1", b"1", b"-2147483648", b"2147483647", b"4294967296", b"1000000000",
            b"999999999999999999", b"9" * 40, b"1e9", b"nan", b"+3", b" "]
_INTS = [0, 1, -1, 2, 255, 2**31 - 1, -(2**31), 2**32 - 1, 2**40, 2**62, -(2**62)]


@st.composite
def mutations(draw, data: bytes, seeds: dict[str, bytes]) -> bytes:
    """`data` after one to four random edits."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "number",
                                   "integer", "splice", "repeat"]))
        at = draw(st.integers(0, len(out)))
        if op == "truncate":
            del out[at:]
        elif op == "flip" and out:
            at = min(at, len(out) - 1)
            out[at] ^= draw(st.integers(1, 255))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del out[at : at + draw(st.integers(1, 64))]
        elif op == "number":
            found = list(re.finditer(rb"\d+", bytes(out)))
            if found:
                hit = found[draw(st.integers(0, len(found) - 1))]
                out[hit.start() : hit.end()] = draw(st.sampled_from(_NUMBERS))
        elif op == "integer":
            width = draw(st.sampled_from([4, 8]))
            value = draw(st.sampled_from(_INTS)) % (1 << (8 * width))
            out[at : at + width] = value.to_bytes(width, "little")
        elif op == "splice":
            other = seeds[draw(st.sampled_from(sorted(seeds)))]
            start = draw(st.integers(0, len(other)))
            out[at:at] = other[start : start + draw(st.integers(1, 256))]
        elif op == "repeat" and out:
            piece = bytes(out[at : at + draw(st.integers(1, 64))])
            out[at:at] = piece * draw(st.integers(1, 50))
    return bytes(out)


_PREFIXES = [b"", b"3 4\n", b"2 1000000000\n", struct.pack("<2i", FASTTEXT_MAGIC, 12),
             b"\x93NUMPY\x01\x00", b"PAR1", b"PK\x03\x04", b"\x1f\x8b\x08", b"BZh9",
             b"\xfd7zXZ\x00", b"<pad>\t0\n<unk>\t0\n", b'{"format_version": 1, ']


@st.composite
def inputs(draw, seeds: dict[str, bytes], names: list[str] | None = None) -> tuple[str, bytes]:
    """(seed name, bytes): a mutated seed, or arbitrary bytes behind a telling prefix."""
    name = draw(st.sampled_from(sorted(names or seeds)))
    if draw(st.integers(0, 4)) == 0:
        return name, draw(st.sampled_from(_PREFIXES)) + draw(st.binary(max_size=2048))
    return name, draw(mutations(seeds[name], seeds))


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def _fresh(folder: Path, name: str) -> Path:
    path = folder / name
    if path.is_dir():
        shutil.rmtree(path)
    path.mkdir()
    return path


# ---------------------------------------------------------------------------- vectors
@FUZZ
@given(case=inputs(vector_seeds()))
def test_detect_format_ends_in_a_name_or_an_embedlab_error(folder, case):
    name, data = case
    found = bounded(detect_format, _write(folder, name, data), len(data))
    assert found is None or isinstance(found, str)


@FUZZ
@given(case=inputs(vector_seeds()), options=st.fixed_dictionaries({
    "format": st.sampled_from([None, "glove", "word2vec", "word2vec-binary", "fasttext-bin"]),
    "limit": st.sampled_from([None, 1, 3, 1000]),
    "on_bad_line": st.sampled_from(["error", "skip"]),
    "on_nonfinite": st.sampled_from(["error", "skip", "zero"]),
}))
def test_word_vectors_load_ends_in_vectors_or_an_embedlab_error(folder, case, options):
    name, data = case

    def read(path):
        wv = WordVectors.load(path, cache=False, **options)
        assert wv.vectors.ndim == 2 and len(wv) == len(wv.vectors) >= 1
        return wv

    bounded(read, _write(folder, name, data), len(data))


@FUZZ
@given(case=inputs(vector_seeds(), ["v.txt", "v.vec"]),
       kind=st.sampled_from(["gz", "bz2", "xz"]))
def test_compressed_mutated_text_ends_in_vectors_or_an_embedlab_error(folder, case, kind):
    name, data = case
    packed = _compressed(data, kind)
    path = _write(folder, f"{name}.{kind}", packed)
    bounded(lambda p: WordVectors.load(p, cache=False), path, len(packed) + len(data))


@FUZZ
@given(matrix=inputs(bundle_seeds(), ["embedding_initial.npy"]),
       words=inputs(table_seeds(), ["t.parquet"]), plain=st.booleans())
def test_npy_folder_ends_in_vectors_or_an_embedlab_error(folder, matrix, words, plain):
    where = _fresh(folder, "npy")
    _write(where, "vectors.npy", matrix[1])
    if plain:
        _write(where, "words.txt", words[1])
    else:
        _write(where, "words.parquet", words[1])
    size = len(matrix[1]) + len(words[1])
    bounded(lambda p: WordVectors.load(p, cache=False), where, size)


# ---------------------------------------------------------------------------- data
@FUZZ
@given(case=inputs(table_seeds()))
def test_read_table_ends_in_a_table_or_an_embedlab_error(folder, case):
    name, data = case
    table = bounded(read_table, _write(folder, name, data), len(data))
    assert table is None or table.num_rows >= 1


def _stream_all(path):
    stream = TableStream(path, columns=None, batch_rows=3)
    return sum(batch.num_rows for batch in stream.batches(np.random.default_rng(0)))


@FUZZ
@given(case=inputs(table_seeds(), ["t.csv", "t.tsv", "t.parquet", "p.parquet"]))
def test_table_stream_ends_in_batches_or_an_embedlab_error(folder, case):
    name, data = case
    bounded(_stream_all, _write(folder, name, data), len(data))


@FUZZ
@given(case=inputs(table_seeds(), ["t.parquet", "p.parquet"]))
def test_parquet_directory_ends_in_batches_or_an_embedlab_error(folder, case):
    where = _fresh(folder, "dataset")
    (where / "part=a").mkdir()
    (where / "part=a" / "good.parquet").write_bytes(table_seeds()["p.parquet"])
    (where / "part=b").mkdir()
    _write(where / "part=b", "bad.parquet", case[1])
    bounded(_stream_all, where, 2 * len(case[1]) + len(table_seeds()["p.parquet"]))
    bounded(read_table, where, 2 * len(case[1]) + len(table_seeds()["p.parquet"]))


# ---------------------------------------------------------------------------- text
@FUZZ
@given(case=inputs(text_seeds(), ["vocabulary.txt"]))
def test_vocabulary_load_ends_in_a_vocabulary_or_an_embedlab_error(folder, case):
    bounded(Vocabulary.load, _write(folder, "vocabulary.txt", case[1]), len(case[1]))


@FUZZ
@given(config=inputs(text_seeds(), ["encoder.json"]),
       vocabulary=inputs(text_seeds(), ["vocabulary.txt"]))
def test_text_encoder_load_ends_in_an_encoder_or_an_embedlab_error(folder, config, vocabulary):
    where = _fresh(folder, "encoder")
    _write(where, "encoder.json", config[1])
    _write(where, "vocabulary.txt", vocabulary[1])
    bounded(TextEncoder.load, where, len(config[1]) + len(vocabulary[1]))


@FUZZ
@given(document=inputs(text_seeds(), ["categorical.json"]),
       hashes=inputs(text_seeds(), ["h.npz"]))
def test_categorical_vocabularies_end_in_data_or_an_embedlab_error(folder, document, hashes):
    path = _write(folder, "categorical.json", document[1])
    npz = _write(folder, "h.npz", hashes[1])
    bounded(lambda p: load_vocabularies(p, hashes=npz), path, len(document[1]) + len(hashes[1]))


# ---------------------------------------------------------------------------- bundles
def _bundle(folder: Path, **files: bytes) -> Path:
    where = _fresh(folder, "bundle")
    (where / "encoder").mkdir()
    for name, data in {**bundle_seeds(), **files}.items():
        _write(where, name, data)
    return where


@FUZZ
@given(case=inputs(bundle_seeds(), ["manifest.json"]))
def test_read_manifest_ends_in_a_dict_or_an_embedlab_error(folder, case):
    where = _bundle(folder, **{"manifest.json": case[1]})
    found = bounded(artifacts.read_manifest, where, len(case[1]))
    assert found is None or isinstance(found, dict)


@FUZZ
@given(case=inputs(bundle_seeds(), ["model.keras"]))
def test_read_layer_shapes_ends_in_shapes_or_an_embedlab_error(folder, case):
    where = _bundle(folder, **{"model.keras": case[1]})
    bounded(lambda p: artifacts.read_layer_shapes(p, ["tokens"]), where, len(case[1]))
    bounded(lambda p: artifacts.read_layer_weights(p, ["tokens"]), where, len(case[1]))


@FUZZ
@given(case=inputs(bundle_seeds(), ["attributes.npz", "plain.npz", "embedding_initial.npy"]))
def test_bundle_arrays_end_in_arrays_or_an_embedlab_error(folder, case):
    name, data = case
    files = {"attributes.npz": data, "interactions.npz": data, "embedding_initial.npy": data}
    where = _bundle(folder, **files)
    manifest = json.loads(bundle_seeds()["manifest.json"])
    size = len(data)
    bounded(lambda p: artifacts.read_attributes(p, manifest), where, size)
    bounded(lambda p: artifacts.read_arrays(p, "interactions.npz", ["a0", "users"]), where, size)
    bounded(lambda p: artifacts.read_array(p, "embedding_initial.npy"), where, size)


# ---------------------------------------------------------------------------- regressions
def _raises(error, read, path, size, words):
    """`read(path)` raises `error`, with `words` in its one-line message, within bounds."""
    caught = []

    def run(p):
        try:
            read(p)
        except EmbedlabError as exc:
            caught.append(exc)
            raise

    bounded(run, path, size)
    assert caught, f"no error from {path}"
    assert isinstance(caught[0], error) and words in str(caught[0]), repr(caught[0])


def test_damaged_gzip_stream_is_a_vectors_error(tmp_path):
    from embedlab.errors import VectorsError

    data = bytearray(vector_seeds()["v.vec.gz"])
    data[40:60] = b"\xff" * 20  # the deflate stream, after the gzip header
    path = _write(tmp_path, "v.vec.gz", bytes(data))
    _raises(VectorsError, detect_format, path, len(data), "damaged")
    _raises(VectorsError, lambda p: WordVectors.load(p, cache=False), path, len(data), "damaged")


def test_header_claiming_a_billion_dimensions_is_refused_before_allocating(tmp_path):
    from embedlab.errors import VectorsError

    data = b"200 1000000000\n" + b"".join(b"w%d 0.1 0.2\n" % i for i in range(200))
    path = _write(tmp_path, "huge.vec", data)
    _raises(VectorsError, lambda p: WordVectors.load(p, cache=False), path, len(data),
            "1,000,000,000 dimensions")


def test_wide_lines_parse_in_memory_bounded_by_the_file(tmp_path):
    dim = 300_000
    data = b"2 %d\n" % dim + b"w" + b" 0.5" * dim + b"\nv" + b" 1" * dim + b"\n"
    path = _write(tmp_path, "wide.vec", data)
    wv = bounded(lambda p: WordVectors.load(p, cache=False), path, len(data))
    assert wv.vectors.shape == (2, dim) and wv["v"][-1] == 1 and wv["w"][0] == 0.5


def test_fasttext_header_claims_are_checked_against_the_file_size(tmp_path):
    from embedlab.errors import VectorsError

    seed = bytearray(_fasttext_bin())
    cases = {  # offset of the field in the header: its value
        "entries": (64, 2**31 - 1),  # the dictionary's entry count
        "bucket": (40, 2**31 - 1),
        "dim": (8, -4),
        "maxn": (48, 2**31 - 1),
    }
    for what, (offset, value) in cases.items():
        data = bytearray(seed)
        data[offset : offset + 4] = struct.pack("<i", value)
        if what == "maxn":  # a long word of all lengths of n-grams: 200 million of them
            data = bytearray(_fasttext_bin(minn=1, maxn=2**31 - 1, long_word=b"x" * 20_000))
        path = _write(tmp_path, f"{what}.bin", bytes(data))
        _raises(VectorsError, lambda p: WordVectors.load(p, format="fasttext-bin", cache=False),
                path, len(data), "header")


def test_damaged_npy_matrix_and_word_list_are_vectors_errors(tmp_path):
    from embedlab.errors import VectorsError

    good_words = table_seeds()["t.parquet"]
    for name, matrix, words in (("empty", b"", good_words),
                                ("header", b"\x93NUMPY\x01\x00v\x00z'descr'", good_words),
                                ("words", bundle_seeds()["embedding_initial.npy"], b"")):
        where = _fresh(tmp_path, name)
        _write(where, "vectors.npy", matrix)
        _write(where, "words.parquet", words)
        _raises(VectorsError, lambda p: WordVectors.load(p, cache=False), where, 4096,
                "Cannot read")


def test_damaged_parquet_page_is_a_data_error(tmp_path):
    from embedlab.errors import DataError

    data = bytearray(table_seeds()["p.parquet"])
    data[4:40] = b"\xee" * 36  # the first page header; the footer stays readable
    path = _write(tmp_path, "bad.parquet", bytes(data))
    _raises(DataError, _stream_all, path, len(data), "cannot read")


def test_csv_header_that_is_not_utf8_is_a_data_error(tmp_path):
    from embedlab.errors import DataError

    path = _write(tmp_path, "t.csv", b'\x80user,item\nu1,1\n')
    _raises(DataError, read_table, path, 64, "UTF-8")
    _raises(DataError, _stream_all, path, 64, "UTF-8")


def _npy(header: str, body: bytes = b"") -> bytes:
    text = header.encode().ljust(118) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + body


def test_damaged_bundle_arrays_are_bundle_errors(tmp_path):
    from embedlab.errors import BundleError

    huge = _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("a0.npy", huge)
        zipped.writestr("users.npy", huge)
    deflated = bytearray(bundle_seeds()["attributes.npz"])
    deflated[60:80] = b"\xff" * 20
    manifest = json.loads(bundle_seeds()["manifest.json"])
    for data in (b"", b"PK\x03\x04", archive.getvalue(), bytes(deflated)):
        where = _bundle(tmp_path, **{"attributes.npz": data, "interactions.npz": data})
        _raises(BundleError, lambda p: artifacts.read_attributes(p, manifest), where,
                len(data), "damaged")
        _raises(BundleError, lambda p: artifacts.read_arrays(p, "interactions.npz", ["a0"]),
                where, len(data), "damaged")
    for data in (b"", bundle_seeds()["attributes.npz"], huge, _npy("{'descr': '<f4',")):
        where = _bundle(tmp_path, **{"embedding_initial.npy": data})
        _raises(BundleError, lambda p: artifacts.read_array(p, "embedding_initial.npy"), where,
                len(data), "damaged")


def test_damaged_model_archive_is_a_bundle_error(tmp_path):
    from embedlab.errors import BundleError

    data = bytearray(bundle_seeds()["model.keras"])
    data[60:80] = b"\xff" * 20  # inside config.json's deflate stream
    where = _bundle(tmp_path, **{"model.keras": bytes(data)})
    _raises(BundleError, lambda p: artifacts.read_layer_shapes(p, ["tokens"]), where,
            len(data), "cannot read the tables")


def test_model_archive_claiming_a_huge_table_is_refused(tmp_path):
    import h5py

    from embedlab.errors import BundleError

    weights = io.BytesIO()
    with h5py.File(weights, "w") as h5:
        h5.create_dataset("layers/embedding/vars/0", shape=(10**6, 10**4), dtype="f4")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("config.json", json.dumps({"config": {"layers": [
            {"class_name": "Embedding", "config": {"name": "tokens"}}]}}))
        zipped.writestr("model.weights.h5", weights.getvalue())
    where = _bundle(tmp_path, **{"model.keras": archive.getvalue()})
    size = len(archive.getvalue())
    for read in (artifacts.read_layer_shapes, artifacts.read_layer_weights):
        _raises(BundleError, lambda p, read=read: read(p, ["tokens"]), where, size,
                "claims a table")


def test_categorical_count_out_of_range_is_a_bundle_error(tmp_path):
    from embedlab.errors import BundleError

    document = json.loads(text_seeds()["categorical.json"])
    document["columns"]["city"]["counts"][0] = 10**40
    path = _write(tmp_path, "categorical.json", json.dumps(document).encode())
    _raises(BundleError, load_vocabularies, path, 4096, "out of range")


def test_skipping_every_nonfinite_row_is_a_vectors_error_not_empty_vectors(tmp_path):
    from embedlab.errors import VectorsError

    data = b"2 3\na nan 1 2\nb 1 inf 2\n"
    path = _write(tmp_path, "bad.vec", data)
    _raises(VectorsError, lambda p: WordVectors.load(p, cache=False, on_nonfinite="skip"),
            path, len(data), "leaves no vectors")


def test_npy_shape_beyond_any_memory_is_refused(tmp_path):
    from embedlab.errors import BundleError, VectorsError

    data = _npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': (0, {10**40}), }}")
    where = _fresh(tmp_path, "npy")
    _write(where, "vectors.npy", data)
    _write(where, "words.parquet", table_seeds()["t.parquet"])
    _raises(VectorsError, lambda p: WordVectors.load(p, cache=False), where, 4096, "fits")
    bundle = _bundle(tmp_path, **{"embedding_initial.npy": data})
    _raises(BundleError, lambda p: artifacts.read_array(p, "embedding_initial.npy"), bundle,
            len(data), "fits")


def test_text_encoder_setting_out_of_range_is_a_data_error(tmp_path):
    from embedlab.errors import DataError

    document = json.loads(text_seeds()["encoder.json"])
    document["config"]["training_lengths"]["counts"][0] = 10**40
    where = _fresh(tmp_path, "encoder")
    _write(where, "encoder.json", json.dumps(document).encode())
    _write(where, "vocabulary.txt", text_seeds()["vocabulary.txt"])
    _raises(DataError, TextEncoder.load, where, 4096, "invalid setting")


def test_npy_header_length_claim_is_checked_before_reading_it(tmp_path):
    from embedlab.errors import BundleError

    data = bytearray(bundle_seeds()["embedding_initial.npy"])
    data[6] = 3  # version 3 reads a 4-byte header length: 'v\x00{\'' claims 660 MB
    bundle = _bundle(tmp_path, **{"embedding_initial.npy": bytes(data)})
    _raises(BundleError, lambda p: artifacts.read_array(p, "embedding_initial.npy"), bundle,
            len(data), "header of at most")


def test_csv_with_a_repeated_column_name_is_a_data_error_when_streamed(tmp_path):
    from embedlab.errors import DataError

    path = _write(tmp_path, "t.csv", b"a,a,b\n1,2,3\n")
    _raises(DataError, _stream_all, path, 64, "more than one column named 'a'")


def test_parquet_column_name_that_is_not_utf8_is_a_data_error(tmp_path):
    from embedlab.errors import DataError

    data = table_seeds()["p.parquet"].replace(b"user", b"\xf3ser")
    path = _write(tmp_path, "t.parquet", data)
    _raises(DataError, _stream_all, path, len(data), "UTF-8")
    _raises(DataError, read_table, path, len(data), "UTF-8")


def test_zip_member_claiming_more_than_the_archive_holds_is_refused(tmp_path):
    from embedlab.errors import BundleError

    data = bytearray(bundle_seeds()["model.keras"])
    entry = data.find(b"PK\x01\x02")  # the central directory's entry of config.json
    data[entry + 20 : entry + 28] = struct.pack("<2I", 2**30, 2**30)  # compressed, full size
    where = _bundle(tmp_path, **{"model.keras": bytes(data), "attributes.npz": bytes(data)})
    _raises(BundleError, lambda p: artifacts.read_layer_shapes(p, ["tokens"]), where,
            len(data), "cannot hold")
    _raises(BundleError, lambda p: artifacts.read_arrays(p, "attributes.npz", ["config.json"]),
            where, len(data), "damaged")


def test_compressed_binary_header_with_a_huge_dimension_is_a_vectors_error(tmp_path):
    from embedlab.errors import VectorsError

    data = gzip.compress(b"12 5555555555555555555\n\x00\x01\x02 binary\n")
    path = _write(tmp_path, "v.bin.gz", data)
    _raises(VectorsError, lambda p: WordVectors.load(p, cache=False), path, len(data),
            "truncated")
