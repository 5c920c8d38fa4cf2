"""smr:applymodel: a hand-written model whose output is computed by hand, a model made by
smr:trainmlp, bad inputs, cancel, and the style of the loaded output."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from qgis.core import (QgsApplication, QgsProcessingParameterDefinition, QgsProject,
                       QgsSingleBandPseudoColorRenderer)
from qgis.PyQt.QtGui import QColor

from raster_helpers import (CANCELLABLE_SIZE, DEFAULT_PIXEL_SIZE, RecordingFeedback, assert_pixels,
                            error_of, read_raster, read_values, run_cancelled_at_first_progress,
                            write_raster)

NODATA = -9999.0
# Paper 000's network shape in miniature: σ⁰ VV and VH (dB) in, soil moisture (m³/m³) out, one
# tansig hidden neuron and a purelin output neuron, everything scaled by mapminmax to [−1, 1].
VV_RANGE = (-20.0, -5.0)
VH_RANGE = (-30.0, -10.0)
TARGET_RANGE = (0.05, 0.45)
HIDDEN_WEIGHTS, HIDDEN_BIAS = (0.8, -0.5), 0.1
OUTPUT_WEIGHT, OUTPUT_BIAS = 1.5, -0.2


def model_document(target_range=TARGET_RANGE, target_name="sm"):
    return {
        "format": "smr-model", "version": 1, "kind": "mlp",
        "inputs": [{"name": "VV", "minimum": VV_RANGE[0], "maximum": VV_RANGE[1]},
                   {"name": "VH", "minimum": VH_RANGE[0], "maximum": VH_RANGE[1]}],
        "target": {"name": target_name, "minimum": target_range[0], "maximum": target_range[1]},
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


def write_model(path, document=None):
    path.write_text(json.dumps(document if document is not None else model_document()))
    return str(path)


def mapminmax(value, low, high):
    return 2.0 * (value - low) / (high - low) - 1.0


def hand_estimate(vv, vh, target_range=TARGET_RANGE):
    """mapminmax in, tansig hidden neuron, purelin output, mapminmax back to the target."""
    hidden = math.tanh(HIDDEN_WEIGHTS[0] * mapminmax(vv, *VV_RANGE)
                       + HIDDEN_WEIGHTS[1] * mapminmax(vh, *VH_RANGE) + HIDDEN_BIAS)
    scaled = OUTPUT_WEIGHT * hidden + OUTPUT_BIAS
    low, high = target_range
    return low + (scaled + 1.0) / 2.0 * (high - low)


@pytest.fixture
def model(tmp_path):
    return write_model(tmp_path / "model.json")


def test_output_equals_the_hand_computed_network(run_algorithm, model, tmp_path):
    vv_values = [[-10.0, -5.0, -20.0], [-12.5, -8.0, -15.0]]
    vh_values = [[-20.0, -30.0, -10.0], [-25.0, -12.0, -18.0]]
    vv = write_raster(tmp_path / "vv.tif", vv_values)
    vh = write_raster(tmp_path / "vh.tif", vh_values)
    feedback = RecordingFeedback()
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")}, feedback)

    # VV −10 dB, VH −20 dB: x = (2·10/15 − 1, 2·10/20 − 1) = (1/3, 0);
    # hidden = tansig(0.8·1/3 − 0.5·0 + 0.1) = tanh(0.366667) = 0.351073;
    # output = 1.5·0.351073 − 0.2 = 0.326609 in [−1, 1];
    # soil moisture = 0.05 + (0.326609 + 1)/2·(0.45 − 0.05) = 0.315322 m³/m³.
    assert hand_estimate(-10.0, -20.0) == pytest.approx(0.3153218, abs=1e-7)
    assert read_values(result["OUTPUT"])[0, 0] == pytest.approx(0.3153218, abs=1e-6)
    # VV −5, VH −30: x = (1, −1), hidden = tanh(0.8 + 0.5 + 0.1) = 0.885352, output 1.128027:
    # above the training target range, 0.475605 m³/m³ (mapminmax is not bounded).
    assert read_values(result["OUTPUT"])[0, 1] == pytest.approx(0.4756055, abs=1e-6)
    expected = [[hand_estimate(a, b) for a, b in zip(row_vv, row_vh)]
                for row_vv, row_vh in zip(vv_values, vh_values)]
    assert_pixels(result["OUTPUT"], expected, rel=1e-6, abs_tolerance=1e-6)
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (0, 0, 6)
    assert (result["CLAMPED_PIXELS"], result["OUT_OF_RANGE_PIXELS"]) == (0, 0)

    request = feedback.request_sent()
    assert request["MODEL"] == model
    assert request["INPUTS"] == [{"path": vv, "band": 1, "nodata": None},
                                 {"path": vh, "band": 1, "nodata": None}]
    assert request["INPUT_NAMES"] == ["vv", "vh"]  # the layer names, from the file names
    assert request["REFERENCE"] == "INPUTS_0"
    assert "CLAMP_MIN" not in request and "CLAMP_MAX" not in request


def test_nodata_in_any_input_gives_nodata(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", [[-10.0, NODATA, -10.0, -10.0]], nodata=NODATA)
    vh = write_raster(tmp_path / "vh.tif", [[-20.0, -20.0, math.nan, -99.0]], nodata=-99.0)
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    assert_pixels(result["OUTPUT"], [[hand_estimate(-10.0, -20.0), None, None, None]])
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (3, 0, 1)
    assert result["OUT_OF_RANGE_PIXELS"] == 0


def test_clamp_sets_estimates_to_the_bounds_and_counts_them(run_algorithm, model, tmp_path):
    vv_values = [-5.0, -10.0, -20.0]
    vh_values = [-30.0, -20.0, -10.0]
    low, middle, high = sorted(hand_estimate(a, b) for a, b in zip(vv_values, vh_values))
    assert (low, middle, high) == (hand_estimate(-20.0, -10.0), hand_estimate(-10.0, -20.0),
                                   hand_estimate(-5.0, -30.0))
    vv = write_raster(tmp_path / "vv.tif", [vv_values])
    vh = write_raster(tmp_path / "vh.tif", [vh_values])
    clamp_min, clamp_max = low + 0.01, high - 0.01
    feedback = RecordingFeedback()
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "CLAMP_MIN": clamp_min, "CLAMP_MAX": clamp_max,
        "OUTPUT": str(tmp_path / "sm.tif")}, feedback)
    assert_pixels(result["OUTPUT"], [[clamp_max, middle, clamp_min]])
    assert result["CLAMPED_PIXELS"] == 2 and result["VALID_PIXELS"] == 3
    request = feedback.request_sent()
    assert (request["CLAMP_MIN"], request["CLAMP_MAX"]) == (clamp_min, clamp_max)


def test_inputs_outside_the_training_range_are_counted(run_algorithm, model, tmp_path):
    # VV −25 is below its training minimum −20, VH −5 above its maximum −10, VV −4 above −5;
    # the network still gives its (extrapolated) estimate there.
    vv_values = [-10.0, -25.0, -10.0, -4.0, -20.0]
    vh_values = [-20.0, -20.0, -5.0, -5.0, -30.0]
    vv = write_raster(tmp_path / "vv.tif", [vv_values])
    vh = write_raster(tmp_path / "vh.tif", [vh_values])
    feedback = RecordingFeedback()
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")}, feedback)
    assert_pixels(result["OUTPUT"], [[hand_estimate(a, b) for a, b in zip(vv_values, vh_values)]])
    assert result["OUT_OF_RANGE_PIXELS"] == 3 and result["VALID_PIXELS"] == 5
    assert any("extrapolates" in warning for warning in feedback.warnings)
    assert not any("extrapolates" in error for error in feedback.errors)


def test_a_pixel_at_a_training_extreme_after_float32_rounding_is_inside(run_algorithm, tmp_path):
    # Extremes from double samples (a vector layer) against Float32 pixels: −20.1 rounds down
    # and −5.1 up in Float32, so both pixels lay "outside" the double range and were counted.
    low, high = -20.1, -5.1
    assert float(np.float32(low)) < low and float(np.float32(high)) > high
    document = model_document()
    document["inputs"][0].update(minimum=low, maximum=high)
    model = write_model(tmp_path / "model.json", document)
    one_step_below = np.nextafter(np.float32(low), np.float32(-np.inf))
    one_step_above = np.nextafter(np.float32(high), np.float32(np.inf))
    vv = write_raster(tmp_path / "vv.tif", [[np.float32(low), np.float32(high), one_step_below,
                                             one_step_above, -10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0] * 5])
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    assert result["VALID_PIXELS"] == 5
    assert result["OUT_OF_RANGE_PIXELS"] == 2  # one Float32 step beyond each extreme


def test_estimate_that_overflows_is_nodata_and_invalid(run_algorithm, tmp_path):
    # Finite weights whose result is not: at VV −10, VH −20 the hidden neuron gives h = 0.351
    # (see the hand computation above), and 1e308·h + 1e308 overflows to infinity.
    document = model_document()
    document["layers"][1].update(weights=[[1e308]], bias=[1e308])
    model = write_model(tmp_path / "overflow.json", document)
    vv = write_raster(tmp_path / "vv.tif", [[-10.0, NODATA]], nodata=NODATA)
    vh = write_raster(tmp_path / "vh.tif", [[-20.0, -20.0]])
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    assert_pixels(result["OUTPUT"], [[None, None]])
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (1, 1, 0)


def test_input_on_another_grid_is_aligned_and_logged(run_algorithm, model, tmp_path):
    # VH at 60 m over the same extent as VV at 30 m: with nearest resampling each VH pixel covers
    # 2×2 output pixels.
    vv_values = -20.0 + np.arange(16.0).reshape(4, 4)
    vh_coarse = np.array([[-28.0, -22.0], [-16.0, -11.0]])
    vv = write_raster(tmp_path / "vv.tif", vv_values)
    vh = write_raster(tmp_path / "vh60.tif", vh_coarse, pixel_size=2 * DEFAULT_PIXEL_SIZE)
    feedback = RecordingFeedback()
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "RESAMPLING": 0, "OUTPUT": str(tmp_path / "sm.tif")},
        feedback)
    vh_fine = np.kron(vh_coarse, np.ones((2, 2)))
    expected = [[hand_estimate(a, b) for a, b in zip(row_vv, row_vh)]
                for row_vv, row_vh in zip(vv_values, vh_fine)]
    assert_pixels(result["OUTPUT"], expected)
    values, _, _, geotransform, _ = read_raster(result["OUTPUT"])
    assert values.shape == (4, 4) and geotransform[1] == DEFAULT_PIXEL_SIZE
    aligned = [line for line in feedback.infos if "aligned" in line]
    assert len(aligned) == 1 and "nearest" in aligned[0]


def test_reference_takes_the_grid_of_the_raster_at_that_position(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", np.full((4, 4), -10.0))
    vh = write_raster(tmp_path / "vh60.tif", np.full((2, 2), -20.0),
                      pixel_size=2 * DEFAULT_PIXEL_SIZE)
    feedback = RecordingFeedback()
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "REFERENCE": 2, "RESAMPLING": 0,
        "OUTPUT": str(tmp_path / "sm.tif")}, feedback)
    assert feedback.request_sent()["REFERENCE"] == "INPUTS_1"
    assert_pixels(result["OUTPUT"], np.full((2, 2), hand_estimate(-10.0, -20.0)))


def test_reference_beyond_the_rasters_given(run_without_core, model, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0]])
    message = error_of(run_without_core, "applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "REFERENCE": 3, "OUTPUT": str(tmp_path / "sm.tif")})
    assert "REFERENCE (3)" in message and "1 to 2" in message


@pytest.mark.parametrize("raster_names", [["vv"], ["vv", "vh", "angle"]])
def test_wrong_number_of_rasters_lists_the_model_inputs(run_without_core, model, tmp_path,
                                                       raster_names):
    rasters = [write_raster(tmp_path / f"{name}.tif", [[-10.0]]) for name in raster_names]
    message = error_of(run_without_core, "applymodel", {
        "MODEL": model, "INPUTS": rasters, "OUTPUT": str(tmp_path / "sm.tif")})
    assert "INPUTS" in message and "takes 2 input rasters" in message
    assert "VV, VH" in message and f"{len(raster_names)} were given" in message
    assert not (tmp_path / "sm.tif").exists()


def test_swapped_inputs_are_caught_by_their_names(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "VV.tif", [[-10.0]])
    vh = write_raster(tmp_path / "VH.tif", [[-20.0]])
    message = error_of(run_algorithm, "applymodel", {
        "MODEL": model, "INPUTS": [vh, vv], "OUTPUT": str(tmp_path / "sm.tif")})
    # The core compares the layer names (INPUT_NAMES) with the model's input names.
    assert message.startswith("INPUTS") and "'VH'" in message and "VV, VH" in message
    assert not (tmp_path / "sm.tif").exists()


def test_layer_names_differing_only_in_case_are_accepted(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "Vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vH.tif", [[-20.0]])
    result = run_algorithm("applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    assert_pixels(result["OUTPUT"], [[hand_estimate(-10.0, -20.0)]])


# MATLAB's transfer functions by the names the model file uses.
ACTIVATIONS = {
    "tansig": np.tanh,
    "logsig": lambda n: 1.0 / (1.0 + np.exp(-n)),
    "relu": lambda n: np.maximum(n, 0.0),
    "purelin": lambda n: n,
}


def network_from_file(document, input_arrays):
    """Any model file's network in numpy, one output value per element of the input arrays."""
    low, high = document["normalisation"]["range"]
    activations = np.array([
        low + (high - low) * (np.ravel(values) - item["minimum"])
        / (item["maximum"] - item["minimum"])
        for values, item in zip(input_arrays, document["inputs"])])
    for layer in document["layers"]:
        activations = ACTIVATIONS[layer["activation"]](
            np.array(layer["weights"]) @ activations + np.array(layer["bias"])[:, None])
    target = document["target"]
    estimate = target["minimum"] + (activations[0] - low) / (high - low) * (
        target["maximum"] - target["minimum"])
    return estimate.reshape(np.shape(input_arrays[0]))


