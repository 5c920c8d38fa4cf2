"""smr:trainmlp and smr:validationmetrics: training on vector and raster samples, validation
metrics against hand-computed values, the HTML reports, and the inputs users get wrong."""

import json
import math
import re

import numpy as np
import pytest
from qgis.core import QgsApplication, QgsProcessingParameterDefinition

from raster_helpers import RecordingFeedback, error_of, write_points, write_raster

SAMPLE_COUNT = 200
# Small and quick, yet enough for the smooth target below. One thread: OpenMP threads only slow
# down a network this small, most of all on a busy machine.
SMALL_NETWORK = {"HIDDEN": "4", "EPOCHS": 100, "THREADS": 1}


def smooth_target(a, b):
    """The exact function the network has to learn."""
    return 0.2 + 0.1 * np.tanh(a) - 0.05 * b


@pytest.fixture
def sample_points(tmp_path):
    """200 points: numeric a, b, the target t = smooth_target(a, b), a text field, a station."""
    generator = np.random.default_rng(7)
    a = generator.uniform(-2.0, 2.0, SAMPLE_COUNT)
    b = generator.uniform(0.0, 1.0, SAMPLE_COUNT)
    return write_points(tmp_path / "samples.gpkg", {
        "a": [float(value) for value in a],
        "b": [float(value) for value in b],
        "t": [float(value) for value in smooth_target(a, b)],
        "label": [f"probe {i}" for i in range(SAMPLE_COUNT)],
        "station": [i % 10 for i in range(SAMPLE_COUNT)],
    })


def report_output(tmp_path):
    return {"OUTPUT_REPORT": str(tmp_path / "report.html")}


def training_outputs(tmp_path):
    return {"OUTPUT_MODEL": str(tmp_path / "model.json"), **report_output(tmp_path)}


def training_parameters(layer, tmp_path, **overrides):
    parameters = {"INPUT_LAYER": layer, "FEATURE_FIELDS": ["a", "b"], "TARGET_FIELD": "t",
                  "TARGET_UNIT": "m³/m³", **training_outputs(tmp_path), **SMALL_NETWORK}
    parameters.update(overrides)
    return parameters


def images_in(report_path):
    return re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', report_path.read_text(
        encoding="utf-8"))


# --- the algorithms as QGIS shows them ------------------------------------------------------------

def test_training_is_machine_learning_and_validation_metrics_is_validation(qgis_app):
    registry = QgsApplication.processingRegistry()
    for algorithm_id, group in (("smr:trainmlp", "Machine learning"),
                                ("smr:validationmetrics", "Validation")):
        created = registry.createAlgorithmById(algorithm_id)
        assert created is not None, algorithm_id
        assert created.group() == group and not created.icon().isNull()
        help_text = created.shortHelpString()
        assert "estimate − reference" in help_text and "Wang and Xu" in help_text
        assert "positive means the estimate is too high" in help_text
        outputs = {output.name(): output.type() for output in created.outputDefinitions()}
        # An HTML file destination becomes an HTML output, which QGIS opens in the Results Viewer.
        assert outputs["OUTPUT_REPORT"] == "outputHtml"
    train = registry.createAlgorithmById("smr:trainmlp")
    assert train.displayName() == "Train neural network (MLP, Levenberg–Marquardt)"
    assert registry.createAlgorithmById("smr:validationmetrics").displayName() == \
        "Validation metrics (estimate vs reference)"


