"""The local rehearsal of customer ingestion on the stand-ins, and `make local`'s run of it.

moto delivers the bucket's S3 event to an SQS queue standing in for the pipe's notification channel.
The local pipe consumes it as Snowpipe does: each new file once (load history by name and ETag),
parsed with the stack's CSV format, valid rows loaded into Bronze on fakesnow, bad rows into a
rejects table with file, line and reason, and an error message published to the SNS topic.

fakesnow has no streams, tasks or procedures, so the task is reproduced explicitly: the stream is
the set of Bronze rows not yet consumed (tracked in a table), and the procedure's steps run from the
same SQL files the Pulumi program deploys (see run_task for how atomicity is kept).
"""

from __future__ import annotations

import csv
import datetime as dt
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
from infra.ingestion import catalog
from infra.ingestion.catalog import BRONZE_COLUMNS, CATALOG, CSV_FORMAT, REJECTED_PREFIX, SILVER_COLUMNS, XFM_COLUMNS
from infra.naming import Naming
from infra.recommendations.catalog import create_table_if_missing
from infra.sqlfiles import named_queries, render_sql
from scripts.core.connections import connect_local, ensure_foundation, transaction
from scripts.core.console import console, print_counts, progress_bar
from scripts.core.rehearsal import LocalRun
from scripts.ingestion.csvfile import parse_csv
from scripts.ingestion.generate import generate_customers
from scripts.ingestion.loads import s3_client, upload_bytes
from scripts.standins import STATE_DIR, Endpoints

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


@dataclass
class TaskResult:
    batch: int
    consumed: int
    staged: int
    silver_rows: int


