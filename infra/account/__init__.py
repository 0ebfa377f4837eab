"""The account stack: what only an account administrator may do, declared once for every environment.
config.py: its config; catalog.py: its names and privileges; component.py: the environments' access."""
