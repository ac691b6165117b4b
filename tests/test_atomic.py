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


def test_two_threads_replacing_one_file_each_leave_a_whole_file(tmp_path: Path) -> None:
    import threading

    from ingest.atomic import replacing

    path = tmp_path / "users.json"
    inside = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(payload: bytes) -> None:
        try:
            with replacing(path) as tmp:
                tmp.write_bytes(payload[:5])
                inside.wait(timeout=10)  # both writers hold a temporary at once
                with tmp.open("ab") as f:
                    f.write(payload[5:])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    a, b = b"A" * 4000, b"B" * 3000
    threads = [threading.Thread(target=write, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in (a, b)  # one writer's whole file, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]  # no temporary left


def test_every_file_written_in_place_goes_through_ingest_atomic() -> None:
    """A file replaced in place is written by ``ingest.atomic`` (flushed, renamed, folder
    flushed); ``os.replace`` elsewhere only moves finished folders or sets a file aside."""
    repo = Path(__file__).resolve().parent.parent
    allowed = {
        "ingest/atomic.py",  # the helper
        "ingest/fetch.py",  # moves the unpacked collection folder into place
        "retrieval/index_folder.py",  # swaps whole index folders
        "retrieval/stores/milvus.py",  # sets a Milvus Lite file aside, nothing written
        "ingest/dropin.py",  # creates a new file without replacing one (link or O_EXCL)
    }
    found = {
        p.relative_to(repo).as_posix()
        for pkg in ("ingest", "retrieval", "ui")
        for p in (repo / pkg).rglob("*.py")
        if "os.replace(" in p.read_text(encoding="utf-8")
        or "mkstemp(" in p.read_text(encoding="utf-8")
    }
    assert found <= allowed, sorted(found - allowed)
