"""`python -m scripts.monitor --stack S | --local`: one table per capability of what is red or green now
(`checks` classifies, `signals` reads a stack's Snowflake metadata or what the stand-ins record)."""
