"""Pulumi entry point: compose the stack, nothing else."""

from stacks.platform import main

main()
