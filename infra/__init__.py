"""Reusable Pulumi components and helpers for the retail data platform."""
