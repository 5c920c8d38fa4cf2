"""What the bridge puts in the Processing log: the smr call with long lists shortened, the full
request on request (SMR_DEBUG_REQUESTS), and smr's warnings as warnings, not errors."""

import json
import shlex
import subprocess

import pytest

from raster_helpers import RecordingFeedback, write_points

ECHO_SMR = """
    emit(type="result", outputs={"N": len(params["SAMPLES"]["target"])})
    """


def samples(count):
    return {"names": ["a"], "features": [[0.001 * i for i in range(count)]],
            "target": [0.5 + 0.001 * i for i in range(count)]}


def test_a_long_list_is_shortened_to_its_first_values_and_a_count(bridge):
    values = [0.12, 0.31, 0.2] + [0.5] * 9997
    assert bridge.abbreviated_json(values) == "[0.12, 0.31, 0.2, … 9,997 more]"
    # One above the limit is shortened; at the limit the list is shown whole, as JSON.
    limit = bridge.LOGGED_LIST_LIMIT
    assert bridge.abbreviated_json(list(range(limit + 1))) == \
        f"[0, 1, 2, … {limit - 2} more]"
    assert json.loads(bridge.abbreviated_json(list(range(limit)))) == list(range(limit))


def test_short_lists_objects_and_names_are_kept_whole(bridge):
    request = {
        "INPUTS": [{"path": f"/data/sigma0_{i}.tif", "band": 1, "nodata": None}
                   for i in range(30)],  # objects: never shortened, the paths are needed
        "HIDDEN": [10, 5], "NAMES": ["vv", "vh", "ndvi"], "UNIT": "m³/m³", "SEED": 1,
        "GOAL": 0.0, "UNIQUE": False, "CLAMP": None,
    }
    assert json.loads(bridge.abbreviated_json(request)) == request
    assert bridge.abbreviated_json(request) == json.dumps(request)


def test_nested_sample_columns_are_shortened_one_by_one(bridge):
    shown = bridge.abbreviated_json({"SAMPLES": samples(10000)})
    assert shown == ('{"SAMPLES": {"names": ["a"], "features": [[0.0, 0.001, 0.002, … 9,997 '
                     'more]], "target": [0.5, 0.501, 0.502, … 9,997 more]}}')


def test_the_logged_call_stays_short_and_says_how_to_get_the_full_request(
        bridge, fake_smr, monkeypatch):
    monkeypatch.delenv(bridge.DEBUG_REQUESTS_ENVIRONMENT_VARIABLE, raising=False)
    fake_smr(ECHO_SMR)
    feedback = RecordingFeedback()
    outputs = bridge.run_smr("trainmlp", {"SAMPLES": samples(10000), "HIDDEN": "10",
                                          "OUTPUT_MODEL": "/tmp/model.json"}, feedback)
    assert outputs == {"N": 10000}  # smr got every value
    (line,) = feedback.commands
    assert len(line) < 400, line
    executable, command, here_string, shown = shlex.split(line)
    assert (command, here_string) == ("trainmlp", "<<<")
    assert "… 9,997 more" in shown and '"HIDDEN": "10"' in shown
    assert '"OUTPUT_MODEL": "/tmp/model.json"' in shown
    assert any("SMR_DEBUG_REQUESTS" in info and "shortened" in info for info in feedback.infos)


def test_a_short_request_is_logged_whole_as_a_rerunnable_line(bridge, fake_smr, monkeypatch):
    monkeypatch.delenv(bridge.DEBUG_REQUESTS_ENVIRONMENT_VARIABLE, raising=False)
    fake_smr(ECHO_SMR)
    feedback = RecordingFeedback()
    request = {"SAMPLES": samples(5), "HIDDEN": "4"}
    bridge.run_smr("trainmlp", request, feedback)
    assert feedback.request_sent() == request
    assert not any("shortened" in info for info in feedback.infos)


def test_smr_debug_requests_saves_the_full_request_as_a_file_smr_reruns(
        bridge, fake_smr, monkeypatch, tmp_path):
    folder = tmp_path / "requests"
    monkeypatch.setenv(bridge.DEBUG_REQUESTS_ENVIRONMENT_VARIABLE, str(folder))
    script = fake_smr(ECHO_SMR)
    feedback = RecordingFeedback()
    request = {"SAMPLES": samples(10000), "HIDDEN": "10"}
    bridge.run_smr("trainmlp", request, feedback)
    executable, command, path = shlex.split(feedback.commands[-1])
    assert (executable, command) == (str(script), "trainmlp")
    assert json.loads(open(path, encoding="utf-8").read()) == request
    assert [p.name for p in folder.iterdir()] == [path.rsplit("/", 1)[1]]


def test_an_unwritable_debug_folder_costs_a_warning_not_the_run(bridge, fake_smr, monkeypatch,
                                                                tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(bridge.DEBUG_REQUESTS_ENVIRONMENT_VARIABLE, str(blocker / "requests"))
    fake_smr(ECHO_SMR)
    feedback = RecordingFeedback()
    assert bridge.run_smr("trainmlp", {"SAMPLES": samples(30)}, feedback) == {"N": 30}
    assert len(feedback.warnings) == 1 and "SMR_DEBUG_REQUESTS" in feedback.warnings[0]
    assert "… 27 more" in feedback.commands[-1]


def test_a_warning_of_smr_reaches_the_log_as_a_warning(bridge, fake_smr):
    fake_smr("""
        emit(type="log", level="warning", message="3 pixels outside the training range")
        emit(type="log", level="info", message="done")
        emit(type="result", outputs={})
        """)
    feedback = RecordingFeedback()
    bridge.run_smr("applymodel", {}, feedback)
    assert feedback.warnings == ["3 pixels outside the training range"]
    assert feedback.errors == []
    assert "done" in feedback.infos


class OldFeedback:
    """A feedback without pushWarning (QGIS before 3.16.2): records what it is given."""

    def __init__(self):
        self.calls = []

    def reportError(self, error, fatalError=False):  # noqa: N802,N803 (QGIS API names)
        self.calls.append(("reportError", error, fatalError))


class NewFeedback(OldFeedback):
    def pushWarning(self, warning):  # noqa: N802 (QGIS API name)
        self.calls.append(("pushWarning", warning))


def test_push_warning_uses_push_warning_and_falls_back_only_without_it(bridge):
    new, old = NewFeedback(), OldFeedback()
    bridge.push_warning(new, "careful")
    bridge.push_warning(old, "careful")
    assert new.calls == [("pushWarning", "careful")]
    assert old.calls == [("reportError", "careful", False)]


def test_the_logged_file_reruns_the_real_smr(run_algorithm, tmp_path, monkeypatch):
    """With SMR_DEBUG_REQUESTS (conftest sets it), the logged line is a command that reruns the
    step: the same metrics come back from smr run by hand."""
    estimate = [0.1 + 0.01 * i for i in range(50)]
    reference = [value + (0.02 if i % 2 else -0.01) for i, value in enumerate(estimate)]
    layer = write_points(tmp_path / "pairs.gpkg", {"e": estimate, "r": reference})
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "e", "REFERENCE_FIELD": "r",
        "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback)
    rerun = subprocess.run(shlex.split(feedback.commands[-1]), capture_output=True, text=True,
                           check=True)
    final = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert final["type"] == "result"
    assert final["outputs"]["N"] == result["N"] == 50
    assert final["outputs"]["RMSE"] == pytest.approx(result["RMSE"])
