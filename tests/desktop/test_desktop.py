"""SMR in QGIS Desktop under a virtual X server, as a user meets it.

QGIS 3.22 (/usr/bin/qgis) starts under Xvfb with a fresh profile and the smr plugin of the Debian
package (SMR_DESKTOP_DEB, default the one scripts/build-packages wrote into $SMR_BUILD_DIR/packages):
the package is unpacked into a scratch folder, QGIS finds the plugin there through QGIS_PLUGINPATH
and runs the package's startup.py (through PYQGIS_STARTUP) exactly as it runs the installed
/usr/share/QGIS/QGIS3/startup.py, so the test shows that the package enables itself in a profile
that has no setting. Without a package (a developer's pytest run before scripts/build-packages),
or with SMR_DESKTOP_PLUGIN_PATH (a folder holding the plugin folder `smr`), the plugin comes from
that folder or $SMR_PLUGINS_DIR and is enabled in the profile instead. desktop_session.py runs inside it (`--code`): the Processing toolbox, a sample
model in the Graphical Modeler and its validation, smr:applymodel run from its dialog, the loaded
output's style, rasters loaded from disk. It writes a JSON result and quits; this test asserts on
the JSON. Screenshots go to $SMR_TEST_ARTIFACTS/desktop (default build/test-artifacts/desktop).

Run: /usr/bin/python3 -m pytest tests/desktop -q   (skipped only without xvfb-run or QGIS)
"""

import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

gdal.UseExceptions()

REPO_ROOT = Path(__file__).resolve().parents[2]
SESSION_SCRIPT = Path(__file__).resolve().parent / "desktop_session.py"
SAMPLE_MODEL = REPO_ROOT / "sample_projects" / "paper000_physical_chain.model3"
QGIS = "/usr/bin/qgis"
SCREEN = "1600x1000x24"
TIMEOUT_S = 240
OUTPUT_TAIL = 6000

# The network run from the dialog: paper 000's shape in miniature (σ⁰ VV and VH in dB → soil
# moisture in m³/m³), one tansig hidden neuron and a purelin output, mapminmax to [−1, 1].
VV_RANGE = (-20.0, -5.0)
VH_RANGE = (-27.0, -12.0)
TARGET_RANGE = (0.05, 0.45)
HIDDEN_WEIGHTS, HIDDEN_BIAS = (0.8, 0.5), 0.1
OUTPUT_WEIGHT, OUTPUT_BIAS = 1.0, 0.0
WIDTH, HEIGHT, PIXEL = 240, 160, 20.0
NODATA = -9999.0


# Where the Debian package puts the plugin and the script that enables it (packaging/, CMakeLists).
PACKAGE_PLUGINS = Path("usr/share/qgis/python/plugins")
PACKAGE_STARTUP = Path("usr/share/QGIS/QGIS3/startup.py")


def built_package():
    """The .deb to test: $SMR_DESKTOP_DEB (must exist), else scripts/build-packages' one, else
    None."""
    configured = os.environ.get("SMR_DESKTOP_DEB")
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"SMR_DESKTOP_DEB={configured} is not a file: run scripts/build-packages",
                        pytrace=False)
        return Path(configured)
    build_dir = Path(os.environ.get("SMR_BUILD_DIR") or REPO_ROOT / "build")
    packages = sorted((build_dir / "packages").glob("smr_*.deb"))
    return packages[-1] if packages else None


def plugin_installation(scratch):
    """(the folder QGIS gets as QGIS_PLUGINPATH, holding `smr`; the package's startup.py or None).

    The package's files are unpacked, not installed: the test never changes the machine.
    """
    developer_copy = os.environ.get("SMR_DESKTOP_PLUGIN_PATH")
    package = None if developer_copy else built_package()
    if package is None:
        return Path(developer_copy or os.environ.get("SMR_PLUGINS_DIR")
                    or REPO_ROOT / "build" / "plugins"), None
    root = scratch / "package-root"
    subprocess.run(["dpkg-deb", "-x", str(package), str(root)], check=True)
    return root / PACKAGE_PLUGINS, root / PACKAGE_STARTUP


def artifacts_dir():
    root = os.environ.get("SMR_TEST_ARTIFACTS")
    folder = (Path(root) if root else REPO_ROOT / "build" / "test-artifacts") / "desktop"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def enable_plugin_in_profile(profiles_path, name="smr"):
    """Enable the plugin in the fresh profile, as ticking it in the Plugin Manager would.

    QGIS loads a plugin from QGIS_PLUGINPATH only when [PythonPlugins] <name>=true is in
    <profiles>/profiles/default/QGIS/QGIS3.ini. Drop this call once the installed package
    enables itself in a fresh profile.
    """
    ini = profiles_path / "profiles" / "default" / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(f"[PythonPlugins]\n{name}=true\n", encoding="utf-8")