def test_train_parameters_defaults_and_enum_orders(qgis_app):
    train = QgsApplication.processingRegistry().createAlgorithmById("smr:trainmlp")
    defaults = {key: train.parameterDefinition(key).defaultValue() for key in (
        "HIDDEN", "EPOCHS", "GOAL", "MAX_FAIL", "TRAIN_RATIO", "VALIDATION_RATIO", "TEST_RATIO",
        "RESTARTS", "SEED", "MIN_GRADIENT", "MU", "MU_DEC", "MU_INC", "MU_MAX", "LEARNING_RATE",
        "BATCH_SIZE", "THREADS", "MAX_SAMPLES", "HIDDEN_ACTIVATION", "OUTPUT_ACTIVATION",
        "NORMALISATION", "TRAINER", "DIVISION", "MAX_MEMORY_MB")}
    assert defaults == {
        "HIDDEN": "10", "EPOCHS": 1000, "GOAL": 0, "MAX_FAIL": 6, "TRAIN_RATIO": 0.7,
        "VALIDATION_RATIO": 0.15, "TEST_RATIO": 0.15, "RESTARTS": 1, "SEED": 1,
        "MIN_GRADIENT": 1e-7, "MU": 1e-3, "MU_DEC": 0.1, "MU_INC": 10, "MU_MAX": 1e10,
        "LEARNING_RATE": 1e-3, "BATCH_SIZE": 32, "THREADS": 0, "MAX_SAMPLES": 0,
        "HIDDEN_ACTIVATION": 0, "OUTPUT_ACTIVATION": 3, "NORMALISATION": 0, "TRAINER": 0,
        "DIVISION": 0, "MAX_MEMORY_MB": 4096}
    options = {key: [option.split()[0] for option in train.parameterDefinition(key).options()]
               for key in ("HIDDEN_ACTIVATION", "TRAINER", "DIVISION")}
    assert options == {"HIDDEN_ACTIVATION": ["tansig", "logsig", "relu", "purelin"],
                       "TRAINER": ["Levenberg–Marquardt", "Adam"],
                       "DIVISION": ["random", "block", "interleaved", "group"]}
    assert train.parameterDefinition("NORMALISATION").options() == [
        "mapminmax to [−1, 1]", "mapminmax to [0, 1]"]
    assert train.parameterDefinition("OUTPUT_MODEL").fileFilter() == "SMR model (*.json)"
    outputs = {output.name() for output in train.outputDefinitions()}
    for subset in ("TRAIN", "VALIDATION", "TEST", "ALL"):
        for metric in ("R", "R2", "NSE", "RMSE", "UBRMSE", "MAE", "BIAS", "N"):
            assert f"{subset}_{metric}" in outputs
    assert {"SKIPPED_SAMPLES", "BEST_RESTART", "BEST_EPOCH", "EPOCHS_RUN", "STOP_REASON"} <= outputs


def test_memory_limit_is_an_advanced_parameter_of_every_trainer(qgis_app):
    for algorithm_id in ("smr:trainmlp", "smr:pixelwisereconstruction", "smr:sensitivityanalysis"):
        created = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        definition = created.parameterDefinition("MAX_MEMORY_MB")
        assert definition is not None, algorithm_id
        assert definition.flags() & QgsProcessingParameterDefinition.FlagAdvanced, algorithm_id
        assert (definition.defaultValue(), definition.minimum(), definition.maximum()) == \
            (4096, 16, 1048576), algorithm_id


# --- smr:trainmlp: inputs the plugin rejects before the core runs ---------------------------------

def test_train_with_both_sample_sources(run_without_core, sample_points, tmp_path):
    raster = write_raster(tmp_path / "a.tif", [[0.1, 0.2]])
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, INPUT_RASTERS=[raster], TARGET_RASTER=raster))
    assert "INPUT_LAYER" in message and "INPUT_RASTERS" in message and "not both" in message


def test_train_without_samples(run_without_core, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_outputs(tmp_path))
    assert "No samples given" in message and "INPUT_LAYER" in message \
        and "TARGET_RASTER" in message


def test_train_with_a_missing_field(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, FEATURE_FIELDS=["a", "vv_db"]))
    assert "Invalid value for FEATURE_FIELDS ('vv_db')" in message
    assert "its fields are" in message and "station" in message


