"""smr:temporalmetrics and smr:triplecollocation: metrics and error variances against hand-computed
values on tiny stacks and a simulated table, their reports and tables, the inputs users get wrong,
and cancel."""

import csv
import math
import re

import numpy as np
import pytest
from qgis.core import NULL, QgsVectorLayer

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

ND = OUTPUT_NODATA
DATES = [f"2020-06-{day:02d}" for day in range(1, 6)]
TEMPORAL_BANDS = ["r", "p_value", "rmse", "ubrmse", "bias", "mae", "n"]


def images_in(path):
    return re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"',
                      path.read_text(encoding="utf-8"))


def table_layer(path, header, rows):
    """A CSV written and loaded as a geometryless delimited-text table (numbers detected; an
    empty cell is NULL)."""
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    layer = QgsVectorLayer(f"file://{path}?delimiter=,&detectTypes=yes&geomType=none",
                           path.stem, "delimitedtext")
    assert layer.isValid(), path
    return layer


@pytest.fixture(scope="module")
def large_stack(tmp_path_factory):
    """3 bands of CANCELLABLE_SIZE² pixels: enough work left after the first progress report."""
    shape = (CANCELLABLE_SIZE, CANCELLABLE_SIZE)
    generator = np.random.default_rng(4)
    return write_stack(tmp_path_factory.mktemp("large") / "large.tif",
                       [generator.uniform(0.0, 0.5, shape) for _ in range(3)])


def test_groups_help_and_parameters(qgis_app):
    for algorithm_id in ("smr:temporalmetrics", "smr:triplecollocation"):
        created = algorithm(algorithm_id)
        assert (created.groupId(), created.group()) == ("validation", "Validation")
        assert not created.icon().isNull()
        help_text = created.shortHelpString()
        assert "Lv et al." in help_text and "−9999" in help_text
    temporal = algorithm("smr:temporalmetrics")
    help_text = temporal.shortHelpString()
    for expected in ("t = r·√((n − 2)/(1 − r²))", "bias = mean(d)", "opposite sign",
                     "MEAN_SPATIAL_R", "r, p_value, rmse, ubrmse, bias, mae, n"):
        assert expected in help_text, expected
    assert temporal.parameterDefinition("MIN_OBSERVATIONS").defaultValue() == 10
    assert temporal.parameterDefinition("SIGNIFICANCE").defaultValue() == 0.05
    assert not temporal.parameterDefinition("SPATIAL_OUTPUT").createByDefault()
    outputs = {output.name(): output.type() for output in temporal.outputDefinitions()}
    for key in ("MEAN_SPATIAL_R", "SIGNIFICANT_STEPS", "COMPARED_PIXELS", "MEAN_TEMPORAL_R",
                "MEAN_BIAS", "NON_FINITE_VALUES"):
        assert outputs[key] == "outputNumber", key
    assert outputs["OUTPUT_REPORT"] == "outputHtml"

    collocation = algorithm("smr:triplecollocation")
    help_text = collocation.shortHelpString()
    for expected in ("σ²_εX = σ²_X − σ_XY·σ_XZ/σ_YZ", "McColl", "Lv et al. Fig. 8",
                     "MIN_CORRELATION", "error_variance_x … scaling_z"):
        assert expected in help_text, expected
    assert [option.split()[0] for option in
            collocation.parameterDefinition("SCALE_TO").options()] == ["X", "Y", "Z"]
    assert collocation.parameterDefinition("MIN_CORRELATION").defaultValue() == 0.2
    assert collocation.parameterDefinition("MIN_OBSERVATIONS").defaultValue() == 30
    outputs = {output.name(): output.type() for output in collocation.outputDefinitions()}
    for key in ("COLLOCATED_PIXELS", "LOW_CORRELATION_GROUPS", "MEDIAN_ERROR_STD_SCALED_Z",
                "MEDIAN_R_TRUTH_X", "SKIPPED"):
        assert outputs[key] == "outputNumber", key
    assert outputs["OUTPUT"] == "outputRaster" and outputs["OUTPUT_TABLE"] == "outputVector"


