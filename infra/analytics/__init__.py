"""E-commerce analytics: source tables, streams, dynamic tables, the SCD2 star schema and its task graph.

`catalog` (names, columns, SQL) is shared with the local rehearsal in scripts/analytics; `component`
is the Pulumi component.
"""
