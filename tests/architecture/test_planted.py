"""Each rule fails on a fault planted in an otherwise clean tree, and the clean tree passes every rule,
so a green test_tree means the rules were kept, not that they cannot see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.architecture import rules
from tests.architecture.rules import RULES, Rule, checklist
from tests.architecture.skeleton import append, readme, write, write_skeleton

Plant = Callable[[Path], None]


@dataclass(frozen=True)
class Fault:
    """A fault planted by `plant`, which `rule` must report naming `file` (and `says`, if given)."""

    name: str
    rule: Rule
    file: str
    plant: Plant
    says: str = ""


@pytest.fixture
def skeleton(tmp_path: Path) -> Path:
    return write_skeleton(tmp_path / "platform")


@pytest.mark.parametrize("rule", RULES, ids=[r.__name__ for r in RULES])
def test_the_clean_skeleton_keeps_every_rule(skeleton: Path, rule: Rule) -> None:
    assert rule(skeleton) == []


def _long_function(name: str, lines: int, indent: str = "") -> str:
    body = "".join(f"{indent}    value_{n} = {n}\n" for n in range(lines - 2))
    return f"{indent}def {name}(self) -> int:\n{body}{indent}    return 0\n"


def _component_with_long_constructor(root: Path) -> None:
    constructor = _long_function("__init__", 120, indent="    ")
    write(root, "infra/cdc/component.py", f"import pulumi\n\n\nclass Changes(pulumi.ComponentResource):\n{constructor}")


def _module_longer_after_format(root: Path) -> None:
    plain = [f"A_{n} = {n}" for n in range(379)]
    exploded = [f"B_{n} = [{n}, {n},]" for n in range(10)]  # a magic trailing comma: one line each, 4 formatted
    path = write(root, "scripts/cdc/loads.py", "\n".join(['"""Loads."""', *plain, *exploded]) + "\n")
    assert len(path.read_text().splitlines()) == 390


def _sys_path_to_a_service(root: Path) -> None:
    append(
        root,
        "scripts/api/loads.py",
        "\nimport sys\nfrom pathlib import Path\n\n"
        'APP = Path(__file__).resolve().parents[2] / "services" / "orchestrator"\nsys.path.insert(0, str(APP))\n',
    )


def _readme_checklist_drifts(root: Path) -> None:
    patterns = [p for p in checklist() if p != "scripts/<cap>/bench.py"] + ["infra/<cap>/schema.py"]
    write(root, "README.md", readme(patterns))


HISTORY_COMMENT = "# keeps the order of the load, see " + "issue" + " 12\n"

FAULTS = [
    Fault(
        "infra-capability-imports-another-component",
        rules.capability_isolation,
        "infra/serving/component.py",
        lambda r: append(r, "infra/serving/component.py", "from infra.cdc import component as cdc_component\n"),
        "infra.cdc.component",
    ),
    Fault(
        "scripts-capability-imports-another-loads",
        rules.capability_isolation,
        "scripts/serving/loads.py",
        lambda r: append(
            r, "scripts/serving/loads.py", "\n\ndef later() -> None:\n    from scripts.recommendations import loads\n"
        ),
        "scripts.recommendations.loads",
    ),
    Fault(
        "shared-core-imports-capability-loads",
        rules.capability_isolation,
        "scripts/local.py",
        lambda r: append(r, "scripts/local.py", "from scripts.cdc.loads import run\n"),
        "shared core",
    ),
    Fault(
        "from-module-import-private",
        rules.private_names,
        "infra/cdc/catalog.py",
        lambda r: (
            append(r, "infra/naming.py", "\n\ndef _quote(name: str) -> str:\n    return name\n"),
            append(r, "infra/cdc/catalog.py", "from infra.naming import _quote\n"),
        ),
        "_quote",
    ),
    Fault(
        "module-dot-private",
        rules.private_names,
        "scripts/cdc/loads.py",
        lambda r: append(r, "scripts/cdc/loads.py", "\n\ndef quoted() -> str:\n    return target._quote()\n"),
        "target._quote",
    ),
    Fault(
        "two-file-cycle-in-infra",
        rules.import_cycles,
        "infra/providers.py",
        lambda r: (
            append(r, "infra/naming.py", "\n\ndef provider() -> object:\n    from infra import providers\n"),
            append(r, "infra/providers.py", "from infra.naming import physical\n"),
        ),
        "infra/naming.py",
    ),
    Fault(
        "capability-cycle-across-trees-through-public-modules",
        rules.import_cycles,
        "scripts/serving/loads.py",
        lambda r: (
            append(r, "scripts/serving/loads.py", "from infra.recommendations import catalog as recommendations\n"),
            append(r, "scripts/recommendations/loads.py", "from infra.serving import config as serving\n"),
        ),
        "capability cycle",
    ),
    Fault(
        "capability-cycle-in-infra-through-public-modules",
        rules.import_cycles,
        "infra/recommendations/catalog.py",
        lambda r: (
            append(r, "infra/serving/catalog.py", "from infra.recommendations import catalog as recommendations\n"),
            append(r, "infra/recommendations/catalog.py", "from infra.serving import config as serving\n"),
        ),
        "capability cycle",
    ),
    Fault(
        "component-constructor-of-120-lines",
        rules.sizes,
        "infra/cdc/component.py",
        _component_with_long_constructor,
        "Changes.__init__ is 120 lines",
    ),
    Fault(
        "ordinary-function-of-100-lines",
        rules.sizes,
        "scripts/cdc/bench.py",
        lambda r: write(r, "scripts/cdc/bench.py", _long_function("measure", 100).replace("(self)", "()")),
        "measure is 100 lines",
    ),
    Fault("module-of-390-lines-over-400-formatted", rules.sizes, "scripts/cdc/loads.py", _module_longer_after_format),
    Fault(
        "sql-file-of-401-lines",
        rules.sizes,
        "sql/cdc/big.sql",
        lambda r: write(r, "sql/cdc/big.sql", "SELECT 1\n" * 400 + ";\n"),
        "401 lines",
    ),
    Fault(
        "test-module-of-401-lines",
        rules.sizes,
        "tests/cdc/test_big.py",
        lambda r: write(r, "tests/cdc/test_big.py", "X = 1\n" * 401),
        "401 lines",
    ),
    Fault(
        "fmt-skip-in-scripts",
        rules.format_guards,
        "scripts/cdc/rehearsal.py",
        lambda r: append(r, "scripts/cdc/rehearsal.py", "STEPS = [1,2]  # fmt: skip\n"),
    ),
    Fault(
        "fmt-off-in-tests",
        rules.format_guards,
        "tests/cdc/test_fmt.py",
        lambda r: write(r, "tests/cdc/test_fmt.py", "# fmt: off\nSTEPS = [1,2]\n# fmt: on\n"),
    ),
    Fault(
        "services-import-infra",
        rules.import_flow,
        "services/api/orchestrator/orchestrator/app.py",
        lambda r: append(r, "services/api/orchestrator/orchestrator/app.py", "from infra import naming\n"),
    ),
    Fault(
        "scripts-import-an-app",
        rules.services_as_processes,
        "scripts/dashboard/loads.py",
        lambda r: append(r, "scripts/dashboard/loads.py", "from services.dashboard import views\n"),
        "services.dashboard.views",
    ),
    Fault("sys-path-insert-of-a-service", rules.services_as_processes, "scripts/api/loads.py", _sys_path_to_a_service),
    Fault(
        "import-module-of-a-service",
        rules.services_as_processes,
        "scripts/api/bench.py",
        lambda r: append(
            r, "scripts/api/bench.py", 'import importlib\n\nimportlib.import_module("services.api.orchestrator.app")\n'
        ),
    ),
    Fault(
        "sys-path-from-a-service-to-the-root",
        rules.services_as_processes,
        "services/api/orchestrator/orchestrator/app.py",
        lambda r: append(
            r,
            "services/api/orchestrator/orchestrator/app.py",
            "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).resolve().parents[4]))\n",
        ),
        "outside services",
    ),
    Fault(
        "dunder-import-of-a-service",
        rules.services_as_processes,
        "infra/api/catalog.py",
        lambda r: append(r, "infra/api/catalog.py", 'APP = __import__("services.api.orchestrator.orchestrator.app")\n'),
    ),
    Fault(
        "spec-from-file-location-on-a-service",
        rules.services_as_processes,
        "scripts/api/rehearsal.py",
        lambda r: append(
            r,
            "scripts/api/rehearsal.py",
            "import importlib.util\nfrom pathlib import Path\n\nSERVICES = Path(__file__).parents[2] / 'services'\n"
            "SPEC = importlib.util.spec_from_file_location('app', SERVICES / 'orchestrator' / 'server.py')\n",
        ),
        "spec_from_file_location",
    ),
    Fault(
        "relative-import-cycle-in-scripts",
        rules.import_cycles,
        "scripts/cdc/rehearsal.py",
        lambda r: (
            append(r, "scripts/cdc/rehearsal.py", "from . import bench\n"),
            append(r, "scripts/cdc/bench.py", "from .rehearsal import *\n"),
        ),
        "scripts/cdc/bench.py",
    ),
    Fault(
        "scripts-import-pulumi",
        rules.scripts_without_pulumi,
        "scripts/cdc/rehearsal.py",
        lambda r: append(r, "scripts/cdc/rehearsal.py", "\n\ndef outputs() -> None:\n    import pulumi_aws\n"),
        "imports pulumi_aws",
    ),
    Fault(
        "scripts-reach-pulumi-through-a-package-init",
        rules.scripts_without_pulumi,
        "scripts/cdc/loads.py",
        lambda r: append(r, "infra/cdc/__init__.py", "from infra.cdc.component import Component\n"),
        "scripts/cdc/loads.py -> infra/cdc/__init__.py -> infra/cdc/component.py -> pulumi",
    ),
    Fault(
        "scripts-reach-pulumi-through-infra",
        rules.scripts_without_pulumi,
        "scripts/ingestion/loads.py",
        lambda r: append(r, "infra/naming.py", "import pulumi\n"),
        "scripts/ingestion/loads.py -> infra/ingestion/catalog.py -> infra/naming.py -> pulumi",
    ),
    Fault(
        "stacks-import-scripts",
        rules.import_flow,
        "stacks/platform.py",
        lambda r: append(r, "stacks/platform.py", "from scripts.cdc import loads\n"),
    ),
    Fault(
        "capability-without-rehearsal",
        rules.shape,
        "scripts/cdc/rehearsal.py",
        lambda r: (r / "scripts/cdc/rehearsal.py").unlink(),
        "missing",
    ),
    Fault(
        "unlisted-capability-dir",
        rules.shape,
        "infra/billing/",
        lambda r: write(r, "infra/billing/__init__.py", '"""Billing."""\n'),
        "unlisted capability",
    ),
    Fault(
        "capability-module-outside-its-dir",
        rules.shape,
        "infra/api.py",
        lambda r: write(r, "infra/api.py", '"""The API."""\n'),
    ),
    Fault(
        "capability-module-in-the-shared-core",
        rules.shape,
        "scripts/bench/cdc.py",
        lambda r: write(r, "scripts/bench/cdc.py", '"""The CDC bench."""\n'),
        "cdc code outside scripts/cdc/",
    ),
    Fault("readme-checklist-drifts", rules.readme_checklist, "README.md", _readme_checklist_drifts, "bench.py"),
    Fault(
        "a-comment-naming-a-moved-file",
        rules.stale_paths,
        "infra/cdc/catalog.py",
        lambda r: append(r, "infra/cdc/catalog.py", "# the SQL comes from sql/cdc/gone.sql, see infra/cdc.py\n"),
        "names infra/cdc.py",
    ),
    Fault(
        "issue-number-in-a-comment",
        rules.no_history,
        "infra/cdc/catalog.py",
        lambda r: append(r, "infra/cdc/catalog.py", HISTORY_COMMENT),
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_the_rule_reports_a_planted_fault(skeleton: Path, fault: Fault) -> None:
    fault.plant(skeleton)
    found = fault.rule(skeleton)
    naming = [v for v in found if fault.file in v and fault.says in v]
    assert naming, f"{fault.rule.__name__} missed {fault.name} in {fault.file}: {found}"


def test_a_capability_cycle_through_public_modules_is_only_a_cycle(skeleton: Path) -> None:
    """Each import of the cycle is allowed on its own; only the cycle rule sees the loop."""
    fault = next(f for f in FAULTS if f.name == "capability-cycle-across-trees-through-public-modules")
    fault.plant(skeleton)
    assert {r.__name__ for r in RULES if r(skeleton)} == {"import_cycles"}


def test_shared_core_may_import_public_modules_and_services_features(skeleton: Path) -> None:
    """What the rules allow stays allowed: the shared core reads catalogs, scripts use the shared library."""
    append(skeleton, "scripts/target.py", "from infra.cdc import catalog\nfrom infra.serving.config import SIZE\n")
    append(skeleton, "scripts/recommendations/loads.py", "from services.features.pair import PAIRS\n")
    append(skeleton, "stacks/platform.py", "from infra.cdc.component import Component\n")
    assert {r.__name__: r(skeleton) for r in RULES if r(skeleton)} == {}


def test_the_readme_checklist_must_follow_its_heading(skeleton: Path) -> None:
    """A checklist under another heading, or none, is reported rather than silently read elsewhere."""
    text = (skeleton / "README.md").read_text().replace("```text", "## Next\n\n```text")
    write(skeleton, "README.md", text)
    assert rules.readme_checklist(skeleton) == [
        "README.md:5: `### Adding a capability` is not followed by a fenced code block"
    ]
    write(skeleton, "README.md", "# platform\n")
    assert "no `### Adding a capability` section" in rules.readme_checklist(skeleton)[0]


def test_a_sentence_may_introduce_the_readme_checklist(skeleton: Path) -> None:
    text = (skeleton / "README.md").read_text().replace("```text", "Create these files:\n\n```")
    write(skeleton, "README.md", text)
    assert rules.readme_checklist(skeleton) == []
