"""Installation for users (DESIGN §10): metadata, the version check of smr, the plugin ZIP and the
Debian package, both made by CPack from the build tree ($SMR_BUILD_DIR, default build/)."""

import configparser
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from qgis.core import QgsApplication, QgsProcessingException

from conftest import REPO_ROOT
from raster_helpers import error_of, write_raster

BUILD_DIR = Path(os.environ.get("SMR_BUILD_DIR") or REPO_ROOT / "build")
CPACK_CONFIG = BUILD_DIR / "CPackConfig.cmake"
SYSTEM_PLUGIN_FOLDER = "usr/share/qgis/python/plugins/smr"
QGIS_STARTUP_SCRIPT = "usr/share/QGIS/QGIS3/startup.py"


def read_metadata():
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read(REPO_ROOT / "metadata.txt", encoding="utf-8")
    return metadata["general"]


VERSION = read_metadata()["version"]


def plugin_files():
    """What every installed plugin folder holds, relative to it (docs/ once the repository has it)."""
    files = {"metadata.txt", "__init__.py"}
    for folder in ("plugin", "algorithms", "icons", "docs"):
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(path.relative_to(REPO_ROOT).as_posix())
    return files


@pytest.fixture
def bridge(qgis_app):
    from smr.plugin import bridge as bridge_module

    yield bridge_module
    bridge_module._CHECKED_EXECUTABLES.clear()  # forget the stand-ins


@pytest.fixture
def fake_smr(tmp_path, monkeypatch):
    """An `smr` stand-in running SCRIPT (Python) as SMR_EXECUTABLE; returns its path."""

    def install(script, path=None, mode=0o755):
        path = Path(path or tmp_path / "fake" / "smr")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/usr/bin/python3\nimport sys, time\n" + textwrap.dedent(script))
        path.chmod(mode)
        return path

    def as_environment(script):
        path = install(script)
        monkeypatch.setenv("SMR_EXECUTABLE", str(path))
        return path

    install.as_environment = as_environment
    return install


# --- metadata and the version ---------------------------------------------------------------

def test_metadata_says_what_the_plugin_does_and_needs():
    general = read_metadata()
    assert re.fullmatch(r"\d+\.\d+\.\d+", general["version"])
    about = general["about"]
    for needed in ("Soil moisture retrieval", "qgis_process", "Debian 12", "libgdal32",
                   "libgomp1", "x86_64", "python3-matplotlib", "Debian package"):
        assert needed in about, needed
    assert general["changelog"].startswith(general["version"] + ":")
    assert general["icon"] and (REPO_ROOT / general["icon"]).is_file()


def test_metadata_links_are_real_addresses_or_absent():
    # QGIS's plugin manager shows these as links. The project has no public home yet, so they are
    # left out rather than pointing at an invented address; once it has one, each must be https.
    general = read_metadata()
    for key in ("homepage", "tracker", "repository"):
        if key in general:
            assert re.fullmatch(r"https://\S+", general[key]), f"metadata.txt: {key}"
            assert "example" not in general[key], f"metadata.txt: {key} is a placeholder"


