"""Which frame cache, GAN and detector an evaluation scores, and whether they fit together.

Defaults follow the lineage: the detector's own GAN (the one it reads, else the one its pseudo-anomalies were made
with), else the newest artifact of the kind made from the same frame cache.
"""

from __future__ import annotations

from vgisgan.data.cache import FrameCache
from vgisgan.errors import VgisganError
from vgisgan.store import Artifact, Store


def _frames_input(art: Artifact) -> str | None:
    return next((i.ref for i in art.manifest.inputs if i.role == "frames"), None)


def _newest_from(store: Store, kind: str, frames_hash: str) -> Artifact | None:
    """The newest artifact of `kind` made from the frame cache with this content hash (or None)."""
    fits = [
        a
        for a in store.list(kind)
        if any(i.role == "frames" and i.content_hash == frames_hash for i in a.manifest.inputs)
    ]
    return max(fits, key=lambda a: (a.manifest.created, a.manifest.version)) if fits else None


def resolve_inputs(
    store: Store, gan_ref, detector_ref, frames_ref
) -> tuple[Artifact, Artifact | None, Artifact | None]:
    gan = store.resolve(gan_ref, "gan") if gan_ref else None
    det = store.resolve(detector_ref, "detector") if detector_ref else None
    made_from = _frames_input(gan) if gan else (_frames_input(det) if det else None)
    frames = store.resolve(frames_ref or made_from, "frames")
    gan = gan or _detector_gan(store, det) or _newest_from(store, "gan", frames.manifest.content_hash)
    det = det or _newest_from(store, "detector", frames.manifest.content_hash)
    if gan is None and det is None:
        raise VgisganError(
            f"nothing to score {frames.ref} with: train a GAN (train-gan) or a detector first, or pass --gan/--detector"
        )
    return frames, gan, det


def _reads_gan(store: Store, det: Artifact | None) -> Artifact | None:
    """The GAN a frames+error detector reads the predictions of (None for a detector of frames alone)."""
    ref = next((i.ref for i in det.manifest.inputs if i.role == "gan"), None) if det else None
    return store.resolve(ref, "gan") if ref else None


def _detector_gan(store: Store, det: Artifact | None) -> Artifact | None:
    """The GAN that goes with a detector: the one it reads, else the one its pseudo-anomalies were made with."""
    if det is None:
        return None
    if reads := _reads_gan(store, det):
        return reads
    for ref in (i.ref for i in det.manifest.inputs if i.role == "pseudo"):
        pseudo = _resolve_or_none(store, ref, "pseudo")
        gan_ref = next((i.ref for i in pseudo.manifest.inputs if i.role == "gan"), None) if pseudo else None
        if gan_ref and (gan := _resolve_or_none(store, gan_ref, "gan")):
            return gan
    return None


def _resolve_or_none(store: Store, ref: str, kind: str) -> Artifact | None:
    """The artifact, or None where it was deleted since (the default then falls back to the newest)."""
    try:
        return store.resolve(ref, kind)
    except VgisganError:
        return None


def check_predictor(det: Artifact, gan: Artifact, store: Store) -> None:
    own = _reads_gan(store, det)
    if own is not None and own.manifest.content_hash != gan.manifest.content_hash:
        raise VgisganError(f"{det.ref} reads the predictions of {own.ref}, not of {gan.ref}: pass --gan {own.ref}")


def check_shape(art: Artifact, size, channels, cache: FrameCache, frames: Artifact) -> None:
    if tuple(size) != cache.size or channels != cache.channels:
        raise VgisganError(
            f"{art.ref} works on {list(size)}x{channels} frames but {frames.ref} holds "
            f"{list(cache.size)}x{cache.channels}: pass a matching --frames"
        )
