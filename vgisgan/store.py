"""The on-disk artifact store.

Layout: ``STORE/<kind>/<name>/v<N>/`` holds ``manifest.json`` and the payload files. A reference is
``kind/name@vN`` (one version) or ``kind/name`` (its latest). Versions are published atomically: a stage
writes into ``STORE/.tmp/<unique>/`` and renames that folder to ``v<N>``; a rename onto an existing,
non-empty folder fails, so two runs publishing at once simply take the next free number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from vgisgan import __version__
from vgisgan.errors import VgisganError

SCHEMA_VERSION = 1
KINDS = ("frames", "gan", "pseudo", "detector", "eval")
MANIFEST = "manifest.json"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_REF_RE = re.compile(r"^(?:(?P<kind>[a-z]+)/)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:@v(?P<version>\d+))?$")


class PayloadFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    size: int
    sha256: str


class InputRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str  # what the stage used it for, e.g. "frames" or "gan"
    ref: str  # exact reference, kind/name@vN
    content_hash: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int
    kind: str
    name: str
    version: int
    id: str
    created: str
    vgisgan_version: str
    config: dict[str, Any]
    config_hash: str  # hash of the resolved config and the inputs' content: equal means "same run"
    inputs: list[InputRef]
    files: list[PayloadFile]
    content_hash: str  # hash over the payload files' hashes: what later stages record about this one
    summary: dict[str, Any]


@dataclass(frozen=True)
class Artifact:
    """A published version: its folder and its manifest."""

    path: Path
    manifest: Manifest

    @property
    def ref(self) -> str:
        return self.manifest.id

    def file(self, name: str) -> Path:
        return self.path / name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def made_by_this_version(arts: list[Artifact]) -> Artifact | None:
    """The first of `arts` that this vgisgan version made: with `Store.same_config`, the artifact a stage may
    reuse. The version is part of the rule because the same settings can mean different training in another
    release; a development checkout that changes code without a version bump needs --force."""
    return next((art for art in arts if art.manifest.vgisgan_version == __version__), None)


def check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise VgisganError(f"artifact name {name!r} is not allowed: use letters, digits, '.', '_' or '-' (at most 64)")
    return name


def _payload_files(folder: Path) -> list[PayloadFile]:
    files = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            rel = p.relative_to(folder).as_posix()
            files.append(PayloadFile(path=rel, size=p.stat().st_size, sha256=sha256_file(p)))
    return files


def _content_hash(files: list[PayloadFile]) -> str:
    return hash_json([(f.path, f.sha256) for f in files])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Draft:
    """A version being written. Use as a context manager; nothing is visible until `publish`."""

    def __init__(self, store: Store, kind: str, name: str):
        self.store, self.kind, self.name = store, kind, check_name(name)
        tmp_root = store.root / ".tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        self.path = tmp_root / f"{kind}-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.path.mkdir()
        self.published: Artifact | None = None

    def __enter__(self) -> Draft:
        return self

    def __exit__(self, *exc: object) -> None:
        # Anything not published (an error, Ctrl-C) is thrown away: no half-written version appears.
        if self.published is None:
            shutil.rmtree(self.path, ignore_errors=True)

    def publish(self, config: dict, inputs: list[InputRef], summary: dict, config_hash: str) -> Artifact:
        files = _payload_files(self.path)
        base = dict(
            schema_version=SCHEMA_VERSION,
            kind=self.kind,
            name=self.name,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            vgisgan_version=__version__,
            config=config,
            config_hash=config_hash,
            inputs=inputs,
            files=files,
            content_hash=_content_hash(files),
            summary=summary,
        )
        parent = self.store.root / self.kind / self.name
        parent.mkdir(parents=True, exist_ok=True)
        for _ in range(1000):
            version = self.store.latest_version(self.kind, self.name) + 1
            manifest = Manifest(version=version, id=f"{self.kind}/{self.name}@v{version}", **base)
            (self.path / MANIFEST).write_text(manifest.model_dump_json(indent=2))
            target = parent / f"v{version}"
            try:
                os.rename(self.path, target)
            except OSError:
                if target.exists():  # another run took this number first: try the next one
                    continue
                raise
            self.published = Artifact(target, manifest)
            return self.published
        raise VgisganError(f"could not find a free version number under {parent}")


class Store:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    # ----- references
    def parse_ref(self, ref: str, kind: str | None = None) -> tuple[str, str, int | None]:
        m = _REF_RE.match(ref.strip())
        if not m:
            raise VgisganError(f"{ref!r} is not an artifact reference: write kind/name@vN or kind/name")
        ref_kind = m.group("kind") or kind
        if ref_kind is None:
            raise VgisganError(f"{ref!r} names no kind: write kind/name, e.g. frames/{m.group('name')}")
        if ref_kind not in KINDS:
            raise VgisganError(f"unknown artifact kind {ref_kind!r} in {ref!r}: kinds are {', '.join(KINDS)}")
        if kind is not None and ref_kind != kind:
            raise VgisganError(f"{ref!r} is a {ref_kind} artifact, but a {kind} artifact is needed here")
        version = int(m.group("version")) if m.group("version") else None
        return ref_kind, m.group("name"), version

    def versions(self, kind: str, name: str) -> list[int]:
        folder = self.root / kind / name
        if not folder.is_dir():
            return []
        return sorted(int(p.name[1:]) for p in folder.iterdir() if re.fullmatch(r"v\d+", p.name))

    def latest_version(self, kind: str, name: str) -> int:
        versions = self.versions(kind, name)
        return versions[-1] if versions else 0

    def resolve(self, ref: str | None, kind: str) -> Artifact:
        """Find an artifact by reference; None means the most recently created one of `kind`."""
        if ref is None:
            candidates = self.list(kind)
            if not candidates:
                raise VgisganError(
                    f"no {kind} artifact in store {self.root}: run the stage that makes one first "
                    f"(see `vgisgan --help`), or pass --store"
                )
            return max(candidates, key=lambda a: (a.manifest.created, a.manifest.version))
        ref_kind, name, version = self.parse_ref(ref, kind)
        if version is None:
            version = self.latest_version(ref_kind, name)
            if version == 0:
                raise VgisganError(f"no artifact {ref_kind}/{name} in store {self.root}")
        return self.load(self.root / ref_kind / name / f"v{version}", expect_kind=kind)

    def load(self, folder: Path, expect_kind: str | None = None) -> Artifact:
        path = folder / MANIFEST
        if not path.is_file():
            raise VgisganError(f"{path} does not exist: no such artifact version")
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise VgisganError(f"{path} is not valid JSON ({e}); restore it or delete that version") from e
        version = raw.get("schema_version") if isinstance(raw, dict) else None
        if version != SCHEMA_VERSION:
            raise VgisganError(
                f"{path} has manifest schema version {version!r}; this vgisgan ({__version__}) reads "
                f"version {SCHEMA_VERSION}: use a matching vgisgan or re-run the stage"
            )
        try:
            manifest = Manifest.model_validate(raw)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(x) for x in first["loc"])
            raise VgisganError(f"{path} is not a valid manifest ({where}: {first['msg']})") from e
        if expect_kind is not None and manifest.kind != expect_kind:
            raise VgisganError(
                f"{manifest.id} is a {manifest.kind} artifact, but a {expect_kind} artifact is needed here"
            )
        return Artifact(folder, manifest)

    def list(self, kind: str | None = None) -> list[Artifact]:
        kinds = [kind] if kind else list(KINDS)
        found = []
        for k in kinds:
            for name_dir in sorted((self.root / k).glob("*")) if (self.root / k).is_dir() else []:
                for v in self.versions(k, name_dir.name):
                    found.append(self.load(name_dir / f"v{v}"))
        return found

    def same_config(self, kind: str, name: str, config_hash: str) -> list[Artifact]:
        """Every version of kind/name made from the same config and inputs, newest first, by any vgisgan."""
        arts = (self.load(self.root / kind / name / f"v{v}") for v in reversed(self.versions(kind, name)))
        return [art for art in arts if art.manifest.config_hash == config_hash]

    def draft(self, kind: str, name: str) -> Draft:
        if kind not in KINDS:
            raise VgisganError(f"unknown artifact kind {kind!r}")
        return Draft(self, kind, name)

    def input_ref(self, role: str, art: Artifact) -> InputRef:
        return InputRef(role=role, ref=art.ref, content_hash=art.manifest.content_hash)

    def work_dir(self, kind: str, name: str, config_hash: str) -> Path:
        """A private folder for resumable state (checkpoints) of one run, keyed by its config."""
        return self.root / ".work" / kind / name / config_hash[:16]

    # ----- maintenance
    def verify(self, art: Artifact) -> list[str]:
        """Problems found by re-hashing the payload: changed, missing or extra files."""
        problems = []
        listed = {f.path: f for f in art.manifest.files}
        for rel, f in listed.items():
            p = art.path / rel
            if not p.is_file():
                problems.append(f"missing: {rel}")
            elif p.stat().st_size != f.size or sha256_file(p) != f.sha256:
                problems.append(f"changed: {rel}")
        for p in sorted(art.path.rglob("*")):
            rel = p.relative_to(art.path).as_posix()
            if p.is_file() and p.name != MANIFEST and rel not in listed:
                problems.append(f"extra: {rel}")
        return problems

    def gc(self, checkpoints: bool = False) -> list[Path]:
        """Delete leftovers of runs that died before publishing (and, if asked, resumable checkpoints)."""
        removed = []
        tmp_root = self.root / ".tmp"
        for p in sorted(tmp_root.iterdir()) if tmp_root.is_dir() else []:
            m = re.search(r"-(\d+)-[0-9a-f]{8}$", p.name)
            if m and _pid_alive(int(m.group(1))):
                continue  # a run in progress owns it
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
        work = self.root / ".work"
        if checkpoints and work.is_dir():
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
        return removed

    def lineage(self, art: Artifact) -> dict:
        """The artifact and, recursively, what it was made from."""
        parents = []
        for inp in art.manifest.inputs:
            try:
                parent = self.resolve(inp.ref, self.parse_ref(inp.ref)[0])
                node = self.lineage(parent)
                node["hash_matches"] = parent.manifest.content_hash == inp.content_hash
            except VgisganError as e:
                node = {"ref": inp.ref, "missing": str(e)}
            node["role"] = inp.role
            parents.append(node)
        return {"ref": art.ref, "created": art.manifest.created, "inputs": parents}
