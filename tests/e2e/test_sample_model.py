"""End-to-end: the sample model sample_projects/paper000_physical_chain.model3 through qgis_process.

Runs `qgis_process.bin run <model> -- KEY=value …` as a user would, on a small scene from
`smr samplescene` (fixtures in conftest.py). Checks the exit status, that every output is a
GDAL raster on the expected grid, and that the physics holds: the scene's VWC is paper 000 eq. 8
on NDMI, so with INDEX = NDMI the retrieved soil σ⁰ must match the true σ⁰_soil[dB] = C + D·SM of
scene.json up to the speckle.

Run with /usr/bin/python3 -m pytest tests/e2e (scripts/run-tests sets the environment).
"""

import numpy as np
import pytest

import qgis_process_helpers as helpers
from qgis_process_helpers import REPO_ROOT, SAMPLE_PROJECTS, SIZE, grid, read

MODEL = SAMPLE_PROJECTS / "paper000_physical_chain.model3"
PROJECT = SAMPLE_PROJECTS / "paper000_sample.qgs"
INPUTS = {
    "GREEN": "reflectance_green.tif", "RED": "reflectance_red.tif", "NIR": "reflectance_nir.tif",
    "SWIR1": "reflectance_swir1.tif", "SIGMA0_VV": "sigma0_vv_db.tif",
    "SIGMA0_VH": "sigma0_vh_db.tif", "ANGLE": "incidence_angle.tif",
}
INDICES = {"NDVI": 0, "NDMI": 1, "NDWI": 2}
# Model output keys (QGIS 3.22 names them <child id>:<output name>) -> file names.
OUTPUTS = {
    "index:INDEX": "index.tif",
    "vwc:VWC": "vwc.tif",
    "vv:SOIL_SIGMA0": "soil_sigma0_vv.tif",
    "vv:VEGETATION": "vegetation_vv.tif",
    "vh:SOIL_SIGMA0": "soil_sigma0_vh.tif",
    "vh:VEGETATION": "vegetation_vh.tif",
}
RADAR_GRID_OUTPUTS = ("soil_sigma0_vv.tif", "vegetation_vv.tif", "soil_sigma0_vh.tif",
                      "vegetation_vh.tif")
OPTICAL_GRID_OUTPUTS = ("index.tif", "vwc.tif")


def model_arguments(scene_dir, output_dir, **values):
    return helpers.model_arguments(scene_dir, INPUTS, OUTPUTS, output_dir, **values)


def run_model(env, arguments):
    return helpers.run_model(env, MODEL, arguments)


def run_model_ok(env, arguments):
    return helpers.run_model_ok(env, MODEL, arguments)


