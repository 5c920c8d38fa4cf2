"""The time-series algorithms on tiny stacks: smr:backscattertimeindex against hand-computed values,
smr:pixelwisereconstruction on cells whose target is a known function of the predictors,
smr:sensitivityanalysis on pooled samples and on stacks (its CSV and its report), the inputs users
get wrong, and cancel."""

import csv
import datetime
import re

import numpy as np
import pytest
from qgis.core import QgsProcessingParameterDefinition

from raster_helpers import (
    CANCELLABLE_SIZE,
    INPUT_NODATA,
    OUTPUT_NODATA,
    RecordingFeedback,
    algorithm,
    error_of,
    read_stack,
    run_cancelled_at_first_progress,
    write_points,
    write_stack,
)

DAYS = 60
FIRST_DAY = datetime.date(2015, 4, 1)
DATES = [(FIRST_DAY + datetime.timedelta(days=day)).isoformat() for day in range(DAYS)]
# Small and quick networks: the targets below are smooth functions of two inputs. One thread:
# OpenMP threads only slow networks this small down.
SMALL_NETWORKS = {"HIDDEN": "4", "EPOCHS": 100, "THREADS": 1}


def smooth_target(a, b):
    """The exact function the networks have to learn."""
    return 0.2 + 0.1 * np.tanh(a) - 0.05 * b


# --- the algorithms as QGIS shows them ------------------------------------------------------------

def test_groups_help_and_parameters(qgis_app):
    bti = algorithm("smr:backscattertimeindex")
    assert bti.group() == "Radar" and not bti.icon().isNull()
    help_text = bti.shortHelpString()
    for expected in ("Lv et al.", "BTI_t = (σ⁰_t − min_t σ⁰)/(max_t σ⁰ − min_t σ⁰)",
                     "FLAT_PIXELS", "SPARSE_PIXELS", "EMPTY_PIXELS", "−9999", "gap"):
        assert expected in help_text, expected
    assert bti.parameterDefinition("INPUT").type() == "raster"
    assert bti.parameterDefinition("INPUT_BAND") is None  # every band of a stack is read
    assert [option.split()[0] for option in bti.parameterDefinition("INPUT_UNITS").options()] \
        == ["dB", "linear"]
    assert bti.parameterDefinition("MIN_OBSERVATIONS").defaultValue() == 2

    for algorithm_id in ("smr:pixelwisereconstruction", "smr:sensitivityanalysis"):
        created = algorithm(algorithm_id)
        assert created.group() == "Machine learning"
        help_text = created.shortHelpString()
        assert "Wang and Xu" in help_text
        assert "estimate − " in help_text and "opposite sign" in help_text
        assert created.parameterDefinition("THREADS").flags() \
            & QgsProcessingParameterDefinition.FlagAdvanced

    reconstruction = algorithm("smr:pixelwisereconstruction")
    defaults = {key: reconstruction.parameterDefinition(key).defaultValue() for key in (
        "MIN_PAIRS", "HIDDEN", "TRAIN_RATIO", "VALIDATION_RATIO", "TEST_RATIO", "RESTARTS",
        "NORMALISATION", "DIVISION", "SEED", "PRECIPITATION_THRESHOLD")}
    assert defaults == {"MIN_PAIRS": 50, "HIDDEN": "12", "TRAIN_RATIO": 0.8,
                        "VALIDATION_RATIO": 0.1, "TEST_RATIO": 0.1, "RESTARTS": 1,
                        "NORMALISATION": 1, "DIVISION": 0, "SEED": 1,
                        "PRECIPITATION_THRESHOLD": None}
    # The same option orders as smr:trainmlp, group division aside (one cell has no groups).
    assert reconstruction.parameterDefinition("NORMALISATION").options() == [
        "mapminmax to [−1, 1]", "mapminmax to [0, 1]"]
    assert reconstruction.parameterDefinition("DIVISION").options() == [
        "random", "block", "interleaved"]
    for key in ("METRICS", "COUNTS"):
        assert not reconstruction.parameterDefinition(key).createByDefault()
    outputs = {output.name() for output in reconstruction.outputDefinitions()}
    for subset in ("TRAIN", "VALIDATION", "TEST", "ALL"):
        for metric in ("R", "RMSE", "UBRMSE", "BIAS"):
            assert f"MEAN_{subset}_{metric}" in outputs
    assert {"CELLS", "TRAINED_CELLS", "SKIPPED_CELLS", "FAILED_CELLS",
            "EXCLUDED_BY_PRECIPITATION", "EXTRAPOLATED_STEPS", "TRAINING_BANDS",
            "PREDICTION_BANDS"} <= outputs

    sensitivity = algorithm("smr:sensitivityanalysis")
    assert [option.split()[0] for option in sensitivity.parameterDefinition("AXIS").options()] \
        == ["hidden", "training", "inputs", "precipitation"]
    assert sensitivity.parameterDefinition("REPEATS").defaultValue() == 3
    assert sensitivity.parameterDefinition("CELLS").defaultValue() == 100
    outputs = {output.name(): output.type() for output in sensitivity.outputDefinitions()}
    assert outputs["OUTPUT_HTML"] == "outputHtml" and outputs["OUTPUT_CSV"] == "outputFile"
    assert outputs["BEST_SETTING"] == "outputString" and outputs["BEST_INDEX"] == "outputNumber"


