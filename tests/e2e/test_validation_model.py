"""End-to-end: sample_projects/validation_products.model3 by qgis_process.

On a small time-series scene (12 × 10 cells, 400 days) the model compares the SMAP-like product
with the true soil moisture (smr:temporalmetrics), collocates the scene's [retrieval, satellite,
reanalysis] triplet (smr:triplecollocation) and CDF-matches the satellite product (% saturation)
onto the retrieval (smr:cdfmatching), then compares the matched product again. The tests recompute
the per-cell metrics and the per-day spatial correlation with numpy, check that triple collocation
recovers the error standard deviations the generator used (in scene.json), and that CDF matching
removes the satellite product's bias and unit.

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
"""

import csv

import numpy as np
import pytest
from osgeo import gdal

import qgis_process_helpers as helpers
from qgis_process_helpers import SAMPLE_PROJECTS

SCENE = {"PRODUCTS": "timeseries", "WIDTH": 12, "HEIGHT": 10, "DAYS": 400, "SEED": 7}
PERIOD = (101, 400)  # the bands compared by the temporal metrics
FIT_PERIOD = "1:200"
MODEL = SAMPLE_PROJECTS / "validation_products.model3"
OUTPUTS = {
    "metrics:METRIC_MAPS": "metric_maps.tif", "metrics:SPATIAL_CSV": "spatial.csv",
    "metrics:METRICS_REPORT": "metrics.html", "collocation:COLLOCATION_MAPS": "tc.tif",
    "collocation:COLLOCATION_REPORT": "tc.html", "matching:MATCHED_Y": "matched.tif",
    "matching:MAPPING": "mapping.tif", "matched_metrics:MATCHED_REPORT": "matched.html",
}
TC_PRODUCTS = ("tc_retrieval_sm", "tc_satellite_ssm", "tc_reanalysis_sm")


@pytest.fixture(scope="module")
def run(qgis_env, tmp_path_factory):
    scene_dir, scene = helpers.generate_scene(qgis_env["SMR_TEST_EXECUTABLE"],
                                              tmp_path_factory.mktemp("series"), **SCENE)
    output = tmp_path_factory.mktemp("validation")
    arguments = [
        f"ESTIMATE_STACK={scene_dir / 'smap_sm.tif'}", f"REFERENCE_STACK={scene_dir / 'truth_sm.tif'}",
        f"PERIOD={PERIOD[0]}:{PERIOD[1]}", f"PRODUCT_X={scene_dir / 'tc_retrieval_sm.tif'}",
        f"PRODUCT_Y={scene_dir / 'tc_satellite_ssm.tif'}",
        f"PRODUCT_Z={scene_dir / 'tc_reanalysis_sm.tif'}", "MIN_CORRELATION=0.2",
        f"FIT_PERIOD={FIT_PERIOD}",
    ] + [f"{key}={output / name}" for key, name in OUTPUTS.items()]
    results = helpers.run_model_results(qgis_env, MODEL, arguments)
    return {"results": results, "scene_dir": scene_dir, "scene": scene}


def test_model_is_portable():
    helpers.assert_model_file_is_portable(
        MODEL, ["smr:temporalmetrics", "smr:triplecollocation", "smr:cdfmatching"])


def test_temporal_metrics_match_numpy_per_cell(run):
    results, scene_dir = run["results"], run["scene_dir"]
    maps, descriptions = helpers.read_stack(results["metrics:METRIC_MAPS"])
    assert descriptions == ["r", "p_value", "rmse", "ubrmse", "bias", "mae", "n"]
    estimate = helpers.read_stack(scene_dir / "smap_sm.tif")[0][PERIOD[0] - 1:PERIOD[1]]
    truth = helpers.read_stack(scene_dir / "truth_sm.tif")[0][PERIOD[0] - 1:PERIOD[1]]
    checked = 0
    for row in range(estimate.shape[1]):
        for column in range(estimate.shape[2]):
            both = np.isfinite(estimate[:, row, column]) & np.isfinite(truth[:, row, column])
            assert maps[6, row, column] == both.sum()
            if both.sum() < 10:  # MIN_OBSERVATIONS: the glacier cells, frozen almost every day
                assert np.isnan(maps[0, row, column])
                continue
            e, t = estimate[both, row, column], truth[both, row, column]
            np.testing.assert_allclose(maps[0, row, column], np.corrcoef(e, t)[0, 1], rtol=1e-5)
            np.testing.assert_allclose(maps[2, row, column], np.sqrt(((e - t) ** 2).mean()), rtol=1e-5)
            np.testing.assert_allclose(maps[4, row, column], (e - t).mean(), rtol=1e-4, atol=1e-7)
            checked += 1
    assert checked == results["metrics:COMPARED_PIXELS"] and checked > 100


