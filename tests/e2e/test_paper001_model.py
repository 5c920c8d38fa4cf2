"""End-to-end: sample_projects/paper001_reconstruction.model3 by qgis_process.

The model sweeps the hidden neurons of paper 001's per-cell networks on a sample of cells
(smr:sensitivityanalysis), then trains one network per cell with the best setting on the training
period and reconstructs the whole series (smr:pixelwisereconstruction). On a small generated
time-series scene (16 × 12 cells, 500 days) the tests check the files, the band count and dates of
the reconstruction, that the model passes the sweep's choice on, that the reconstruction beats the
model soil moisture it is given on the thawed days after the training period (a broken chain or a
network fed the wrong stacks does not; frozen days are never in training, as the target product
has no value there, so a network cannot be judged on them), and that the precipitation threshold of the model reaches the core.

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
"""

import csv

import numpy as np
import pytest

import qgis_process_helpers as helpers
from qgis_process_helpers import SAMPLE_PROJECTS

SCENE = {"PRODUCTS": "timeseries", "WIDTH": 16, "HEIGHT": 12, "DAYS": 500, "SEED": 7}
TRAINING_DAYS = 365  # from 2015-04-01: the unseen days run to mid-August 2016, thawed ones included
FREEZING_K = 273.15
MODEL = SAMPLE_PROJECTS / "paper001_reconstruction.model3"
PREDICTORS = ("tb_06_9ghz", "tb_07_3ghz", "tb_10_7ghz", "tb_18_7ghz", "tb_23_8ghz", "gldas_sm",
              "gldas_lst", "gldas_st", "modis_lai")
OUTPUTS = {
    "sweep:SWEEP_CSV": "sweep.csv", "sweep:SWEEP_REPORT": "sweep.html",
    "reconstruct:RECONSTRUCTED": "reconstructed.tif", "reconstruct:METRIC_MAPS": "metrics.tif",
    "reconstruct:SAMPLE_COUNTS": "counts.tif",
}
SWEPT_HIDDEN = ("4", "8", "12")  # the model's VALUES
REPEATS = 2


def arguments(scene_dir, output_dir, **values):
    listed = [f"PREDICTORS={scene_dir / (name + '.tif')}" for name in PREDICTORS]
    listed += [f"TARGET={scene_dir / 'smap_sm.tif'}", f"PRECIPITATION={scene_dir / 'precipitation.tif'}",
               f"TRAINING_PERIOD=1:{TRAINING_DAYS}"]
    listed += [f"{key}={output_dir / name}" for key, name in OUTPUTS.items()]
    listed += [f"{key}={value}" for key, value in values.items()]
    return listed


@pytest.fixture(scope="module")
def series_scene(qgis_env, tmp_path_factory):
    return helpers.generate_scene(qgis_env["SMR_TEST_EXECUTABLE"],
                                  tmp_path_factory.mktemp("paper001_scene"), **SCENE)


@pytest.fixture(scope="module")
def run(qgis_env, series_scene, tmp_path_factory):
    scene_dir, _ = series_scene
    output_dir = tmp_path_factory.mktemp("paper001_run")
    results = helpers.run_model_results(qgis_env, MODEL, arguments(scene_dir, output_dir, SEED=3))
    return scene_dir, output_dir, results


def test_model_file_is_portable():
    helpers.assert_model_file_is_portable(MODEL, ["smr:sensitivityanalysis", "smr:pixelwisereconstruction"])