# --- smr:temporalmetrics --------------------------------------------------------------------------

# 2×3 pixels over 5 dates. x = −2 … 2, the reference's anomalies; None: nodata.
#   (0,0) estimate = 2·reference + 0.1, reference +Inf at date 5: 4 pairs, r = 1,
#         d = reference + 0.1 = 0.2 … 0.5: bias 0.35, RMSE √0.135, ubRMSE √(0.135 − 0.35²)
#   (0,1) reference 0.3 + 0.05x, estimate 0.3 + 0.05y, y = (−2, 0, 2, −1, 1): r = 5/10 = 0.5,
#         t = 0.5·√(3/0.75) = 1 with 3 degrees of freedom: p = 0.3910026;
#         d = 0.05·(0, 1, 2, −2, −1): bias 0, RMSE = ubRMSE = 0.05·√2, MAE 0.06
#   (0,2) estimate = 1 − reference: r = −1, p = 0; d = 0.8 … 0: bias 0.4, RMSE √0.24, MAE 0.4
#   (1,0) estimate constant 0.3: no r, p; d = 0.2 … −0.2: bias 0, RMSE = ubRMSE = √0.02, MAE 0.12
#   (1,1) 2 pairs: too few for MIN_OBSERVATIONS 3
#   (1,2) no estimate at all: empty
REFERENCE = np.array([[[0.1, 0.3 - 0.1, 0.1], [0.1, 0.2, 0.3]],
                      [[0.2, 0.3 - 0.05, 0.2], [0.2, 0.3, 0.3]],
                      [[0.3, 0.3, 0.3], [0.3, 0.4, 0.3]],
                      [[0.4, 0.3 + 0.05, 0.4], [0.4, 0.5, 0.3]],
                      [[math.inf, 0.3 + 0.1, 0.5], [0.5, 0.6, 0.3]]])
ESTIMATE = np.array([[[0.3, 0.3 - 0.1, 0.9], [0.3, 0.25, None]],
                     [[0.5, 0.3, 0.8], [0.3, 0.35, None]],
                     [[0.7, 0.3 + 0.1, 0.7], [0.3, None, None]],
                     [[0.9, 0.3 - 0.05, 0.6], [0.3, None, None]],
                     [[1.1, 0.3 + 0.05, 0.5], [0.3, None, None]]], dtype=object)
P_OF_R_HALF = 0.3910026  # two-sided Student t, t = 1, 3 degrees of freedom
EXPECTED_TEMPORAL = {  # (row, column): r, p, rmse, ubrmse, bias, mae, n
    (0, 0): (1.0, 0.0, math.sqrt(0.135), math.sqrt(0.135 - 0.35 ** 2), 0.35, 0.35, 4),
    (0, 1): (0.5, P_OF_R_HALF, 0.05 * math.sqrt(2), 0.05 * math.sqrt(2), 0.0, 0.06, 5),
    (0, 2): (-1.0, 0.0, math.sqrt(0.24), math.sqrt(0.08), 0.4, 0.4, 5),
    (1, 0): (ND, ND, math.sqrt(0.02), math.sqrt(0.02), 0.0, 0.12, 5),
    (1, 1): (ND, ND, ND, ND, ND, ND, 2),
    (1, 2): (ND, ND, ND, ND, ND, ND, 0),
}


def write_temporal_stacks(folder):
    estimate = np.array([[[INPUT_NODATA if value is None else value for value in row]
                          for row in band] for band in ESTIMATE], dtype=float)
    return (write_stack(folder / "estimate.tif", estimate, nodata=INPUT_NODATA,
                        descriptions=DATES),
            write_stack(folder / "reference.tif", REFERENCE, descriptions=DATES))


def temporal_parameters(folder, **overrides):
    estimate, reference = write_temporal_stacks(folder)
    parameters = {"ESTIMATE": estimate, "REFERENCE_STACK": reference, "MIN_OBSERVATIONS": 3,
                  "UNIT": "m³/m³", "OUTPUT": str(folder / "metrics.tif"),
                  "OUTPUT_REPORT": str(folder / "report.html")}
    parameters.update(overrides)
    return parameters