def expected_algorithm_ids():
    """smr:<NAME> of every algorithm class in the repository (class attribute NAME = "…")."""
    names = set()
    for source in (REPO_ROOT / "algorithms").glob("*.py"):
        names.update(re.findall(r'^    NAME = "([a-z0-9]+)"$', source.read_text(encoding="utf-8"),
                                re.MULTILINE))
    return sorted(f"smr:{name}" for name in names)


# --- inputs ---------------------------------------------------------------------------------------

def write_raster(path, values):
    driver = gdal.GetDriverByName("GTiff")
    dataset = driver.Create(str(path), values.shape[1], values.shape[0], 1, gdal.GDT_Float32)
    dataset.SetGeoTransform((500000.0, PIXEL, 0.0, 5000000.0, 0.0, -PIXEL))
    crs = osr.SpatialReference()
    crs.ImportFromEPSG(32632)
    dataset.SetProjection(crs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    band.WriteArray(values.astype(np.float32))
    dataset = None
    return str(path)


def backscatter_scene(folder):
    """σ⁰ VV and VH (dB) of a wet valley between drier slopes, inside the network's range."""
    rows, columns = np.mgrid[0:HEIGHT, 0:WIDTH]
    valley = np.exp(-((columns - WIDTH * 0.45 - 25 * np.sin(rows / 23.0)) / (WIDTH * 0.18)) ** 2)
    fields = 0.15 * np.sin(columns / 9.0) * np.cos(rows / 13.0)
    wetness = np.clip(0.1 + 0.75 * valley + fields, 0.0, 1.0)
    vv = VV_RANGE[0] + (VV_RANGE[1] - VV_RANGE[0]) * wetness
    vh = VH_RANGE[0] + (VH_RANGE[1] - VH_RANGE[0]) * (0.2 + 0.6 * wetness)
    vv[:4, :4] = NODATA  # a nodata corner: nodata in the map
    return (write_raster(folder / "sigma0_vv.tif", vv),
            write_raster(folder / "sigma0_vh.tif", vh), vv, vh)


def network_document():
    return {
        "format": "smr-model", "version": 1, "kind": "mlp",
        "inputs": [{"name": "sigma0_vv", "minimum": VV_RANGE[0], "maximum": VV_RANGE[1]},
                   {"name": "sigma0_vh", "minimum": VH_RANGE[0], "maximum": VH_RANGE[1]}],
        "target": {"name": "soil_moisture", "minimum": TARGET_RANGE[0],
                   "maximum": TARGET_RANGE[1]},
        "normalisation": {"method": "mapminmax", "range": [-1, 1]},
        "layers": [
            {"activation": "tansig", "weights": [list(HIDDEN_WEIGHTS)], "bias": [HIDDEN_BIAS]},
            {"activation": "purelin", "weights": [[OUTPUT_WEIGHT]], "bias": [OUTPUT_BIAS]},
        ],
        "training": {"trainer": "lm", "division": "random", "ratios": [0.7, 0.15, 0.15],
                     "seed": 1, "restarts": 1, "best_restart": 0, "epochs_run": 12,
                     "stop_reason": "validation stop", "samples": 100},
        "metrics": {subset: {"r": 0.9, "r2": 0.81, "nse": 0.8, "rmse": 0.03, "ubrmse": 0.03,
                             "mae": 0.02, "bias": 0.0, "n": 10}
                    for subset in ("train", "validation", "test", "all")},
    }


def hand_estimate(vv, vh):
    def mapminmax(value, low, high):
        return 2.0 * (value - low) / (high - low) - 1.0
    hidden = math.tanh(HIDDEN_WEIGHTS[0] * mapminmax(vv, *VV_RANGE)
                       + HIDDEN_WEIGHTS[1] * mapminmax(vh, *VH_RANGE) + HIDDEN_BIAS)
    scaled = OUTPUT_WEIGHT * hidden + OUTPUT_BIAS
    return TARGET_RANGE[0] + (scaled + 1.0) / 2.0 * (TARGET_RANGE[1] - TARGET_RANGE[0])


# --- running QGIS ---------------------------------------------------------------------------------

def qgis_environment(scratch, session, plugins, startup):
    env = dict(os.environ)
    # Set by scripts/env.sh or the plugin tests for headless QGIS; the desktop needs the X server,
    # its own profile, and the executable the plugin finds itself, as a user's QGIS would.
    for key in ("QT_QPA_PLATFORM", "QGIS_CUSTOM_CONFIG_PATH", "SMR_EXECUTABLE"):
        env.pop(key, None)
    runtime = scratch / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    env.update({"XDG_RUNTIME_DIR": str(runtime), "QGIS_PLUGINPATH": str(plugins),
                "PYTHONDONTWRITEBYTECODE": "1"})
    if startup is not None:
        env["PYQGIS_STARTUP"] = str(startup)
    env.update({f"SMR_DESKTOP_{key}": value for key, value in session.items()})
    return env


def run_qgis(command, env):
    """(exit status or None on timeout, output) of COMMAND, killing its whole process group."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace",
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        # xvfb-run is a shell script: QGIS and Xvfb are its children, in its process group.
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output


@pytest.fixture(scope="module")
def desktop():
    missing = [tool for tool in ("xvfb-run", QGIS) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"QGIS Desktop test needs {' and '.join(missing)} (Debian packages xvfb, "
                    f"xauth and qgis; scripts/setup.sh installs them)")
    scratch = Path(tempfile.mkdtemp(prefix="smr-desktop-"))
    plugins, startup = plugin_installation(scratch)
    if not (plugins / "smr" / "metadata.txt").is_file():
        pytest.fail(f"no smr plugin in {plugins} (SMR_DESKTOP_DEB / SMR_DESKTOP_PLUGIN_PATH / "
                    f"SMR_PLUGINS_DIR): run scripts/setup.sh and scripts/build-packages, or point "
                    f"SMR_DESKTOP_PLUGIN_PATH at the plugin's parent folder", pytrace=False)
    artifacts = artifacts_dir()
    for old in artifacts.glob("*.png"):
        old.unlink()
    profiles = scratch / "profiles"
    if startup is None:
        enable_plugin_in_profile(profiles)
    inputs = scratch / "inputs"
    inputs.mkdir()
    vv_path, vh_path, vv, vh = backscatter_scene(inputs)
    network = inputs / "network.json"
    network.write_text(json.dumps(network_document()), encoding="utf-8")
    output = scratch / "outputs" / "soil_moisture.tif"
    output.parent.mkdir()
    result_file = scratch / "result.json"
    disk = {}
    truth = REPO_ROOT / "sample_projects" / "data" / "truth_soil_moisture.tif"
    if truth.is_file():
        disk["truth_soil_moisture"] = str(truth)
    session = {
        "RESULT": str(result_file), "SCREENSHOTS": str(artifacts), "MODEL": str(SAMPLE_MODEL),
        "NETWORK": str(network), "INPUTS": json.dumps([vv_path, vh_path]),
        "OUTPUT": str(output), "DISK_RASTERS": json.dumps(disk),
        "WATCHDOG_S": str(TIMEOUT_S - 60),
    }
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", QGIS,
               "--profiles-path", str(profiles), "--nologo", "--noversioncheck",
               "--code", str(SESSION_SCRIPT)]
    status, log = run_qgis(command, qgis_environment(scratch, session, plugins, startup))
    (artifacts / "qgis_output.txt").write_text(log, encoding="utf-8")
    tail = log[-OUTPUT_TAIL:]
    if status is None:
        step = "before the session script ran"
        if result_file.is_file():
            step = f"in the step '{json.loads(result_file.read_text())['current_step']}'"
        pytest.fail(f"QGIS Desktop did not finish within {TIMEOUT_S} s; it hung {step}; its "
                    f"output ends:\n{tail}", pytrace=False)
    if not result_file.is_file():
        pytest.fail(f"QGIS Desktop exited with status {status} without writing {result_file} "
                    f"(crashed, or the session script never ran); its output ends:\n{tail}",
                    pytrace=False)
    result = json.loads(result_file.read_text(encoding="utf-8"))
    shutil.copy(result_file, artifacts / "result.json")
    yield {"status": status, "log": tail, "result": result, "output": output, "vv": vv, "vh": vh,
           "plugins": plugins, "from_package": startup is not None}
    shutil.rmtree(scratch, ignore_errors=True)


def test_qgis_ran_every_step_and_exited_cleanly(desktop):
    result = desktop["result"]
    assert result["errors"] == [], "\n".join(result["errors"]) + "\n" + desktop["log"]
    # Errors QGIS only showed in its message bar (plugin code run by Processing, styles).
    assert result["python_errors"] == [], "\n".join(result["python_errors"])
    assert result["steps"] == ["toolbox", "modeler", "algorithm dialog", "map canvas",
                               "rasters from disk"]
    assert desktop["status"] == 0, f"QGIS exited with {desktop['status']}:\n{desktop['log']}"


def test_toolbox_lists_every_smr_algorithm(desktop):
    result = desktop["result"]
    assert result["provider"] is not None, "the smr provider is not registered"
    assert result["provider"]["algorithms"] == expected_algorithm_ids()
    assert result["toolbox_provider_node"], "the toolbox has no node for the smr provider"
    assert result["toolbox_algorithms"] == result["provider"]["algorithms"]
    # The plugin QGIS loaded is the one under test (the package's, when there is a package).
    assert result["provider"]["plugin_folder"] == str(desktop["plugins"] / "smr")
    print(f"\nplugin loaded from {result['provider']['plugin_folder']}"
          f"{' (the Debian package, enabled by its startup.py)' if desktop['from_package'] else ''}")


def test_sample_model_is_valid_in_the_modeler(desktop):
    model = desktop["result"]["model"]
    assert model["name"] == "paper000_physical_chain"
    assert model["children"] == ["index", "vh", "vv", "vwc"]
    assert model["unresolved_children"] == []
    assert (model["valid"], model["issues"]) == (True, [])
    assert model["validate_message"] == "Model is valid!"


def test_algorithm_dialog_shows_its_help(desktop):
    dialog = desktop["result"]["dialog"]
    assert dialog["help_visible"], f"the help panel is hidden or collapsed: {dialog}"
    # The panel opens with the algorithm's name, then its help: this algorithm's, not empty.
    assert dialog["help_text"].startswith(dialog["title"]), dialog["help_text"][:200]
    assert len(dialog["help_text"]) > len(dialog["title"]) + 300


def test_dialog_run_loads_a_styled_soil_moisture_map(desktop):
    loaded = desktop["result"]["loaded_output"]
    assert loaded is not None, (
        f"the output was not loaded; dialog log:\n{desktop['result']['dialog'].get('log_tail')}")
    assert loaded["renderer"] == "singlebandpseudocolor", loaded
    assert loaded["band"] == 1
    # The one soil-moisture ramp, 0–0.5 m³/m³, and a name that says what the layer holds.
    assert (loaded["classification_min"], loaded["classification_max"]) == (0.0, 0.5)
    assert loaded["name"] == "soil moisture"
    print(f"\nloaded output: {loaded['name']!r}, renderer {loaded['renderer']}, classification "
          f"{loaded['classification_min']}–{loaded['classification_max']}, "
          f"{len(loaded['ramp_items'])} colour stops")


def test_dialog_run_computed_the_network(desktop):
    """The dialog passed the inputs in order: the map is the hand-computed network."""
    dataset = gdal.Open(str(desktop["output"]))
    band = dataset.GetRasterBand(1)
    values = band.ReadAsArray().astype(float)
    nodata = band.GetNoDataValue()
    assert values[0, 0] == nodata  # σ⁰ VV is nodata there
    for row, column in ((10, 10), (80, 110), (150, 230)):
        vv = float(np.float32(desktop["vv"][row, column]))
        vh = float(np.float32(desktop["vh"][row, column]))
        assert values[row, column] == pytest.approx(hand_estimate(vv, vh), abs=1e-5)


def test_rasters_loaded_from_disk_are_recorded(desktop):
    from_disk = desktop["result"]["from_disk"]
    assert from_disk["output"] is not None, "QGIS could not load the output GeoTIFF from disk"
    # The .qml the algorithm wrote beside the GeoTIFF styles it when dragged in from disk.
    assert from_disk["output"]["renderer"] == "singlebandpseudocolor", from_disk["output"]
    assert (from_disk["output"]["classification_min"],
            from_disk["output"]["classification_max"]) == (0.0, 0.5)
    for name, layer in from_disk.items():
        print(f"\nfrom disk, {name}: renderer {layer and layer['renderer']}, "
              f"{ {k: v for k, v in (layer or {}).items() if k not in ('ramp_items', 'source')} }")


@pytest.mark.parametrize("name", ["toolbox", "algorithm_dialog", "modeler", "map_canvas"])
def test_screenshot_was_saved_and_shows_something(desktop, name):
    shot = desktop["result"]["screenshots"].get(name)
    assert shot is not None, f"no screenshot {name}"
    assert shot["width"] >= 200 and shot["height"] >= 200, shot
    pixels = gdal.Open(shot["path"]).ReadAsArray()
    # Not one flat colour: a window that never painted grabs as a uniform rectangle.
    colours = np.unique(pixels.reshape(pixels.shape[0], -1), axis=1).shape[1]
    assert colours > 20, f"{shot}: {colours} colours"
