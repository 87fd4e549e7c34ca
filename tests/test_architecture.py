"""The layout rules of docs/architecture.md, checked on the source (AST, every import at any depth)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "include" / "reliability"
JOBS = ("backup", "checksum", "restore", "sla", "buildsize", "performance")
# What each layer may import from the library (besides itself); everything else is upward or sideways.
ALLOWED = {
    "core": set(),
    "adapters": {"core"},
    "backups": {"core", "adapters"},
    **{job: {"core", "adapters", "backups"} for job in JOBS},
}
# Publishing is the one piece of core that drives the outside systems (core.publish -> adapters -> core.outcome).
EXCEPTIONS = {("core/publish.py", "adapters")}
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "reliability":
                found += [(node.lineno, f"reliability.{alias.name}") for alias in node.names]
    return found


def _layer(path: Path) -> str:
    rel = path.relative_to(LIBRARY)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_only_the_airflow_package_imports_airflow():
    offenders = [
        f"{p.relative_to(ROOT)}:{line} imports {name}"
        for p in _modules()
        if _layer(p) != "airflow"
        for line, name in _imports(p)
        if name == "airflow" or name.startswith("airflow.")
    ]
    assert not offenders, "Airflow imported outside include/reliability/airflow/:\n" + "\n".join(offenders)


def test_the_rule_catches_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from airflow.sdk import Connection\n    return Connection\n")
    assert (2, "airflow.sdk") in _imports(module)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_run_downward(layer):
    offenders = []
    for path in _modules():
        if _layer(path) != layer:
            continue
        for line, name in _imports(path):
            parts = name.split(".")
            if parts[0] != "reliability" or len(parts) < 2 or parts[1] == layer:
                continue
            if (
                parts[1] not in ALLOWED[layer]
                and (str(path.relative_to(LIBRARY)), parts[1]) not in EXCEPTIONS
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not offenders, (
        f"{layer} may import only {sorted(ALLOWED[layer]) or 'nothing'} of the library:\n"
        + "\n".join(offenders)
    )


def test_no_library_module_is_over_400_lines():
    long = [
        f"{p.relative_to(ROOT)}: {n} lines"
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, "split these modules:\n" + "\n".join(long)


def test_every_library_module_belongs_to_a_layer():
    stray = [
        str(p.relative_to(ROOT)) for p in _modules() if _layer(p) not in {*ALLOWED, "airflow", "__init__"}
    ]
    assert not stray, f"modules outside core/, adapters/, backups/, airflow/ and the job packages: {stray}"


# The fixed modules of a job package and the one name each must define (docs/architecture.md).
SHAPE = {"config.py": "load_config", "run.py": None, "outcome.py": "to_outcome", "store.py": None}


@pytest.mark.parametrize("job", JOBS)
def test_every_job_package_has_the_same_shape(job):
    package = LIBRARY / job
    missing = [name for name in SHAPE if not (package / name).is_file()]
    assert not missing, f"{job}/ lacks {missing}"
    for name, function in SHAPE.items():
        if function is None:
            continue
        tree = ast.parse((package / name).read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert function in defined, f"{job}/{name} does not define {function}()"
    assert not (package / "job.py").exists(), f"{job}/job.py: its parts belong in run.py and outcome.py"
