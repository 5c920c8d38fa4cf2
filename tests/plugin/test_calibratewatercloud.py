"""smr:calibratewatercloud: A, B, C, D of the water cloud model fitted to in-situ soil moisture
(Yu et al., eq. 1–6) from a layer's fields, cross-validated by station, with its report, parameter
file, and the inputs users get wrong."""

import json
import math
import re

import numpy as np
import pytest
from qgis.core import QgsProcessingException

from raster_helpers import RecordingFeedback, algorithm, error_of, write_points

TRUTH = {"A": 0.12, "B": 0.084, "C": -17.0, "D": 28.0}
STATIONS = 8
PER_STATION = 8


def model_sigma0_db(vwc, sm, angle=40.0, a=TRUTH["A"], b=TRUTH["B"], c=TRUTH["C"], d=TRUTH["D"]):
    """Yu et al. eq. 1–5 with V1 = 1, written out here independently of the core."""
    cos_theta = math.cos(math.radians(angle))
    attenuation = math.exp(-2.0 * b * vwc / cos_theta)
    vegetation = a * cos_theta * (1.0 - attenuation)
    soil = 10.0 ** ((c + d * sm) / 10.0)
    return 10.0 * math.log10(vegetation + attenuation * soil)


def sample_columns(count=STATIONS * PER_STATION, seed=3):
    generator = np.random.default_rng(seed)
    vwc = generator.uniform(0.2, 3.5, count)
    sm = generator.uniform(0.06, 0.42, count)
    return {
        "sigma0": [model_sigma0_db(v, s) for v, s in zip(vwc, sm)],
        "vwc": [float(v) for v in vwc],
        "sm": [float(s) for s in sm],
        "station": [f"station {i % STATIONS}" for i in range(count)],
    }


@pytest.fixture
def samples_layer(tmp_path):
    return write_points(tmp_path / "insitu.gpkg", sample_columns())


def parameters_for(layer, tmp_path, **overrides):
    parameters = {
        "INPUT_LAYER": layer, "SIGMA0_FIELD": "sigma0", "VWC_FIELD": "vwc",
        "SOIL_MOISTURE_FIELD": "sm", "GROUP_FIELD": "station", "POLARISATION": "VV",
        "STARTS": 3, "OUTPUT_PARAMETERS": str(tmp_path / "wcm.json"),
        "OUTPUT_REPORT": str(tmp_path / "report.html"),
    }
    parameters.update(overrides)
    return parameters


def test_the_algorithm_is_in_the_radar_group_with_numbers_for_the_modeler(qgis_app):
    created = algorithm("smr:calibratewatercloud")
    assert (created.groupId(), created.group()) == ("radar", "Radar")
    outputs = {output.name(): output.type() for output in created.outputDefinitions()}
    for key in ("A", "B", "C", "D", "A_SE", "SM_RMSE", "SM_R", "SM_BIAS", "SIGMA0_RMSE",
                "CV_SM_RMSE", "CV_SM_UBRMSE", "SAMPLES_USED", "EXCLUDED_SAMPLES"):
        assert outputs[key] == "outputNumber", key
    assert outputs["OUTPUT_REPORT"] == "outputHtml"
    assert outputs["OUTPUT_PARAMETERS"] == "outputFile"
    assert outputs["AT_BOUND"] == "outputString"
    # Paper 002's settings are the defaults: B held at 0.084, θ 40°, V1 = 1, fit in SM, 4 folds.
    assert created.parameterDefinition("FIX_B").defaultValue() is True
    assert created.parameterDefinition("B").defaultValue() == 0.084
    assert created.parameterDefinition("ANGLE").defaultValue() == 40.0
    assert created.parameterDefinition("FOLDS").defaultValue() == 4
    assert created.parameterDefinition("V1").defaultValue() == 1
    assert "0.084" in created.shortHelpString() and "Yu et al." in created.shortHelpString()


def test_recovers_a_c_d_and_cross_validates_by_station(run_algorithm, samples_layer, tmp_path):
    feedback = RecordingFeedback()
    results = run_algorithm("calibratewatercloud", parameters_for(samples_layer, tmp_path),
                            feedback)
    for key in ("A", "C", "D"):
        assert results[key] == pytest.approx(TRUTH[key], rel=1e-6), key
    assert results["B"] == 0.084 and results["B_SE"] is None  # held fixed
    assert results["A_SE"] < 1e-6 and results["AT_BOUND"] == ""
    assert results["SAMPLES_USED"] == STATIONS * PER_STATION
    assert results["FOLD_COUNT"] == 4
    assert results["CV_SM_N"] == STATIONS * PER_STATION
    assert results["CV_SM_RMSE"] < 1e-6  # the samples are the model's own: every fold fits exactly
    assert results["SM_RMSE"] < 1e-7

    request = feedback.request_sent()
    assert request["FIXED"] == ["B"] and request["ANGLE"] == 40.0 and request["FOLDS"] == 4
    assert request["V1"] == "one" and request["OBJECTIVE"] == "soil_moisture"
    assert "angle" not in request["SAMPLES"] and len(request["SAMPLES"]["groups"]) == 64

    document = json.loads((tmp_path / "wcm.json").read_text(encoding="utf-8"))
    assert results["OUTPUT_PARAMETERS"] == str(tmp_path / "wcm.json")
    assert document["format"] == "smr-watercloud-parameters" and document["polarisation"] == "VV"
    assert document["parameters"]["A"]["value"] == results["A"]
    assert document["parameters"]["B"]["fixed"] is True
    folds = document["cross_validation"]["per_fold"]
    assert len(folds) == 4
    held_out = [group for fold in folds for group in fold["groups"]]
    assert sorted(held_out) == sorted({f"station {i}" for i in range(STATIONS)})  # each once

    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Water cloud model calibration: VV" in report
    assert "Fold 4" in report and "Held out, pooled over the folds" in report
    # A scatter per fold (Yu et al., Fig. 2) and one of the final fit.
    assert len(re.findall(r'<img src="data:image/png;base64,', report)) == 5


