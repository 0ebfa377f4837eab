"""The files of the dashboard app as they sit on its stage, and their digest.

The Pulumi component publishes them when the digest changes (so a code change shows in the preview
diff and updates the app on `up`); `python -m scripts.dashboard publish` uploads the same list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from infra import monitoring

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "services" / "dashboard"
SQL_DIR = ROOT / "sql" / "dashboard"
SERVICES_DIR = ROOT / "services"
# The monitor's queries the Operations tab runs (sql/<cap>/monitor.sql → sql/monitor/<cap>.sql), and the
# shared judgement it imports as `services.features.health`, as the orchestrator's image carries it.
MONITOR_SQL = {cap: ROOT / "sql" / path for cap, path in monitoring.FILES.items()}
SHARED = ("__init__.py", "features/__init__.py", "features/health.py")
MAIN_FILE = "streamlit_app.py"
THEME = ".streamlit/config.toml"  # the app's light and dark themes, read from the app's root
DIRECTORY = "app"  # the app's directory on its stage


@dataclass(frozen=True)
class AppFile:
    source: Path
    path: str  # relative to the app's directory on the stage

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]


def files() -> list[AppFile]:
    """The app's modules, environment.yml and monitor.json at the root, its theme in .streamlit/, its
    queries in sql/ and the monitor's in a monitor/ folder under it (where queries.py looks), the shared
    judgement under services/."""
    app = [p for p in sorted(APP_DIR.glob("*.py")) if p.name != "__init__.py"]
    app += [APP_DIR / "environment.yml", APP_DIR / "monitor.json"]
    found = [AppFile(p, p.name) for p in app] + [AppFile(APP_DIR / THEME, THEME)]
    found += [AppFile(p, f"sql/{p.name}") for p in sorted(SQL_DIR.glob("*.sql"))]
    found += [AppFile(p, f"sql/monitor/{cap}.sql") for cap, p in MONITOR_SQL.items()]
    found += [AppFile(SERVICES_DIR / rel, f"services/{rel}") for rel in SHARED]
    missing = [str(f.source) for f in found if not f.source.is_file()]
    if missing or not any(f.path == MAIN_FILE for f in found):
        raise FileNotFoundError(f"dashboard bundle incomplete: missing {missing or [MAIN_FILE]}")
    return found


def digest() -> str:
    """Content hash of the bundle: paths and bytes, so a rename or an edit changes it."""
    h = hashlib.sha256()
    for f in files():
        h.update(f.path.encode() + b"\0" + f.source.read_bytes() + b"\0")
    return h.hexdigest()[:16]