class LocalIngestion:
    """Bucket, notification, topic and Snowflake objects of one stack, on the stand-ins."""

    def __init__(
        self, ep: Endpoints, stack: str = "dev", max_file_mb: int | None = None, naming: Naming | None = None
    ) -> None:
        self.cfg = stack_config(stack)
        self.naming = naming or self.cfg.naming
        self.ep = ep
        self.db = self.naming.database
        self.bucket = self.naming.bucket("landing", LOCAL_ACCOUNT)
        self.prefix = self.cfg.ingestion.landing_prefix
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
        tables = {k: self.fq(k) for k in ("rejects", "load_history", "consumed", "bronze")}
        self.pipe_sql = named_queries(
            "ingestion/local/pipe.sql",
            rejects=tables["rejects"],
            load_history=tables["load_history"],
            bronze=tables["bronze"],
            bronze_columns=", ".join(c for c, _ in BRONZE_COLUMNS),
        )
        self.stream_sql = named_queries(
            "ingestion/local/stream.sql", consumed=tables["consumed"], bronze=tables["bronze"]
        )

    # ------------------------------------------------------------------ setup
    @property
    def conn(self):
        if self._conn is None:
            self._conn = connect_local(self.ep.snowflake_host, self.ep.snowflake_port, self.db, "BRONZE")
        return self._conn

    def fq(self, key: str) -> str:
        return CATALOG.fq(self.db, key)

    def setup(self) -> None:
        """Create (idempotently) what `pulumi up` declares, on moto and fakesnow."""
        try:
            self.s3.create_bucket(Bucket=self.bucket)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        self.channel_url = self.sqs.create_queue(QueueName=self.naming.aws("snowpipe-channel"))["QueueUrl"]
        channel_arn = self.sqs.get_queue_attributes(QueueUrl=self.channel_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "Id": "snowpipe-customer",
                        "QueueArn": channel_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {
                                "FilterRules": [
                                    {"Name": "prefix", "Value": self.prefix},
                                    {"Name": "suffix", "Value": ".csv"},
                                ]
                            }
                        },
                    }
                ]
            },
        )
        self.topic_arn = self.sns.create_topic(Name=self.naming.aws("ingest-errors"))["TopicArn"]
        self.tap_url = self.sqs.create_queue(QueueName=self.naming.aws("ingest-errors-tap"))["QueueUrl"]
        tap_arn = self.sqs.get_queue_attributes(QueueUrl=self.tap_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=tap_arn, Attributes={"RawMessageDelivery": "true"}
        )

        cur = self.conn.cursor()
        ensure_foundation(cur, self.db)
        for key, cols in (("bronze", BRONZE_COLUMNS), ("xfm", XFM_COLUMNS), ("silver", SILVER_COLUMNS)):
            cur.execute(create_table_if_missing(self.fq(key), cols))
        for col, kind in BRONZE_COLUMNS:  # a Bronze table of an earlier run gets the columns added since
            cur.execute(f"ALTER TABLE {self.fq('bronze')} ADD COLUMN IF NOT EXISTS {col} {kind}")
        for statement in ("create_rejects", "create_load_history"):
            cur.execute(self.pipe_sql[statement])
        cur.execute(self.stream_sql["create_consumed"])
        cur.execute(f"CREATE OR REPLACE VIEW {self.fq('view')} AS " + catalog.gold_view_sql(self.db))

    # ------------------------------------------------------------------ pipe
    def run_pipe(self, idle_polls: int = 1) -> list[FileResult]:
        """Drain the notification queue, loading each announced file."""
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

    def load_object(self, bucket: str, key: str, etag: str, size: int) -> FileResult:
        """Load one announced file once; reject what cannot be loaded, loudly."""
        name = key[len(self.prefix) :] if key.startswith(self.prefix) else key
        cur = self.conn.cursor()
        etag = etag.strip('"')
        cur.execute(self.pipe_sql["seen_before"], (name, etag))
        seen = cur.fetchone()
        if seen:
            # As Snowpipe's load history: a file seen before (same name and ETag) is skipped whatever
            # its outcome was, so a rejected file uploaded again adds no reject row and no alert.
            reason = f"skipped: seen before with status {seen[0]} (same name and ETag); change the file to load it"
            log.log(logging.WARNING if seen[0] == "LOAD_FAILED" else logging.INFO, "%s %s", key, reason)
            return FileResult(key, "LOAD_SKIPPED", reasons=[reason])
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
            self._reject(name, [(0, file_reason, "")])
            self._quarantine(bucket, key)
            self._history(name, etag, "LOAD_FAILED", 0, 1)
            result = FileResult(key, "LOAD_FAILED", 0, 1, [file_reason])
            self._alert(result)
            return result
        good, bad = parse_csv(body)
        loaded = self._copy_into_bronze(name, good, last_modified) if good else 0
        if bad:
            self._reject(name, bad)
        status = "LOADED" if not bad else ("PARTIALLY_LOADED" if loaded else "LOAD_FAILED")
        self._history(name, etag, status, loaded, len(bad))
        result = FileResult(key, status, loaded, len(bad), [f"line {n}: {r}" for n, r, _ in bad[:20]])
        if bad:
            self._alert(result)
        return result

    def _quarantine(self, bucket: str, key: str) -> None:
        """Keep a rejected file under rejected/ (expired by the lifecycle rule) for inspection."""
        try:
            self.s3.copy_object(Bucket=bucket, Key=REJECTED_PREFIX + key, CopySource={"Bucket": bucket, "Key": key})
        except self.s3.exceptions.NoSuchKey:
            pass  # already gone: the rejects table and the alert still record it

    def _copy_into_bronze(self, name: str, rows: list[tuple[int, list[str | None]]], last_modified) -> int:
        """Stage the clean rows as a file and bulk-load them, as Snowpipe's COPY does from the stage.

        Each row gets the next number of the load sequence (_LOAD_SEQ), so a later load of a key
        wins a tie on UPDATED_AT whatever the file names and however close in time the loads are.
        fakesnow's COPY INTO cannot bind files wider than ten columns (it names them column00…),
        so the stand-in reads the staged file with DuckDB's read_csv, which fakesnow passes through.
        """
        cur = self.conn.cursor()
        cur.execute(self.pipe_sql["last_load_seq"])
        last_seq = int(cur.fetchone()[0])
        batch = self.work / f"{time.time_ns()}.csv"
        loaded_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        modified = last_modified.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with open(batch, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            for seq, (number, values) in enumerate(rows, start=last_seq + 1):
                w.writerow([*("" if v is None else v for v in values), name, number, loaded_at, modified, seq])
        try:
            cur.execute(self.pipe_sql["load_file"], (str(batch),))
            return int(cur.fetchone()[0])
        finally:
            batch.unlink()

    def _reject(self, name: str, bad: list[tuple[int, str, str]]) -> None:
        cur = self.conn.cursor()
        cur.executemany(self.pipe_sql["record_reject"], [(name, n, reason, raw) for n, reason, raw in bad])

    def _history(self, name: str, etag: str, status: str, loaded: int, rejected: int) -> None:
        self.conn.cursor().execute(self.pipe_sql["record_load"], (name, etag, status, loaded, rejected))

    def _alert(self, result: FileResult) -> None:
        """What the pipe's error integration sends: one message per file with errors."""
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=f"[{self.cfg.stack}] {CATALOG.name('pipe')}: {result.status} {result.key}"[:99],
            Message=json.dumps(
                {
                    "pipe": f"{self.db}.{CATALOG.schema('pipe')}.{CATALOG.name('pipe')}",
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

    # ------------------------------------------------------------------ stream + task
    def stream_has_data(self) -> bool:
        """SYSTEM$STREAM_HAS_DATA for the local stream: Bronze rows not consumed yet."""
        cur = self.conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM {self.stream_sql['unconsumed']} AS stream")
        return cur.fetchone()[0] > 0

    def run_task(self, fail_before_commit: bool = False) -> TaskResult | None:
        """The task: WHEN the stream has data, run the procedure's steps from the same SQL files.

        In Snowflake the procedure stages and MERGEs in one transaction. fakesnow cannot run MERGE
        inside an explicit transaction, so locally the batch is claimed and staged in one
        transaction, merged, and only then marked consumed. A failure before that mark leaves the
        rows in the stream, and because the MERGE is a no-op on rows it already applied, the retry
        gives the same Silver table as one clean run.
        """
        cur = self.conn.cursor()
        q = self.stream_sql
        cur.execute(q["drop_dead_claims"])  # claims of a batch that died
        if not self.stream_has_data():
            return None
        cur.execute(q["next_batch"])
        batch = int(cur.fetchone()[0])
        xfm_cols = ", ".join(c for c, _ in XFM_COLUMNS)
        with transaction(cur):
            cur.execute(q["claim"], (batch,))
            consumed = cur.fetchone()[0]
            cur.execute(f"DELETE FROM {self.fq('xfm')}")
            cur.execute(
                f"INSERT INTO {self.fq('xfm')} ({xfm_cols}) "
                + render_sql("ingestion/xfm_select.sql", source=f"{q['claimed']} AS stream")
            )
            staged = cur.fetchone()[0]
        cur.execute(render_sql("ingestion/merge_customer.sql", target=self.fq("silver"), xfm=self.fq("xfm")))
        if fail_before_commit:
            raise RuntimeError("injected failure after the MERGE, before the stream offset moved")
        cur.execute(q["commit_batch"], (batch,))
        cur.execute(f"SELECT COUNT(*) FROM {self.fq('silver')}")
        return TaskResult(batch, consumed, staged, cur.fetchone()[0])

    # ------------------------------------------------------------------ report
    def counts(self) -> dict[str, int]:
        cur = self.conn.cursor()
        out = {}
        for label, rel in (
            ("bronze", self.fq("bronze")),
            ("rejected", self.fq("rejects")),
            ("stream (unconsumed)", f"{self.stream_sql['unconsumed']} AS stream"),
            ("silver", self.fq("silver")),
            ("gold view", self.fq("view")),
        ):
            cur.execute(f"SELECT COUNT(*) FROM {rel}")
            out[label] = cur.fetchone()[0]
        return out

    def rejected_rows(self, limit: int = 20) -> list[tuple]:
        cur = self.conn.cursor()
        cur.execute(self.pipe_sql["first_rejects"], (limit,))
        return cur.fetchall()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def rehearse(run: LocalRun) -> dict[str, int]:
    """`make local`: one clean file, one with bad rows and one empty file through pipe and task."""
    li = LocalIngestion(run.endpoints, run.stack)
    try:
        li.setup()
        files = [
            ("customers-day1.csv", generate_customers(5000, seed=1)),
            ("customers-day2.csv", generate_customers(2000, seed=2, bad_share=0.02, id_offset=4000)),
            ("customers-empty.csv", b""),
        ]
        s3 = s3_client(run.endpoints.moto_url, li.cfg.aws_region)
        with progress_bar(transfer=True) as progress:
            for name, body in files:
                upload_bytes(s3, li.bucket, li.prefix + name, body, progress)
        for r in li.run_pipe():
            console.print(f"  pipe: {r.key} {r.status} loaded={r.rows_loaded} rejected={r.rows_rejected}")
        task = li.run_task()
        if task:
            console.print(f"  task: batch {task.batch} consumed {task.consumed} rows, staged {task.staged}")
        console.print(f"  error topic delivered {len(li.alerts())} message(s)")
        counts = li.counts()
        print_counts(counts, "ingestion: rows per layer")
        rejects = Table("file", "line", "reason", title="rejected rows (first 10)")
        for f, line, reason in li.rejected_rows(10):
            rejects.add_row(f, str(line), reason)
        console.print(rejects)
        return counts
    finally:
        li.close()
