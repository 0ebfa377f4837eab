"""The recommendations data plane: generated and reference tables, CUSTOMER_360, propensity.

`catalog` (names, columns, SQL) is shared with the post-deploy loads in scripts/recommendations;
`component` is the Pulumi component.
"""
