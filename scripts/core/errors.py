"""The one error a load step raises: the CLIs turn it into one line and exit 1."""

from __future__ import annotations


class LoadError(RuntimeError):
    """A load step failed; the message names the step and the cause."""


class StackOutputError(LoadError):
    """A deployed stack's outputs could not be read; the message says which and what to do."""
