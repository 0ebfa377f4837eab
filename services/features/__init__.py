"""Code shared across the services and the scripts: the pair features of the recommendation services and
the ranking model's training (`pair`), and the platform's red/green judgement of what it runs (`health`),
for `python -m scripts.monitor` and the dashboard's Operations tab.

A library, not an app: the orchestrator's image carries `pair` (its build context is services/), the
dashboard's bundle carries `health`, and scripts import both, so none reaches into another's package.
"""
