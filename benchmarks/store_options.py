"""What the benchmarks that rescore a store's test frames share: their options, and opening the store they name."""

from __future__ import annotations

import argparse

import torch

from vgisgan.data.cache import FrameCache
from vgisgan.store import Store


def store_parser(doc: str, eval_help: str) -> argparse.ArgumentParser:
    """--store, --name (of the run's artifacts, each @v1), --eval, --batch and --threads."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--name", default="ped2", help="name of the run's frames, gan and detector artifacts (@v1)")
    ap.add_argument("--eval", default="ped2@v1", help=eval_help)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    return ap


def open_store(args: argparse.Namespace) -> tuple[Store, FrameCache]:
    """The store the options name and its frames cache, with torch on --threads threads."""
    torch.set_num_threads(args.threads)
    store = Store(args.store)
    return store, FrameCache(store.resolve(f"frames/{args.name}@v1", "frames").path)