def test_angle_field_leave_one_group_out_and_the_sigma0_objective(run_algorithm, tmp_path):
    columns = sample_columns(count=40)
    generator = np.random.default_rng(9)
    angles = generator.uniform(30.0, 45.0, 40)
    columns["angle"] = [float(a) for a in angles]
    columns["sigma0"] = [model_sigma0_db(v, s, a) for v, s, a in
                         zip(columns["vwc"], columns["sm"], angles)]
    columns["station"] = [f"s{i % 4}" for i in range(40)]
    layer = write_points(tmp_path / "angles.gpkg", columns)
    feedback = RecordingFeedback()
    results = run_algorithm("calibratewatercloud", parameters_for(
        layer, tmp_path, ANGLE_FIELD="angle", CROSS_VALIDATION=1, OBJECTIVE=1, FIX_B=False),
        feedback)
    for key in ("A", "B", "C", "D"):
        assert results[key] == pytest.approx(TRUTH[key], rel=1e-6), key
    assert results["FOLD_COUNT"] == 4
    request = feedback.request_sent()
    assert request["CROSS_VALIDATION"] == "leave_one_group_out" and "FOLDS" not in request
    assert request["OBJECTIVE"] == "sigma0_db" and request["FIXED"] == []
    assert "ANGLE" not in request and len(request["SAMPLES"]["angle"]) == 40


def test_null_and_text_values(run_algorithm, tmp_path):
    columns = sample_columns()
    columns["sm"] = [f"{value:.17g}" for value in columns["sm"]]  # a CSV loaded as text
    columns["vwc"][0] = None
    columns["sigma0"][1] = float("nan")
    layer = write_points(tmp_path / "gaps.gpkg", columns)
    results = run_algorithm("calibratewatercloud", parameters_for(layer, tmp_path))
    assert results["SKIPPED_SAMPLES"] == 2
    assert results["SAMPLES_USED"] == STATIONS * PER_STATION - 2
    assert results["A"] == pytest.approx(TRUTH["A"], rel=1e-6)


@pytest.mark.parametrize("change, expected", [
    ({"SIGMA0_FIELD": "vv"}, r"SIGMA0_FIELD \('vv'\).*no such field"),
    ({"VWC_FIELD": "sigma0"}, r"VWC_FIELD \('sigma0'\).*also SIGMA0_FIELD"),
    ({"FOLDS": 9}, r"FOLDS \(9\).*8 groups"),
    ({"GROUP_FIELD": None, "CROSS_VALIDATION": 1}, r"CROSS_VALIDATION.*needs GROUP_FIELD"),
    ({"FIX_C": True}, r"Invalid value for C \(empty\)"),
])
def test_bad_parameters_are_named(run_algorithm, samples_layer, tmp_path, change, expected):
    parameters = parameters_for(samples_layer, tmp_path, **change)
    parameters = {key: value for key, value in parameters.items() if value is not None}
    assert re.search(expected, error_of(run_algorithm, "calibratewatercloud", parameters))
    assert not (tmp_path / "wcm.json").exists()


def test_a_constant_soil_moisture(run_algorithm, tmp_path):
    columns = sample_columns()
    columns["sm"] = [0.2] * len(columns["sm"])
    layer = write_points(tmp_path / "constant.gpkg", columns)
    message = error_of(run_algorithm, "calibratewatercloud", parameters_for(layer, tmp_path))
    assert "SOIL_MOISTURE_FIELD ('sm')" in message and "0.2" in message and "must vary" in message


def test_no_in_situ_values(run_algorithm, tmp_path):
    from osgeo import ogr

    path = tmp_path / "nothing.gpkg"
    layer = write_points(path, sample_columns())
    source = ogr.Open(str(path), update=1)
    points = source.GetLayer(0)
    for feature in points:
        feature.SetFieldNull("sm")
        points.SetFeature(feature)
    source = None
    message = error_of(run_algorithm, "calibratewatercloud", parameters_for(layer, tmp_path))
    assert "SOIL_MOISTURE_FIELD ('sm')" in message and "none of the 64 features" in message


def test_too_few_samples_per_fold_is_an_error_from_the_core(run_algorithm, tmp_path):
    columns = {key: values[:8] for key, values in sample_columns().items()}
    columns["station"] = [f"s{i % 4}" for i in range(8)]  # 4 stations of 2: folds of 4 fit on 4
    layer = write_points(tmp_path / "few.gpkg", columns)
    message = error_of(run_algorithm, "calibratewatercloud",
                       parameters_for(layer, tmp_path, FIX_B=False, FOLDS=2))
    assert "FOLDS" in message and "at least 5" in message


def test_cancel_stops_the_core_and_writes_no_file(run_algorithm, samples_layer, tmp_path):
    feedback = RecordingFeedback()
    # Cancelled once the core reports progress (after the layer was read, 0–5 %).
    feedback.progressChanged.connect(lambda percent: feedback.cancel() if percent > 5.0 else None)
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        run_algorithm("calibratewatercloud",
                      parameters_for(samples_layer, tmp_path, STARTS=1000, FIX_B=False), feedback)
    assert not (tmp_path / "wcm.json").exists()
    assert not (tmp_path / "report.html").exists()
