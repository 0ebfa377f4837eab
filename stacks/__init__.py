"""Composition of the platform's components per environment."""
