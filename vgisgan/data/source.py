"""Read a dataset from a folder or straight from an archive (.zip, .tar, .tar.gz/.tgz), without unpacking it.

Every path is a POSIX path relative to the folder or archive root. Videos inside an archive are copied to a
temporary file one at a time, because OpenCV's video reader needs a real file.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from vgisgan.errors import VgisganError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


class Source:
    """A dataset's files, wherever they live."""

    def __init__(self, location: Path):
        self.location = location

    def files(self) -> list[str]:
        raise NotImplementedError

    def read_bytes(self, rel: str) -> bytes:
        raise NotImplementedError

    @contextmanager
    def local_path(self, rel: str) -> Iterator[Path]:
        raise NotImplementedError
        yield  # pragma: no cover

    def describe(self, rel: str) -> str:
        """How to name a file in an error message."""
        return str(self.location / rel)

    def close(self) -> None:
        pass


class FolderSource(Source):
    def files(self) -> list[str]:
        return sorted(p.relative_to(self.location).as_posix() for p in self.location.rglob("*") if p.is_file())

    def read_bytes(self, rel: str) -> bytes:
        return (self.location / rel).read_bytes()

    @contextmanager
    def local_path(self, rel: str) -> Iterator[Path]:
        yield self.location / rel


class ArchiveSource(Source):
    def __init__(self, location: Path):
        super().__init__(location)
        self._lock = threading.Lock()  # archive readers are not thread-safe; decoding runs in threads
        try:
            if location.suffix == ".zip":
                self._zip: zipfile.ZipFile | None = zipfile.ZipFile(location)
                self._tar: tarfile.TarFile | None = None
                names = [i.filename for i in self._zip.infolist() if not i.is_dir()]
            else:
                self._zip, self._tar = None, tarfile.open(location)
                names = [m.name for m in self._tar.getmembers() if m.isfile()]
        except (zipfile.BadZipFile, tarfile.TarError, OSError) as e:
            raise VgisganError(f"{location} is not a readable archive ({e}): download it again") from e
        self._names = sorted(n.lstrip("./") for n in names)
        self._real = {n.lstrip("./"): n for n in names}

    def files(self) -> list[str]:
        return self._names

    def read_bytes(self, rel: str) -> bytes:
        with self._lock:
            if self._zip is not None:
                return self._zip.read(self._real[rel])
            assert self._tar is not None
            f = self._tar.extractfile(self._real[rel])
            if f is None:
                raise VgisganError(f"{self.describe(rel)} cannot be read from the archive")
            return f.read()

    @contextmanager
    def local_path(self, rel: str) -> Iterator[Path]:
        tmp = Path(tempfile.mkdtemp(prefix="vgisgan-"))
        try:
            path = tmp / Path(rel).name
            path.write_bytes(self.read_bytes(rel))
            yield path
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def describe(self, rel: str) -> str:
        return f"{self.location}:{rel}"

    def close(self) -> None:
        (self._zip or self._tar).close()  # type: ignore[union-attr]


def open_source(path: Path) -> Source:
    if path.is_dir():
        return FolderSource(path)
    if path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES):
        return ArchiveSource(path)
    if path.exists():
        raise VgisganError(f"{path} is neither a folder nor a .zip/.tar/.tar.gz/.tgz archive")
    raise VgisganError(f"{path} does not exist")
