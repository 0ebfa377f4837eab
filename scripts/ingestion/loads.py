"""Ingestion's post-deploy step: a feed's CSV files sent to its landing prefix in a stack's bucket (or
of the stand-in's), refused beforehand when the pipe would reject them. Large files go up in
multipart, every call is retried."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from rich.progress import Progress
from tenacity import retry, stop_after_attempt, wait_exponential

from scripts.core.connections import stack_outputs
from scripts.core.console import progress_bar

MULTIPART_THRESHOLD = 8 * 1024 * 1024


class UploadError(ValueError):
    """An upload was refused before anything was sent; the message names the file and why."""


def landing_bucket(stack: str, given: str | None, outputs: Callable[..., dict[str, Any]] = stack_outputs) -> str:
    """The deployed stack's landing bucket (its `landingBucket` output); a `--bucket` that names any other
    bucket is refused, so a file meant for dev never feeds prod's pipe (or the reverse)."""
    own = outputs(stack, ("landingBucket",))["landingBucket"]
    if given and given != own:
        raise UploadError(f"--bucket {given} is not stack {stack!r}'s landing bucket ({own}); refusing to upload")
    return own


def s3_client(endpoint_url: str | None = None, region: str = "us-east-1") -> Any:
    """An S3 client that retries (the stand-in's moto when given its endpoint)."""
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


def check_header(key: str, body: bytes, columns: Sequence[str]) -> None:
    """Refuse a file whose header is not its feed's columns: the pipe skips the header and would load a
    file meant for another feed column by column into the wrong table (or reject every row)."""
    first = body.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().lower()
    names = [c.strip().strip('"') for c in first.split(",")]
    if names != [c.lower() for c in columns]:
        raise UploadError(f"{key}: header {first[:200]!r} is not the feed's columns ({','.join(columns).lower()})")


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


def upload(
    client: Any,
    bucket: str,
    prefix: str,
    max_file_mb: int,
    files: list[tuple[str, bytes]],
    columns: Sequence[str] | None = None,
) -> list[str]:
    """Each (name, body) to s3://bucket/prefix+name, all checked before the first is sent (size, suffix and,
    given the feed's `columns`, the header); a line per file."""
    for name, body in files:
        check_upload(prefix + name, len(body), max_file_mb)
        if columns is not None:
            check_header(prefix + name, body, columns)
    sent = []
    with progress_bar(transfer=True) as progress:
        for name, body in files:
            etag = upload_bytes(client, bucket, prefix + name, body, progress)
            sent.append(f"s3://{bucket}/{prefix}{name} {len(body)} bytes etag={etag}")
    return sent