def test_train_with_a_text_field(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, FEATURE_FIELDS=["a", "label"]))
    assert "Invalid value for FEATURE_FIELDS ('label')" in message and "not numeric" in message
    assert "numeric fields of INPUT_LAYER are" in message


def test_train_with_a_missing_target_field(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, TARGET_FIELD="soil_moisture"))
    assert "Invalid value for TARGET_FIELD ('soil_moisture')" in message


def test_train_without_feature_fields(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, FEATURE_FIELDS=[]))
    assert "FEATURE_FIELDS is empty" in message


def test_train_with_the_target_among_the_features(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, FEATURE_FIELDS=["a", "t"]))
    assert "Invalid value for TARGET_FIELD ('t')" in message and "FEATURE_FIELDS" in message


def test_train_with_all_ratios_zero(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, TRAIN_RATIO=0, VALIDATION_RATIO=0, TEST_RATIO=0))
    assert "TRAIN_RATIO, VALIDATION_RATIO, TEST_RATIO (0, 0, 0)" in message


def test_group_division_without_a_group_field(run_without_core, sample_points, tmp_path):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, DIVISION=3))
    assert "Invalid value for DIVISION (group)" in message and "GROUP_FIELD" in message


def test_group_division_of_raster_samples(run_without_core, tmp_path):
    raster = write_raster(tmp_path / "a.tif", [[0.1, 0.2]])
    message = error_of(run_without_core, "trainmlp", {
        "INPUT_RASTERS": [raster], "TARGET_RASTER": raster, "DIVISION": 3,
        **training_outputs(tmp_path)})
    assert "Invalid value for DIVISION (group)" in message and "vector layer" in message


def test_raster_samples_without_a_target(run_without_core, tmp_path):
    raster = write_raster(tmp_path / "a.tif", [[0.1, 0.2]])
    message = error_of(run_without_core, "trainmlp", {
        "INPUT_RASTERS": [raster], **training_outputs(tmp_path)})
    assert "TARGET_RASTER is empty" in message


@pytest.mark.parametrize("hidden, named", [("10 x", "'x'"), ("1.5", "'1.5'"), (" ", "' '"),
                                            ("10,-2", "'-2'")])
def test_hidden_layers_that_cannot_be_read(run_without_core, sample_points, tmp_path, hidden,
                                           named):
    message = error_of(run_without_core, "trainmlp", training_parameters(
        sample_points, tmp_path, HIDDEN=hidden))
    assert "Invalid value for HIDDEN" in message and named in message \
        and "'10 5'" in message


# --- smr:trainmlp with the core -------------------------------------------------------------------