# --- smr:backscattertimeindex ---------------------------------------------------------------------

# 2×3 pixels, 4 dates, σ⁰ in dB (None: nodata):
#   (0,0): -10 -12  -8 -14  → min -14, max -8: 4/6, 2/6, 1, 0
#   (0,1): -10  nd  -5 -15  → 0.5, nd, 1, 0 (the gap stays a gap)
#   (0,2):  nd  nd  nd  nd  → empty
#   (1,0):  -7  nd  nd  nd  → sparse
#   (1,1):  -9  -9  -9  -9  → flat
#   (1,2):   0  10  20  30  → 0, 1/3, 2/3, 1 (linear scale: (x − 1)/999 of 1, 10, 100, 1000)
BTI_DATES = DATES[:4]
BTI_STACK = [
    [[-10, -10, None], [-7, -9, 0]],
    [[-12, None, None], [None, -9, 10]],
    [[-8, -5, None], [None, -9, 20]],
    [[-14, -15, None], [None, -9, 30]],
]
ND = OUTPUT_NODATA
BTI_EXPECTED = [
    [[4 / 6, 0.5, ND], [ND, ND, 0.0]],
    [[2 / 6, ND, ND], [ND, ND, 1 / 3]],
    [[1.0, 1.0, ND], [ND, ND, 2 / 3]],
    [[0.0, 0.0, ND], [ND, ND, 1.0]],
]


def write_bti_stack(tmp_path, bands=BTI_STACK, name="sigma0.tif"):
    arrays = [[[INPUT_NODATA if value is None else value for value in row] for row in band]
              for band in bands]
    return write_stack(tmp_path / name, arrays, nodata=INPUT_NODATA, descriptions=BTI_DATES[
        :len(arrays)])


