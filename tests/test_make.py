"""The two commands of the README on a fresh machine: `make test` installs every Debian
package the tests need in one step, before any test runs."""

import shutil
import subprocess

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _dry_run(target: str) -> list[str]:
    ran = subprocess.run(
        ["make", "--dry-run", "--always-make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return ran.stdout.splitlines()


def _first(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


def test_make_test_installs_every_package_before_the_first_test_runs():
    lines = _dry_run("test")
    install = _first(lines, "scripts/install-packages test")
    assert install < _first(lines, "bin/pytest"), "packages come before the first pytest pass"
    assert install < _first(lines, "bin/ruff"), "and before anything else checks the tree"


def test_the_install_step_names_every_package_the_tests_use():
    script = (ROOT / "scripts" / "install-packages").read_text()
    for package in ("chromium", "nginx", "postgresql", "redis-server", "nodejs", "npm"):
        assert f'"{package}:' in script, f"{package} is installed before the tests"