def test_train_on_vector_samples(run_algorithm, sample_points, tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("trainmlp", training_parameters(sample_points, tmp_path), feedback)

    samples = feedback.request_sent()["SAMPLES"]
    assert samples["names"] == ["a", "b"] and len(samples["target"]) == SAMPLE_COUNT
    assert "groups" not in samples and "RESAMPLING" not in feedback.request_sent()
    assert result["SKIPPED_SAMPLES"] == 0
    assert result["TRAIN_N"] + result["VALIDATION_N"] + result["TEST_N"] == SAMPLE_COUNT
    assert result["ALL_N"] == SAMPLE_COUNT
    # The target spans about 0.25: a network that learnt the function is far below that.
    assert result["TEST_RMSE"] < 0.01 and result["TEST_R2"] > 0.98
    assert result["BEST_RESTART"] == 0 and 1 <= result["BEST_EPOCH"] <= result["EPOCHS_RUN"]
    assert isinstance(result["STOP_REASON"], str) and result["STOP_REASON"]

    with open(result["OUTPUT_MODEL"], encoding="utf-8") as stream:
        model = json.load(stream)
    assert (model["format"], model["version"], model["kind"]) == ("smr-model", 1, "mlp")
    assert [item["name"] for item in model["inputs"]] == ["a", "b"]
    assert model["target"]["name"] == "t"
    assert [len(layer["bias"]) for layer in model["layers"]] == [4, 1]

    report = tmp_path / "report.html"
    assert result["OUTPUT_REPORT"] == str(report)
    text = report.read_text(encoding="utf-8")
    for expected in ("<table class=\"metrics\">", "RMSE (m³/m³)", "ubRMSE (m³/m³)",
                     "bias = mean(estimate − reference)", "Wang and Xu (2021) use the opposite sign",
                     "Training curves", "Hidden layer 1", "4 neurons, tansig",
                     result["STOP_REASON"],
                     f"{result['TEST_RMSE']:.4g}"):
        assert expected in text, expected
    # Three scatter plots (train, validation, test) and the training curves.
    assert len(images_in(report)) == 4
    # The inputs with their training ranges, read back from the model file.
    assert re.search(r"<td>a \(-[\d.]+ to [\d.]+\), b \([\d.]+ to [\d.]+\)</td>", text)


def test_the_same_seed_gives_the_same_model(run_algorithm, sample_points, tmp_path):
    files = []
    for run, (seed, threads) in enumerate(((5, 1), (5, 2), (6, 1))):
        model = tmp_path / f"model{run}.json"
        run_algorithm("trainmlp", training_parameters(
            sample_points, tmp_path, SEED=seed, THREADS=threads, RESTARTS=2,
            OUTPUT_MODEL=str(model), OUTPUT_REPORT=str(tmp_path / f"report{run}.html")))
        files.append(model.read_bytes())
    assert files[0] == files[1]  # the same for any number of threads
    assert files[0] != files[2]  # another division and initialisation


def test_a_training_above_the_memory_limit_is_refused_before_it_starts(run_algorithm,
                                                                       sample_points, tmp_path):
    # Adam with two layers of 300 neurons holds a 32 × 91,501 Jacobian per batch: about 50 MB.
    feedback = RecordingFeedback()
    parameters = training_parameters(sample_points, tmp_path, HIDDEN="300 300", TRAINER=1,
                                     MAX_MEMORY_MB=16)
    message = error_of(lambda name, values: run_algorithm(name, values, feedback), "trainmlp",
                       parameters)
    assert feedback.request_sent()["MAX_MEMORY_MB"] == 16
    assert "more than MAX_MEMORY_MB 16" in message and "HIDDEN [300,300]" in message \
        and "91,501 weights" in message and "BATCH_SIZE" in message
    assert not (tmp_path / "model.json").exists()


def test_null_values_are_skipped_and_counted(run_algorithm, tmp_path):
    a = [float(value) for value in np.linspace(-2.0, 2.0, 60)]
    target = [float(value) for value in smooth_target(np.array(a), 0.0)]
    target[3] = None
    a[10] = None
    layer = write_points(tmp_path / "gaps.gpkg", {"a": a, "t": target})
    feedback = RecordingFeedback()
    # Paper 000's 4:1 division: no test subset.
    result = run_algorithm("trainmlp", training_parameters(
        layer, tmp_path, FEATURE_FIELDS=["a"], TRAIN_RATIO=0.8, VALIDATION_RATIO=0.2,
        TEST_RATIO=0), feedback)
    samples = feedback.request_sent()["SAMPLES"]
    assert samples["target"][3] is None and samples["features"][0][10] is None
    assert result["SKIPPED_SAMPLES"] == 2 and result["ALL_N"] == 58
    # An empty subset has no metrics: the outputs stay empty (None), the report shows dashes.
    assert result["TEST_N"] == 0 and result["TEST_RMSE"] is None and result["TEST_R"] is None
    assert result["TRAIN_N"] + result["VALIDATION_N"] == 58
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    test_row = re.search(r"<tr><th scope=\"row\">Test</th>(.*?)</tr>", text).group(1)
    assert re.findall(r"<td class=\"number\">([^<]*)</td>", test_row) == ["—"] * 7 + ["0"]
    assert len(images_in(tmp_path / "report.html")) == 3  # train, validation, curves


def test_division_by_group(run_algorithm, sample_points, tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("trainmlp", training_parameters(
        sample_points, tmp_path, DIVISION=3, GROUP_FIELD="station"), feedback)
    request = feedback.request_sent()
    assert request["DIVISION"] == "group"
    assert request["SAMPLES"]["groups"][:3] == [0, 1, 2]
    # Ten stations of 20 samples each: every subset holds whole stations.
    for subset in ("TRAIN", "VALIDATION", "TEST"):
        assert result[f"{subset}_N"] % 20 == 0, subset
    assert result["ALL_N"] == SAMPLE_COUNT


def test_too_few_samples_for_the_division(run_algorithm, tmp_path):
    layer = write_points(tmp_path / "three.gpkg", {"a": [0.1, 0.2, 0.3], "t": [0.2, 0.3, 0.4]})
    message = error_of(run_algorithm, "trainmlp", training_parameters(
        layer, tmp_path, FEATURE_FIELDS=["a"]))
    assert "too few samples" in message and "3 samples" in message \
        and "VALIDATION_RATIO" in message
    assert not (tmp_path / "model.json").exists() and not (tmp_path / "report.html").exists()


@pytest.fixture
def sample_rasters(tmp_path):
    """20 × 20 rasters a, b and the target t = smooth_target(a, b), one nodata pixel in t."""
    generator = np.random.default_rng(11)
    a = generator.uniform(-2.0, 2.0, (20, 20))
    b = generator.uniform(0.0, 1.0, (20, 20))
    target = smooth_target(a, b)
    target[0, 0] = -9999.0
    return (write_raster(tmp_path / "vv.tif", a), write_raster(tmp_path / "ndvi.tif", b),
            write_raster(tmp_path / "sm.tif", target, nodata=-9999.0))


def test_train_on_raster_samples(run_algorithm, sample_rasters, tmp_path):
    vv, ndvi, soil_moisture = sample_rasters
    feedback = RecordingFeedback()
    result = run_algorithm("trainmlp", {
        "INPUT_RASTERS": [vv, ndvi], "TARGET_RASTER": soil_moisture, "RESAMPLING": 0,
        **training_outputs(tmp_path), **SMALL_NETWORK}, feedback)
    request = feedback.request_sent()
    assert request["INPUT_RASTERS"] == [{"path": vv, "band": 1, "nodata": None},
                                        {"path": ndvi, "band": 1, "nodata": None}]
    assert request["INPUT_NAMES"] == ["vv", "ndvi"]
    assert request["TARGET_RASTER"] == {"path": soil_moisture, "band": 1, "nodata": None}
    assert (request["TARGET_NAME"], request["RESAMPLING"], request["MAX_SAMPLES"]) == (
        "sm", "nearest", 0)
    # A pixel where a raster is nodata is no sample at all; SKIPPED_SAMPLES counts incomplete
    # samples of a vector layer.
    assert result["ALL_N"] == 399 and result["SKIPPED_SAMPLES"] == 0
    assert result["TEST_RMSE"] < 0.01
    with open(result["OUTPUT_MODEL"], encoding="utf-8") as stream:
        model = json.load(stream)
    assert [item["name"] for item in model["inputs"]] == ["vv", "ndvi"]
    assert model["target"]["name"] == "sm"
    assert len(images_in(tmp_path / "report.html")) == 4


def test_raster_samples_limited_by_max_samples(run_algorithm, sample_rasters, tmp_path):
    vv, ndvi, soil_moisture = sample_rasters
    result = run_algorithm("trainmlp", {
        "INPUT_RASTERS": [vv, ndvi], "TARGET_RASTER": soil_moisture, "MAX_SAMPLES": 100,
        "TARGET_NAME": "soil moisture", **training_outputs(tmp_path), **SMALL_NETWORK})
    assert result["ALL_N"] == 100
    with open(result["OUTPUT_MODEL"], encoding="utf-8") as stream:
        assert json.load(stream)["target"]["name"] == "soil moisture"


# --- smr:validationmetrics ------------------------------------------------------------------------

def expected_metrics(estimate, reference):
    """The metrics of DESIGN §5, computed here independently of the core."""
    estimate, reference = np.ravel(estimate).astype(float), np.ravel(reference).astype(float)
    difference = estimate - reference
    bias = difference.mean()
    rmse = math.sqrt((difference ** 2).mean())
    r = np.corrcoef(estimate, reference)[0, 1]
    return {"BIAS": bias, "RMSE": rmse, "UBRMSE": math.sqrt(rmse ** 2 - bias ** 2),
            "MAE": np.abs(difference).mean(), "R": r, "R2": r * r,
            "NSE": 1 - (difference ** 2).sum() / ((reference - reference.mean()) ** 2).sum(),
            "N": len(estimate)}


def assert_metrics(result, expected, tolerance=1e-9):
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=tolerance), key


REFERENCE_VALUES = [0.10, 0.15, 0.22, 0.30, 0.35, 0.41]


def test_validation_of_an_offset_estimate_on_points(run_algorithm, tmp_path):
    estimate = [value + 0.01 for value in REFERENCE_VALUES] + [None]
    layer = write_points(tmp_path / "pairs.gpkg", {
        "sm_estimate": estimate, "sm_probe": REFERENCE_VALUES + [0.2]})
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "sm_estimate", "REFERENCE_FIELD": "sm_probe",
        "UNIT": "m³/m³", **report_output(tmp_path)})
    # estimate = reference + 0.01: bias and RMSE 0.01, no unbiased error, a perfect correlation.
    assert_metrics(result, {"BIAS": 0.01, "RMSE": 0.01, "MAE": 0.01, "UBRMSE": 0.0, "R": 1.0,
                            "R2": 1.0, "N": 6}, tolerance=1e-7)
    assert result["SKIPPED"] == 1
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Validation of the estimate sm_estimate against the reference sm_probe" in text
    assert "bias (m³/m³)" in text and "bias = mean(estimate − reference)" in text
    assert len(images_in(tmp_path / "report.html")) == 1