def test_bti_against_hand_computed_values(run_algorithm, tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("backscattertimeindex", {
        "INPUT": write_bti_stack(tmp_path), "OUTPUT": str(tmp_path / "bti.tif")}, feedback)
    values, nodata, descriptions = read_stack(tmp_path / "bti.tif")
    assert nodata == OUTPUT_NODATA
    assert descriptions == BTI_DATES
    np.testing.assert_allclose(values, BTI_EXPECTED, atol=1e-6)
    assert (result["SERIES_PIXELS"], result["EMPTY_PIXELS"], result["SPARSE_PIXELS"],
            result["FLAT_PIXELS"]) == (3, 1, 1, 1)
    assert result["OUTPUT"] == str(tmp_path / "bti.tif")
    assert feedback.request_sent()["INPUT"] == {"path": str(tmp_path / "sigma0.tif"),
                                                "nodata": None}
    assert "same σ⁰ at every date" in feedback.log_text()


def test_bti_in_linear_scale_and_from_linear_input(run_algorithm, tmp_path):
    run_algorithm("backscattertimeindex", {
        "INPUT": write_bti_stack(tmp_path), "SCALE": 1, "OUTPUT": str(tmp_path / "bti.tif")})
    values = read_stack(tmp_path / "bti.tif")[0]
    np.testing.assert_allclose(values[:, 1, 2], [0.0, 9 / 999, 99 / 999, 1.0], atol=1e-6)

    # Linear σ⁰ 0.1, 1, 10, 0 → -10, 0, 10 dB and a gap (0 has no dB value).
    linear = write_stack(tmp_path / "linear.tif", [[[0.1, 0.5]], [[1.0, 0.5]], [[10.0, 0.5]],
                                                   [[0.0, 0.5]]], descriptions=BTI_DATES)
    result = run_algorithm("backscattertimeindex", {
        "INPUT": linear, "INPUT_UNITS": 1, "OUTPUT": str(tmp_path / "from_linear.tif")})
    values = read_stack(tmp_path / "from_linear.tif")[0]
    np.testing.assert_allclose(values[:, 0, 0], [0.0, 0.5, 1.0, OUTPUT_NODATA], atol=1e-6)
    assert result["FLAT_PIXELS"] == 1


def test_bti_nodata_override_and_min_observations(run_algorithm, tmp_path):
    stack = write_bti_stack(tmp_path)
    # -8 dB as nodata: pixel (0,0) becomes -10, -12, gap, -14 → 1, 0.5, nd, 0.
    run_algorithm("backscattertimeindex", {
        "INPUT": stack, "INPUT_NODATA": -8, "OUTPUT": str(tmp_path / "bti.tif")})
    values = read_stack(tmp_path / "bti.tif")[0]
    np.testing.assert_allclose(values[:, 0, 0], [1.0, 0.5, OUTPUT_NODATA, 0.0], atol=1e-6)
    # Pixel (0,1) has 3 valid dates: too few for 4.
    result = run_algorithm("backscattertimeindex", {
        "INPUT": stack, "MIN_OBSERVATIONS": 4, "OUTPUT": str(tmp_path / "bti4.tif")})
    assert (result["SERIES_PIXELS"], result["SPARSE_PIXELS"]) == (2, 2)
    assert (read_stack(tmp_path / "bti4.tif")[0][:, 0, 1] == OUTPUT_NODATA).all()


def test_bti_bad_inputs(run_algorithm, tmp_path):
    stack = write_bti_stack(tmp_path)
    message = error_of(run_algorithm, "backscattertimeindex", {
        "INPUT": stack, "MIN_OBSERVATIONS": 5, "OUTPUT": str(tmp_path / "bti.tif")})
    assert "MIN_OBSERVATIONS is 5: valid values are 2 to 4" in message
    single = write_bti_stack(tmp_path, BTI_STACK[:1], name="single.tif")
    message = error_of(run_algorithm, "backscattertimeindex", {
        "INPUT": single, "OUTPUT": str(tmp_path / "bti.tif")})
    assert "INPUT" in message and "at least 2 bands" in message
    message = error_of(run_algorithm, "backscattertimeindex", {
        "INPUT": str(tmp_path / "missing.tif"), "OUTPUT": str(tmp_path / "bti.tif")})
    # QGIS refuses a layer it cannot load before the algorithm runs; the plugin's own message
    # covers layers that reach it anyway. Either way the message names the parameter.
    assert "INPUT" in message and any(reason in message for reason in (
        "does not exist", "Could not load source layer for"))
    assert not (tmp_path / "bti.tif").exists()


def test_bti_cancel_leaves_no_output(run_algorithm, tmp_path):
    shape = (CANCELLABLE_SIZE, CANCELLABLE_SIZE)
    generator = np.random.default_rng(3)
    stack = write_stack(tmp_path / "large.tif", [generator.uniform(-20, -5, shape)
                                                 for _ in range(2)])
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "backscattertimeindex", {
        "INPUT": stack, "OUTPUT": str(output_directory / "bti.tif")})
    assert list(output_directory.iterdir()) == []


# --- stacks for the networks ----------------------------------------------------------------------

class CellStacks:
    """Predictor stacks a and b, the target smooth_target(a, b) and a precipitation stack, DAYS
    dates on `rows` × `columns` cells; written under `folder`."""

    def __init__(self, folder, rows=2, columns=2, seed=11, target_gaps=None, rainy_days=()):
        generator = np.random.default_rng(seed)
        shape = (DAYS, rows, columns)
        self.a = generator.uniform(-2.0, 2.0, shape)
        self.b = generator.uniform(0.0, 1.0, shape)
        self.truth = smooth_target(self.a, self.b)
        target = self.truth.copy()
        for (row, column), days in (target_gaps or {}).items():
            target[list(days), row, column] = INPUT_NODATA
        rain = np.zeros(shape)
        rain[list(rainy_days)] = 20.0
        self.folder = folder
        self.predictors = [write_stack(folder / "a.tif", self.a, descriptions=DATES),
                           write_stack(folder / "b.tif", self.b, descriptions=DATES)]
        self.target = write_stack(folder / "sm.tif", target, nodata=INPUT_NODATA,
                                  descriptions=DATES)
        self.precipitation = write_stack(folder / "rain.tif", rain, descriptions=DATES)

    def reconstruction(self, **overrides):
        parameters = {"PREDICTORS": self.predictors, "TARGET": self.target,
                      "OUTPUT": str(self.folder / "reconstructed.tif"), **SMALL_NETWORKS}
        parameters.update(overrides)
        return parameters