def test_model_trained_by_trainmlp_is_applied_as_its_file_says(run_algorithm, tmp_path):
    rng = np.random.default_rng(5)
    vv_values = rng.uniform(-20.0, -5.0, (12, 12))
    vh_values = rng.uniform(-30.0, -10.0, (12, 12))
    vv = write_raster(tmp_path / "vv.tif", vv_values)
    vh = write_raster(tmp_path / "vh.tif", vh_values)
    target = write_raster(tmp_path / "sm.tif", 0.25 + 0.012 * (vv_values + 12.0)
                          - 0.004 * (vh_values + 20.0))
    # logsig and mapminmax to [0, 1] (paper 001) rather than the defaults, so the file's
    # "activation" and "range" are really read.
    trained = run_algorithm("trainmlp", {
        "INPUT_RASTERS": [vv, vh], "TARGET_RASTER": target, "HIDDEN": "3",
        "HIDDEN_ACTIVATION": 1, "NORMALISATION": 1, "EPOCHS": 30, "SEED": 4,
        "OUTPUT_MODEL": str(tmp_path / "model.json"),
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    document = json.loads(Path(trained["OUTPUT_MODEL"]).read_text())
    assert document["normalisation"]["range"] == [0, 1]
    assert document["layers"][0]["activation"] == "logsig"

    result = run_algorithm("applymodel", {
        "MODEL": trained["OUTPUT_MODEL"], "INPUTS": [vv, vh],
        "OUTPUT": str(tmp_path / "estimate.tif")})
    assert_pixels(result["OUTPUT"], network_from_file(document, [vv_values, vh_values]),
                  rel=1e-5, abs_tolerance=1e-6)
    # Every pixel was a training sample, so none lies outside the training ranges, and the map's
    # RMSE against the target is the training's RMSE over all samples.
    assert result["OUT_OF_RANGE_PIXELS"] == 0 and result["VALID_PIXELS"] == 144
    rmse = float(np.sqrt(np.mean((read_values(result["OUTPUT"]) - read_values(target)) ** 2)))
    assert rmse == pytest.approx(document["metrics"]["all"]["rmse"], rel=1e-3)


def truncated_model_text():
    text = json.dumps(model_document())
    return text[:len(text) // 2]


@pytest.mark.parametrize("text, words", [
    ("VV,VH,sm\n-10,-20,0.3\n", ["MODEL"]),
    (json.dumps(dict(model_document(), format="keras-model")), ["format", "smr-model"]),
    (truncated_model_text(), ["MODEL"]),
], ids=["not-json", "wrong-format", "truncated"])
def test_bad_model_file_is_rejected_naming_it(run_algorithm, tmp_path, text, words):
    path = tmp_path / "model.json"
    path.write_text(text)
    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0]])
    message = error_of(run_algorithm, "applymodel", {
        "MODEL": str(path), "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    for word in words:
        assert word in message
    assert not (tmp_path / "sm.tif").exists()


def test_missing_model_file(run_without_core, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    missing = str(tmp_path / "no-such-model.json")
    message = error_of(run_without_core, "applymodel", {
        "MODEL": missing, "INPUTS": [vv], "OUTPUT": str(tmp_path / "sm.tif")})
    assert message.startswith("MODEL: ") and missing in message and "does not exist" in message


def test_clamp_bounds_in_the_wrong_order(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0]])
    message = error_of(run_algorithm, "applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "CLAMP_MIN": 0.5, "CLAMP_MAX": 0.1,
        "OUTPUT": str(tmp_path / "sm.tif")})
    assert "CLAMP_MIN" in message and "CLAMP_MAX" in message


