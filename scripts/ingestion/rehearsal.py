"""The local rehearsal of ingestion (the customer, sales and inventory feeds) on the stand-ins, and
`make local`'s run of it.

moto delivers the bucket's S3 events to one SQS queue standing in for the pipes' notification channel
(Snowflake, too, gives every auto-ingest pipe of an account the same queue; each pipe takes the files
under its own stage). The local pipe consumes it as Snowpipe does: each new file once (load history by
name and ETag), routed to the feed whose prefix it is under, parsed with the stack's CSV format, valid
rows loaded into the feed's Bronze table on fakesnow, bad rows into its rejects table with file, line
and reason, and an error message published to the SNS topic. Each feed's stream and task run on the
Snowflake side (scripts/ingestion/localfeed.py).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_plus

import boto3
from rich.table import Table

from infra.config.reader import stack_config
from infra.ingestion.catalog import CSV_FORMAT, FEEDS, REJECTED_PREFIX, feed
from infra.naming import Naming
from scripts.core.connections import connect_local
from scripts.core.console import console, print_counts, progress_bar
from scripts.core.rehearsal import LocalRun
from scripts.ingestion.csvfile import parse_csv
from scripts.ingestion.generate import GENERATORS
from scripts.ingestion.loads import s3_client, upload_bytes
from scripts.ingestion.localfeed import LocalFeed, TaskResult
from scripts.standins import STATE_DIR, Endpoints

__all__ = ["LOCAL_ACCOUNT", "FileResult", "LocalIngestion", "TaskResult", "rehearse"]
LOCAL_ACCOUNT = "123456789012"  # moto's account id
log = logging.getLogger("ingestion.rehearsal")
TITLE = "ingestion: upload → S3 event → pipe → Bronze → task → Silver → Gold"


@dataclass
class FileResult:
    key: str
    status: str  # LOADED, PARTIALLY_LOADED, LOAD_FAILED, LOAD_SKIPPED
    rows_loaded: int = 0
    rows_rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    feed: str = "customer"


class LocalIngestion:
    """Bucket, notification, topic and every feed's Snowflake objects of one stack, on the stand-ins. The
    per-feed calls take the feed's name and default to customers, the first feed."""

    def __init__(
        self, ep: Endpoints, stack: str = "dev", max_file_mb: int | None = None, naming: Naming | None = None
    ) -> None:
        self.cfg = stack_config(stack)
        self.naming = naming or self.cfg.naming
        self.ep = ep
        self.db = self.naming.database
        self.bucket = self.naming.bucket("landing", LOCAL_ACCOUNT)
        self.prefixes = {key: self.cfg.ingestion.feed(key).landing_prefix for key in FEEDS}
        self.prefix = self.prefixes["customer"]
        self.max_bytes = (max_file_mb or self.cfg.ingestion.max_file_mb) * 1024 * 1024
        kw = dict(
            endpoint_url=ep.moto_url,
            region_name=self.cfg.aws_region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.s3 = boto3.client("s3", **kw)
        self.sqs = boto3.client("sqs", **kw)
        self.sns = boto3.client("sns", **kw)
        self.work = Path(os.environ.get("RDP_LOCAL_DIR", STATE_DIR)) / "pipe-batches"
        self.work.mkdir(parents=True, exist_ok=True)
        self._conn = None
        self._feeds: dict[str, LocalFeed] = {}

    # ------------------------------------------------------------------ setup
    @property
    def conn(self):
        if self._conn is None:
            self._conn = connect_local(self.ep.snowflake_host, self.ep.snowflake_port, self.db, "BRONZE")
        return self._conn

    def feed(self, key: str = "customer") -> LocalFeed:
        """The Snowflake side of feed `key` (an unknown feed fails naming the feeds there are)."""
        if key not in self._feeds:
            self._feeds[key] = LocalFeed(feed(key), self.db, self.conn, self.work)
        return self._feeds[key]

    def fq(self, key: str, of: str = "customer") -> str:
        return feed(of).fq(self.db, key)

    def setup(self) -> None:
        """Create (idempotently) what `pulumi up` declares, on moto and fakesnow."""
        try:
            self.s3.create_bucket(Bucket=self.bucket)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        self.channel_url = self.sqs.create_queue(QueueName=self.naming.aws("snowpipe-channel"))["QueueUrl"]
        channel_arn = self._queue_arn(self.channel_url)
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": f"snowpipe-{key}",
                        "QueueArn": channel_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {
                                "FilterRules": [
                                    {"Name": "prefix", "Value": prefix},
                                    {"Name": "suffix", "Value": ".csv"},
                                ]
                            }
                        },
                    }
                    for key, prefix in self.prefixes.items()
                ]
            },
        )
        self.topic_arn = self.sns.create_topic(Name=self.naming.aws("ingest-errors"))["TopicArn"]
        self.tap_url = self.sqs.create_queue(QueueName=self.naming.aws("ingest-errors-tap"))["QueueUrl"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=self._queue_arn(self.tap_url),
            Attributes={"RawMessageDelivery": "true"},
        )
        for key in FEEDS:
            self.feed(key).create()

    def _queue_arn(self, url: str) -> str:
        return self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    # ------------------------------------------------------------------ pipe
    def run_pipe(self, idle_polls: int = 1) -> list[FileResult]:
        """Drain the notification queue, loading each announced file into its feed."""
        results: list[FileResult] = []
        idle = 0
        while idle < idle_polls:
            resp = self.sqs.receive_message(QueueUrl=self.channel_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = resp.get("Messages", [])
            if not messages:
                idle += 1
                time.sleep(0.05)
                continue
            idle = 0
            for msg in messages:
                for rec in json.loads(msg["Body"]).get("Records", []):
                    if not rec.get("eventName", "").startswith("ObjectCreated"):
                        continue
                    obj = rec["s3"]["object"]
                    key = unquote_plus(obj["key"])
                    results.append(
                        self.load_object(rec["s3"]["bucket"]["name"], key, obj.get("eTag", ""), int(obj.get("size", 0)))
                    )
                self.sqs.delete_message(QueueUrl=self.channel_url, ReceiptHandle=msg["ReceiptHandle"])
        return results

    def feed_of(self, key: str) -> str:
        """The feed whose landing prefix `key` is under (the prefixes never overlap: config checks)."""
        for name, prefix in self.prefixes.items():
            if key.startswith(prefix):
                return name
        raise ValueError(f"{key} is under no feed's landing prefix ({', '.join(self.prefixes.values())})")

    def load_object(self, bucket: str, key: str, etag: str, size: int) -> FileResult:
        """Load one announced file once, into its feed; reject what cannot be loaded, loudly."""
        of = self.feed_of(key)
        lf, name = self.feed(of), key[len(self.prefixes[of]) :]
        etag = etag.strip('"')
        if seen := lf.seen_before(name, etag):
            # As Snowpipe's load history: a file seen before (same name and ETag) is skipped whatever
            # its outcome was, so a rejected file uploaded again adds no reject row and no alert.
            reason = f"skipped: seen before with status {seen} (same name and ETag); change the file to load it"
            log.log(logging.WARNING if seen == "LOAD_FAILED" else logging.INFO, "%s %s", key, reason)
            return FileResult(key, "LOAD_SKIPPED", reasons=[reason], feed=of)
        file_reason = None
        if not key.lower().endswith(".csv"):
            file_reason = "not a .csv key"
        elif size > self.max_bytes:
            file_reason = f"file of {size} bytes exceeds maxFileMb ({self.max_bytes // 1048576} MB)"
        body = b""
        if file_reason is None:
            obj = self.s3.get_object(Bucket=bucket, Key=key)
            body, last_modified = obj["Body"].read(), obj["LastModified"]
            if not body.strip() or body.count(b"\n") + (0 if body.endswith(b"\n") else 1) <= CSV_FORMAT["skip_header"]:
                file_reason = "empty file (no data rows)"
        if file_reason:
            lf.reject(name, [(0, file_reason, "")])
            self._quarantine(bucket, key)
            lf.history(name, etag, "LOAD_FAILED", 0, 1)
            result = FileResult(key, "LOAD_FAILED", 0, 1, [file_reason], feed=of)
            self._alert(result)
            return result
        good, bad = parse_csv(body, len(lf.feed.raw_columns))
        loaded = lf.copy_into_bronze(name, good, last_modified) if good else 0
        if bad:
            lf.reject(name, bad)
        status = "LOADED" if not bad else ("PARTIALLY_LOADED" if loaded else "LOAD_FAILED")
        lf.history(name, etag, status, loaded, len(bad))
        result = FileResult(key, status, loaded, len(bad), [f"line {n}: {r}" for n, r, _ in bad[:20]], feed=of)
        if bad:
            self._alert(result)
        return result

    def _quarantine(self, bucket: str, key: str) -> None:
        """Keep a rejected file under rejected/ (expired by the lifecycle rule) for inspection."""
        try:
            self.s3.copy_object(Bucket=bucket, Key=REJECTED_PREFIX + key, CopySource={"Bucket": bucket, "Key": key})
        except self.s3.exceptions.NoSuchKey:
            pass  # already gone: the rejects table and the alert still record it

    def _alert(self, result: FileResult) -> None:
        """What the feed's pipe's error integration sends: one message per file with errors."""
        cat = feed(result.feed).catalog
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=f"[{self.cfg.stack}] {cat.name('pipe')}: {result.status} {result.key}"[:99],
            Message=json.dumps(
                {
                    "pipe": f"{self.db}.{cat.schema('pipe')}.{cat.name('pipe')}",
                    "file": result.key,
                    "status": result.status,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "first_errors": result.reasons[:10],
                },
                sort_keys=True,
            ),
        )

    def alerts(self) -> list[dict]:
        """Messages the error topic delivered (drains the test subscription)."""
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.tap_url, ReceiptHandle=m["ReceiptHandle"])

    # ------------------------------------------------------------------ each feed's stream, task, counts
    def stream_has_data(self, of: str = "customer") -> bool:
        return self.feed(of).stream_has_data()

    def run_task(self, of: str = "customer", fail_before_commit: bool = False) -> TaskResult | None:
        return self.feed(of).run_task(fail_before_commit)

    def counts(self, of: str = "customer") -> dict[str, int]:
        return self.feed(of).counts()

    def rejected_rows(self, limit: int = 20, of: str = "customer") -> list[tuple]:
        return self.feed(of).rejected_rows(limit)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._feeds.clear()