def test_validation_with_fewer_than_two_pairs(run_algorithm, tmp_path):
    layer = write_points(tmp_path / "pairs.gpkg", {"estimate": [0.2, None],
                                                   "probe": [0.25, 0.3]})
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "estimate", "REFERENCE_FIELD": "probe",
        **report_output(tmp_path)})
    assert (result["N"], result["SKIPPED"]) == (1, 1)
    assert all(result[key] is None for key in ("R", "R2", "NSE", "RMSE", "UBRMSE", "MAE", "BIAS"))
    assert "<td class=\"number\">—</td>" in (tmp_path / "report.html").read_text(
        encoding="utf-8")


def test_validation_metrics_against_hand_computed_values_with_groups(run_algorithm, tmp_path):
    estimate = [0.12, 0.18, 0.20, 0.33, 0.31, 0.45, 0.25, 0.28]
    reference = [0.10, 0.15, 0.22, 0.30, 0.35, 0.41, 0.27, 0.26]
    stations = ["north", "north", "north", "south", "south", "south", "<east & west>",
                "<east & west>"]
    layer = write_points(tmp_path / "pairs.gpkg", {
        "estimate": estimate, "reference": reference, "station": stations})
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "estimate", "REFERENCE_FIELD": "reference",
        "GROUP_FIELD": "station", **report_output(tmp_path)}, feedback)
    assert feedback.request_sent()["PAIRS"]["groups"] == stations
    assert_metrics(result, expected_metrics(estimate, reference))
    assert result["SKIPPED"] == 0
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Metrics per group" in text
    # A user's text is escaped: the group name appears as text, never as markup.
    assert "&lt;east &amp; west&gt;" in text and "<east" not in text
    north = expected_metrics(estimate[:3], reference[:3])
    row = re.search(r"<tr><th scope=\"row\">north</th>(.*?)</tr>", text).group(1)
    cells = re.findall(r"<td class=\"number\">([^<]*)</td>", row)
    assert cells[3] == f"{north['RMSE']:.4g}" and cells[6] == f"{north['BIAS']:.4g}"
    assert cells[7] == "3"


