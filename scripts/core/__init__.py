"""What every capability's scripts share: where the loads run (`target`), how a CLI runs its steps
(`runner`), how results are shown (`console`), the synthetic-data guard (`guard`) and the Snowflake
sessions (`connections`). The core imports no capability's scripts."""

# The capabilities with scripts of their own, in the order `make local` rehearses them and
# `make bench` measures them (foundation's schemas come first, from the core).
CAPABILITIES = ("ingestion", "analytics", "cdc", "recommendations", "serving", "api", "dashboard")
