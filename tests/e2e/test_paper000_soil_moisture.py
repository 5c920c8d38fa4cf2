"""End-to-end: sample_projects/paper000_soil_moisture.model3, paper 000 to the map, by qgis_process.

The model runs the physical chain (NDMI → VWC → water cloud inversion VV and VH), samples σ⁰ VV,
σ⁰ VH and the two soil σ⁰ at the in-situ stations, trains paper 000's BP network on them
(smr:trainmlp: 7 hidden neurons, 4:1, 1000 epochs, goal 1e-4, 5 restarts), maps soil moisture with
it (smr:applymodel, clamped to 0-0.6 m³/m³) and compares the map with the scene's true soil
moisture (smr:validationmetrics). On a small generated scene the tests check the files, the
network file, the map's range and grid, that the map has skill (it must beat a map of the truth's
mean by a clear margin, which a broken chain or a network fed the wrong rasters does not) and that
the numbers the model returns are those of its rasters.

The scene is not conftest.py's (200 × 200 pixels, 60 stations): on 4 km the soil moisture varies
too little (std 0.038 m³/m³) against the per-pixel speckle for a network trained on fewer than
50 stations to show skill reliably. This one is 300 × 300 pixels (6 km, std ≈ 0.05 m³/m³) with
paper 000's 100 stations.

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
"""

import json

import numpy as np
import pytest
from osgeo import ogr

import qgis_process_helpers as helpers
from qgis_process_helpers import SAMPLE_PROJECTS, grid, read

SCENE = {"WIDTH": 300, "HEIGHT": 300, "SEED": 42, "POINTS": 100}

MODEL = SAMPLE_PROJECTS / "paper000_soil_moisture.model3"
INPUTS = {
    "NIR": "reflectance_nir.tif", "SWIR1": "reflectance_swir1.tif",
    "SIGMA0_VV": "sigma0_vv_db.tif", "SIGMA0_VH": "sigma0_vh_db.tif",
    "ANGLE": "incidence_angle.tif", "INSITU": "insitu.gpkg",
    "REFERENCE_SOIL_MOISTURE": "truth_soil_moisture.tif",
}
OUTPUTS = {
    "map:SOIL_MOISTURE": "soil_moisture.tif",
    "train:MODEL": "bp_network.json",
    "train:REPORT": "training_report.html",
    "accuracy:REPORT": "map_vs_truth_report.html",
}
# The network's inputs in order: the columns native:rastersampling writes (prefix + band 1).
NETWORK_INPUTS = ["sigma0_vv_1", "sigma0_vh_1", "soil_vv_1", "soil_vh_1"]
HIDDEN_NEURONS = 7
CLAMP_MIN, CLAMP_MAX = 0.0, 0.6
# The map's RMSE must be below SKILL_RATIO times that of a map of the truth's mean, and below
# MAX_RMSE m³/m³. The chain reaches a ratio of about 0.6 on this scene for any seed; the speckle
# (~1 dB per pixel, ~0.035 m³/m³ through D = 28 dB per m³/m³) keeps it from going much lower.
# Feeding the network its rasters in the wrong order gives about 1.4.
SKILL_RATIO = 0.8
MAX_RMSE = 0.08


def model_arguments(scene_dir, output_dir, **values):
    return helpers.model_arguments(scene_dir, INPUTS, OUTPUTS, output_dir, **values)


@pytest.fixture(scope="module")
def scene(qgis_env, tmp_path_factory):
    """A SCENE sample scene and its scene.json (this module's own; see the module's help)."""
    return helpers.generate_scene(qgis_env["SMR_TEST_EXECUTABLE"],
                                  tmp_path_factory.mktemp("scene_100_stations"), **SCENE)


@pytest.fixture(scope="module")
def soil_moisture_run(qgis_env, scene, tmp_path_factory):
    """The model on the sample scene with every input given: (output folder, results)."""
    scene_dir, description = scene
    output_dir = tmp_path_factory.mktemp("paper000_soil_moisture")
    results = helpers.run_model_results(qgis_env, MODEL, model_arguments(
        scene_dir, output_dir, INDEX=1, TARGET_FIELD="sm_insitu", SEED=1,
        A_VV=description["VV"]["A"], B_VV=description["VV"]["B"],
        A_VH=description["VH"]["A"], B_VH=description["VH"]["B"]))
    return output_dir, results


@pytest.fixture(scope="module")
def map_and_truth(soil_moisture_run, scene):
    output_dir, _ = soil_moisture_run
    scene_dir, _ = scene
    return read(output_dir / "soil_moisture.tif"), read(scene_dir / "truth_soil_moisture.tif")


def test_model_file_is_portable():
    helpers.assert_model_file_is_portable(MODEL, (
        "smr:spectralindex", "smr:vegetationwatercontent", "smr:watercloudinversion",
        "native:rastersampling", "smr:trainmlp", "smr:applymodel", "smr:validationmetrics"))


def test_every_output_is_written(soil_moisture_run):
    output_dir, results = soil_moisture_run
    for key, name in OUTPUTS.items():
        assert (output_dir / name).is_file(), f"{key}: {name} was not written"
        assert results[key] == str(output_dir / name)
    helpers.assert_float32_geotiff(output_dir / "soil_moisture.tif")
    for name in ("training_report.html", "map_vs_truth_report.html"):
        text = (output_dir / name).read_text(encoding="utf-8")
        assert "<html" in text.lower() and "rmse" in text.lower(), f"{name} is not a report"