def test_validation_on_rasters_of_different_grids(run_algorithm, tmp_path):
    # A 60 m reference and a 30 m estimate 0.01 above it: aligned with nearest resampling, every
    # fine pixel meets the coarse value it lies in.
    coarse = np.array([[0.10, 0.20], [0.30, -9999.0]])
    reference = write_raster(tmp_path / "reference.tif", coarse, nodata=-9999.0, pixel_size=60.0)
    fine = np.kron(coarse, np.ones((2, 2))) + 0.01
    estimate = write_raster(tmp_path / "estimate.tif", fine)
    feedback = RecordingFeedback()
    result = run_algorithm("validationmetrics", {
        "ESTIMATE": estimate, "REFERENCE_RASTER": reference, "RESAMPLING": 0,
        **report_output(tmp_path)}, feedback)
    request = feedback.request_sent()
    assert request["REFERENCE"] == "ESTIMATE" and request["RESAMPLING"] == "nearest"
    assert any("REFERENCE_RASTER" in line and "aligned" in line for line in feedback.infos)
    assert_metrics(result, {"BIAS": 0.01, "RMSE": 0.01, "UBRMSE": 0.0, "N": 12}, tolerance=1e-6)
    assert result["SKIPPED"] == 4  # the coarse nodata pixel covers four fine ones
    assert len(images_in(tmp_path / "report.html")) == 1


