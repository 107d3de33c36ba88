"""What every stage shares: the result type and the "same config and inputs -> reuse" rule."""

from __future__ import annotations

from dataclasses import dataclass

from vgisgan import __version__
from vgisgan.progress import Notes
from vgisgan.store import Artifact, InputRef, Store, check_name, hash_json, made_by_this_version


@dataclass
class StageResult:
    artifact: Artifact
    reused: bool  # True when an existing version with the same config and inputs was returned


def run_hash(kind: str, config: dict, inputs: list[InputRef], extra: object = None) -> str:
    """Identity of a run: its kind, resolved config and the content of its inputs (not their names)."""
    return hash_json(
        {"kind": kind, "config": config, "inputs": [(i.role, i.content_hash) for i in inputs], "extra": extra}
    )


def try_reuse(store: Store, kind: str, name: str, config_hash: str, force: bool, notes: Notes) -> StageResult | None:
    """The artifact made from the same config and inputs, if any. Every stage calls it before its work, so a bad
    name is refused here rather than when the result is published."""
    check_name(name)
    if force:
        return None
    same = store.same_config(kind, name, config_hash)  # read once: the reusable one, or why there is none
    found = made_by_this_version(same)
    if found is None:
        if same:
            # Said out loud because a version bump can silently cost a GAN's half hour of training.
            notes(
                f"not reusing {same[0].ref}: same config and inputs, but made by vgisgan "
                f"{same[0].manifest.vgisgan_version} and this is {__version__}; making a new version"
            )
        return None
    notes(f"reusing {found.ref}: same config and inputs (pass --force to make a new version)")
    return StageResult(found, reused=True)
