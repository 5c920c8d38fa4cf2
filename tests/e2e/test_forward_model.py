"""End-to-end: sample_projects/wcm_forward_simulation.model3 (water cloud forward) via qgis_process.

Runs the model on the small sample scene of conftest.py and checks its two outputs against the
water cloud model recomputed with numpy from the inputs (linear units, paper 000 eq. 1-3, paper
002 eq. 2, 4, 5):

    σ⁰ = A·V1·cosθ·(1 − γ²) + γ²·σ⁰_soil,  γ² = exp(−2·B·VWC/cosθ),  V1 = VWC or 1,

and that the dB output is 10·log10 of the linear output. With what the scene generator used for
σ⁰ VV (true soil σ⁰, true VWC, the scene's VV A and B, V1 = VWC) the simulated σ⁰ must match the
observed, speckled σ⁰ VV on average in linear power.
"""

import numpy as np
import pytest
from osgeo import gdal

import qgis_process_helpers as helpers
from qgis_process_helpers import SAMPLE_PROJECTS, assert_matches, grid, read

MODEL = SAMPLE_PROJECTS / "wcm_forward_simulation.model3"
INPUTS = {"SIGMA_SOIL": "truth_sigma_soil_vv_db.tif", "VWC": "truth_vwc.tif",
          "ANGLE": "incidence_angle.tif"}
OUTPUTS = {"forward:SIGMA0_LINEAR": "sigma0_linear.tif", "db:SIGMA0_DB": "sigma0_db.tif"}
V1_VWC, V1_ONE = 0, 1  # the model's V1 options
DEFAULT_A, DEFAULT_B = 0.12, 0.09  # the model's defaults (the sample scene's VV values)


def model_arguments(scene_dir, output_dir, **values):
    return helpers.model_arguments(scene_dir, INPUTS, OUTPUTS, output_dir, **values)


def water_cloud(sigma_soil_db, vwc, angle_deg, a, b, v1_is_vwc):
    """Total σ⁰ in linear power by the water cloud model, from soil σ⁰ in dB."""
    cos_theta = np.cos(np.radians(angle_deg))
    gamma2 = np.exp(-2.0 * b * vwc / cos_theta)
    v1 = vwc if v1_is_vwc else 1.0
    return a * v1 * cos_theta * (1.0 - gamma2) + gamma2 * 10.0 ** (sigma_soil_db / 10.0)


def assert_db_is_the_linear_output(output_dir):
    linear = read(output_dir / "sigma0_linear.tif")
    decibel = read(output_dir / "sigma0_db.tif")
    assert np.array_equal(np.isfinite(linear), np.isfinite(decibel))
    valid = np.isfinite(linear)
    assert np.all(linear[valid] > 0)
    np.testing.assert_allclose(decibel[valid], 10.0 * np.log10(linear[valid]), rtol=0,
                               atol=1e-4, err_msg="dB output != 10·log10(linear output)")


def assert_simulates_the_scene(output_dir, scene_dir, a, b, v1_is_vwc, name):
    """The linear output is the water cloud model of the inputs, the dB output the same in dB."""
    expected = water_cloud(read(scene_dir / INPUTS["SIGMA_SOIL"]), read(scene_dir / INPUTS["VWC"]),
                           read(scene_dir / INPUTS["ANGLE"]), a, b, v1_is_vwc)
    assert_matches(read(output_dir / "sigma0_linear.tif"), expected, name)
    assert_db_is_the_linear_output(output_dir)


@pytest.fixture(scope="session")
def paper000_run(qgis_env, scene, tmp_path_factory):
    """The scene's own σ⁰ VV set-up: its VV A and B with V1 = VWC (paper 000)."""
    scene_dir, description = scene
    output_dir = tmp_path_factory.mktemp("forward_paper000")
    helpers.run_model_ok(qgis_env, MODEL, model_arguments(
        scene_dir, output_dir, A=description["VV"]["A"], B=description["VV"]["B"], V1=V1_VWC))
    return output_dir


