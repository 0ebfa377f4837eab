"""The catalogue and stock the API keeps in memory (orchestrator/shelf.py) are never stale after a sync:
the sync swaps tables, which changes their OIDs, and the very next request sees what it put live. No
waiting: each check is the first request after the sync returned. Between syncs nothing is reloaded."""

from __future__ import annotations

import numpy as np
import psycopg
from fastapi.testclient import TestClient

from scripts.serving import loads as serving
from services.api.orchestrator.orchestrator.app import create_app
from tests.api.conftest import SCHEMA, customers, settings_for

REGION = "Northeast"  # ZIP 10001's


def set_warehouse(target, table: str, column: str, value, product: int, region: str | None = None):
    """Change one value in the warehouse (the sync's source of truth, not Postgres); return what it was."""
    where = "PRODUCT_ID = %s" + (" AND REGION = %s" if region else "")
    key = (product, region) if region else (product,)
    with target.connect_snowflake() as conn:
        cur = conn.cursor()
        cur.execute(f"SELECT {column} FROM {target.q(table)} WHERE {where}", key)
        (was,) = cur.fetchone()
        cur.execute(f"UPDATE {target.q(table)} SET {column} = %s WHERE {where}", (value, *key))
    return was


def ask(c: TestClient, cid: int) -> dict:
    r = c.get("/recommend", params={"customer_id": cid, "zip_code": "10001", "top_n": 50})
    assert r.status_code == 200 and r.json()["backend"] == "postgres", r.text
    return r.json()


def test_the_first_request_after_a_sync_sees_the_new_stock_and_names(env, target):
    app = create_app(settings_for(env))
    with TestClient(app) as c:
        shelves = app.state.recommender.shelves
        cid = customers(target, 1)[0][0]
        first = ask(c, cid)
        loads = shelves.loads
        assert ask(c, cid)["timings"]["shelf_reloaded"] is False and shelves.loads == loads  # nothing changed
        items = first["recommendations"]
        assert len(items) == 50 and first["timings"]["candidates"] > 50
        # sold out: no longer a candidate; renamed: listed as before (a name does not move a score);
        # restocked: a feature changes, so its rank may too; the shelf the request used shows it
        gone, renamed, restocked = (items[k]["product_id"] for k in range(3))
        more = items[2]["in_stock_qty"] + 1000
        was = [
            (gone, set_warehouse(target, "INVENTORY", "QTY_ON_HAND", 0, gone, REGION)),
            (restocked, set_warehouse(target, "INVENTORY", "QTY_ON_HAND", more, restocked, REGION)),
        ]
        old_name = set_warehouse(target, "PRODUCT_CATALOG", "PRODUCT_NAME", "renamed by the sync", renamed)
        try:
            serving.sync(target, ("customer_propensity",), rank=False)  # a table the shelf does not hold: no reload
            assert ask(c, cid)["timings"]["shelf_reloaded"] is False
            serving.sync(target, ("inventory", "products"), rank=False)
            after = ask(c, cid)  # the very next request
            assert after["timings"]["shelf_reloaded"] is True
            listed = {i["product_id"]: i for i in after["recommendations"]}
            # its place among the candidates may go to the next best seller of a propensity category
            assert gone not in listed and after["timings"]["candidates"] <= first["timings"]["candidates"]
            assert listed[renamed]["product_name"] == "renamed by the sync"
            assert shelves.shelf.region(REGION).stocked[restocked] == more
            assert restocked not in listed or listed[restocked]["in_stock_qty"] == more
            assert ask(c, cid)["timings"]["shelf_reloaded"] is False  # reloaded once, not per request
        finally:
            for product, qty in was:
                set_warehouse(target, "INVENTORY", "QTY_ON_HAND", qty, product, REGION)
            set_warehouse(target, "PRODUCT_CATALOG", "PRODUCT_NAME", old_name, renamed)
            serving.sync(target, ("inventory", "products"), rank=False)
        back = ask(c, cid)
        assert [(i["product_id"], i["in_stock_qty"], i["product_name"]) for i in back["recommendations"]] == [
            (i["product_id"], i["in_stock_qty"], i["product_name"]) for i in items
        ]


