"""`python -m scripts.ingestion upload [FILES] --stack S --bucket B | --local`: customer CSV files to the
landing prefix of a stack's bucket, or of the stand-in's.

    python -m scripts.ingestion upload --local --rows 10000 --seed 7 --bad-share 0.02
    python -m scripts.ingestion upload --stack dev --bucket rdp-dev-landing-123456789012 customers.csv

Given no files it generates a customer file (deterministic by seed, with a share of malformed rows).
"""

from __future__ import annotations

from pathlib import Path

import typer

from infra.config.reader import stack_config
from scripts import standins
from scripts.core.console import console
from scripts.ingestion.generate import generate_customers
from scripts.ingestion.loads import UploadError, s3_client, upload
from scripts.ingestion.rehearsal import LOCAL_ACCOUNT

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)


@app.command("upload")
@standins.exits_in_one_line
def upload_cmd(
    files: list[Path] = typer.Argument(None, help="CSV files to send; none generates one"),
    stack: str = typer.Option("dev", help="stack whose landing prefix and limits apply"),
    bucket: str = typer.Option(None, help="target bucket (default: the local stand-in's)"),
    local: bool = typer.Option(False, help="send to the moto stand-in"),
    rows: int = typer.Option(1000, help="rows to generate"),
    seed: int = typer.Option(1, help="generator seed"),
    bad_share: float = typer.Option(0.0, help="share of malformed rows"),
) -> None:
    """Send the files (or a generated one); a file the pipe would reject is refused before any is sent."""
    cfg = stack_config(stack)
    endpoint = None
    if local:
        endpoint = standins.endpoints().moto_url
        bucket = bucket or cfg.naming.bucket("landing", LOCAL_ACCOUNT)
    if not bucket:
        raise typer.BadParameter("give --bucket (see `pulumi stack output landingBucket`) or --local")
    try:
        payloads = (
            [(p.name, p.read_bytes()) for p in files]
            if files
            else [(f"customers-seed{seed}-{rows}.csv", generate_customers(rows, seed, bad_share))]
        )
        client = s3_client(endpoint, cfg.aws_region)
        for line in upload(client, bucket, cfg.ingestion.landing_prefix, cfg.ingestion.max_file_mb, payloads):
            console.print(line)
    except (UploadError, ValueError, OSError) as e:
        typer.echo(f"refused: {e}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
