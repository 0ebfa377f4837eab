"""`python -m scripts.monitor --stack S | --local`: one table per capability of what is red or green now
(`signals` reads a stack's Snowflake metadata or what the stand-ins record; services/features/health.py
judges it, as it does for the dashboard's Operations tab)."""