def test_sweep_chooses_and_passes_on_the_hidden_neurons(run):
    _, output_dir, results = run
    with open(output_dir / "sweep.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(SWEPT_HIDDEN) * REPEATS * 4
    assert {row["setting"] for row in rows} == set(SWEPT_HIDDEN)
    overall = {}
    for row in rows:
        if row["subset"] == "overall":
            overall.setdefault(row["setting"], []).append(float(row["mean_rmse"]))
    best = min(overall, key=lambda setting: np.mean(overall[setting]))
    assert results["sweep:BEST_SETTING"] == best
    assert "<img" in (output_dir / "sweep.html").read_text(encoding="utf-8")


def test_reconstruction_covers_the_series_and_beats_the_model_soil_moisture(run):
    scene_dir, output_dir, results = run
    reconstructed, descriptions = helpers.read_stack(output_dir / "reconstructed.tif")
    truth, truth_dates = helpers.read_stack(scene_dir / "truth_sm.tif")
    model_sm, _ = helpers.read_stack(scene_dir / "gldas_sm.tif")
    soil_temperature, _ = helpers.read_stack(scene_dir / "gldas_st.tif")
    assert reconstructed.shape == truth.shape == (SCENE["DAYS"], SCENE["HEIGHT"], SCENE["WIDTH"])
    assert descriptions == truth_dates
    assert results["reconstruct:CELLS"] == SCENE["WIDTH"] * SCENE["HEIGHT"]
    assert results["reconstruct:TRAINED_CELLS"] + results["reconstruct:SKIPPED_CELLS"] + \
        results["reconstruct:FAILED_CELLS"] == results["reconstruct:CELLS"]
    assert results["reconstruct:TRAINED_CELLS"] > 0.8 * results["reconstruct:CELLS"]
    unseen = slice(TRAINING_DAYS, SCENE["DAYS"])

    thawed = soil_temperature[unseen] >= FREEZING_K

    def rmse(estimate):
        both = np.isfinite(estimate[unseen]) & np.isfinite(truth[unseen]) & thawed
        assert both.sum() > 1000
        return float(np.sqrt(np.mean((estimate[unseen][both] - truth[unseen][both]) ** 2)))

    # On thawed days it never saw, the per-cell network must be clearly closer to the truth than
    # the biased, noisy model soil moisture it takes as one of its inputs.
    assert rmse(reconstructed) < 0.7 * rmse(model_sm)


def test_metric_and_count_maps_agree_with_the_results(run):
    _, output_dir, results = run
    metrics, names = helpers.read_stack(output_dir / "metrics.tif")
    counts, _ = helpers.read_stack(output_dir / "counts.tif")
    assert len(names) == 16 and names[13] == "RMSE overall"
    trained = counts[2] > 0
    assert int(trained.sum()) == results["reconstruct:TRAINED_CELLS"]
    assert np.isclose(np.nanmean(metrics[13][trained]), results["reconstruct:MEAN_ALL_RMSE"], rtol=1e-5)
    excluded = int(np.nansum(counts[1]))
    assert excluded == results["reconstruct:EXCLUDED_BY_PRECIPITATION"] > 0
    # Training, validation and test samples are the pairs left after the precipitation filter.
    assert np.array_equal((counts[2] + counts[3] + counts[4])[trained], (counts[0] - counts[1])[trained])


def test_a_higher_precipitation_threshold_excludes_fewer_pairs(qgis_env, series_scene, run, tmp_path):
    scene_dir, _ = series_scene
    _, _, results = run
    higher = helpers.run_model_results(
        qgis_env, MODEL, arguments(scene_dir, tmp_path, SEED=3, PRECIPITATION_THRESHOLD=17.5))
    assert higher["reconstruct:EXCLUDED_BY_PRECIPITATION"] < results["reconstruct:EXCLUDED_BY_PRECIPITATION"]


def test_extrapolated_days_are_masked_and_the_rest_stays_within_the_clamp(run):
    _, output_dir, results = run
    reconstructed, _ = helpers.read_stack(output_dir / "reconstructed.tif")
    extrapolated = results["reconstruct:EXTRAPOLATED_STEPS"]
    # The scene's frozen days lie outside what every network saw: the model masks them all.
    assert extrapolated > 0
    assert results["reconstruct:MASKED_STEPS"] == extrapolated
    assert int(np.count_nonzero(~np.isfinite(reconstructed))) >= extrapolated
    kept = reconstructed[np.isfinite(reconstructed)]
    # The bounds are stored as Float32 like every value of the stack.
    assert kept.min() >= np.float32(0.0) and kept.max() <= np.float32(0.6)
