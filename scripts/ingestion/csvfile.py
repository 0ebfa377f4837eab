"""Parsing a landing file exactly as the pipe's CSV file format does (header, quoting, NULL markers,
one record per line), with every bad line kept as a reject that names its line and the reason."""

from __future__ import annotations

import csv

from infra.ingestion.catalog import CSV_FORMAT, RAW_COLUMNS

NULLS = set(CSV_FORMAT["null_ifs"])


def parse_csv(
    body: bytes, width: int = len(RAW_COLUMNS)
) -> tuple[list[tuple[int, list[str | None]]], list[tuple[int, str, str]]]:
    """Rows by physical line number, and rejects (line, reason, raw) — with the stack's CSV format, for a
    feed of `width` columns (the customer feed's by default)."""
    good: list[tuple[int, list[str | None]]] = []
    bad: list[tuple[int, str, str]] = []
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if number <= CSV_FORMAT["skip_header"]:
            continue
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        text_for_reject = raw.decode("utf-8", errors="replace")[:500]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad.append((number, f"invalid UTF-8 at byte {e.start}", text_for_reject))
            continue
        if "\x00" in text:
            bad.append((number, "NUL byte in record", text_for_reject.replace("\x00", "\\0")))
            continue
        try:
            fields = next(
                csv.reader(
                    [text],
                    delimiter=CSV_FORMAT["field_delimiter"],
                    quotechar=CSV_FORMAT["field_optionally_enclosed_by"],
                    strict=True,
                )
            )
        except csv.Error as e:
            bad.append((number, f"malformed CSV ({e})", text_for_reject))
            continue
        if len(fields) != width:
            bad.append((number, f"expected {width} columns, got {len(fields)}", text_for_reject))
            continue
        values = [f.strip() if CSV_FORMAT["trim_space"] else f for f in fields]
        good.append((number, [None if v in NULLS else v for v in values]))
    return good, bad
