"""Headless QGIS with Processing and the smr provider: `/usr/bin/python3 -m pytest tests/plugin`.

The environment is set before qgis is imported: Qt needs QT_QPA_PLATFORM and XDG_RUNTIME_DIR at
start-up, and QGIS_CUSTOM_CONFIG_PATH keeps the tests away from the user's QGIS profile.
"""

import importlib.util
import os
import stat
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

# Keep __pycache__ folders out of the plugin sources the tests import.
sys.dont_write_bytecode = True

REPO_ROOT = Path(__file__).resolve().parents[2]
# Where `cmake --install build` puts the executable (the plugin is installed as build/plugins/smr).
INSTALLED_EXECUTABLE = REPO_ROOT / "build" / "plugins" / "smr" / "bin" / "smr"
PROCESSING_PLUGINS = "/usr/share/qgis/python/plugins"


def _prepare_headless_environment():
    scratch = Path(tempfile.mkdtemp(prefix="smr-plugin-tests-"))
    runtime = scratch / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    runtime.chmod(stat.S_IRWXU)  # mkdir's mode is masked by the umask; Qt insists on 0700
    profile = scratch / "qgis-profile"
    profile.mkdir()
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = str(profile)
    # The bridge saves each full request here (its log line shortens long lists); the tests read
    # what was sent from there (RecordingFeedback.request_sent).
    os.environ["SMR_DEBUG_REQUESTS"] = str(scratch / "requests")


_prepare_headless_environment()

from qgis.core import QgsApplication  # noqa: E402 (needs the environment above)


def _import_plugin_package():
    """Import the repository as the package `smr`, the name the plugin has when installed."""
    if "smr" in sys.modules:
        return sys.modules["smr"]
    spec = importlib.util.spec_from_file_location(
        "smr", REPO_ROOT / "__init__.py", submodule_search_locations=[str(REPO_ROOT)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["smr"] = package
    spec.loader.exec_module(package)
    return package


@pytest.fixture(scope="session")
def qgis_app():
    application = QgsApplication([], False)
    application.initQgis()
    if PROCESSING_PLUGINS not in sys.path:
        sys.path.append(PROCESSING_PLUGINS)
    from processing.core.Processing import Processing

    Processing.initialize()
    # Through classFactory, as QGIS does: the plugin class registers the provider.
    plugin = _import_plugin_package().classFactory(None)
    plugin.initProcessing()
    assert QgsApplication.processingRegistry().providerById("smr") is not None
    yield plugin
    plugin.unload()


@pytest.fixture(scope="session")
def smr_executable():
    """The smr executable the bridge will run; a missing one is a failure, never a skip."""
    configured = os.environ.get("SMR_EXECUTABLE")
    executable = Path(configured) if configured else INSTALLED_EXECUTABLE
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        pytest.fail(
            f"The smr executable was not found at {executable} "
            f"({'from SMR_EXECUTABLE' if configured else 'default install location'}). Build and "
            f"install it with scripts/build.sh or `cmake --build build && cmake --install build`, "
            f"or set SMR_EXECUTABLE to its path.", pytrace=False)
    os.environ["SMR_EXECUTABLE"] = str(executable)
    return executable


@pytest.fixture
def run_algorithm(qgis_app, smr_executable):
    """processing.run("smr:<name>", parameters, feedback=...) with the real smr executable."""
    import processing

    def run(name, parameters, feedback=None):
        return processing.run(f"smr:{name}", parameters, feedback=feedback)

    return run


# The bridge (plugin/bridge.py) and stand-ins for smr that play a part of its protocol, for the
# bridge's tests (test_bridge.py, test_bridge_log.py).
@pytest.fixture
def bridge(qgis_app):
    from smr.plugin import bridge as bridge_module

    return bridge_module


@pytest.fixture
def fake_smr(tmp_path, monkeypatch):
    """Install a Python script as SMR_EXECUTABLE; the body sees `command` and `params`."""

    def install(body):
        script = tmp_path / "fake_smr"
        script.write_text("#!/usr/bin/python3\n" + textwrap.dedent("""\
            import json, os, signal, sys, time
            command = sys.argv[1]
            params = json.loads(sys.stdin.read())
            def emit(**message):
                print(json.dumps(message), flush=True)
            """) + textwrap.dedent(body))
        script.chmod(0o755)
        monkeypatch.setenv("SMR_EXECUTABLE", str(script))
        return script

    return install


@pytest.fixture
def run_without_core(qgis_app):
    """processing.run for failures the plugin must detect before the executable is involved."""
    import processing

    def run(name, parameters, feedback=None):
        return processing.run(f"smr:{name}", parameters, feedback=feedback)

    return run
