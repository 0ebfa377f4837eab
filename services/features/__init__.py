"""Code shared by the recommendation services and the ranking model's training (pair features).

A library, not an app: the orchestrator's image carries it (its build context is services/), and
scripts/recommendations/ranking.py imports it, so neither reaches into the other's package.
"""
