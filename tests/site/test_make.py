"""The two commands of the README on a fresh machine: `make test` installs every Debian
package the tests need in one step, before any test runs; every Python package is
installed from a lock that pins it with its hashes, and only by those hashes."""

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


def _pins(lock: str) -> dict[str, str]:
    """Each requirement of a lock file (continuation lines joined), by its name."""
    text = (ROOT / lock).read_text().replace("\\\n", " ")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return {line.split("==", 1)[0].lower(): line for line in lines if line}


@pytest.mark.parametrize("stamp", [".runtime", ".dev"])
def test_make_installs_the_locks_only_by_their_hashes(stamp):
    installs = [line for line in _dry_run(f".venv/{stamp}") if "pip install" in line]
    assert installs, f"the {stamp} rule installs a lock"
    for line in installs:
        assert "-r requirements" in line, line
        assert "--require-hashes" in line, line


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_locked_package_is_pinned_with_its_hashes(lock):
    pins = _pins(lock)
    assert "django" in pins
    for name, line in pins.items():
        assert "==" in line, f"{lock}: {name} is pinned"
        assert "--hash=sha256:" in line, f"{lock}: {name} is pinned with its hashes"


def test_the_dev_lock_pins_every_runtime_package_at_the_same_version():
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    for name, line in runtime.items():
        assert name in dev, f"{name} is in the dev lock"
        assert line.split(";")[0].split()[0] == dev[name].split(";")[0].split()[0], name
