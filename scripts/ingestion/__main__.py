"""`python -m scripts.ingestion upload [FILES] --feed F --stack S | --local`: a feed's CSV files (customer,
sales or inventory) to that feed's landing prefix in a stack's landing bucket (its `landingBucket`
output), or in the stand-in's.

    python -m scripts.ingestion upload --local --rows 10000 --seed 7 --bad-share 0.02
    python -m scripts.ingestion upload --local --feed sales --rows 5000
    python -m scripts.ingestion upload --stack dev --feed inventory counts.csv
    python -m scripts.ingestion dbt --local | --stack dev   (the dbt layer: see scripts/ingestion/dbt.py)

Given no files it generates one of the feed (deterministic by seed, with a share of malformed rows):
refused for a prod stack, like every step that writes synthetic data. `--bucket`, if given, must be
the stack's own landing bucket: a file never lands in another stack's pipe by a typo.
"""

from __future__ import annotations

from pathlib import Path

import typer
from botocore.exceptions import BotoCoreError, ClientError

from infra.config.reader import stack_config
from infra.ingestion.catalog import FEEDS
from scripts import standins
from scripts.core.console import console
from scripts.core.guard import guard_synthetic
from scripts.core.runner import failures_in_one_line
from scripts.ingestion.dbt import COMMANDS, dbt_cmd
from scripts.ingestion.generate import GENERATORS
from scripts.ingestion.loads import UploadError, landing_bucket, s3_client, upload
from scripts.ingestion.rehearsal import LOCAL_ACCOUNT

app = typer.Typer(add_completion=False, help=__doc__, no_args_is_help=True)


@app.callback()
def main() -> None:
    """A feed's files to a landing bucket (the subcommand keeps `upload` a command, never a file name)."""


@app.command("upload")
@standins.exits_in_one_line
def upload_cmd(
    files: list[Path] = typer.Argument(None, help="CSV files to send; none generates one"),
    feed: str = typer.Option("customer", help=f"the feed the files belong to: {', '.join(FEEDS)}"),
    stack: str = typer.Option("dev", help="stack whose landing prefix and limits apply"),
    bucket: str = typer.Option(None, help="the stack's landing bucket (default: its landingBucket output)"),
    local: bool = typer.Option(False, help="send to the moto stand-in"),
    rows: int = typer.Option(1000, help="rows to generate"),
    seed: int = typer.Option(1, help="generator seed"),
    bad_share: float = typer.Option(0.0, help="share of malformed rows"),
) -> None:
    """Send the files (or a generated one); a file the pipe would reject is refused before any is sent."""
    endpoint = None
    # a refusal (bad file, wrong bucket, prod) and a failed send each end in one line
    with failures_in_one_line(UploadError, OSError, BotoCoreError, ClientError, code=2):
        if feed not in FEEDS:
            raise UploadError(f"--feed {feed}: no such feed (feeds: {', '.join(FEEDS)})")
        cfg = stack_config(stack)
        if not files:  # a generated file is synthetic data: never into prod
            guard_synthetic(stack, local, "upload", False, lambda: True)
        if local:
            endpoint = standins.endpoints().moto_url
            bucket = bucket or cfg.naming.bucket("landing", LOCAL_ACCOUNT)
        else:
            bucket = landing_bucket(stack, bucket)
        payloads = (
            [(p.name, p.read_bytes()) for p in files]
            if files
            else [(f"{feed}-seed{seed}-{rows}.csv", GENERATORS[feed](rows, seed, bad_share))]
        )
        client = s3_client(endpoint, cfg.aws_region)
        prefix = cfg.ingestion.feed(feed).landing_prefix
        columns = FEEDS[feed].raw_columns
        for line in upload(client, bucket, prefix, cfg.ingestion.max_file_mb, payloads, columns):
            console.print(line)


@app.command("dbt")
@standins.exits_in_one_line
def dbt_command(
    stack: str = typer.Option("dev", help="stack whose names (and, deployed, whose transformer key) to use"),
    local: bool = typer.Option(False, "--local", help="build on the fakesnow stand-in"),
    command: str = typer.Option("build", help=f"dbt command: {', '.join(COMMANDS)}"),
    select: list[str] = typer.Option(None, help="dbt node selection (repeatable)"),
) -> None:
    """`dbt build` of the dbt layer (silver model, snapshot, gold view and their tests) on a stack or locally."""
    with failures_in_one_line():
        dbt_cmd(stack, local, command, tuple(select or ()))


if __name__ == "__main__":
    app()