def test_cancel_leaves_no_output(run_algorithm, model, tmp_path):
    shape = (CANCELLABLE_SIZE, CANCELLABLE_SIZE)
    rng = np.random.default_rng(3)
    vv = write_raster(tmp_path / "vv.tif", rng.uniform(-20.0, -5.0, shape))
    vh = write_raster(tmp_path / "vh.tif", rng.uniform(-30.0, -10.0, shape))
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "applymodel", {
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(output_directory / "sm.tif")})
    assert list(output_directory.iterdir()) == []  # neither the output nor a temporary file


def loaded_output_ramp(parameters):
    """Run with the output loaded into the project, as the dialog does: the loaded layer's
    renderer type, classification minimum and maximum, and (value, colour) ramp items."""
    import processing
    from smr.algorithms import styles

    project = QgsProject.instance()
    before = set(project.mapLayers())
    awaiting = set(styles._AWAITING_LOAD)
    processing.runAndLoadResults("smr:applymodel", parameters)
    added = [project.mapLayer(layer_id) for layer_id in set(project.mapLayers()) - before]
    try:
        assert len(added) == 1
        assert styles._AWAITING_LOAD == awaiting  # the post-processor let go once it had run
        renderer = added[0].renderer()
        assert isinstance(renderer, QgsSingleBandPseudoColorRenderer), renderer.type()
        items = renderer.shader().rasterShaderFunction().colorRampItemList()
        return (renderer.classificationMin(), renderer.classificationMax(),
                [(item.value, QColor(item.color)) for item in items])
    finally:
        project.removeMapLayers([layer.id() for layer in added])


