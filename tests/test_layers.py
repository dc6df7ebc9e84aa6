"""The layers: ``emc_app`` > ``experiments`` > ``claims`` > ``proofs`` > ``emc_theory``, each
importing only those below it (``course/`` holds lectures, not a package).

Checked twice, independently: the import-linter contract of ``setup.cfg`` (the one ``.ci/run``
runs), with controls showing that the contract breaks on an upward import and keeps a tree of
downward ones; and a scan of the core's syntax trees for any import of a higher layer."""
import ast
import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

importlinter_cli = pytest.importorskip("importlinter.cli", reason="needs the extra 'lint'")

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("emc_app", "experiments", "claims", "proofs", "emc_theory")
ABOVE_CORE = {"claims", "proofs", "experiments", "emc_app", "course"}


def contract() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    return config


def test_the_contract_states_the_layers_in_order():
    config = contract()
    section = config["importlinter:contract:layers"]
    assert section["type"] == "layers"
    assert tuple(section["layers"].split()) == LAYERS
    assert set(config["importlinter"]["root_packages"].split()) == set(LAYERS)


def test_the_repository_keeps_the_contract(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(str(REPO))
    assert importlinter_cli.lint_imports(config_filename=str(REPO / "setup.cfg"), no_cache=True,
                                         no_logo=True) == 0


def _lint_fake_tree(tmp_path: Path, imports: dict) -> subprocess.CompletedProcess:
    """Run the repository's contract over a tree of empty packages with the layers' names, in
    which ``imports`` (package -> module it imports) are the only imports."""
    for package in LAYERS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        target = imports.get(package)
        (tmp_path / package / "mod.py").write_text(f"import {target}\n" if target else "")
    config = contract()
    cfg = tmp_path / "setup.cfg"
    with cfg.open("w") as fh:
        fh.write("[importlinter]\nroot_packages =\n" + textwrap.indent(
            config["importlinter"]["root_packages"].strip(), "    ") + "\n\n")
        fh.write("[importlinter:contract:layers]\nname = layers\ntype = layers\nlayers =\n"
                 + textwrap.indent(config["importlinter:contract:layers"]["layers"].strip(),
                                   "    ") + "\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    code = ("import sys; sys.path.insert(0, '.'); from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='setup.cfg', no_cache=True, no_logo=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True)


def test_control_an_upward_import_breaks_the_contract(tmp_path):
    run = _lint_fake_tree(tmp_path, {"emc_theory": "claims.mod"})
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout and "emc_theory.mod -> claims.mod" in run.stdout


def test_control_downward_imports_keep_the_contract(tmp_path):
    run = _lint_fake_tree(tmp_path, {"emc_app": "experiments.mod", "experiments": "claims.mod",
                                     "claims": "proofs.mod", "proofs": "emc_theory.mod"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "KEPT" in run.stdout


def _imported_roots(path: Path) -> set:
    """Top-level names of every absolute import in ``path``, including
    ``importlib.import_module("...")`` with a constant name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(
                node.func, "id", None)) in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_no_core_module_imports_a_higher_layer():
    files = sorted((REPO / "emc_theory").rglob("*.py"))
    assert len(files) > 10
    offenders = {str(p.relative_to(REPO)): sorted(_imported_roots(p) & ABOVE_CORE)
                 for p in files if _imported_roots(p) & ABOVE_CORE}
    assert not offenders, offenders


def test_the_scan_sees_every_form_of_import(tmp_path):
    """Control of the scan: each way of importing a higher layer is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nimport claims.t1\nfrom proofs import derivation\n"
                      "from . import sibling\nimport importlib\n"
                      "importlib.import_module('experiments.build')\n"
                      "def f():\n    from emc_app.cli import main\n")
    assert _imported_roots(sample) & ABOVE_CORE == {"claims", "proofs", "experiments", "emc_app"}