def test_reconstruction_learns_the_target(run_algorithm, tmp_path):
    # Cell (1,1) misses its target on 20 days: 40 pairs, fewer than MIN_PAIRS = 50.
    stacks = CellStacks(tmp_path, target_gaps={(1, 1): range(0, 40, 2)})
    feedback = RecordingFeedback()
    result = run_algorithm("pixelwisereconstruction", stacks.reconstruction(
        METRICS=str(tmp_path / "metrics.tif"), COUNTS=str(tmp_path / "counts.tif")), feedback)

    request = feedback.request_sent()
    assert request["PREDICTORS"] == [{"path": path, "nodata": None}
                                     for path in stacks.predictors]
    assert request["PREDICTOR_NAMES"] == ["a", "b"]
    assert request["NORMALISATION"] == "zero_one" and request["HIDDEN"] == "4"
    assert "PRECIPITATION_THRESHOLD" not in request

    assert (result["CELLS"], result["TRAINED_CELLS"], result["SKIPPED_CELLS"],
            result["FAILED_CELLS"], result["EXCLUDED_BY_PRECIPITATION"]) == (4, 3, 1, 0, 0)
    assert (result["TRAINING_BANDS"], result["PREDICTION_BANDS"]) == ("1:60", "1:60")
    # Every step of a trained cell was a training pair: no input outside what its network saw.
    assert result["EXTRAPOLATED_STEPS"] == 0
    # The target spans about 0.25: networks that learnt the function are far below that.
    assert result["MEAN_ALL_RMSE"] < 0.01 and result["MEAN_TEST_R"] > 0.95
    assert abs(result["MEAN_ALL_BIAS"]) < 0.01

    values, nodata, descriptions = read_stack(tmp_path / "reconstructed.tif")
    assert nodata == OUTPUT_NODATA and descriptions == DATES
    assert (values[:, 1, 1] == OUTPUT_NODATA).all()  # the skipped cell
    trained = values[:, :, :].copy()
    errors = np.abs(trained - stacks.truth)
    errors[:, 1, 1] = 0.0
    # Every date is reconstructed, also where the target was missing.
    assert errors.max() < 0.05 and np.sqrt((errors ** 2).mean()) < 0.01

    metrics, _, metric_names = read_stack(tmp_path / "metrics.tif")
    assert metrics.shape == (16, 2, 2) and (metrics[:, 1, 1] == OUTPUT_NODATA).all()
    assert metric_names[1].startswith("RMSE") and metrics[13, 0, 0] < 0.01  # RMSE, overall
    counts = read_stack(tmp_path / "counts.tif")[0]
    assert counts.shape == (5, 2, 2)
    assert counts[0, 0, 0] == DAYS and counts[0, 1, 1] == DAYS - 20
    assert counts[2:, 0, 0].sum() == DAYS


def test_reconstruction_periods_and_precipitation(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path, rainy_days=range(0, 60, 12))  # 5 rainy days
    result = run_algorithm("pixelwisereconstruction", stacks.reconstruction(
        PRECIPITATION=stacks.precipitation, PRECIPITATION_THRESHOLD=8.75, MIN_PAIRS=30,
        TRAINING_PERIOD="1:50", PREDICTION_PERIOD=f"{DATES[50]}:{DATES[59]}",
        COUNTS=str(tmp_path / "counts.tif"), MASK_EXTRAPOLATED=False))
    assert (result["TRAINING_BANDS"], result["PREDICTION_BANDS"]) == ("1:50", "51:60")
    # Rain on days 1, 13, 25, 37 and 49 of the training period, in every cell.
    assert result["EXCLUDED_BY_PRECIPITATION"] == 5 * 4
    assert result["TRAINED_CELLS"] == 4
    values, _, descriptions = read_stack(tmp_path / "reconstructed.tif")
    assert descriptions == DATES[50:]
    # Days the networks never saw.
    assert np.sqrt(((values - stacks.truth[50:]) ** 2).mean()) < 0.02
    counts = read_stack(tmp_path / "counts.tif")[0]
    assert (counts[0] == 50).all() and (counts[1] == 5).all() and (counts[2:].sum(0) == 45).all()