def test_loaded_output_gets_the_soil_moisture_ramp(run_algorithm, model, tmp_path):
    vv = write_raster(tmp_path / "vv.tif", [[-10.0, -12.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0, -22.0]])
    minimum, maximum, ramp = loaded_output_ramp({
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "sm.tif")})
    assert (minimum, maximum) == (0.0, 0.5)
    assert ramp[0][0] == 0.0 and ramp[-1][0] == 0.5
    dry, wet = ramp[0][1], ramp[-1][1]
    # viridis reversed: light yellow when dry, dark blue-purple when wet.
    assert (dry.name(), wet.name()) == ("#fde725", "#440154")
    assert dry.lightness() > wet.lightness()


def test_loaded_output_of_another_quantity_gets_its_training_range(run_algorithm, tmp_path):
    # Vegetation water content (kg/m²) trained over 0.2–4.5 would be one colour on 0–0.5 m³/m³.
    model = write_model(tmp_path / "vwc.json", model_document((0.2, 4.5), "vwc"))
    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0]])
    minimum, maximum, ramp = loaded_output_ramp({
        "MODEL": model, "INPUTS": [vv, vh], "OUTPUT": str(tmp_path / "vwc.tif")})
    assert (minimum, maximum) == (pytest.approx(0.2), pytest.approx(4.5))
    assert (ramp[0][0], ramp[-1][0]) == (pytest.approx(0.2), pytest.approx(4.5))


