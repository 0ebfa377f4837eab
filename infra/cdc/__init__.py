"""Order change data capture: the change log, the dynamic tables over it, the monitoring view and the
refresh task.

`catalog` (names, columns, SQL) is shared with the generator and the local rehearsal in scripts/cdc;
`component` is the Pulumi component.
"""
