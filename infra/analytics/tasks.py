"""The analytics pipeline's streams, procedures and tasks: which procedure consumes which stream, and
the two task graphs that run them on their own cadences.

Why two graphs and how the order holds: the dimensions must be applied before the facts that look them
up (point in time), so ANALYTICS_FACTS_TASK runs after ANALYTICS_DIMENSIONS_TASK in one graph on the
facts' cadence (`analytics.taskSchedule`, every 10 minutes in prod), whose root runs only when a source
stream has data. The summary has its own cadence (`analytics.summarySchedule`, every 30 minutes) as the
root of a second graph, and still only ever summarises facts already loaded:
- it reads FACT_SALES only, and each facts run commits in one transaction, so it never sees half a load;
- its WHEN is SYSTEM$STREAM_HAS_DATA on FACT_SALES_STREAM, a stream that shows committed facts only:
  it runs when facts were loaded since its last run, and is skipped (no warehouse) otherwise;
- it rebuilds exactly the days those facts fall on, in one transaction that consumes the stream, so a
  facts run committed while it runs is in the stream for the next summary, never lost.
A summary may therefore trail the facts by up to one cadence, never precede or split them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stream:
    table: str
    key: str
    append_only: bool
    consumer: str  # the procedure that reads it (one stream per consumer)


STREAMS: dict[str, Stream] = {
    "customers_stream": Stream("customers", "CUSTOMER_ID", False, "dimensions"),
    "products_stream": Stream("products", "PRODUCT_ID", False, "dimensions"),
    "orders_stream": Stream("orders", "ORDER_ID", False, "facts"),
    "items_stream": Stream("order_items", "ORDER_ITEM_ID", True, "facts"),
    # updated facts (a status change) must re-summarise their day too: a standard stream
    "facts_stream": Stream("facts", "ORDER_ITEM_ID", False, "summary"),
}

# procedure key → (name, purpose)
PROCEDURES: dict[str, tuple[str, str]] = {
    "dimensions": ("APPLY_DIMENSION_CHANGES", "SCD2 of DIM_CUSTOMER and DIM_PRODUCT from their streams"),
    "facts": ("LOAD_FACT_SALES", "order items and order changes into FACT_SALES, point in time"),
    "summary": ("REFRESH_DAILY_SALES_SUMMARY", "DAILY_SALES_SUMMARY for the days of newly loaded facts"),
}


@dataclass(frozen=True)
class Task:
    name: str
    procedure: str
    after: str | None = None  # the task it runs after; None: the root of a graph
    schedule: str | None = None  # a root's cron: the AnalyticsConfig field holding it
    when: tuple[str, ...] = ()  # a root runs only when one of these streams has data


TASKS: dict[str, Task] = {
    "dimensions_task": Task(
        "ANALYTICS_DIMENSIONS_TASK",
        "dimensions",
        schedule="task_schedule",
        when=tuple(k for k, s in STREAMS.items() if s.consumer in ("dimensions", "facts")),
    ),
    "facts_task": Task("ANALYTICS_FACTS_TASK", "facts", after="dimensions_task"),
    "summary_task": Task("ANALYTICS_SUMMARY_TASK", "summary", schedule="summary_schedule", when=("facts_stream",)),
}