def test_validation_on_rasters_of_one_grid(run_algorithm, tmp_path):
    reference_values = np.array([[0.10, 0.15, 0.22], [0.30, 0.35, 0.41]])
    estimate_values = np.array([[0.12, 0.18, 0.20], [0.33, 0.31, 0.45]])
    reference = write_raster(tmp_path / "reference.tif", reference_values)
    estimate = write_raster(tmp_path / "estimate.tif", estimate_values)
    result = run_algorithm("validationmetrics", {
        "ESTIMATE": estimate, "REFERENCE_RASTER": reference, **report_output(tmp_path)})
    # Float32 rasters: the expected values are computed from the stored single-precision values.
    assert_metrics(result, expected_metrics(estimate_values.astype(np.float32),
                                            reference_values.astype(np.float32)), tolerance=1e-6)


@pytest.fixture
def estimate_and_probe(tmp_path):
    """Two pairs in the numeric fields "estimate" and "probe"."""
    return write_points(tmp_path / "pairs.gpkg", {"estimate": [0.1, 0.2], "probe": [0.1, 0.3]})


def test_validation_with_a_missing_field(run_without_core, estimate_and_probe, tmp_path):
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": estimate_and_probe, "ESTIMATE_FIELD": "estimate",
        "REFERENCE_FIELD": "reference", **report_output(tmp_path)})
    assert "Invalid value for REFERENCE_FIELD ('reference')" in message
    assert "its fields are" in message and "probe" in message


def test_validation_with_a_text_field(run_without_core, tmp_path):
    layer = write_points(tmp_path / "pairs.gpkg", {"estimate": [0.1, 0.2], "probe": ["a", "b"]})
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": layer, "ESTIMATE_FIELD": "estimate", "REFERENCE_FIELD": "probe",
        **report_output(tmp_path)})
    # A text field is read as numbers (a CSV without field types); these are none.
    assert "Invalid value for REFERENCE_FIELD ('probe')" in message
    assert "none of its 2 values is a number (e.g. 'a', 'b')" in message
    assert "detectTypes=yes" in message


