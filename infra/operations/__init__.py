"""Operations: Snowflake alerts that watch the stack's pipelines and serving stores and notify the stack's
error integration (SNS, then e-mail) when something fails, falls behind or goes quiet.

`catalog` (names, conditions, thresholds) is what tests/operations run on the stand-in; `component` is the
Pulumi component.
"""