def test_reconstruction_limits_defaults(qgis_app):
    reconstruction = algorithm("smr:pixelwisereconstruction")
    # For a soil-moisture target (core/README.md says why): no extrapolated step, nothing below 0.
    assert reconstruction.parameterDefinition("MASK_EXTRAPOLATED").defaultValue() is True
    assert reconstruction.parameterDefinition("CLAMP_MIN").defaultValue() == 0.0
    assert reconstruction.parameterDefinition("CLAMP_MAX").defaultValue() is None
    for key in ("CLAMP_MIN", "CLAMP_MAX"):
        assert reconstruction.parameterDefinition(key).flags() \
            & QgsProcessingParameterDefinition.FlagOptional
    outputs = {output.name() for output in reconstruction.outputDefinitions()}
    assert {"MASKED_STEPS", "CLAMPED_STEPS"} <= outputs
    help_text = reconstruction.shortHelpString()
    for expected in ("MASKED_STEPS", "CLAMPED_STEPS", "porosity", "frozen"):
        assert expected in help_text, expected


def outside_training_range(stacks, training_days):
    """Per step after the training days and cell: whether a or b (as Float32, as the core reads
    them) lies outside that cell's range over the training days."""
    a, b = stacks.a.astype(np.float32), stacks.b.astype(np.float32)
    outside = np.zeros(a[training_days:].shape, dtype=bool)
    for values in (a, b):
        seen = values[:training_days]
        later = values[training_days:]
        outside |= (later < seen.min(axis=0)) | (later > seen.max(axis=0))
    return outside


def test_reconstruction_masks_and_clamps(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path)
    period = {"TRAINING_PERIOD": "1:40", "PREDICTION_PERIOD": "41:60", "MIN_PAIRS": 30}
    outside = outside_training_range(stacks, 40)
    assert outside.sum() > 0

    # The defaults, left out as a script or qgis_process would: masked, nothing below 0.
    feedback = RecordingFeedback()
    result = run_algorithm("pixelwisereconstruction", stacks.reconstruction(**period), feedback)
    request = feedback.request_sent()
    assert request["MASK_EXTRAPOLATED"] is True and request["CLAMP_MIN"] == 0.0
    assert "CLAMP_MAX" not in request
    values = read_stack(tmp_path / "reconstructed.tif")[0]
    assert ((values == OUTPUT_NODATA) == outside).all()
    assert result["MASKED_STEPS"] == result["EXTRAPOLATED_STEPS"] == outside.sum()
    assert result["CLAMPED_STEPS"] == 0  # the target, 0.05 to 0.35, is far from 0
    masked = values

    # Bounds inside the target's range: every kept step within them, those at a bound counted.
    feedback = RecordingFeedback()
    result = run_algorithm("pixelwisereconstruction", stacks.reconstruction(
        CLAMP_MIN=0.15, CLAMP_MAX=0.25, MASK_EXTRAPOLATED=False, **period), feedback)
    request = feedback.request_sent()
    assert (request["CLAMP_MIN"], request["CLAMP_MAX"], request["MASK_EXTRAPOLATED"]) == (
        0.15, 0.25, False)
    values = read_stack(tmp_path / "reconstructed.tif")[0]
    assert (values != OUTPUT_NODATA).all()
    low, high = np.float32(0.15), np.float32(0.25)  # the Float32 output holds the bounds rounded
    assert low <= values.min() and values.max() <= high
    at_a_bound = int(((values == low) | (values == high)).sum())
    assert result["CLAMPED_STEPS"] == at_a_bound > 0
    assert result["MASKED_STEPS"] == 0 and result["EXTRAPOLATED_STEPS"] == outside.sum()
    # The same networks: a step neither clamped nor masked holds what the masked run wrote.
    neither = ~outside & (values > low) & (values < high)
    assert neither.sum() > 0 and (values[neither] == masked[neither]).all()

    # A bound cleared in the dialog (None) is no bound.
    feedback = RecordingFeedback()
    run_algorithm("pixelwisereconstruction", stacks.reconstruction(CLAMP_MIN=None, **period),
                  feedback)
    assert "CLAMP_MIN" not in feedback.request_sent()