def test_a_write_in_place_is_seen_once_the_shelf_is_older_than_its_max_age(env, target):
    """The sync never writes live tables in place; if someone does, the shelf's age bounds how long it
    goes unseen (here 0 s: every request reloads)."""
    cid = customers(target, 1)[0][0]
    with TestClient(create_app(settings_for(env, shelf_max_age_seconds=0.0))) as c:
        gone = ask(c, cid)["recommendations"][0]["product_id"]
        with psycopg.connect(target.pg_dsn) as conn:
            conn.execute(f"UPDATE {SCHEMA}.inventory SET qty_on_hand = 0 WHERE product_id = %s", (gone,))
        try:
            assert gone not in [i["product_id"] for i in ask(c, cid)["recommendations"]]
        finally:
            serving.sync(target, ("inventory",), rank=False)


def test_until_a_sync_creates_customer_candidates_the_api_serves_the_picks_then_the_retrieval(env, target):
    """A deploy puts the new image live before the sync that runs the table's migration: meanwhile
    requests are answered from Postgres with the shelf's picks only (propensity, taste), and the request after the
    table appears (its OID, read by every request) switches to the retrieval's candidates."""
    cid = customers(target, 1)[0][0]
    with TestClient(create_app(settings_for(env))) as c:
        full = ask(c, cid)["timings"]["candidates"]
    hidden = f"ALTER TABLE {SCHEMA}.customer_candidates RENAME TO customer_candidates_hidden"
    with psycopg.connect(target.pg_dsn, autocommit=True) as conn:
        conn.execute(hidden)
        try:
            with TestClient(create_app(settings_for(env))) as c:
                picks = ask(c, cid)["timings"]["candidates"]  # 200 from Postgres (ask checks)
                assert 0 < picks < full
                conn.execute(f"ALTER TABLE {SCHEMA}.customer_candidates_hidden RENAME TO customer_candidates")
                assert ask(c, cid)["timings"]["shelf_reloaded"] is True  # the new OID seen
                assert ask(c, cid)["timings"]["candidates"] == full
        finally:
            conn.execute(f"ALTER TABLE IF EXISTS {SCHEMA}.customer_candidates_hidden RENAME TO customer_candidates")


def test_until_a_sync_fills_the_taste_signals_the_api_ranks_with_the_taste_features_missing(env, target, monkeypatch):
    """An image deployed before the sync's migration (the columns absent) or between the migration and
    the swap (the columns NULL) still answers from Postgres, with the taste features missing (NaN)
    rather than computed from zeros; once the signals are there, they are computed."""
    from services.api.orchestrator.orchestrator import app as app_module
    from services.features.pair import BASE

    seen = []
    real = app_module.pair_matrix
    monkeypatch.setattr(app_module, "pair_matrix", lambda *a: seen.append(real(*a)) or seen[-1])
    cid = customers(target, 1)[0][0]

    def taste_known(c: TestClient) -> bool:
        ask(c, cid)  # 200 from Postgres
        taste = seen[-1][:, BASE:]
        assert np.isnan(taste).all() or np.isfinite(taste).all()
        return bool(np.isfinite(taste).all())

    with (
        psycopg.connect(target.pg_dsn, autocommit=True) as conn,
        TestClient(create_app(settings_for(env, shelf_max_age_seconds=0.0))) as c,
    ):
        assert taste_known(c)
        conn.execute(f"ALTER TABLE {SCHEMA}.product_popularity RENAME COLUMN views_365d TO views_hidden")
        try:
            assert not taste_known(c)  # before the migration
        finally:
            conn.execute(f"ALTER TABLE {SCHEMA}.product_popularity RENAME COLUMN views_hidden TO views_365d")
        assert taste_known(c)
        conn.execute(f"UPDATE {SCHEMA}.product_popularity SET repeat_rate = NULL")
        try:
            assert not taste_known(c)  # migrated, not yet synced
        finally:
            serving.sync(target, ("product_popularity",), rank=False)
        assert taste_known(c)