def test_validation_with_both_or_no_pair_sources(run_without_core, estimate_and_probe,
                                                 tmp_path):
    raster = write_raster(tmp_path / "sm.tif", [[0.1, 0.2]])
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": estimate_and_probe, "ESTIMATE_FIELD": "estimate",
        "REFERENCE_FIELD": "probe", "ESTIMATE": raster, "REFERENCE_RASTER": raster,
        **report_output(tmp_path)})
    assert "INPUT_LAYER" in message and "not both" in message
    message = error_of(run_without_core, "validationmetrics", report_output(tmp_path))
    assert "No pairs given" in message
    message = error_of(run_without_core, "validationmetrics", {
        "ESTIMATE": raster, **report_output(tmp_path)})
    assert "REFERENCE_RASTER is empty but ESTIMATE is set" in message


def test_validation_of_a_field_against_itself(run_without_core, estimate_and_probe, tmp_path):
    message = error_of(run_without_core, "validationmetrics", {
        "INPUT_LAYER": estimate_and_probe, "ESTIMATE_FIELD": "probe", "REFERENCE_FIELD": "probe",
        **report_output(tmp_path)})
    assert "Invalid value for REFERENCE_FIELD ('probe')" in message


# --- the report writer ----------------------------------------------------------------------------

def test_report_escapes_text_and_marks_undefined_metrics(qgis_app, tmp_path):
    from smr.algorithms.report import HtmlReport, ScatterPanel

    report = HtmlReport("Stations <script>alert(1)</script>")
    report.metrics_table([("<b>north</b>", {"r": None, "r2": float("nan"), "rmse": 0.0123456,
                                             "n": 1})], "Group", "m³/m³")
    report.scatter_plots([ScatterPanel("All", [0.1, 0.2, None], [0.12, 0.21, 0.3])],
                         "Reference <probe>", "Estimate", "m³/m³")
    path = tmp_path / "report.html"
    report.write(path)
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text and "&lt;b&gt;north" in text
    assert "<td class=\"number\">—</td>" in text and "<td class=\"number\">0.01235</td>" in text
    assert "All: estimate against reference" in text and len(images_in(path)) == 1
    assert not (tmp_path / "report.html.part").exists()



# --- progress -------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["vector", "raster"])
def test_progress_moves_through_reading_training_and_the_report(run_algorithm, sample_points,
                                                               sample_rasters, tmp_path, mode):
    from smr.algorithms.samples import CORE_END, READING_END

    # MAX_FAIL 0: both restarts run all 100 epochs, each a step of the bar.
    network = {**SMALL_NETWORK, "MAX_FAIL": 0, "RESTARTS": 2}
    if mode == "vector":
        parameters = training_parameters(sample_points, tmp_path, **network)
    else:
        vv, ndvi, soil_moisture = sample_rasters
        parameters = {"INPUT_RASTERS": [vv, ndvi], "TARGET_RASTER": soil_moisture,
                      **training_outputs(tmp_path), **network}
    feedback = RecordingFeedback()
    result = run_algorithm("trainmlp", parameters, feedback)
    assert result["EPOCHS_RUN"] == 100

    progress = feedback.progress
    assert progress == sorted(progress), "the bar went back"
    assert progress[-1] == 100.0
    # Before, the core's 0–100 % of training started over after a reading loop (or a raster
    # scan) that had filled the bar: it sat at 100 % while the network trained.
    training = {value for value in progress if READING_END < value < CORE_END}
    assert len(training) >= 50, sorted(training)
    if mode == "vector":
        assert READING_END in progress  # the features are read before the core starts
    else:
        # The core's raster scan is the first tenth of its span, training the rest.
        scan_end = READING_END + 0.1 * (CORE_END - READING_END)
        assert any(READING_END < value <= scan_end for value in progress)
        assert len({value for value in progress if scan_end < value < CORE_END}) >= 50