@pytest.mark.parametrize("bounds, expected", [
    ({"CLAMP_MIN": 0.5, "CLAMP_MAX": 0.1}, ("CLAMP_MIN 0.5 is greater than CLAMP_MAX 0.1",)),
    ({"CLAMP_MAX": float("inf")}, ("Incorrect parameter value for CLAMP_MAX",)),  # QGIS's check
    ({"CLAMP_MIN": -1e39}, ("CLAMP_MIN is -1e+39", "Float32")),
])
def test_reconstruction_bad_bounds(run_algorithm, tmp_path, bounds, expected):
    stacks = CellStacks(tmp_path)
    message = error_of(run_algorithm, "pixelwisereconstruction",
                       stacks.reconstruction(**bounds))
    for phrase in expected:
        assert phrase in message, message
    assert not (tmp_path / "reconstructed.tif").exists()


def test_reconstruction_threshold_without_precipitation(run_without_core, tmp_path):
    stacks = CellStacks(tmp_path)
    message = error_of(run_without_core, "pixelwisereconstruction", stacks.reconstruction(
        PRECIPITATION_THRESHOLD=8.75))
    assert "Invalid value for PRECIPITATION_THRESHOLD (8.75 mm)" in message
    assert "PRECIPITATION" in message
    message = error_of(run_without_core, "pixelwisereconstruction", stacks.reconstruction(
        PRECIPITATION=stacks.precipitation))
    assert "PRECIPITATION is set but PRECIPITATION_THRESHOLD is empty" in message


def test_reconstruction_names_and_missing_stacks(run_without_core, tmp_path):
    stacks = CellStacks(tmp_path)
    message = error_of(run_without_core, "pixelwisereconstruction", stacks.reconstruction(
        PREDICTOR_NAMES="amsr2"))
    assert "Invalid value for PREDICTOR_NAMES ('amsr2'): 1 names for 2 stacks" in message
    message = error_of(run_without_core, "pixelwisereconstruction", stacks.reconstruction(
        TARGET=None))
    assert "TARGET" in message


def test_reconstruction_stacks_of_different_lengths(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path)
    short = write_stack(tmp_path / "short.tif", stacks.b[:59], descriptions=DATES[:59])
    message = error_of(run_algorithm, "pixelwisereconstruction", stacks.reconstruction(
        PREDICTORS=[stacks.predictors[0], short]))
    # The core's message, naming both stacks.
    assert "PREDICTORS_1" in message and "TARGET" in message
    assert "59" in message and "60" in message


@pytest.mark.parametrize("key, value, expected", [
    ("TRAINING_PERIOD", "1:900", "the stacks have 60 bands"),
    ("PREDICTION_PERIOD", "2014-01-01:2014-02-01", "PREDICTION_PERIOD"),
    ("TRAINING_PERIOD", "spring", "TRAINING_PERIOD"),
])
def test_reconstruction_periods_out_of_range(run_algorithm, tmp_path, key, value, expected):
    stacks = CellStacks(tmp_path)
    message = error_of(run_algorithm, "pixelwisereconstruction", stacks.reconstruction(
        **{key: value}))
    assert key in message and value in message and expected in message
    assert not (tmp_path / "reconstructed.tif").exists()


def test_reconstruction_cancel_leaves_no_output(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path, rows=12, columns=12)
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "pixelwisereconstruction", stacks.reconstruction(
        OUTPUT=str(output_directory / "reconstructed.tif"), EPOCHS=1000))
    assert list(output_directory.iterdir()) == []


# --- smr:sensitivityanalysis ----------------------------------------------------------------------

# The CSV's subset column (SETTINGS names them train, validation, test, all).
CSV_SUBSETS = ("training", "validation", "test", "overall")


@pytest.fixture
def pooled_samples(tmp_path):
    """200 points: a, b, the target t = smooth_target(a, b) and precipitation p (mm)."""
    generator = np.random.default_rng(5)
    a = generator.uniform(-2.0, 2.0, 200)
    b = generator.uniform(0.0, 1.0, 200)
    return write_points(tmp_path / "samples.gpkg", {
        "a": [float(value) for value in a], "b": [float(value) for value in b],
        "t": [float(value) for value in smooth_target(a, b)],
        "p": [float(value) for value in generator.uniform(0.0, 20.0, 200)]})


