"""What ``pip install .`` (a real wheel, not the editable install the suite runs on)
ships: every package of the source tree and every data file beside its modules. The
package list is written out in pyproject.toml, so a new subpackage must be added there;
the monitor once worked in the editable install and failed to import from a wheel."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
SOURCE = ROOT / "agentdesk"


def source_packages() -> dict[str, Path]:
    return {
        ".".join(init.parent.relative_to(ROOT).parts): init.parent
        for init in SOURCE.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


def test_every_package_of_the_source_tree_is_installed():
    missing = sorted(set(source_packages()) - set(SETUPTOOLS["packages"]))
    assert not missing, f"pyproject.toml [tool.setuptools] packages lacks {missing}"


def test_every_data_file_beside_the_modules_is_installed():
    packages = source_packages()
    globs = SETUPTOOLS.get("package-data", {})
    unshipped = []
    for name, folder in packages.items():
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
                continue
            owner = path.parent
            while ".".join(owner.relative_to(ROOT).parts) not in packages:
                owner = owner.parent
            if owner != folder:
                continue  # a file of a subpackage: its own turn
            relative = path.relative_to(folder).as_posix()
            if not any(fnmatch.fnmatch(relative, g) for g in globs.get(name, [])):
                unshipped.append(f"{name}: {relative}")
    assert not unshipped, f"pyproject.toml [tool.setuptools.package-data] misses {unshipped}"
