"""`claimgraph import hcpcs|cpt FILE` and `claimgraph store info|reset`."""

from __future__ import annotations

import typer

import_app = typer.Typer(help="Import official code sets into the local store.", no_args_is_help=True)
store_app = typer.Typer(help="Inspect or clear the local code-set store.", no_args_is_help=True)