# What `make local` sends per feed: a clean day, a day with a share of malformed rows (overlapping the
# first, so the MERGE updates), and for customers an empty file (a file-level reject).
LOCAL_FILES = {
    "customer": [("day1", 5000, 1, 0.0, 0), ("day2", 2000, 2, 0.02, 4000)],
    "sales": [("day1", 4000, 11, 0.0, 0), ("day2", 1500, 12, 0.02, 3500)],
    "inventory": [("day1", 600, 21, 0.0, 0), ("day2", 300, 22, 0.02, 0)],
}


def _files(key: str) -> list[tuple[str, bytes]]:
    files = [
        (f"{key}-{day}.csv", GENERATORS[key](rows, seed=seed, bad_share=bad, id_offset=offset))
        for day, rows, seed, bad, offset in LOCAL_FILES[key]
    ]
    return files + ([(f"{key}-empty.csv", b"")] if key == "customer" else [])


def rehearse(run: LocalRun) -> dict[str, dict[str, int]]:
    """`make local`: each feed's files through the one notification channel, its pipe and its task; the
    rows per layer and the first rejects printed per feed."""
    li = LocalIngestion(run.endpoints, run.stack)
    try:
        li.setup()
        s3 = s3_client(run.endpoints.moto_url, li.cfg.aws_region)
        with progress_bar(transfer=True) as progress:
            for key in FEEDS:
                for name, body in _files(key):
                    upload_bytes(s3, li.bucket, li.prefixes[key] + name, body, progress)
        for r in li.run_pipe():
            console.print(f"  pipe ({r.feed}): {r.key} {r.status} loaded={r.rows_loaded} rejected={r.rows_rejected}")
        console.print(f"  error topic delivered {len(li.alerts())} message(s)")
        counts = {}
        for key in FEEDS:
            task = li.run_task(key)
            if task:
                console.print(f"  task ({key}): batch {task.batch} consumed {task.consumed} rows, staged {task.staged}")
            counts[key] = li.counts(key)
            print_counts(counts[key], f"ingestion, {key} feed: rows per layer")
            rejects = Table("file", "line", "reason", title=f"{key} feed: rejected rows (first 5)")
            for f, line, reason in li.rejected_rows(5, key):
                rejects.add_row(f, str(line), reason)
            console.print(rejects)
        return counts
    finally:
        li.close()