def test_cmake_takes_its_version_from_the_metadata():
    cmake = (REPO_ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    assert "project(smr VERSION ${SMR_VERSION}" in cmake
    assert "set(CPACK_PACKAGE_VERSION \"${PROJECT_VERSION}\")" in cmake


def test_the_built_smr_prints_the_plugin_version(smr_executable):
    answer = subprocess.run([str(smr_executable), "--version"], capture_output=True, text=True,
                            check=True, timeout=30)
    assert answer.stdout == f"smr {VERSION}\n"


# --- the version check of the provider -----------------------------------------------------

def test_matching_version_passes_and_is_used(bridge, fake_smr):
    path = fake_smr.as_environment(f"print('smr {VERSION}')")
    assert bridge.plugin_version() == VERSION
    assert bridge.check_executable() is None
    assert bridge.find_executable() == str(path)


def test_other_version_is_one_message_for_the_log_and_every_run(
        bridge, fake_smr, run_without_core, tmp_path):
    path = fake_smr.as_environment("print('smr 9.8.7')")
    problem = bridge.check_executable()
    assert problem == (
        f"The smr executable {path} is version 9.8.7, but the SMR plugin is version {VERSION}; "
        f"they must be the same version. Point SMR_EXECUTABLE at smr {VERSION}, or unset it to "
        f"use the smr installed with the plugin.")
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("mpdi", {})
    assert str(raised.value) == problem
    sigma0 = write_raster(tmp_path / "sigma0_db.tif", [[-10.0, -20.0]])
    message = error_of(run_without_core, "backscatterconversion", {
        "INPUT": sigma0, "DIRECTION": 0, "OUTPUT": str(tmp_path / "linear.tif")})
    assert problem in message
    assert not (tmp_path / "linear.tif").exists()


def test_a_replaced_executable_is_checked_again(bridge, fake_smr):
    path = fake_smr.as_environment("print('smr 9.8.7')")
    assert "9.8.7" in bridge.check_executable()
    fake_smr(f"print('smr {VERSION}')", path=path)
    os.utime(path, ns=(0, 1_000_000_000))  # the signature must differ even within one tick
    assert bridge.find_executable() == str(path)


def test_a_program_that_is_not_smr_is_named(bridge, fake_smr):
    path = fake_smr.as_environment("print('GNU something 1.0')")
    assert bridge.check_executable().startswith(
        f"The program {path} is not the smr executable: `--version` printed 'GNU something 1.0' "
        f"instead of 'smr {VERSION}'.")


def test_missing_libraries_say_which_packages_to_install(bridge, fake_smr):
    fake_smr.as_environment("""
        sys.stderr.write("smr: error while loading shared libraries: libgdal.so.32: cannot open "
                         "shared object file: No such file or directory\\n")
        sys.exit(127)
        """)
    problem = bridge.check_executable()
    assert "exited with 127: smr: error while loading shared libraries: libgdal.so.32" in problem
    assert "sudo apt install libgdal32 libgomp1" in problem


def test_an_executable_that_hangs_is_given_up(bridge, fake_smr, monkeypatch):
    monkeypatch.setattr(bridge, "VERSION_CHECK_TIMEOUT_SECONDS", 0.5)
    fake_smr.as_environment("time.sleep(30)")
    assert "did not answer `smr --version` within 0.5 s" in bridge.check_executable()


def test_missing_bundled_executable_says_how_to_get_it(bridge, monkeypatch, tmp_path):
    monkeypatch.delenv("SMR_EXECUTABLE", raising=False)
    monkeypatch.setattr(bridge, "PLUGIN_ROOT", tmp_path / "plugins" / "smr")
    problem = bridge.check_executable()
    assert problem.startswith(f"The smr executable was not found at {tmp_path}/plugins/smr/bin/smr.")
    assert "Install from ZIP" in problem and "scripts/build.sh" in problem
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("mpdi", {})
    assert str(raised.value) == problem


def test_zip_install_without_execute_permission_is_repaired(bridge, fake_smr, monkeypatch, tmp_path):
    # QGIS's "Install from ZIP" writes every file with open(…, "wb"): bin/smr arrives as 0644.
    plugin = tmp_path / "plugins" / "smr"
    (plugin).mkdir(parents=True)
    (plugin / "metadata.txt").write_text((REPO_ROOT / "metadata.txt").read_text("utf-8"), "utf-8")
    executable = fake_smr(f"print('smr {VERSION}')", path=plugin / "bin" / "smr", mode=0o644)
    monkeypatch.delenv("SMR_EXECUTABLE", raising=False)
    monkeypatch.setattr(bridge, "PLUGIN_ROOT", plugin)
    assert bridge.check_executable() is None
    assert executable.stat().st_mode & 0o777 == 0o755


def system_install(tmp_path, monkeypatch, bridge):
    """The Debian package's layout under tmp_path/usr; returns the executable's path."""
    prefix = tmp_path / "usr"
    plugin = prefix / "share" / "qgis" / "python" / "plugins" / "smr"
    plugin.mkdir(parents=True)
    (plugin / "metadata.txt").write_text((REPO_ROOT / "metadata.txt").read_text("utf-8"), "utf-8")
    monkeypatch.delenv("SMR_EXECUTABLE", raising=False)
    monkeypatch.setattr(bridge, "PLUGIN_ROOT", plugin)
    return prefix / "bin" / "smr"


def test_package_layout_finds_smr_in_the_prefix_bin(bridge, fake_smr, monkeypatch, tmp_path):
    executable = system_install(tmp_path, monkeypatch, bridge)
    fake_smr(f"print('smr {VERSION}')", path=executable)
    assert bridge.check_executable() is None
    assert bridge.find_executable() == str(executable)


def test_package_layout_says_to_reinstall_the_package(bridge, fake_smr, monkeypatch, tmp_path):
    executable = system_install(tmp_path, monkeypatch, bridge)
    missing = bridge.check_executable()
    assert missing.startswith(f"The smr executable was not found at {executable}, where the SMR "
                              f"Debian package installs it.")
    assert f"sudo apt install --reinstall ./smr_{VERSION}_" in missing
    fake_smr("print('smr 0.0.1')", path=executable)
    mismatch = bridge.check_executable()
    assert "is version 0.0.1, but the SMR plugin is version" in mismatch
    assert f"Install the SMR {VERSION} Debian package again" in mismatch


def test_provider_reports_the_problem_once_and_still_lists_its_algorithms(bridge, fake_smr):
    from smr.algorithms import ALGORITHM_CLASSES
    from smr.plugin.provider import SmrProvider

    fake_smr.as_environment("print('smr 9.8.7')")
    logged = []

    def record(message, tag, level):
        logged.append((message, tag, level))

    QgsApplication.messageLog().messageReceived.connect(record)
    try:
        provider = SmrProvider()  # not registered: the session's provider keeps the id "smr"
        assert provider.load()
    finally:
        QgsApplication.messageLog().messageReceived.disconnect(record)
    assert "is version 9.8.7" in provider.warningMessage()
    assert [(m, t) for m, t, _ in logged if t == "SMR"] == [(provider.warningMessage(), "SMR")]
    assert len(provider.algorithms()) == len(ALGORITHM_CLASSES)
    assert provider.versionInfo() == VERSION


def test_plugin_shows_the_problem_in_the_message_bar(qgis_app, bridge, fake_smr, monkeypatch):
    class MessageBar:
        def __init__(self):
            self.messages = []

        def pushMessage(self, title, text, level, duration):  # noqa: N802 (QGIS API name)
            self.messages.append((title, text, duration))

    class Interface:
        def __init__(self):
            self.bar = MessageBar()

        def messageBar(self):  # noqa: N802 (QGIS API name)
            return self.bar

    interface = Interface()
    fake_smr.as_environment("print('smr 9.8.7')")
    qgis_app.unload()
    qgis_app.iface = interface
    try:
        qgis_app.initGui()
        problem = qgis_app.provider.executable_problem
        assert "is version 9.8.7" in problem
        assert interface.bar.messages == [("SMR", problem, 0)]
    finally:
        qgis_app.unload()
        qgis_app.iface = None
        monkeypatch.undo()
        bridge._CHECKED_EXECUTABLES.clear()
        qgis_app.initProcessing()
    assert QgsApplication.processingRegistry().providerById("smr") is not None


# --- the packages ---------------------------------------------------------------------------

def cpack(generator, output):
    if not CPACK_CONFIG.is_file():
        pytest.fail(f"{CPACK_CONFIG} is missing: configure and build with scripts/build.sh",
                    pytrace=False)
    subprocess.run(["cpack", "-G", generator, "--config", str(CPACK_CONFIG), "-B", str(output)],
                   check=True, capture_output=True, text=True, timeout=600)
    built = sorted(output.glob("*.deb" if generator == "DEB" else "*.zip"))
    assert len(built) == 1, built
    return built[0]


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory):
    return cpack("ZIP", tmp_path_factory.mktemp("zip"))


