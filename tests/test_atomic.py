"""The one atomic writer: whole files and directories or nothing, with the user's umask."""

from __future__ import annotations

import os
import stat

import pytest

from embedlab import atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umask_mode_and_a_replaced_file_keeps_its_own(tmp_path):
    new = atomic.write_text(tmp_path / "new.txt", "a\n")
    assert new.read_text() == "a\n"
    assert _mode(new) == 0o666 & ~atomic.umask()
    old = tmp_path / "old.txt"
    old.write_text("old")
    os.chmod(old, 0o640)
    atomic.write_text(old, "new")
    assert old.read_text() == "new" and _mode(old) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt", "old.txt"]


def test_a_failed_file_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic.atomic_file(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_a_directory_is_swapped_in_whole_and_the_old_copy_is_gone(tmp_path):
    target = tmp_path / "bundle"
    with atomic.atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    assert _mode(target) == 0o777 & ~atomic.umask()
    inode = target.stat().st_ino
    with atomic.atomic_directory(target) as tmp:
        (tmp / "b").write_text("2")
        assert (target / "a").exists()  # the old one stays readable until the swap
    assert sorted(p.name for p in target.iterdir()) == ["b"]
    assert target.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_a_failed_directory_build_leaves_the_old_one(tmp_path):
    target = tmp_path / "bundle"
    with atomic.atomic_directory(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic.atomic_directory(target) as tmp:
        (tmp / "b").write_text("2")
        raise RuntimeError("killed")
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_exchange_swaps_two_directories_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from_a").touch()
    (b / "from_b").touch()
    if not atomic.exchange(a, b):
        pytest.skip("this system cannot exchange two names in one step")
    assert [p.name for p in a.iterdir()] == ["from_b"]
    assert [p.name for p in b.iterdir()] == ["from_a"]


def test_keep_existing_keeps_a_directory_another_process_made(tmp_path):
    target = tmp_path / "entry"
    with atomic.atomic_directory(target, keep_existing=True) as tmp:
        (tmp / "ours").touch()
        target.mkdir()
        (target / "theirs").touch()
    assert [p.name for p in target.iterdir()] == ["theirs"]
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]
