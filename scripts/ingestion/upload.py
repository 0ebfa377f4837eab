"""Send customer CSV files to the landing prefix of a stack's bucket, or of the local stand-in.

    python -m scripts.ingestion.upload --local --rows 10000 --seed 7 --bad-share 0.02
    python -m scripts.ingestion.upload --stack dev --bucket rdp-dev-landing-123456789012 customers.csv

Given no files it generates a realistic customer file, deterministic by seed, with a configurable
share of malformed rows. Large files go up in multipart, every call is retried, a bar shows progress.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import boto3
import typer
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn
from tenacity import retry, stop_after_attempt, wait_exponential

from infra.ingestion.catalog import RAW_COLUMNS

FIRST = [
    "james",
    "Mary",
    "ROBERT",
    "patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Chris",
    "Karen",
]
LAST = [
    "Smith",
    "johnson",
    "Williams",
    "BROWN",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
]
CITIES = [
    ("New York", "NY", "100"),
    ("Los Angeles", "CA", "900"),
    ("Chicago", "IL", "606"),
    ("Houston", "TX", "770"),
    ("Phoenix", "AZ", "850"),
    ("Seattle", "WA", "981"),
    ("Miami", "FL", "331"),
    ("Atlanta", "GA", "303"),
    ("Denver", "CO", "802"),
    ("Boston", "MA", "021"),
]
TIERS = ["Bronze", "Silver", "Gold", "Platinum", "bronze ", " GOLD"]
MULTIPART_THRESHOLD = 8 * 1024 * 1024


class UploadError(ValueError):
    """An upload was refused before anything was sent; the message names the file and why."""


def generate_customers(rows: int, seed: int, bad_share: float = 0.0, id_offset: int = 0) -> bytes:
    """A customer CSV with a header; `bad_share` of the rows are malformed in varied ways."""
    if rows < 0 or not 0 <= bad_share <= 1:
        raise UploadError("rows must be >= 0 and bad_share within 0..1")
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.lower() for c in RAW_COLUMNS])
    base = date(2019, 1, 1)
    for i in range(rows):
        cid = id_offset + i + 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, zip3 = rng.choice(CITIES)
        signup = base + timedelta(days=rng.randrange(0, 2000))
        updated = datetime(2024, 1, 1) + timedelta(minutes=rng.randrange(0, 500_000))
        row = [
            str(cid),
            f"  {first} " if rng.random() < 0.1 else first,
            last,
            f"{first.lower()}.{last.lower()}{rng.randrange(1000)}@example.com",
            f"({rng.randrange(200, 999)}) {rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            city.upper() if rng.random() < 0.05 else city,
            state.lower() if rng.random() < 0.05 else state,
            f"{zip3}{rng.randrange(10, 99)}",
            signup.isoformat(),
            rng.choice(TIERS),
            updated.strftime("%Y-%m-%d %H:%M:%S"),
        ]
        if rng.random() < bad_share:
            out.write(_malformed(rng, row) + "\n")
        else:
            w.writerow(row)
    return out.getvalue().encode()


def _malformed(rng: random.Random, row: list[str]) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # a column missing
        return ",".join(row[:-1])
    if kind == 1:  # a column too many
        return ",".join([*row, "extra"])
    if kind == 2:  # an unterminated quote
        return ",".join(row[:3]) + ',"broken' + "," + ",".join(row[4:])
    return ",".join(row[:2]) + "\x00" + ",".join(row[2:])[:5]  # garbage


def s3_client(endpoint_url: str | None = None, region: str = "us-east-1"):
    cfg = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60)
    if endpoint_url:
        return boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=cfg,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
    return boto3.client("s3", region_name=region, config=cfg)


def check_upload(key: str, size: int, max_file_mb: int) -> None:
    """Refuse what the pipe would reject anyway: keys that are not CSV and oversized files."""
    if not key.lower().endswith(".csv"):
        raise UploadError(f"{key}: only .csv keys are ingested (the bucket notification filters on '.csv')")
    if size > max_file_mb * 1024 * 1024:
        raise UploadError(f"{key}: {size / 1048576:.1f} MB exceeds maxFileMb={max_file_mb}")


@retry(stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
def upload_bytes(client, bucket: str, key: str, body: bytes, progress: Progress | None = None) -> str:
    """Upload (multipart above 8 MB) and return the object's ETag."""
    task = progress.add_task(key, total=len(body)) if progress else None
    client.upload_fileobj(
        io.BytesIO(body),
        bucket,
        key,
        Config=TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD),
        Callback=(lambda n: progress.update(task, advance=n)) if progress else None,
    )
    return client.head_object(Bucket=bucket, Key=key)["ETag"]


def progress_bar() -> Progress:
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn())


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    files: list[Path] = typer.Argument(None, help="CSV files to send; none generates one"),
    stack: str = typer.Option("dev", help="stack whose landing prefix and limits apply"),
    bucket: str = typer.Option(None, help="target bucket (default: the local stand-in's)"),
    local: bool = typer.Option(False, help="send to the moto stand-in"),
    rows: int = typer.Option(1000, help="rows to generate"),
    seed: int = typer.Option(1, help="generator seed"),
    bad_share: float = typer.Option(0.0, help="share of malformed rows"),
) -> None:
    from infra.config.reader import stack_config

    cfg = stack_config(stack)
    endpoint = None
    if local:
        from scripts import standins
        from scripts.ingestion.pipe import LOCAL_ACCOUNT

        endpoint = standins.endpoints().moto_url
        bucket = bucket or stack_config(stack).naming.bucket("landing", LOCAL_ACCOUNT)
    if not bucket:
        raise typer.BadParameter("give --bucket (see `pulumi stack output landingBucket`) or --local")
    client = s3_client(endpoint, cfg.aws_region)
    payloads = (
        [(p.name, p.read_bytes()) for p in files]
        if files
        else [(f"customers-seed{seed}-{rows}.csv", generate_customers(rows, seed, bad_share))]
    )
    with progress_bar() as progress:
        for name, body in payloads:
            key = cfg.ingestion.landing_prefix + name
            try:
                check_upload(key, len(body), cfg.ingestion.max_file_mb)
            except UploadError as e:
                typer.echo(f"refused: {e}", err=True)
                raise typer.Exit(2) from None
            etag = upload_bytes(client, bucket, key, body, progress)
            progress.console.print(f"s3://{bucket}/{key} {len(body)} bytes etag={etag}")


if __name__ == "__main__":
    app()
