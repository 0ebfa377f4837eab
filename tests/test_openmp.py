"""OpenMP waits passively in the suite (tests/__init__.py says why), set before XGBoost loaded OpenMP."""

from __future__ import annotations

import os
import subprocess
import sys

import tests


def test_openmp_waits_passively_and_was_told_before_xgboost_loaded() -> None:
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE"
    assert tests.OPENMP_LOADED_BEFORE is False


def test_the_runtime_reads_the_policy_from_the_environment() -> None:
    """libgomp prints what it read (OMP_DISPLAY_ENV): no spinning (the default spins 300,000 times)."""
    code = "import xgboost as x, numpy as np; x.train({'nthread': 2}, x.DMatrix(np.ones((4, 2)), label=np.ones(4)), 1)"
    env = {**os.environ, "OMP_DISPLAY_ENV": "VERBOSE"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert "GOMP_SPINCOUNT = '0'" in out.stderr, out.stderr[-2000:]
