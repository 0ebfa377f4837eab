"""The recommendation API's two services: the orchestrator (/recommend) and the ranker (/predict)."""
