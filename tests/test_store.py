import json
import multiprocessing as mp

import pytest
from conftest import invoke, prepare_tiny

from vgisgan.errors import VgisganError
from vgisgan.store import SCHEMA_VERSION, Store, made_by_this_version


def _publish(store: Store, name: str, payload: bytes, key: str = "k"):
    with store.draft("gan", name) as d:
        (d.path / "w.bin").write_bytes(payload)
        return d.publish({"a": 1}, [], {}, key)


def test_publish_writes_manifest_with_hashes(tmp_path):
    art = _publish(Store(tmp_path), "m", b"hello")
    m = json.loads((art.path / "manifest.json").read_text())
    assert m["schema_version"] == SCHEMA_VERSION and m["id"] == "gan/m@v1" and m["kind"] == "gan"
    assert m["files"] == [
        {"path": "w.bin", "size": 5, "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}
    ]
    assert {"created", "vgisgan_version", "config", "inputs", "content_hash"} <= set(m)


def test_failure_mid_write_publishes_nothing(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(RuntimeError):
        with store.draft("gan", "m") as d:
            (d.path / "half.bin").write_bytes(b"x")
            raise RuntimeError("killed")
    assert store.list() == [] and not (tmp_path / "gan" / "m").exists()
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_gc_removes_leftovers_of_dead_runs_only(tmp_path):
    store = Store(tmp_path)
    dead = tmp_path / ".tmp" / "gan-m-999999999-deadbeef"
    dead.mkdir(parents=True)
    live = store.draft("gan", "m")  # owned by this (live) process
    assert store.gc() == [dead]
    assert live.path.exists()
    live.__exit__(None, None, None)


def _publish_in_process(root, i):
    _publish(Store(root), "shared", str(i).encode() * 1000, key=str(i))


def test_concurrent_publishes_get_distinct_versions(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_publish_in_process, args=(str(tmp_path), i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = Store(tmp_path)
    assert store.versions("gan", "shared") == [1, 2, 3, 4]
    payloads = sorted((a.path / "w.bin").read_bytes()[:1] for a in store.list("gan"))
    assert payloads == [b"0", b"1", b"2", b"3"]
    assert all(store.verify(a) == [] for a in store.list())


def test_verify_catches_flipped_byte_missing_and_extra(tmp_path):
    store = Store(tmp_path)
    art = _publish(store, "m", b"abcdef")
    assert store.verify(art) == []
    data = bytearray((art.path / "w.bin").read_bytes())
    data[2] ^= 1
    (art.path / "w.bin").write_bytes(bytes(data))
    (art.path / "extra.txt").write_text("x")
    assert store.verify(art) == ["changed: w.bin", "extra: extra.txt"]
    r = invoke("artifacts", "verify", "gan/m@v1", "--store", tmp_path)
    assert r.exit_code == 1 and "changed: w.bin" in r.output
    (art.path / "w.bin").unlink()
    assert "missing: w.bin" in store.verify(art)


def test_unknown_schema_version_and_wrong_kind_are_rejected(tmp_path):
    store = Store(tmp_path)
    art = _publish(store, "m", b"x")
    with pytest.raises(VgisganError, match="a frames artifact is needed"):
        store.resolve("gan/m", "frames")
    m = json.loads((art.path / "manifest.json").read_text())
    m["schema_version"] = 99
    (art.path / "manifest.json").write_text(json.dumps(m))
    r = invoke("artifacts", "show", "gan/m@v1", "--store", tmp_path)
    assert r.exit_code == 2 and "schema version 99" in r.output and "manifest.json" in r.output


def test_artifacts_of_another_vgisgan_version_are_not_reused(tmp_path):
    store = Store(tmp_path)
    art = _publish(store, "m", b"1", key="a")
    assert made_by_this_version(store.same_config("gan", "m", "a")).ref == art.ref
    m = json.loads((art.path / "manifest.json").read_text())
    m["vgisgan_version"] = "0.0.1"
    (art.path / "manifest.json").write_text(json.dumps(m))
    assert made_by_this_version(store.same_config("gan", "m", "a")) is None


def test_references_and_latest(tmp_path):
    store = Store(tmp_path)
    _publish(store, "m", b"1", key="a")
    _publish(store, "m", b"2", key="b")
    assert store.resolve("gan/m", "gan").manifest.version == 2
    assert store.resolve("gan/m@v1", "gan").manifest.version == 1
    assert store.resolve(None, "gan").manifest.version == 2
    assert made_by_this_version(store.same_config("gan", "m", "a")).manifest.version == 1
    with pytest.raises(VgisganError, match="not an artifact reference"):
        store.resolve("gan/m@vx", "gan")
    with pytest.raises(VgisganError, match="no artifact gan/zzz"):
        store.resolve("gan/zzz", "gan")


def test_list_show_json_and_lineage(frames_store, tmp_path):
    r = invoke("artifacts", "list", "--json", "--store", frames_store)
    rows = json.loads(r.output)
    assert [x["ref"] for x in rows] == ["frames/synthetic@v1"]
    assert set(rows[0]) == {"ref", "kind", "name", "version", "created", "content_hash", "path", "summary"}
    r = invoke("artifacts", "show", "frames/synthetic", "--json", "--store", frames_store)
    shown = json.loads(r.output)
    assert shown["manifest"]["kind"] == "frames" and shown["lineage"]["inputs"] == []


def test_rerun_reuses_and_force_makes_new_version(store_copy):
    r = prepare_tiny(store_copy)
    assert r.exit_code == 0 and "reused frames/synthetic@v1" in r.output
    r = prepare_tiny(store_copy, 32, 3, 2, 24, "--force")
    assert r.exit_code == 0 and "published frames/synthetic@v2" in r.output


def test_rerun_after_a_version_change_says_why_it_does_not_reuse(store_copy):
    manifest = store_copy / "frames" / "synthetic" / "v1" / "manifest.json"
    m = json.loads(manifest.read_text())
    m["vgisgan_version"] = "0.0.1"
    manifest.write_text(json.dumps(m))
    r = prepare_tiny(store_copy)
    assert r.exit_code == 0, r.output
    assert "not reusing frames/synthetic@v1" in r.output and "made by vgisgan 0.0.1" in r.output
    assert "published frames/synthetic@v2" in r.output