def test_model_file_is_portable():
    helpers.assert_model_file_is_portable(MODEL, ("smr:watercloudforward",
                                                  "smr:backscatterconversion"))


def test_outputs_are_rasters_on_the_soil_backscatter_grid(paper000_run, scene):
    scene_dir, _ = scene
    radar = grid(scene_dir / "truth_sigma_soil_vv_db.tif")
    for name in OUTPUTS.values():
        helpers.assert_float32_geotiff(paper000_run / name)
        assert grid(paper000_run / name) == radar, f"{name} is not on the soil σ⁰ grid"


def test_paper000_convention_is_the_water_cloud_model(paper000_run, scene):
    scene_dir, description = scene
    assert_simulates_the_scene(paper000_run, scene_dir, description["VV"]["A"],
                               description["VV"]["B"], True, "σ⁰ linear, V1 = VWC")


def test_simulation_matches_the_observed_backscatter_on_average(paper000_run, scene):
    """The scene made σ⁰ VV this way, times unit-mean speckle: the mean ratio must be ≈ 1."""
    scene_dir, _ = scene
    observed_db = read(scene_dir / "sigma0_vv_db.tif")
    simulated = read(paper000_run / "sigma0_linear.tif")
    valid = np.isfinite(observed_db) & np.isfinite(simulated)
    ratio = 10.0 ** (observed_db[valid] / 10.0) / simulated[valid]
    assert abs(ratio.mean() - 1.0) < 0.03, f"mean observed/simulated ratio {ratio.mean():.4f}"
    difference_db = observed_db[valid] - read(paper000_run / "sigma0_db.tif")[valid]
    # 20-look speckle: about −0.11 dB mean and 1 dB RMSE in dB.
    assert -0.4 < difference_db.mean() < 0.1
    assert np.sqrt((difference_db ** 2).mean()) < 1.5


def test_defaults_are_paper002_and_the_model_a_b(qgis_env, scene, tmp_path_factory):
    """Left out, V1 is 1 (paper 002) and A, B are the model's defaults."""
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("forward_defaults")
    helpers.run_model_ok(qgis_env, MODEL, model_arguments(scene_dir, output_dir))
    assert_simulates_the_scene(output_dir, scene_dir, DEFAULT_A, DEFAULT_B, False,
                               "σ⁰ linear, defaults")


def test_paper002_convention_with_other_a_b(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("forward_paper002")
    helpers.run_model_ok(qgis_env, MODEL, model_arguments(
        scene_dir, output_dir, A=0.3, B=0.2, V1=V1_ONE))
    assert_simulates_the_scene(output_dir, scene_dir, 0.3, 0.2, False, "σ⁰ linear, V1 = 1")


def test_vwc_on_another_grid_is_aligned(qgis_env, scene, tmp_path_factory):
    """A VWC on the 30 m optical grid is aligned to the soil σ⁰ grid, and the log says so."""
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("forward_vwc_30m")
    vwc_30m = output_dir / "vwc_30m.tif"
    helpers.warp_onto_grid(scene_dir / "truth_vwc.tif", scene_dir / "reflectance_nir.tif",
                           vwc_30m, resampleAlg="average", outputType=gdal.GDT_Float32)
    result = helpers.run_model_ok(qgis_env, MODEL, model_arguments(
        scene_dir, output_dir, VWC=vwc_30m, V1=V1_VWC))
    assert "VWC: aligned to the grid of SIGMA_SOIL" in result.stdout + result.stderr
    radar = grid(scene_dir / "truth_sigma_soil_vv_db.tif")
    for name in OUTPUTS.values():
        assert grid(output_dir / name) == radar
    assert np.isfinite(read(output_dir / "sigma0_db.tif")).mean() > 0.99
    assert_db_is_the_linear_output(output_dir)


def test_missing_vwc_fails(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("forward_missing")
    result = helpers.run_model(qgis_env, MODEL, model_arguments(scene_dir, output_dir, VWC=None))
    helpers.assert_run_fails_naming(result, "VWC")
    assert not (output_dir / "sigma0_db.tif").exists()
