"""A fresh stack starts the services before the `train` step has published a model: both start without
the model file, serve (the orchestrator ranks by propensity, the ranker answers 503), and pick the model
up when it appears, without a restart."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from scripts.api import serve
from services.api.ranker.ranker.app import create_app as ranker_app
from tests.api.conftest import customers


def _wait_for(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_the_orchestrator_starts_without_a_model_and_loads_it_when_published(env, target, tmp_path):
    model = tmp_path / "models" / "ranking_model.json"  # the stage mount, empty on a fresh stack
    model.parent.mkdir()
    api = serve.start("orchestrator", {**env, "RANKER_MODEL_PATH": str(model), "RANKER_MODEL_CHECK_SECONDS": "0"})
    try:
        health = httpx.get(f"{api.url}/health", timeout=5)
        assert health.status_code == 200 and health.json()["model_loaded"] is False
        assert health.json()["status"] == "degraded"
        (cid, zip_code), *_ = customers(target, 1)
        url = f"{api.url}/recommend?customer_id={cid}&zip_code={zip_code}&top_n=5"
        before = httpx.get(url, timeout=5).json()
        assert before["backend"] == "postgres+propensity" and before["recommendations"]
        # the train step publishes the model to the stage
        shutil.copyfile(serve.model_path(target), model)
        after = _wait_for(lambda: (b := httpx.get(url, timeout=5).json())["backend"] == "postgres" and b)
        assert after, "the published model was never picked up"
        assert after["timings"]["model_ok"] is True
        assert httpx.get(f"{api.url}/health", timeout=5).json()["model_loaded"] is True
    finally:
        api.stop()


def test_a_half_written_model_keeps_the_propensity_ranking_until_a_good_one_lands(env, target, tmp_path):
    from services.api.orchestrator.orchestrator.backends import Settings
    from services.api.orchestrator.orchestrator.ranking import Ranker

    model = tmp_path / "ranking_model.json"
    ranker = Ranker(Settings(ranker_model_path=str(model), ranker_model_check_seconds=0))
    assert not ranker.loaded
    model.write_text('{"learner": ')  # half-written
    assert ranker.refresh() is False and not ranker.loaded
    shutil.copyfile(serve.model_path(target), model)
    assert ranker.refresh() is True and ranker.loaded and ranker.loads == 1
    assert ranker.refresh() is False  # unchanged: not loaded again


def test_a_request_never_waits_for_a_model_load(target, tmp_path, monkeypatch):
    """The load runs on a thread (held here until released): polls return at once, and the first poll
    after it finishes puts the new model in."""
    import threading

    from services.api.orchestrator.orchestrator import ranking
    from services.api.orchestrator.orchestrator.backends import Settings

    model = tmp_path / "ranking_model.json"
    ranker = ranking.Ranker(Settings(ranker_model_path=str(model), ranker_model_check_seconds=0))
    release, real_load = threading.Event(), ranking._load

    def held_load(path, seen):
        assert release.wait(10), "the test never released the load"
        return real_load(path, seen)

    monkeypatch.setattr(ranking, "_load", held_load)
    shutil.copyfile(serve.model_path(target), model)
    done = threading.Event()
    threading.Thread(target=lambda: (ranker.poll(), ranker.poll(), done.set()), daemon=True).start()
    assert done.wait(5), "a poll waited for the model load"
    assert not ranker.loaded and ranker.loads == 0  # still ranking by propensity
    release.set()
    assert _wait_for(lambda: ranker._pending is not None, 10), "the background load never finished"
    ranker.poll()
    assert ranker.loaded and ranker.loads == 1 and ranker.scores is ranker.model.scores
    ranker.poll()
    assert _wait_for(lambda: not ranker._loading.locked(), 10) and ranker._pending is None  # unchanged file


def test_the_ranker_service_starts_without_a_model(target, tmp_path, monkeypatch):
    model = tmp_path / "ranking_model.json"
    monkeypatch.setenv("RANKER_MODEL_CHECK_SECONDS", "0")
    with TestClient(ranker_app(str(model))) as client:
        assert client.get("/health").json() == {"status": "ok", "model_loaded": False, "features": 0}
        assert client.post("/predict", json={"data": [[0, 1.0]]}).status_code == 503
        assert client.post("/explain", json={"data": [[0, 1.0]]}).status_code == 503
        shutil.copyfile(serve.model_path(target), model)
        health = client.get("/health").json()
        assert health["model_loaded"] is True and health["features"] > 0
        row = [0, *[0.5] * health["features"]]
        assert client.post("/predict", json={"data": [row]}).status_code == 200


def test_both_specs_mount_the_model_stage_with_stage_mount_v2():
    """BCR-2449 (2026_08): new services may not use `source: "@stage"`; V2 names the stage in stageConfig."""
    for svc in ("orchestrator", "ranker"):
        text = (Path(serve.ROOT) / "services" / "api" / svc / "spec.yaml.tmpl").read_text()
        assert 'source: "@' not in text and "source: stage" in text and "stageConfig:" in text