def test_network_file_is_paper000s_network(soil_moisture_run):
    output_dir, _ = soil_moisture_run
    network = json.loads((output_dir / "bp_network.json").read_text(encoding="utf-8"))
    assert (network["format"], network["version"], network["kind"]) == ("smr-model", 1, "mlp")
    assert [item["name"] for item in network["inputs"]] == NETWORK_INPUTS
    hidden, output = network["layers"]
    assert hidden["activation"] == "tansig"
    assert np.shape(hidden["weights"]) == (HIDDEN_NEURONS, len(NETWORK_INPUTS))
    assert np.shape(output["weights"]) == (1, HIDDEN_NEURONS)
    assert network["normalisation"]["range"] == [-1, 1]
    # The sampled σ⁰ are in dB, the soil σ⁰ too: their training ranges must say so.
    for item in network["inputs"]:
        assert -40.0 < item["minimum"] < item["maximum"] < 5.0, item


def test_stations_are_split_four_to_one(soil_moisture_run, scene):
    _, results = soil_moisture_run
    scene_dir, _ = scene
    stations_file = ogr.Open(str(scene_dir / "insitu.gpkg"))  # a layer dies with its dataset
    stations = stations_file.GetLayer(0).GetFeatureCount()
    assert stations == SCENE["POINTS"]
    training, validation = results["train:TRAIN_N"], results["train:VALIDATION_N"]
    # A station on a pixel where the inversion is undefined has no soil σ⁰: skipped, counted.
    skipped = results["train:SKIPPED_SAMPLES"]
    assert skipped <= 0.05 * stations
    samples = stations - skipped
    assert training + validation == samples, "every station with valid rasters is a sample"
    assert abs(training - 0.8 * samples) <= 1, f"{training} training of {samples} samples"
    for subset in ("TRAIN", "VALIDATION"):
        assert 0.0 <= results[f"train:{subset}_R2"] <= 1.0
        assert 0.0 < results[f"train:{subset}_MAE"] <= results[f"train:{subset}_RMSE"]


def test_map_is_on_the_radar_grid_within_the_clamp(soil_moisture_run, map_and_truth, scene):
    output_dir, results = soil_moisture_run
    scene_dir, _ = scene
    estimate, _ = map_and_truth
    assert grid(output_dir / "soil_moisture.tif") == grid(scene_dir / "sigma0_vv_db.tif")
    valid = np.isfinite(estimate)
    # Nodata only where the inversion is undefined (σ⁰ ≤ σ⁰_veg, a few speckled pixels in VH).
    assert valid.mean() > 0.97, f"only {100 * valid.mean():.1f}% of the map is valid"
    assert CLAMP_MIN <= np.nanmin(estimate) and np.nanmax(estimate) <= np.float32(CLAMP_MAX)
    at_a_bound = (estimate == CLAMP_MIN) | (estimate == np.float32(CLAMP_MAX))
    assert results["map:CLAMPED_PIXELS"] == int(at_a_bound.sum())
    assert results["map:VALID_PIXELS"] == int(valid.sum())
    assert results["map:NODATA_PIXELS"] + results["map:INVALID_PIXELS"] == int((~valid).sum())


def test_map_beats_a_map_of_the_mean(map_and_truth):
    estimate, truth = map_and_truth
    both = np.isfinite(estimate) & np.isfinite(truth)
    error = estimate[both] - truth[both]
    rmse = np.sqrt(np.mean(error ** 2))
    mean_map_rmse = truth[both].std()
    assert rmse < MAX_RMSE, f"map RMSE {rmse:.4f} m³/m³"
    assert rmse < SKILL_RATIO * mean_map_rmse, (
        f"map RMSE {rmse:.4f} m³/m³ against {mean_map_rmse:.4f} for the truth's mean everywhere")
    assert np.corrcoef(estimate[both], truth[both])[0, 1] > 0.6


def test_reported_map_metrics_are_the_rasters(soil_moisture_run, map_and_truth):
    _, results = soil_moisture_run
    estimate, truth = map_and_truth
    both = np.isfinite(estimate) & np.isfinite(truth)
    error = estimate[both] - truth[both]
    assert results["accuracy:N"] == int(both.sum())
    np.testing.assert_allclose(results["accuracy:RMSE"], np.sqrt(np.mean(error ** 2)), atol=1e-5)
    # bias = mean(map − reference): positive when the map is too wet.
    np.testing.assert_allclose(results["accuracy:BIAS"], error.mean(), atol=1e-5)
    np.testing.assert_allclose(results["accuracy:MAE"], np.abs(error).mean(), atol=1e-5)
    np.testing.assert_allclose(results["accuracy:R"],
                               np.corrcoef(estimate[both], truth[both])[0, 1], atol=1e-4)


def test_defaults_are_the_model_defaults(soil_moisture_run, qgis_env, scene, tmp_path_factory):
    """Left out, INDEX is NDMI, A and B the scene's, TARGET_FIELD sm_insitu and SEED 1."""
    output_dir, _ = soil_moisture_run
    scene_dir, _ = scene
    defaults_dir = tmp_path_factory.mktemp("paper000_soil_moisture_defaults")
    helpers.run_model_results(qgis_env, MODEL, model_arguments(scene_dir, defaults_dir))
    first = json.loads((output_dir / "bp_network.json").read_text(encoding="utf-8"))
    second = json.loads((defaults_dir / "bp_network.json").read_text(encoding="utf-8"))
    assert first["layers"] == second["layers"], "another network with the model's defaults"
    np.testing.assert_array_equal(read(defaults_dir / "soil_moisture.tif"),
                                  read(output_dir / "soil_moisture.tif"))


def test_missing_stations_fail_without_a_map(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("paper000_soil_moisture_missing")
    result = helpers.run_model(qgis_env, MODEL, model_arguments(scene_dir, output_dir,
                                                                INSITU=None))
    helpers.assert_run_fails_naming(result, "INSITU")
    assert not (output_dir / "soil_moisture.tif").exists()