@pytest.fixture(scope="module")
def debian_package(tmp_path_factory):
    return cpack("DEB", tmp_path_factory.mktemp("deb"))


def test_zip_holds_the_plugin_folder_with_its_executable(plugin_zip):
    assert plugin_zip.name == f"smr-qgis-plugin-{VERSION}-linux-x86_64.zip"
    with zipfile.ZipFile(plugin_zip) as archive:
        names = {name for name in archive.namelist() if not name.endswith("/")}
        assert archive.read("smr/metadata.txt") == (REPO_ROOT / "metadata.txt").read_bytes()
        executable_mode = archive.getinfo("smr/bin/smr").external_attr >> 16
    assert names == {f"smr/{name}" for name in plugin_files()} | {"smr/bin/smr"}
    assert executable_mode & 0o111, "unzip(1) must restore bin/smr as executable"


def test_zip_plugin_imports_and_runs_its_own_smr(plugin_zip, tmp_path):
    # Extracted as QGIS's "Install from ZIP" does: without file modes.
    plugins = tmp_path / "plugins"
    with zipfile.ZipFile(plugin_zip) as archive:
        for name in archive.namelist():
            if not name.endswith("/"):
                (plugins / name).parent.mkdir(parents=True, exist_ok=True)
                (plugins / name).write_bytes(archive.read(name))
    probe = textwrap.dedent(f"""
        import json, sys
        from qgis.core import QgsApplication
        application = QgsApplication([], False)
        application.initQgis()
        sys.path.insert(0, {str(plugins)!r})
        import smr
        from smr.plugin import bridge
        plugin = smr.classFactory(None)
        plugin.initProcessing()
        provider = QgsApplication.processingRegistry().providerById("smr")
        print(json.dumps({{"module": smr.__file__, "problem": provider.executable_problem,
                           "executable": bridge.find_executable(),
                           "algorithms": sorted(a.id() for a in provider.algorithms())}}))
        """)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("SMR_EXECUTABLE", "QGIS_PLUGINPATH")}
    answer = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True,
                            text=True, timeout=120, check=True)
    report = json.loads(answer.stdout.strip().splitlines()[-1])
    assert report["module"] == str(plugins / "smr" / "__init__.py")
    assert report["problem"] is None
    assert report["executable"] == str(plugins / "smr" / "bin" / "smr")
    session = QgsApplication.processingRegistry().providerById("smr")
    assert report["algorithms"] == sorted(a.id() for a in session.algorithms())


