"""Pulumi entry point: compose the stack, nothing else (the account stack, or one environment)."""

from infra.config.engine import running_account_stack
from stacks import account, platform

(account.main if running_account_stack() else platform.main)()