def test_output_that_is_not_loaded_gets_no_post_processor(run_algorithm, model, tmp_path):
    from smr.algorithms import styles

    vv = write_raster(tmp_path / "vv.tif", [[-10.0]])
    vh = write_raster(tmp_path / "vh.tif", [[-20.0]])
    awaiting = set(styles._AWAITING_LOAD)
    run_algorithm("applymodel", {"MODEL": model, "INPUTS": [vv, vh],
                                 "OUTPUT": str(tmp_path / "sm.tif")})
    assert styles._AWAITING_LOAD == awaiting


def test_algorithm_definition(qgis_app):
    created = QgsApplication.processingRegistry().createAlgorithmById("smr:applymodel")
    assert created is not None
    assert created.displayName() == "Apply trained model to rasters"
    assert (created.groupId(), created.group()) == ("machinelearning", "Machine learning")
    assert not created.icon().isNull()
    assert created.parameterDefinition("MODEL").fileFilter() == "SMR model (*.json)"
    assert created.parameterDefinition("INPUTS").type() == "multilayer"
    for key in ("CLAMP_MIN", "CLAMP_MAX"):
        flags = created.parameterDefinition(key).flags()
        assert flags & QgsProcessingParameterDefinition.FlagOptional
    outputs = {output.name() for output in created.outputDefinitions()}
    assert {"OUTPUT", "NODATA_PIXELS", "INVALID_PIXELS", "VALID_PIXELS", "CLAMPED_PIXELS",
            "OUT_OF_RANGE_PIXELS"} <= outputs
    help_text = created.shortHelpString()
    for phrase in ("m³/m³", "OUT_OF_RANGE_PIXELS", "extrapolates", "nodata", "smr-model",
                   "mapminmax", "in the model's order", "Band 1"):
        assert phrase in help_text


def test_model_summary_is_read_only_from_a_well_formed_model(qgis_app, tmp_path):
    from smr.algorithms.applymodel import read_model_summary

    summary = read_model_summary(write_model(tmp_path / "model.json"))
    assert summary.input_names == ["VV", "VH"]
    assert (summary.target_name, summary.target_minimum, summary.target_maximum) == (
        "sm", 0.05, 0.45)
    # Anything else is left to the core, which names the faulty field: no exception here.
    hostile = tmp_path / "deep.json"
    hostile.write_text("[" * 100000 + "]" * 100000)
    assert read_model_summary(str(hostile)) is None
    listless = write_model(tmp_path / "listless.json", dict(model_document(), inputs="VV VH"))
    assert read_model_summary(listless) is None
    assert read_model_summary(str(tmp_path / "absent.json")) is None