def test_debian_package_installs_smr_the_plugin_and_its_startup_script(debian_package):
    assert debian_package.name == f"smr_{VERSION}_amd64.deb"
    listing = subprocess.run(["dpkg-deb", "-c", str(debian_package)], capture_output=True,
                             text=True, check=True).stdout
    entries = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, path = line.split()  # no link, no space in a name
        entries[path.removeprefix("./")] = (mode, owner)
    files = {path for path, (mode, _) in entries.items() if not mode.startswith("d")}
    expected = ({f"{SYSTEM_PLUGIN_FOLDER}/{name}" for name in plugin_files()}
                | {"usr/bin/smr", QGIS_STARTUP_SCRIPT})
    assert files == expected
    assert entries["usr/bin/smr"] == ("-rwxr-xr-x", "root/root")
    assert entries[QGIS_STARTUP_SCRIPT] == ("-rw-r--r--", "root/root")


def test_debian_package_depends_on_qgis_and_the_libraries_of_smr(debian_package):
    def field(name):
        return subprocess.run(["dpkg-deb", "-f", str(debian_package), name], capture_output=True,
                              text=True, check=True).stdout.strip()

    assert field("Package") == "smr"
    assert field("Version") == VERSION
    assert field("Architecture") == "amd64"
    depends = {item.split()[0]: item for item in field("Depends").split(", ")}
    for package in ("qgis", "python3-qgis", "python3-matplotlib", "libgdal32", "libgomp1",
                    "libstdc++6", "libc6"):
        assert package in depends, (package, field("Depends"))
    assert depends["qgis"] == "qgis (>= 3.22)"