def sensitivity_outputs(tmp_path):
    return {"OUTPUT_CSV": str(tmp_path / "runs.csv"), "OUTPUT_HTML": str(tmp_path / "report.html")}


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def check_report(path, labels, best):
    text = path.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"', text)
    assert len(images) == 1  # the four panels of paper 001 Fig. 3, in one figure
    for expected in ("Wang and Xu 2021, Fig. 3", "Mean R (left axis)", "shaded purple box",
                     "Training r", "Overall RMSE (m³/m³)", "bias = mean(estimate − reference)",
                     '<tr class="best"><th scope="row">' + best + "</th>"):
        assert expected in text, expected
    for label in labels:
        assert f'<th scope="row">{label}</th>' in text, label


def test_sensitivity_of_hidden_neurons_on_pooled_samples(run_algorithm, pooled_samples,
                                                         tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("sensitivityanalysis", {
        "AXIS": 0, "VALUES": "2, 4", "REPEATS": 2, "INPUT_LAYER": pooled_samples,
        "FEATURE_FIELDS": ["a", "b"], "TARGET_FIELD": "t", "PRECIPITATION_FIELD": "p",
        "PRECIPITATION_THRESHOLD": 15.0, **SMALL_NETWORKS, **sensitivity_outputs(tmp_path)},
        feedback)
    request = feedback.request_sent()
    assert request["VALUES"] == "2, 4" and request["AXIS"] == "hidden"
    assert sorted(request["SAMPLES"]) == ["features", "names", "precipitation", "target"]
    assert len(request["SAMPLES"]["precipitation"]) == 200
    assert "CELLS" not in request and "RESAMPLING" not in request

    rows = csv_rows(tmp_path / "runs.csv")
    assert len(rows) == 2 * 2 * len(CSV_SUBSETS)  # settings × repeats × subsets
    assert list(rows[0]) == ["axis", "setting", "repeat", "subset", "cells", "mean_r",
                             "mean_rmse", "mean_ubrmse", "mean_bias"]
    assert {row["subset"] for row in rows} == set(CSV_SUBSETS)
    assert {row["cells"] for row in rows} == {"1"}
    assert result["BEST_SETTING"] in ("2", "4") and result["BEST_INDEX"] in (0, 1)
    assert result["OUTPUT_CSV"] == str(tmp_path / "runs.csv")
    check_report(tmp_path / "report.html", ["2", "4"], result["BEST_SETTING"])
    # The swept setting is the rows of the table, not one of the fixed settings.
    fixed = (tmp_path / "report.html").read_text(encoding="utf-8").split("Fixed settings")[1]
    assert "(EPOCHS)" in fixed and "(HIDDEN)" not in fixed


def test_sensitivity_default_hidden_values_on_stacks(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path)
    result = run_algorithm("sensitivityanalysis", {
        "AXIS": 0, "REPEATS": 1, "PREDICTORS": stacks.predictors, "TARGET": stacks.target,
        "CELLS": 0, "EPOCHS": 30, "THREADS": 1, **sensitivity_outputs(tmp_path)})
    rows = csv_rows(tmp_path / "runs.csv")
    labels = [str(neurons) for neurons in range(2, 13)]  # paper 001's 2 to 12
    assert len(rows) == len(labels) * 1 * len(CSV_SUBSETS)
    assert {row["cells"] for row in rows} == {"4"}  # every cell has 60 pairs
    assert result["CELLS_USED"] == 4 and result["BEST_SETTING"] in labels
    check_report(tmp_path / "report.html", labels, result["BEST_SETTING"])


@pytest.mark.parametrize("axis, values, labels", [
    (1, "60-20-20, 80-10-10", ["60-20-20", "80-10-10"]),
    (3, "5, 15", ["5", "15"]),
    (2, "", ["base", "base+b", "base+c"]),
])
def test_sensitivity_of_the_other_axes_on_pooled_samples(run_algorithm, tmp_path, axis, values,
                                                         labels):
    generator = np.random.default_rng(9)
    a = generator.uniform(-2.0, 2.0, 200)
    b = generator.uniform(0.0, 1.0, 200)
    layer = write_points(tmp_path / "samples.gpkg", {
        "a": [float(value) for value in a], "b": [float(value) for value in b],
        "c": [float(value) for value in generator.uniform(0.0, 1.0, 200)],  # noise
        "t": [float(value) for value in smooth_target(a, b)],
        "p": [float(value) for value in generator.uniform(0.0, 20.0, 200)]})
    result = run_algorithm("sensitivityanalysis", {
        "AXIS": axis, "VALUES": values, "REPEATS": 1, "INPUT_LAYER": layer,
        "FEATURE_FIELDS": ["a", "b", "c"], "TARGET_FIELD": "t", "PRECIPITATION_FIELD": "p",
        "BASE_INPUTS": "a", **SMALL_NETWORKS, **sensitivity_outputs(tmp_path)})
    rows = csv_rows(tmp_path / "runs.csv")
    if axis == 2:
        # Forward addition from a: a round of two candidates, then the one left.
        assert result["SELECTED_INPUTS"] in ("b, c", "c, b")
        labels = labels + ["base+" + result["SELECTED_INPUTS"].replace(", ", "+")]
    assert [row["setting"] for row in rows[::len(CSV_SUBSETS)]] == labels
    assert result["BEST_SETTING"] in labels
    check_report(tmp_path / "report.html", labels, result["BEST_SETTING"])


def test_sensitivity_needs_exactly_one_source_of_samples(run_without_core, pooled_samples,
                                                         tmp_path):
    stacks = CellStacks(tmp_path)
    message = error_of(run_without_core, "sensitivityanalysis", {
        "INPUT_LAYER": pooled_samples, "FEATURE_FIELDS": ["a"], "TARGET_FIELD": "t",
        "PREDICTORS": stacks.predictors, "TARGET": stacks.target,
        **sensitivity_outputs(tmp_path)})
    assert "INPUT_LAYER" in message and "PREDICTORS" in message and "not both" in message
    message = error_of(run_without_core, "sensitivityanalysis", sensitivity_outputs(tmp_path))
    assert "No samples given" in message


def test_sensitivity_bad_inputs(run_without_core, pooled_samples, tmp_path):
    samples = {"INPUT_LAYER": pooled_samples, "FEATURE_FIELDS": ["a", "b"], "TARGET_FIELD": "t",
               **sensitivity_outputs(tmp_path)}
    message = error_of(run_without_core, "sensitivityanalysis", {
        **samples, "PRECIPITATION_THRESHOLD": 8.75})
    assert "Invalid value for PRECIPITATION_THRESHOLD (8.75 mm)" in message \
        and "PRECIPITATION_FIELD" in message
    message = error_of(run_without_core, "sensitivityanalysis", {**samples, "AXIS": 3})
    assert "Invalid value for AXIS (precipitation)" in message \
        and "PRECIPITATION_FIELD" in message
    message = error_of(run_without_core, "sensitivityanalysis", {
        **samples, "AXIS": 3, "PRECIPITATION_FIELD": "p", "PRECIPITATION_THRESHOLD": 8.75})
    assert "PRECIPITATION_THRESHOLD is what AXIS precipitation varies" in message \
        and "VALUES" in message


@pytest.mark.parametrize("axis, values, expected", [
    (0, "2, x", "VALUES entry 'x'"),
    (0, "2, 0", "VALUES entry '0': hidden neurons must be whole numbers from 1 to 1000"),
    (1, "80-10", "VALUES entry '80-10'"),
    (3, "8.75, -1", "VALUES entry '-1'"),
])
def test_sensitivity_values_the_core_rejects(run_algorithm, pooled_samples, tmp_path, axis,
                                             values, expected):
    message = error_of(run_algorithm, "sensitivityanalysis", {
        "INPUT_LAYER": pooled_samples, "FEATURE_FIELDS": ["a", "b"], "TARGET_FIELD": "t",
        "PRECIPITATION_FIELD": "p", "AXIS": axis, "VALUES": values,
        **sensitivity_outputs(tmp_path)})
    assert expected in message
    assert not (tmp_path / "runs.csv").exists()


def test_sensitivity_cancel_writes_no_csv(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path, rows=12, columns=12)
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "sensitivityanalysis", {
        "PREDICTORS": stacks.predictors, "TARGET": stacks.target, "CELLS": 0, "EPOCHS": 1000,
        "OUTPUT_CSV": str(output_directory / "runs.csv"),
        "OUTPUT_HTML": str(output_directory / "report.html")})
    assert list(output_directory.iterdir()) == []


def test_sensitivity_stacks_of_different_lengths(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path)
    short = write_stack(tmp_path / "short.tif", stacks.b[:59], descriptions=DATES[:59])
    message = error_of(run_algorithm, "sensitivityanalysis", {
        "PREDICTORS": [stacks.predictors[0], short], "TARGET": stacks.target,
        **sensitivity_outputs(tmp_path)})
    assert "PREDICTORS_1" in message and "TARGET" in message
    assert not (tmp_path / "runs.csv").exists() and not (tmp_path / "report.html").exists()
