"""Stack configuration: the shared base of every capability's config model (`base`), the whole stack's
model (`stack`) and the one reader (`reader`). Each capability's own model is `infra/<cap>/config.py`."""