def run_index(env, scene_dir, description, index, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp(f"model_{index.lower()}")
    run_model_ok(env, model_arguments(
        scene_dir, output_dir, INDEX=INDICES[index],
        A_VV=description["VV"]["A"], B_VV=description["VV"]["B"],
        A_VH=description["VH"]["A"], B_VH=description["VH"]["B"]))
    return output_dir


@pytest.fixture(scope="session")
def ndmi_run(qgis_env, scene, tmp_path_factory):
    scene_dir, description = scene
    return run_index(qgis_env, scene_dir, description, "NDMI", tmp_path_factory)


def test_model_file_is_portable():
    helpers.assert_model_file_is_portable(MODEL, (
        "smr:spectralindex", "smr:vegetationwatercontent", "smr:watercloudinversion"))


def test_every_output_is_a_raster_on_its_grid(ndmi_run, scene):
    scene_dir, _ = scene
    radar = grid(scene_dir / "sigma0_vv_db.tif")
    optical = grid(scene_dir / "reflectance_nir.tif")
    assert radar[:2] == (SIZE, SIZE)
    for name in OUTPUTS.values():
        helpers.assert_float32_geotiff(ndmi_run / name)
    # The inversion runs on the σ⁰ grid (its first raster input); the index and the VWC stay on
    # the grid of the reflectance they come from and are aligned on the fly by the inversion.
    for name in RADAR_GRID_OUTPUTS:
        assert grid(ndmi_run / name) == radar, f"{name} is not on the radar grid"
    for name in OPTICAL_GRID_OUTPUTS:
        assert grid(ndmi_run / name) == optical, f"{name} is not on the optical grid"


def test_ndmi_recovers_the_true_vwc_and_soil_backscatter(ndmi_run, scene):
    scene_dir, description = scene
    # VWC: compare on the optical grid, the truth averaged from the radar grid.
    vwc = read(ndmi_run / "vwc.tif")
    true_vwc_dataset = helpers.warp_onto_grid(scene_dir / "truth_vwc.tif", ndmi_run / "vwc.tif",
                                              format="MEM", resampleAlg="average")
    true_vwc = true_vwc_dataset.GetRasterBand(1).ReadAsArray().astype(np.float64)
    inner = np.s_[2:-2, 2:-2]  # the edge pixels of the optical grid overhang the scene
    difference = (vwc - true_vwc)[inner]
    assert np.isfinite(difference).mean() > 0.99
    assert abs(np.nanmean(difference)) < 0.05, f"VWC bias {np.nanmean(difference):.3f} kg/m²"
    assert np.nanmedian(np.abs(difference)) < 0.15

    soil_moisture = read(scene_dir / "truth_soil_moisture.tif")
    for polarisation in ("VV", "VH"):
        parameters = description[polarisation]
        true_soil = parameters["C"] + parameters["D"] * soil_moisture
        soil = read(ndmi_run / f"soil_sigma0_{polarisation.lower()}.tif")
        valid = np.isfinite(soil)
        # Pixels with σ⁰ ≤ σ⁰_veg are nodata (speckle makes a few); almost all must be valid.
        assert valid.mean() > 0.97, f"{polarisation}: only {100 * valid.mean():.1f}% valid"
        error = soil[valid] - true_soil[valid]
        # 20-look speckle alone is ~1 dB per pixel and biases dB means by about −0.1 dB.
        assert abs(error.mean()) < 0.6, f"{polarisation}: soil σ⁰ bias {error.mean():.2f} dB"
        assert np.sqrt((error ** 2).mean()) < 3.0, f"{polarisation}: soil σ⁰ RMSE too large"
        # The retrieved soil σ⁰ follows the soil moisture, as σ⁰_soil = C + D·SM says: on
        # 10 × 10 pixel blocks, where the speckle averages out (per pixel it dominates in VH).
        blocks = SIZE // 10
        soil_blocks = np.nanmean(soil.reshape(blocks, 10, blocks, 10), axis=(1, 3))
        true_blocks = true_soil.reshape(blocks, 10, blocks, 10).mean(axis=(1, 3))
        correlation = np.corrcoef(soil_blocks.ravel(), true_blocks.ravel())[0, 1]
        assert correlation > 0.85, f"{polarisation}: block correlation {correlation:.2f}"

        vegetation = read(ndmi_run / f"vegetation_{polarisation.lower()}.tif")
        total = read(scene_dir / f"sigma0_{polarisation.lower()}_db.tif")
        both = valid & np.isfinite(vegetation)
        # VEGETATION_OUTPUT is σ⁰[dB] − σ⁰_soil[dB] by definition.
        np.testing.assert_allclose(vegetation[both], (total - soil)[both], atol=1e-3)
        assert np.all(np.isnan(vegetation[~valid]))


@pytest.mark.parametrize("index", ["NDVI", "NDWI"])
def test_other_indices_run_and_differ(index, ndmi_run, qgis_env, scene, tmp_path_factory):
    scene_dir, description = scene
    output_dir = run_index(qgis_env, scene_dir, description, index, tmp_path_factory)
    ndmi_vwc = read(ndmi_run / "vwc.tif")
    vwc = read(output_dir / "vwc.tif")
    assert np.isfinite(vwc).mean() > 0.99
    assert np.nanmin(vwc) >= 0.0  # negative VWC is set to 0 by the model (NEGATIVE = zero)
    assert not np.allclose(vwc, ndmi_vwc, equal_nan=True), f"{index} gave the NDMI VWC"
    for polarisation in ("vv", "vh"):
        soil = read(output_dir / f"soil_sigma0_{polarisation}.tif")
        assert np.isfinite(soil).mean() > 0.9


def test_defaults_are_the_model_defaults(ndmi_run, qgis_env, scene, tmp_path_factory):
    """Left out, INDEX is NDMI and A, B are the model's (not the child algorithms') defaults."""
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("model_defaults")
    run_model_ok(qgis_env, model_arguments(scene_dir, output_dir))
    for name in ("vwc.tif", "soil_sigma0_vv.tif", "soil_sigma0_vh.tif"):
        np.testing.assert_array_equal(read(output_dir / name), read(ndmi_run / name),
                                      err_msg=f"{name} differs with the model defaults")


def test_vegetation_outputs_are_optional(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("model_no_vegetation")
    arguments = model_arguments(scene_dir, output_dir)
    arguments = [a for a in arguments if not a.split("=")[0].endswith(":VEGETATION")]
    run_model_ok(qgis_env, arguments)
    assert (output_dir / "soil_sigma0_vh.tif").is_file()
    assert not (output_dir / "vegetation_vh.tif").exists()


def test_missing_input_fails(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("model_missing")
    result = run_model(qgis_env, model_arguments(scene_dir, output_dir, SIGMA0_VH=None))
    helpers.assert_run_fails_naming(result, "SIGMA0_VH")
    assert not (output_dir / "soil_sigma0_vh.tif").exists()


def test_unreadable_input_fails_without_outputs(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("model_bad")
    broken = output_dir / "broken_sigma0.tif"
    broken.write_text("not a raster")
    result = run_model(qgis_env, model_arguments(scene_dir, output_dir, SIGMA0_VV=broken))
    assert result.returncode != 0, result.stdout
    assert not (output_dir / "soil_sigma0_vv.tif").exists()


def test_sample_project_refers_to_the_data_relatively():
    text = PROJECT.read_text(encoding="utf-8")
    for name in ("sigma0_vv_db.tif", "truth_soil_moisture.tif", "insitu.gpkg",
                 "truth_sigma_soil_vv_db.tif", "brightness_temperature_v.tif",
                 "brightness_temperature_h.tif"):
        assert f"./data/{name}" in text
    assert str(REPO_ROOT) not in text


def test_sample_project_embeds_every_sample_model():
    """The project lists the sample models under Project models (QGIS's <projectModels>)."""
    text = PROJECT.read_text(encoding="utf-8")
    start, end = text.index("<projectModels>"), text.index("</projectModels>")
    embedded = text[start:end]
    model_files = sorted(SAMPLE_PROJECTS.glob("*.model3"))
    assert len(model_files) >= 3
    for model_file in model_files:
        assert f'name="model_name" value="{model_file.stem}"' in embedded, (
            f"{model_file.name} is not embedded in {PROJECT.name}")
