"""Atomic folder replacement: a reader never sees a half-written model folder or export."""

from __future__ import annotations

from pathlib import Path

from ingest.atomic import replace_folder


def test_replace_folder_swaps_a_finished_folder_over_an_older_one(tmp_path: Path) -> None:
    dest = tmp_path / "model"
    dest.mkdir()
    (dest / "old-only.bin").write_bytes(b"old")
    new = tmp_path / ".model.tmp"
    new.mkdir()
    (new / "weights.bin").write_bytes(b"new")
    replace_folder(new, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["weights.bin"]  # nothing of the old left
    assert (dest / "weights.bin").read_bytes() == b"new" and not new.exists()
    fresh = tmp_path / ".fresh.tmp"
    fresh.mkdir()
    replace_folder(fresh, tmp_path / "first-time")  # no older folder: just moved into place
    assert (tmp_path / "first-time").is_dir()
