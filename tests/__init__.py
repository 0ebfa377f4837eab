"""The suite's process environment, set before any test module loads XGBoost (and with it OpenMP).

OpenMP's threads spin after each parallel region by default (libgomp: 300,000 spins); on the 2-core runner,
beside the stand-ins and the background commands, XGBoost's two threads then wait for each other at every
barrier, and a training took 3 to 5 times its CPU (measured: 150 rounds, 18-33 s against 3-8 s passive).
PASSIVE makes a waiting thread sleep: the same threads and the same models, only less CPU spent waiting."""

import os
import sys

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
# for tests/test_openmp.py: the setting is read when OpenMP loads, so it must come first
OPENMP_LOADED_BEFORE = "xgboost" in sys.modules
