"""`vgisgan artifacts ...`: list, show, verify and clean the artifact store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from vgisgan.cli.common import StoreOption, echo, err_console, handle_errors

app = typer.Typer(help="Inspect and maintain the artifact store.", no_args_is_help=True)


def _row(art) -> dict:
    m = art.manifest
    return {
        "ref": m.id,
        "kind": m.kind,
        "name": m.name,
        "version": m.version,
        "created": m.created,
        "content_hash": m.content_hash,
        "path": str(art.path),
        "summary": m.summary,
    }


@app.command("list")
@handle_errors
def list_(
    kind: Optional[str] = typer.Argument(None, help="Only this kind: frames, gan, pseudo, detector or eval."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list (see docs/artifacts.md)."),
    store: Path = StoreOption,
) -> None:
    """List published artifacts, oldest first."""
    from rich.table import Table

    from vgisgan.errors import VgisganError
    from vgisgan.store import KINDS, Store

    if kind is not None and kind not in KINDS:
        raise VgisganError(f"unknown kind {kind!r}: kinds are {', '.join(KINDS)}")
    arts = Store(store).list(kind)
    if as_json:
        typer.echo(json.dumps([_row(a) for a in arts], indent=2))
        return
    table = Table("ref", "created", "files", "MiB")
    for a in arts:
        size = sum(f.size for f in a.manifest.files) / 2**20
        table.add_row(a.ref, a.manifest.created, str(len(a.manifest.files)), f"{size:.1f}")
    echo(f"store {store}: {len(arts)} artifact(s)")
    if arts:
        from vgisgan.cli.common import out_console

        out_console.print(table)


@app.command("show")
@handle_errors
def show(
    ref: str = typer.Argument(..., help="kind/name@vN or kind/name (latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print {manifest, lineage} as JSON."),
    store: Path = StoreOption,
) -> None:
    """Show an artifact's manifest and its lineage (what it was made from, recursively)."""
    from vgisgan.store import Store

    st = Store(store)
    art = st.resolve(ref, st.parse_ref(ref)[0])
    lineage = st.lineage(art)
    if as_json:
        typer.echo(json.dumps({"manifest": art.manifest.model_dump(mode="json"), "lineage": lineage}, indent=2))
        return
    m = art.manifest
    echo(f"{m.id}  created {m.created}  vgisgan {m.vgisgan_version}  at {art.path}")
    echo("config: " + json.dumps(m.config))
    echo("summary: " + json.dumps(m.summary))
    echo(f"files: {', '.join(f.path for f in m.files)}")

    def walk(node: dict, depth: int) -> None:
        for parent in node["inputs"]:
            state = "missing" if "missing" in parent else ("ok" if parent["hash_matches"] else "CHANGED since use")
            echo(f"{'  ' * depth}<- {parent['role']}: {parent['ref']} ({state})")
            if "inputs" in parent:
                walk(parent, depth + 1)

    echo("lineage:")
    walk(lineage, 1)


@app.command("verify")
@handle_errors
def verify(
    ref: Optional[str] = typer.Argument(None, help="One artifact; default: every artifact in the store."),
    store: Path = StoreOption,
) -> None:
    """Re-hash payload files; report changed, missing or extra files (exit 1 if any)."""
    from vgisgan.store import Store

    st = Store(store)
    arts = [st.resolve(ref, st.parse_ref(ref)[0])] if ref else st.list()
    bad = 0
    for a in arts:
        problems = st.verify(a)
        bad += bool(problems)
        echo(f"{a.ref}: " + ("ok" if not problems else "; ".join(problems)))
    if bad:
        err_console.print(f"{bad} artifact(s) failed verification")
        raise typer.Exit(1)


@app.command("gc")
@handle_errors
def gc(
    checkpoints: bool = typer.Option(False, "--checkpoints", help="Also delete resumable training checkpoints."),
    store: Path = StoreOption,
) -> None:
    """Delete leftovers of runs that died before publishing (never a published version)."""
    from vgisgan.store import Store

    removed = Store(store).gc(checkpoints=checkpoints)
    echo(f"removed {len(removed)} leftover folder(s)")
