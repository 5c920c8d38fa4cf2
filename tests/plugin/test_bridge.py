"""plugin/bridge.py against stand-in executables that play each part of the smr protocol."""

import time

import pytest
from qgis.core import QgsProcessingException

from raster_helpers import RecordingFeedback


def test_relays_progress_and_logs_and_returns_the_outputs(bridge, fake_smr):
    fake_smr("""
        emit(type="progress", value=0.5)
        emit(type="log", level="info", message="NIR: aligned with bilinear resampling")
        emit(type="log", level="warning", message="something odd")
        print("a line that is not JSON", flush=True)
        print("[1, 2]", flush=True)
        emit(type="progress", value=1.0)
        emit(type="result", outputs={"OUTPUT": params["OUTPUT"], "COMMAND": command,
                                     "ARGV": sys.argv[1:], "ECHO": params})
        """)
    feedback = RecordingFeedback()
    parameters = {"OUTPUT": "/tmp/x.tif", "NIR": {"path": "/a.tif", "band": 2, "nodata": None}}
    outputs = bridge.run_smr("spectralindex", parameters, feedback)
    assert outputs["OUTPUT"] == "/tmp/x.tif"
    assert outputs["ARGV"] == ["spectralindex"]  # an argument list: [exe, command], no shell
    assert outputs["ECHO"] == parameters  # the parameters arrive as JSON on stdin
    assert feedback.progress == [50.0, 100.0]
    assert "NIR: aligned with bilinear resampling" in feedback.infos
    assert "a line that is not JSON" in feedback.infos and "[1, 2]" in feedback.infos
    assert feedback.warnings == ["something odd"] and feedback.errors == []
    assert any("spectralindex" in command for command in feedback.commands)


def test_exit_code_2_raises_the_core_message(bridge, fake_smr):
    fake_smr("""
        message = "Invalid value for A (-1): valid values are > 0"
        emit(type="error", message=message)
        print(message, file=sys.stderr)
        sys.exit(2)
        """)
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("watercloudforward", {}, RecordingFeedback())
    assert str(raised.value) == "Invalid value for A (-1): valid values are > 0"


def test_exit_code_1_is_an_internal_error_with_the_stderr_tail(bridge, fake_smr):
    fake_smr("""
        for number in range(100):
            print(f"stderr line {number}", file=sys.stderr)
        sys.exit(1)
        """)
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("mpdi", {}, RecordingFeedback())
    message = str(raised.value)
    assert message.startswith("smr mpdi failed (internal error)")
    assert "stderr line 99" in message and "stderr line 0\n" not in message


def test_death_by_signal_is_an_internal_error(bridge, fake_smr):
    fake_smr("""
        print("about to crash", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
        """)
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("mpdi", {}, RecordingFeedback())
    message = str(raised.value)
    assert "smr mpdi failed (internal error)" in message
    assert "SIGSEGV" in message and "about to crash" in message


def test_success_without_a_result_line_is_an_error(bridge, fake_smr):
    fake_smr("""
        emit(type="progress", value=1.0)
        """)
    with pytest.raises(QgsProcessingException, match="without a result"):
        bridge.run_smr("mpdi", {}, RecordingFeedback())


def test_exit_code_3_is_reported_as_cancelled(bridge, fake_smr):
    fake_smr("""
        sys.exit(3)
        """)
    with pytest.raises(QgsProcessingException, match="^Cancelled"):
        bridge.run_smr("mpdi", {}, RecordingFeedback())


def test_cancel_terminates_the_process(bridge, fake_smr, tmp_path):
    marker = tmp_path / "terminated"
    fake_smr(f"""
        def on_term(signum, frame):
            open({str(marker)!r}, "w").close()
            sys.exit(3)
        signal.signal(signal.SIGTERM, on_term)
        emit(type="progress", value=0.01)
        time.sleep(60)
        """)
    feedback = RecordingFeedback()
    feedback.progressChanged.connect(lambda _: feedback.cancel())
    started = time.monotonic()
    with pytest.raises(QgsProcessingException, match="^Cancelled"):
        bridge.run_smr("spectralindex", {}, feedback)
    assert time.monotonic() - started < 10
    assert marker.exists(), "smr did not get SIGTERM"


def test_missing_executable_says_how_to_build_it(bridge, monkeypatch, tmp_path):
    monkeypatch.delenv("SMR_EXECUTABLE", raising=False)
    monkeypatch.setattr(bridge, "PLUGIN_ROOT", tmp_path)
    with pytest.raises(QgsProcessingException) as raised:
        bridge.run_smr("mpdi", {}, RecordingFeedback())
    message = str(raised.value)
    assert str(tmp_path / "bin" / "smr") in message
    assert "scripts/build.sh" in message and "cmake --install build" in message


def test_smr_executable_pointing_nowhere_is_a_clear_error(bridge, monkeypatch, tmp_path):
    monkeypatch.setenv("SMR_EXECUTABLE", str(tmp_path / "nothing-here"))
    with pytest.raises(QgsProcessingException, match="SMR_EXECUTABLE"):
        bridge.run_smr("mpdi", {}, RecordingFeedback())


def install_smr_file(monkeypatch, tmp_path, text, mode):
    """Write TEXT to an `smr` file with MODE and make it SMR_EXECUTABLE."""
    path = tmp_path / "smr"
    path.write_text(text)
    path.chmod(mode)
    monkeypatch.setenv("SMR_EXECUTABLE", str(path))


def test_an_executable_that_cannot_start_is_a_clear_error(bridge, monkeypatch, tmp_path):
    install_smr_file(monkeypatch, tmp_path, "not a program", 0o644)
    with pytest.raises(QgsProcessingException, match="Could not start"):
        bridge.run_smr("mpdi", {}, RecordingFeedback())


def test_an_executable_that_ignores_stdin_does_not_hang_the_bridge(bridge, monkeypatch, tmp_path):
    install_smr_file(monkeypatch, tmp_path, "#!/bin/sh\necho boom >&2\nexit 1\n", 0o755)
    with pytest.raises(QgsProcessingException, match="internal error"):
        bridge.run_smr("mpdi", {"BIG": "x" * 1_000_000}, RecordingFeedback())


def test_parameters_that_are_not_json_are_rejected_before_starting(bridge, fake_smr):
    fake_smr("""
        emit(type="result", outputs={})
        """)
    with pytest.raises(QgsProcessingException, match="JSON"):
        bridge.run_smr("mpdi", {"A": float("nan")}, RecordingFeedback())
