"""Fixtures of the end-to-end tests: qgis_process with the installed plugin, and a sample scene.

The tests run the sample models (sample_projects/*.model3) with `qgis_process.bin run <model> --
KEY=value …` as a user would, on a small scene from `smr samplescene`, with the installed plugin
(build/plugins/smr, from scripts/setup.sh) enabled in a QGIS profile of their own (never the
user's).

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
Environment: SMR_EXECUTABLE (the smr binary; default the installed one), SMR_PLUGINS_DIR (the
folder holding the plugin folder smr; default build/plugins).
"""

import os
import subprocess
from pathlib import Path

import pytest

from qgis_process_helpers import QGIS_PROCESS, REPO_ROOT, SIZE, TIMEOUT, generate_scene


def _plugins_dir():
    configured = os.environ.get("SMR_PLUGINS_DIR")
    return Path(configured) if configured else REPO_ROOT / "build" / "plugins"


@pytest.fixture(scope="session")
def qgis_env(tmp_path_factory):
    """Environment for qgis_process: headless, own profile, the smr plugin enabled in it."""
    if not os.access(QGIS_PROCESS, os.X_OK):
        pytest.fail(f"{QGIS_PROCESS} not found: install QGIS (scripts/setup.sh)", pytrace=False)
    plugins = _plugins_dir()
    executable = Path(os.environ.get("SMR_EXECUTABLE") or plugins / "smr" / "bin" / "smr")
    if not (plugins / "smr" / "metadata.txt").is_file() or not os.access(executable, os.X_OK):
        pytest.fail(f"the smr plugin is not installed in {plugins} (or {executable} is missing): "
                    f"run scripts/setup.sh", pytrace=False)
    scratch = tmp_path_factory.mktemp("qgis")
    runtime = scratch / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    env = dict(os.environ)
    env.update({
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(runtime),
        "QGIS_CUSTOM_CONFIG_PATH": str(scratch / "profile"),
        "QGIS_PLUGINPATH": str(plugins),
        "SMR_EXECUTABLE": str(executable),
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    })
    # qgis_process loads only plugins enabled in its profile (QGIS3.ini [PythonPlugins] smr=true).
    enable = subprocess.run([QGIS_PROCESS, "plugins", "enable", "smr"], env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    listing = subprocess.run([QGIS_PROCESS, "plugins"], env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)
    assert "* smr" in listing.stdout.splitlines(), (
        f"could not enable the smr plugin:\n{enable.stdout}\n{enable.stderr}\n{listing.stdout}")
    env["SMR_TEST_EXECUTABLE"] = str(executable)
    return env


@pytest.fixture(scope="session")
def scene(qgis_env, tmp_path_factory):
    """A SIZE × SIZE sample scene (seed 42) and its scene.json."""
    return generate_scene(qgis_env["SMR_TEST_EXECUTABLE"], tmp_path_factory.mktemp("scene"),
                          WIDTH=SIZE, HEIGHT=SIZE, SEED=42)