def spatial_expected():
    """Per date: (n, r, pairs) over the pixels where both stacks are finite, with numpy; r is
    None where it is undefined (the reference is 0.3 at every valid pixel of date 3)."""
    estimate = np.array([[[math.nan if value is None else value for value in row]
                          for row in band] for band in ESTIMATE], dtype=float)
    rows = []
    for band in range(len(DATES)):
        valid = np.isfinite(estimate[band]) & np.isfinite(REFERENCE[band])
        pairs = (estimate[band][valid], REFERENCE[band][valid])
        constant = min(np.ptp(pairs[0]), np.ptp(pairs[1])) == 0
        r = None if valid.sum() < 3 or constant else np.corrcoef(*pairs)[0, 1]
        rows.append((int(valid.sum()), r, pairs))
    return rows


def test_temporal_metrics_against_hand_computed_values(run_algorithm, tmp_path):
    feedback = RecordingFeedback()
    result = run_algorithm("temporalmetrics", temporal_parameters(
        tmp_path, SPATIAL_OUTPUT=str(tmp_path / "spatial.csv")), feedback)
    request = feedback.request_sent()
    assert request["ESTIMATE"] == {"path": str(tmp_path / "estimate.tif"), "nodata": None}
    assert request["MIN_OBSERVATIONS"] == 3 and request["SIGNIFICANCE"] == 0.05
    assert "PERIOD" not in request and request["SPATIAL_OUTPUT"] == str(tmp_path / "spatial.csv")

    values, nodata, descriptions = read_stack(tmp_path / "metrics.tif")
    assert nodata == ND and descriptions == TEMPORAL_BANDS
    for (row, column), expected in EXPECTED_TEMPORAL.items():
        np.testing.assert_allclose(values[:, row, column], expected, atol=2e-6,
                                   err_msg=f"pixel {(row, column)}")
    assert (result["COMPARED_PIXELS"], result["CONSTANT_PIXELS"],
            result["FEW_OBSERVATIONS_PIXELS"], result["EMPTY_PIXELS"],
            result["NON_FINITE_VALUES"], result["STEPS"]) == (4, 1, 1, 1, 1, 5)
    compared = [EXPECTED_TEMPORAL[pixel] for pixel in ((0, 0), (0, 1), (0, 2), (1, 0))]
    assert result["MEAN_TEMPORAL_R"] == pytest.approx((1.0 + 0.5 - 1.0) / 3, abs=1e-6)
    for key, column in (("MEAN_RMSE", 2), ("MEAN_UBRMSE", 3), ("MEAN_BIAS", 4),
                        ("MEAN_MAE", 5)):
        assert result[key] == pytest.approx(np.mean([pixel[column] for pixel in compared]),
                                            abs=1e-6), key
    assert any("NON_FINITE_VALUES" in warning or "Inf" in warning
               for warning in feedback.warnings)

    # Spatial r per date, against numpy; significance as the core reports it.
    with open(tmp_path / "spatial.csv", newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["band", "date", "n", "r", "p_value", "rmse", "ubrmse", "bias",
                             "mae"]
    assert [row["date"] for row in rows] == DATES
    significant = []
    for row, (n, r, (estimate, reference)) in zip(rows, spatial_expected()):
        assert int(row["n"]) == n
        if r is None:
            assert row["r"] == row["p_value"] == ""
            continue
        assert float(row["r"]) == pytest.approx(r, abs=1e-6)
        assert float(row["bias"]) == pytest.approx(np.mean(estimate - reference), abs=1e-6)
        if float(row["p_value"]) < 0.05:
            significant.append(float(row["r"]))
    # Five pixels at most: no date is significant (the linear case below has significant ones).
    assert significant == [] and result["SIGNIFICANT_STEPS"] == 0
    assert result["MEAN_SPATIAL_R"] is None

    report = tmp_path / "report.html"
    assert result["OUTPUT_REPORT"] == str(report) and result["SPATIAL_OUTPUT"] == str(
        tmp_path / "spatial.csv")
    text = report.read_text(encoding="utf-8")
    for expected in ("Temporal and spatial metrics: estimate against reference",
                     "a sample of 4 of the 4 compared pixels", "(COMPARED_PIXELS)",
                     "(CONSTANT_PIXELS)", "MEAN_SPATIAL_R", "bias = mean(estimate − reference)",
                     "Mean bias (m³/m³) (MEAN_BIAS)", f"{result['MEAN_BIAS']:.4g}",
                     "2020-06-03", f"{result['SIGNIFICANT_STEPS']} of 5"):
        assert expected in text, expected
    assert len(images_in(report)) == 2  # box plots, spatial r per date


def test_temporal_metrics_of_a_linear_estimate(run_algorithm, tmp_path):
    # estimate = 2·reference + 1 everywhere: r = 1 per pixel and per date, every date
    # significant; d = reference + 1.
    reference = np.arange(36, dtype=float).reshape(4, 3, 3) / 100.0 + np.array(
        [0.0, 0.3, 0.1, 0.2])[:, None, None]
    paths = {"ESTIMATE": write_stack(tmp_path / "e.tif", 2.0 * reference + 1.0),
             "REFERENCE_STACK": write_stack(tmp_path / "r.tif", reference)}
    result = run_algorithm("temporalmetrics", {
        **paths, "MIN_OBSERVATIONS": 4, "THREADS": 1, "OUTPUT": str(tmp_path / "metrics.tif"),
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    assert (result["STEPS"], result["SIGNIFICANT_STEPS"], result["COMPARED_PIXELS"]) == (4, 4, 9)
    assert result["MEAN_SPATIAL_R"] == pytest.approx(1.0, abs=1e-6)
    assert result["MEAN_TEMPORAL_R"] == pytest.approx(1.0, abs=1e-6)
    assert result["MEAN_BIAS"] == pytest.approx(np.mean(reference + 1.0), abs=1e-6)
    values, _, descriptions = read_stack(tmp_path / "metrics.tif")
    assert descriptions == TEMPORAL_BANDS  # undated stacks: the report shows band numbers
    np.testing.assert_allclose(values[4], (reference + 1.0).mean(axis=0), atol=1e-6)
    assert '<th scope="row">band 4</th>' in (tmp_path / "report.html").read_text(
        encoding="utf-8")
    run_algorithm("temporalmetrics", {
        **paths, "MIN_OBSERVATIONS": 4, "THREADS": 2, "OUTPUT": str(tmp_path / "threads.tif"),
        "OUTPUT_REPORT": str(tmp_path / "threads.html")})
    np.testing.assert_array_equal(read_stack(tmp_path / "threads.tif")[0], values)
    # PERIOD is passed on as given.
    run_algorithm("temporalmetrics", {
        **paths, "MIN_OBSERVATIONS": 3, "PERIOD": "2:4",
        "OUTPUT": str(tmp_path / "period.tif"), "OUTPUT_REPORT": str(tmp_path / "period.html")})
    period = read_stack(tmp_path / "period.tif")[0]
    np.testing.assert_allclose(period[6], 3.0)  # n: bands 2 to 4
    np.testing.assert_allclose(period[4], (reference[1:] + 1.0).mean(axis=0), atol=1e-6)


@pytest.mark.parametrize("key, value, shown", [
    ("MIN_OBSERVATIONS", 6, "6"),
    ("SIGNIFICANCE", 1.0, "1"),
    ("PERIOD", "1:9", "1:9"),
    ("PERIOD", "2021-01-01:2021-02-01", "2021-01-01:2021-02-01"),
])
def test_temporal_metrics_values_the_core_rejects(run_algorithm, tmp_path, key, value, shown):
    message = error_of(run_algorithm, "temporalmetrics", temporal_parameters(tmp_path,
                                                                             **{key: value}))
    assert key in message and shown in message
    assert not (tmp_path / "metrics.tif").exists() and not (tmp_path / "report.html").exists()


def test_temporal_metrics_stacks_of_different_lengths(run_algorithm, tmp_path):
    parameters = temporal_parameters(tmp_path)
    parameters["REFERENCE_STACK"] = write_stack(tmp_path / "short.tif", REFERENCE[:4],
                                                descriptions=DATES[:4])
    message = error_of(run_algorithm, "temporalmetrics", parameters)
    assert "ESTIMATE" in message and "REFERENCE_STACK" in message


def test_temporal_metrics_cancel_leaves_no_output(run_algorithm, large_stack, tmp_path):
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "temporalmetrics", {
        "ESTIMATE": large_stack, "REFERENCE_STACK": large_stack, "MIN_OBSERVATIONS": 3,
        "OUTPUT": str(output_directory / "metrics.tif"),
        "SPATIAL_OUTPUT": str(output_directory / "spatial.csv"),
        "OUTPUT_REPORT": str(output_directory / "report.html")})
    assert list(output_directory.iterdir()) == []


# --- smr:triplecollocation on stacks --------------------------------------------------------------

# Sylvester's Hadamard matrix of order 8: rows 1 … 7 are centred and mutually orthogonal, so over
# 8 steps their sample covariances are exactly 0 and their variances exactly 8/7 (denominator 7).
HADAMARD = np.array([[1.0]])
for _ in range(3):
    HADAMARD = np.block([[HADAMARD, HADAMARD], [HADAMARD, -HADAMARD]])
K = 8.0 / 7.0
STEPS = 8


def collocation_stacks(folder):
    """X, Y, Z over 8 steps on 2×3 pixels; t = 0.1·h1 is the truth's anomaly.
      (0,0) x = t + 0.02·h2, y = 2t + 0.04·h3, z = t + 0.03·h4 (plus offsets): collocated, with
            error variances 0.02²K, 0.04²K, 0.03²K; s_Y = σ_XZ/σ_YZ = 1/2, s_Z = σ_XY/σ_YZ = 1
      (0,1) X nodata at every step: empty
      (1,0) X nodata at 4 steps: 4 triplets, fewer than MIN_OBSERVATIONS 8
      (1,1) z = 0.03·h5, uncorrelated with the truth: r_xz = 0 < MIN_CORRELATION
      (1,2) y = t − 0.02·h2 shares x's error with the opposite sign and z = t + 0.01·h4:
            σ²_εZ = 0.01²K − σ_XZ·σ_YZ/σ_XY = K(0.0001 − 0.01·0.01/0.0096) < 0
      (0,2) as (0,0) with other offsets: collocated"""
    h = HADAMARD
    t = 0.1 * h[1]
    collocated = (0.25 + t + 0.02 * h[2], 0.1 + 2 * t + 0.04 * h[3], 0.3 + t + 0.03 * h[4])
    pixels = {
        (0, 0): collocated,
        (0, 1): (np.full(STEPS, INPUT_NODATA), collocated[1], collocated[2]),
        (1, 0): (np.where(np.arange(STEPS) < 4, collocated[0], INPUT_NODATA), collocated[1],
                 collocated[2]),
        (1, 1): (collocated[0], collocated[1], 0.3 + 0.03 * h[5]),
        (1, 2): (0.25 + t + 0.02 * h[2], 0.25 + t - 0.02 * h[2], 0.25 + t + 0.01 * h[4]),
        (0, 2): (collocated[0] + 0.1, collocated[1] - 0.05, collocated[2] + 0.2),
    }
    stacks = np.zeros((3, STEPS, 2, 3))
    for (row, column), series in pixels.items():
        for dataset, values in enumerate(series):
            stacks[dataset, :, row, column] = values
    return [write_stack(folder / f"{name}.tif", stacks[dataset], nodata=INPUT_NODATA)
            for dataset, name in enumerate(("nn", "fy3c", "geos5"))]


# Pixel (0,0): the truth's variance and the error variances, each over K, in each dataset's own
# units², and the factors that scale each dataset to X.
SIGNAL = {"x": 0.01, "y": 0.04, "z": 0.01}
NOISE = {"x": 0.02 ** 2, "y": 0.04 ** 2, "z": 0.03 ** 2}
SCALING = {"x": 1.0, "y": 0.5, "z": 1.0}


def expected_collocation(dataset):
    """Pixel (0,0)'s error variance, error std, scaled error std, SNR (dB), r_truth and scaling."""
    error_variance = NOISE[dataset] * K
    error_std = math.sqrt(error_variance)
    return (error_variance, error_std, SCALING[dataset] * error_std,
            10 * math.log10(SIGNAL[dataset] / NOISE[dataset]),
            math.sqrt(SIGNAL[dataset] / (SIGNAL[dataset] + NOISE[dataset])), SCALING[dataset])


def test_triple_collocation_of_stacks_against_hand_computed_values(run_algorithm, tmp_path):
    x, y, z = collocation_stacks(tmp_path)
    feedback = RecordingFeedback()
    result = run_algorithm("triplecollocation", {
        "X": x, "Y": y, "Z": z, "MIN_OBSERVATIONS": 8, "UNIT": "m³/m³",
        "OUTPUT": str(tmp_path / "tc.tif"), "OUTPUT_REPORT": str(tmp_path / "report.html")},
        feedback)
    request = feedback.request_sent()
    assert request["NAMES"] == ["nn", "fy3c", "geos5"] and request["SCALE_TO"] == "x"
    assert "TABLE" not in request

    values, nodata, descriptions = read_stack(tmp_path / "tc.tif")
    assert values.shape == (19, 2, 3) and nodata == ND
    assert descriptions[0] == "error_variance x (nn)" and descriptions[8] \
        == "error_std_scaled z (geos5)" and descriptions[18] == "n"
    expected = np.array([expected_collocation(dataset) for dataset in "xyz"]).T.ravel()
    for pixel in ((0, 0), (0, 2)):
        np.testing.assert_allclose(values[:18, pixel[0], pixel[1]], expected, rtol=1e-4,
                                   atol=1e-7, err_msg=str(pixel))
    for (row, column), n in (((0, 1), 0), ((1, 0), 4), ((1, 1), 8), ((1, 2), 8)):
        assert (values[:18, row, column] == ND).all()
        assert values[18, row, column] == n
    assert (result["COLLOCATED_PIXELS"], result["EMPTY_PIXELS"],
            result["FEW_OBSERVATIONS_PIXELS"], result["LOW_CORRELATION_PIXELS"],
            result["NEGATIVE_VARIANCE_PIXELS"]) == (2, 1, 1, 1, 1)
    assert result["MEDIAN_ERROR_STD_SCALED_Y"] == pytest.approx(0.02 * math.sqrt(K), rel=1e-5)
    assert result["MEDIAN_R_TRUTH_Z"] == pytest.approx(expected_collocation("z")[4], rel=1e-5)
    assert result["OUTPUT_TABLE"] is None

    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    for expected_text in ("Triple collocation: nn, fy3c, geos5", "(COLLOCATED_PIXELS)",
                          "(NEGATIVE_VARIANCE_PIXELS)", "X (nn)", "Lv et al. 2021, Fig. 8",
                          f"{result['MEDIAN_ERROR_STD_X']:.4g}",
                          "a sample of 2 of the 2 collocated pixels"):
        assert expected_text in text, expected_text
    assert len(images_in(tmp_path / "report.html")) == 1

    # Scaled to Y instead, with names given: relative gains 1 : 2 : 1 make the factors
    # β_Y/β_i = 2, 1, 2.
    result = run_algorithm("triplecollocation", {
        "X": x, "Y": y, "Z": z, "MIN_OBSERVATIONS": 8, "SCALE_TO": 1, "NAMES": "a, b, c",
        "THREADS": 2, "OUTPUT": str(tmp_path / "tc_z.tif"),
        "OUTPUT_REPORT": str(tmp_path / "report_z.html")})
    scaled = read_stack(tmp_path / "tc_z.tif")
    assert scaled[2][0] == "error_variance x (a)"
    np.testing.assert_allclose(scaled[0][15:18, 0, 0], [2.0, 1.0, 2.0], rtol=1e-5)
    np.testing.assert_allclose(scaled[0][6:9, 0, 0], np.array([0.04, 0.04, 0.06]) * math.sqrt(K),
                               rtol=1e-4)
    np.testing.assert_allclose(scaled[0][:6], values[:6], rtol=1e-6)  # unscaled: unchanged


def test_triple_collocation_stack_inputs_users_get_wrong(run_without_core, run_algorithm,
                                                         tmp_path):
    x, y, z = collocation_stacks(tmp_path)
    report = {"OUTPUT_REPORT": str(tmp_path / "report.html")}
    message = error_of(run_without_core, "triplecollocation", {"X": x, "Y": y, **report})
    assert "Z is empty but X and Y are set" in message
    message = error_of(run_without_core, "triplecollocation", report)
    assert "No triplets given" in message and "INPUT_LAYER" in message
    message = error_of(run_without_core, "triplecollocation", {
        "X": x, "Y": y, "Z": z, "NAMES": "a, b", "OUTPUT": str(tmp_path / "tc.tif"), **report})
    assert "Invalid value for NAMES ('a, b'): 2 names" in message
    message = error_of(run_algorithm, "triplecollocation", {
        "X": x, "Y": y, "Z": z, "OUTPUT": str(tmp_path / "tc.tif"), **report})
    assert "MIN_OBSERVATIONS" in message and "30" in message  # the default, above 8 bands
    assert not (tmp_path / "tc.tif").exists()


def test_triple_collocation_cancel_leaves_no_output(run_algorithm, large_stack, tmp_path):
    output_directory = tmp_path / "out"
    output_directory.mkdir()
    run_cancelled_at_first_progress(run_algorithm, "triplecollocation", {
        "X": large_stack, "Y": large_stack, "Z": large_stack, "MIN_OBSERVATIONS": 3,
        "OUTPUT": str(output_directory / "tc.tif"),
        "OUTPUT_REPORT": str(output_directory / "report.html")})
    assert list(output_directory.iterdir()) == []


# --- smr:triplecollocation on a table -------------------------------------------------------------

# Per station 2000 rows: truth t, x = t + e_x (σ 0.02), y = 0.5 + 2t + e_y (σ 0.05, so 0.025 in
# x's units), z = 10t + e_z (σ 0.3, 0.03 in x's units). Station "short" has 10 rows, station
# "noise" a z without the truth; 5 rows miss a value.
TRUE_ERROR_STD = {"x": 0.02, "y": 0.05, "z": 0.3}
TRUE_SCALED = {"x": 0.02, "y": 0.025, "z": 0.03}


def simulated_rows(seed=12):
    generator = np.random.default_rng(seed)
    rows = []
    for station, count in (("north", 2000), ("south", 2000), ("short", 10), ("noise", 300)):
        t = generator.normal(0.25, 0.08, count)
        x = t + generator.normal(0, TRUE_ERROR_STD["x"], count)
        y = 0.5 + 2 * t + generator.normal(0, TRUE_ERROR_STD["y"], count)
        z = 10 * t + generator.normal(0, TRUE_ERROR_STD["z"], count)
        if station == "noise":
            z = generator.normal(2.5, 0.8, count)
        rows += [[station, float(a), float(b), float(c)] for a, b, c in zip(x, y, z)]
    for index in range(5):
        rows[index * 7][1 + index % 3] = None
    return rows


def test_triple_collocation_of_a_table_recovers_the_error_std(run_algorithm, tmp_path):
    layer = table_layer(tmp_path / "triplets.csv", ["station", "ascat", "smap", "model"],
                        simulated_rows())
    feedback = RecordingFeedback()
    result = run_algorithm("triplecollocation", {
        "INPUT_LAYER": layer, "X_FIELD": "ascat", "Y_FIELD": "smap", "Z_FIELD": "model",
        "GROUP_FIELD": "station", "OUTPUT_TABLE": str(tmp_path / "tc.gpkg"),
        "OUTPUT_REPORT": str(tmp_path / "report.html")}, feedback)
    request = feedback.request_sent()
    assert sorted(request["TABLE"]) == ["groups", "x", "y", "z"]
    assert len(request["TABLE"]["x"]) == 4310 and request["NAMES"] == ["ascat", "smap", "model"]
    for key in ("OUTPUT", "THREADS", "RESAMPLING", "PERIOD"):
        assert key not in request, key
    assert result["SKIPPED"] == 5
    assert (result["COLLOCATED_GROUPS"], result["FEW_OBSERVATIONS_GROUPS"],
            result["LOW_CORRELATION_GROUPS"], result["EMPTY_GROUPS"]) == (2, 1, 1, 0)
    assert result["OUTPUT"] is None

    table = QgsVectorLayer(result["OUTPUT_TABLE"], "tc", "ogr")
    names = table.fields().names()
    assert names[names.index("group"):names.index("group") + 6] == [
        "group", "n", "status", "r_xy", "r_xz", "r_yz"]
    for dataset in "xyz":
        for field in ("error_variance", "error_std", "error_std_scaled", "snr_db", "r_truth",
                      "scaling"):
            assert f"{field}_{dataset}" in names
    rows = {feature["group"]: feature for feature in table.getFeatures()}
    assert set(rows) == {"north", "south", "short", "noise"}
    assert (rows["short"]["status"], rows["short"]["n"]) == ("few_observations", 10)
    assert rows["noise"]["status"] == "low_correlation"
    for station in ("north", "south"):
        assert rows[station]["status"] == "collocated"
        for dataset in "xyz":
            # 2000 triplets: the estimates are within a few per cent of the simulated errors.
            assert rows[station][f"error_std_{dataset}"] == pytest.approx(
                TRUE_ERROR_STD[dataset], rel=0.1), (station, dataset)
            assert rows[station][f"error_std_scaled_{dataset}"] == pytest.approx(
                TRUE_SCALED[dataset], rel=0.1), (station, dataset)
        assert rows[station]["scaling_y"] == pytest.approx(0.5, rel=0.05)
        assert rows[station]["scaling_z"] == pytest.approx(0.1, rel=0.05)
    assert rows["short"]["error_std_x"] == NULL
    assert result["MEDIAN_ERROR_STD_SCALED_Z"] == pytest.approx(0.03, rel=0.1)

    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    for expected in ("Triple collocation: ascat, smap, model", "(SKIPPED)",
                     "the 2 collocated groups", "Per group", "few_observations",
                     "(LOW_CORRELATION_GROUPS)"):
        assert expected in text, expected
    assert len(images_in(tmp_path / "report.html")) == 1


def test_triple_collocation_table_inputs_users_get_wrong(run_without_core, tmp_path):
    layer = write_points(tmp_path / "triplets.gpkg", {
        "a": [0.1, 0.2], "b": [0.3, 0.1], "c": [0.2, 0.2], "label": ["p", "q"]})
    report = {"OUTPUT_REPORT": str(tmp_path / "report.html")}
    fields = {"INPUT_LAYER": layer, "X_FIELD": "a", "Y_FIELD": "b", "Z_FIELD": "c"}
    x = write_stack(tmp_path / "x.tif", [[[0.1]]] * 3)
    message = error_of(run_without_core, "triplecollocation", {**fields, "X": x, **report})
    assert "given twice" in message and "INPUT_LAYER" in message and "not both" in message
    message = error_of(run_without_core, "triplecollocation", {
        **fields, "Z_FIELD": "a", **report})
    assert "Invalid value for Z_FIELD ('a'): it is also X_FIELD" in message
    message = error_of(run_without_core, "triplecollocation", {
        **fields, "Y_FIELD": "label", **report})
    assert "Invalid value for Y_FIELD ('label')" in message and "not numeric" in message
    message = error_of(run_without_core, "triplecollocation", {
        **fields, "Z_FIELD": None, **report})
    assert "Z_FIELD is empty" in message
    message = error_of(run_without_core, "triplecollocation", {
        **fields, "GROUP_FIELD": "station", **report})
    assert "Invalid value for GROUP_FIELD ('station')" in message
