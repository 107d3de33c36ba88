"""Resumable training state in one safetensors file: weights, optimizer state, RNG states and progress.

Tensors go in the safetensors body; everything else (optimizer hyper-parameters, the iteration) goes in its
JSON metadata. Nothing is pickled. The file is written to a temporary name and renamed, so a run killed while
saving keeps the previous checkpoint.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from vgisgan.errors import VgisganError


def _flatten(prefix: str, obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """Move tensors out of a nested structure into `tensors`, leaving {"__tensor__": key} markers."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().cpu().contiguous()
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        return {"__dict__": [[k, _flatten(f"{prefix}.{k}", v, tensors)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_flatten(f"{prefix}.{i}", v, tensors) for i, v in enumerate(obj)]
    return obj


def _unflatten(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: _unflatten(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    return obj


def save_state(path: Path, state: dict[str, Any]) -> None:
    """`state` maps names to module/optimizer state dicts, tensors (RNG states) or JSON values."""
    tensors: dict[str, torch.Tensor] = {}
    meta = {k: _flatten(k, v, tensors) for k, v in state.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"state": json.dumps(meta)})
    os.replace(tmp, path)


def load_state(path: Path) -> dict[str, Any]:
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads(f.metadata()["state"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # noqa: BLE001 - safetensors raises its own SafetensorError besides OSError
        raise VgisganError(f"checkpoint {path} cannot be read ({e}); delete it to start over") from e
    return {k: _unflatten(v, tensors) for k, v in meta.items()}