def test_spatial_correlation_per_day_matches_numpy(run):
    results, scene_dir = run["results"], run["scene_dir"]
    estimate = helpers.read_stack(scene_dir / "smap_sm.tif")[0]
    truth = helpers.read_stack(scene_dir / "truth_sm.tif")[0]
    with open(results["metrics:SPATIAL_CSV"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["band"]) for row in rows] == list(range(PERIOD[0], PERIOD[1] + 1))
    significant = []
    for row in rows:
        band = int(row["band"]) - 1
        both = np.isfinite(estimate[band]) & np.isfinite(truth[band])
        assert int(row["n"]) == both.sum()
        if row["r"]:
            np.testing.assert_allclose(float(row["r"]),
                                       np.corrcoef(estimate[band][both], truth[band][both])[0, 1],
                                       rtol=1e-9)
            if float(row["p_value"]) < 0.05:
                significant.append(float(row["r"]))
    assert results["metrics:SIGNIFICANT_STEPS"] == len(significant) > 0
    np.testing.assert_allclose(results["metrics:MEAN_SPATIAL_R"], np.mean(significant), rtol=1e-12)


def test_triple_collocation_recovers_the_known_error_std(run):
    results, known = run["results"], run["scene"]["triple_collocation"]
    maps, descriptions = helpers.read_stack(results["collocation:COLLOCATION_MAPS"])
    assert len(descriptions) == 19 and descriptions[3] == "error_std x (tc_retrieval_sm)"
    assert results["collocation:COLLOCATED_PIXELS"] > 100
    for index, (name, key) in enumerate(zip(TC_PRODUCTS, "XYZ")):
        expected = known[name]["error_std"]
        median = np.nanmedian(maps[3 + index])
        # About 250 triplets per cell: each cell's estimate is noisy, their median is not.
        assert abs(median / expected - 1) < 0.1, (name, median, expected)
        np.testing.assert_allclose(results[f"collocation:MEDIAN_ERROR_STD_{key}"], median, rtol=1e-6)
        scaled = np.nanmedian(maps[6 + index])
        # Scaled to X (the retrieval, gain 1): the error std in m³/m³ of truth.
        assert abs(scaled / known[name]["error_std_in_truth_units"] - 1) < 0.1, (name, scaled)


def test_cdf_matching_puts_the_satellite_product_in_the_retrieval_units(run):
    results, scene_dir = run["results"], run["scene_dir"]
    matched, descriptions = helpers.read_stack(results["matching:MATCHED_Y"])
    source, source_descriptions = helpers.read_stack(scene_dir / "tc_satellite_ssm.tif")
    assert descriptions == source_descriptions
    retrieval = helpers.read_stack(scene_dir / "tc_retrieval_sm.tif")[0]
    assert np.array_equal(np.isfinite(matched), np.isfinite(source))
    # % saturation (about 200 × θ) becomes m³/m³: the bias against the retrieval is gone.
    assert np.nanmean(source - retrieval) > 10
    assert abs(results["matched_metrics:MEAN_BIAS"]) < 0.005
    assert results["matched_metrics:MEAN_TEMPORAL_R"] > 0.7
    mapping = gdal.Open(results["matching:MAPPING"])
    assert mapping.RasterCount == 42  # 21 source nodes, 21 reference nodes
