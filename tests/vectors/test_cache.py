"""The binary cache: written once, reused, invalidated by a changed source, never corrupt."""

from __future__ import annotations

import os

import numpy as np

from embedlab.vectors import WordVectors, cache_root


def test_cache_root_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EMBEDLAB_CACHE_DIR", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x"
    monkeypatch.delenv("EMBEDLAB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "embedlab"


def test_written_then_reused_memory_mapped(glove_file, cache_dir):
    first = WordVectors.load(glove_file)
    assert first.cache_state == "created"
    assert first.cache_path.parent == cache_dir / "vectors"
    assert sorted(p.name for p in first.cache_path.iterdir()) == [
        "meta.json",
        "vectors.npy",
        "words.arrow",
    ]
    second = WordVectors.load(glove_file)
    assert second.cache_state == "reused" and _is_memory_mapped(second.vectors)
    assert second.index_to_key == first.index_to_key
    np.testing.assert_array_equal(np.asarray(second.vectors), first.vectors)
    np.testing.assert_array_equal(second.get_vector('"'), first.get_vector('"'))


def _is_memory_mapped(array) -> bool:
    import mmap

    base = array
    while getattr(base, "base", None) is not None:
        base = base.base
    return isinstance(base, mmap.mmap)


def test_no_cache(glove_file, cache_dir):
    wv = WordVectors.load(glove_file, cache=False)
    assert wv.cache_state == "disabled" and not cache_dir.exists()


def test_changed_source_is_never_served_stale(glove_file):
    old = WordVectors.load(glove_file)
    text = glove_file.read_text().replace("w0 ", "zz ", 1)
    glove_file.write_text(text)
    stat = glove_file.stat()
    os.utime(glove_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    new = WordVectors.load(glove_file)
    assert new.cache_state == "created" and "zz" in new and "zz" not in old
    assert not old.cache_path.exists()  # the stale entry was removed


def test_limit_and_options_have_their_own_entries(glove_file):
    full = WordVectors.load(glove_file)
    part = WordVectors.load(glove_file, limit=3)
    assert len(part) == 3 and part.cache_path != full.cache_path
    assert WordVectors.load(glove_file, limit=3).cache_state == "reused"
    assert WordVectors.load(glove_file).cache_state == "reused"


def _corrupt(folder, name, how):
    path = folder / name
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "flip":
        data[-3] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        path.unlink()


def test_corrupt_cache_is_discarded_and_rebuilt(glove_file):
    wv = WordVectors.load(glove_file)
    expected = np.array(wv.vectors)
    for name, how in [
        ("vectors.npy", "truncate"),
        ("vectors.npy", "flip"),
        ("words.arrow", "flip"),
        ("meta.json", "flip"),
        ("meta.json", "delete"),
    ]:
        _corrupt(wv.cache_path, name, how)
        again = WordVectors.load(glove_file)
        assert again.cache_state.startswith("rebuilt"), (name, how)
        np.testing.assert_array_equal(np.asarray(again.vectors), expected)
        assert WordVectors.load(glove_file).cache_state == "reused"


def test_unwritable_cache_still_loads(glove_file, monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("EMBEDLAB_CACHE_DIR", str(blocker))
    wv = WordVectors.load(glove_file)
    assert wv.cache_state.startswith("not written") and len(wv) == 50


def test_binary_and_fasttext_sources_are_cached_too(tmp_path, small):
    path = WordVectors(*small).save(tmp_path / "v.bin")
    assert WordVectors.load(path).cache_state == "created"
    assert WordVectors.load(path).cache_state == "reused"


def test_a_float_changed_between_the_sampled_pieces_is_caught_by_verify(tmp_path):
    # the cache is local state: a reload checks structure and sampled pieces (free, the
    # matrix stays mapped); --verify checks the whole matrix and rebuilds a damaged entry
    rng = np.random.default_rng(0)
    source = WordVectors([f"w{i}" for i in range(20_000)],
                         rng.standard_normal((20_000, 16)).astype(np.float32))
    path = source.save(tmp_path / "v.txt")
    first = WordVectors.load(path)
    matrix = first.cache_path / "vectors.npy"
    size = matrix.stat().st_size
    with open(matrix, "r+b") as handle:  # one float in the middle of an unsampled stretch
        handle.seek(size * 3 // 64 + (16 << 10) + 100)  # past a sampled piece, before the next
        handle.write(np.float32(12345.0).tobytes())
    assert WordVectors.load(path).cache_state == "reused"
    checked = WordVectors.load(path, verify=True)
    assert checked.cache_state == "rebuilt (the old one was corrupt)"
    np.testing.assert_array_equal(np.asarray(checked.vectors), np.asarray(first.vectors))
    assert WordVectors.load(path, verify=True).cache_state == "reused"
