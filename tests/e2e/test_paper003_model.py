"""End-to-end: sample_projects/paper003_predictors.model3 (paper 003's predictors) via qgis_process.

Runs the model on the small sample scene of conftest.py and checks that MPDI, NSDSI and NDVI are
written on the grids of their inputs (MPDI on the coarse passive-microwave grid, NSDSI and NDVI on
the optical grid) and hold the formulas recomputed with numpy from the input rasters:
MPDI = (Tbv − Tbh)/(Tbv + Tbh) (paper 003 §2.1), NSDSI1 = (S1 − S2)/S1, NSDSI2 = (S1 − S2)/S2,
NSDSI3 = (S1 − S2)/(S1 + S2), NDVI = (NIR − RED)/(NIR + RED); and the backscatter time index
BTI = (σ⁰ − min σ⁰)/(max σ⁰ − min σ⁰) per pixel of a small σ⁰ stack written here (with a gap, a
flat series and a single-value series).
"""

import numpy as np
import pytest
from osgeo import gdal, osr

import qgis_process_helpers as helpers
from qgis_process_helpers import SAMPLE_PROJECTS, assert_matches, grid, read

MODEL = SAMPLE_PROJECTS / "paper003_predictors.model3"
INPUTS = {
    "TBV": "brightness_temperature_v.tif", "TBH": "brightness_temperature_h.tif",
    "SWIR1": "reflectance_swir1.tif", "SWIR2": "reflectance_swir2.tif",
    "RED": "reflectance_red.tif", "NIR": "reflectance_nir.tif",
    "SIGMA40_SERIES": "sigma40_series.tif",
}
OUTPUTS = {"mpdi:MPDI": "mpdi.tif", "nsdsi:NSDSI": "nsdsi.tif", "ndvi:NDVI": "ndvi.tif",
           "bti:BTI": "bti.tif"}
# σ⁰ (dB), 5 days × 2 × 3 pixels: pixel (0, 2) has a gap on day 3, (1, 1) is flat, (1, 2) has one value.
NODATA = -9999.0
SIGMA40 = np.array([
    [[-12.0, -10.0, -15.0], [-11.0, -9.0, NODATA]],
    [[-13.0, -8.0, -14.0], [-10.5, -9.0, NODATA]],
    [[-11.0, -12.0, NODATA], [-10.0, -9.0, -7.5]],
    [[-14.0, -9.0, -16.0], [-12.0, -9.0, NODATA]],
    [[-12.5, -11.0, -13.0], [-9.5, -9.0, NODATA]],
])
NSDSI = {  # the model's NSDSI option -> the formula, S1 = SWIR1 (1.6 µm), S2 = SWIR2 (2.1 µm)
    0: lambda s1, s2: (s1 - s2) / s1,
    1: lambda s1, s2: (s1 - s2) / s2,
    2: lambda s1, s2: (s1 - s2) / (s1 + s2),
}


@pytest.fixture(scope="session", autouse=True)
def sigma40_series(scene):
    """A tiny σ⁰ stack beside the scene (its own grid: BTI stays on it)."""
    scene_dir, _ = scene
    path = scene_dir / INPUTS["SIGMA40_SERIES"]
    days, rows, columns = SIGMA40.shape
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), columns, rows, days, gdal.GDT_Float32)
    dataset.SetGeoTransform((500000.0, 12500.0, 0.0, 4650000.0, 0.0, -12500.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    dataset.SetProjection(srs.ExportToWkt())
    for day in range(days):
        band = dataset.GetRasterBand(day + 1)
        band.SetNoDataValue(NODATA)
        band.SetDescription(f"2020-01-0{day + 1}")
        band.WriteArray(SIGMA40[day])
    dataset = None
    return path


def model_arguments(scene_dir, output_dir, **values):
    return helpers.model_arguments(scene_dir, INPUTS, OUTPUTS, output_dir, **values)


def run(env, scene_dir, output_dir, **values):
    return helpers.run_model_ok(env, MODEL, model_arguments(scene_dir, output_dir, **values))


@pytest.fixture(scope="session")
def default_run(qgis_env, scene, tmp_path_factory):
    """The model with its defaults (NSDSI left out: NSDSI1)."""
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("paper003_default")
    run(qgis_env, scene_dir, output_dir)
    return output_dir


def test_model_file_is_portable():
    helpers.assert_model_file_is_portable(MODEL, ("smr:mpdi", "smr:spectralindex",
                                                  "smr:backscattertimeindex"))


def test_bti_is_the_min_max_normalised_series(default_run):
    dataset = gdal.Open(str(default_run / "bti.tif"))
    assert dataset.RasterCount == SIGMA40.shape[0]
    assert dataset.GetRasterBand(2).GetDescription() == "2020-01-02"
    bti = dataset.ReadAsArray().astype(np.float64)
    bti[bti == NODATA] = np.nan
    sigma = np.where(SIGMA40 == NODATA, np.nan, SIGMA40)
    low, high = np.nanmin(sigma, axis=0), np.nanmax(sigma, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (sigma - low) / (high - low)
    expected[:, high == low] = np.nan  # flat series and single values: no index
    np.testing.assert_array_equal(np.isnan(bti), np.isnan(expected))
    np.testing.assert_allclose(bti[np.isfinite(bti)], expected[np.isfinite(expected)], atol=1e-6)
    assert bti[0, 0, 0] == pytest.approx(2.0 / 3.0)  # −12 in −14 … −11


def test_outputs_are_rasters_on_the_grids_of_their_inputs(default_run, scene):
    scene_dir, _ = scene
    passive = grid(scene_dir / "brightness_temperature_v.tif")
    optical = grid(scene_dir / "reflectance_swir1.tif")
    radar = grid(scene_dir / "sigma0_vv_db.tif")
    assert passive[:2] == (7, 7) and passive[2][1] == 600.0, "unexpected passive grid"
    assert passive != optical != radar
    for name in OUTPUTS.values():
        helpers.assert_float32_geotiff(default_run / name)
    assert grid(default_run / "mpdi.tif") == passive, "MPDI is not on the passive-microwave grid"
    assert grid(default_run / "nsdsi.tif") == optical, "NSDSI is not on the grid of SWIR1"
    assert grid(default_run / "ndvi.tif") == grid(scene_dir / "reflectance_red.tif"), (
        "NDVI is not on the grid of RED")


def test_mpdi_is_the_polarisation_difference_of_the_brightness_temperatures(default_run, scene):
    scene_dir, _ = scene
    tbv = read(scene_dir / "brightness_temperature_v.tif")
    tbh = read(scene_dir / "brightness_temperature_h.tif")
    expected = (tbv - tbh) / (tbv + tbh)
    mpdi = read(default_run / "mpdi.tif")
    assert_matches(mpdi, expected, "MPDI")
    # Physically: V is brighter than H over land, and MPDI stays well below 1.
    assert np.nanmin(mpdi) > 0.0 and np.nanmax(mpdi) < 0.5


def test_ndvi_and_default_nsdsi1(default_run, scene):
    scene_dir, _ = scene
    red = read(scene_dir / "reflectance_red.tif")
    nir = read(scene_dir / "reflectance_nir.tif")
    assert_matches(read(default_run / "ndvi.tif"), (nir - red) / (nir + red), "NDVI")
    s1 = read(scene_dir / "reflectance_swir1.tif")
    s2 = read(scene_dir / "reflectance_swir2.tif")
    assert_matches(read(default_run / "nsdsi.tif"), NSDSI[0](s1, s2), "NSDSI1 (default)")


@pytest.mark.parametrize("option", [0, 1, 2])
def test_nsdsi_option_selects_the_definition(option, qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp(f"paper003_nsdsi{option + 1}")
    run(qgis_env, scene_dir, output_dir, NSDSI=option)
    s1 = read(scene_dir / "reflectance_swir1.tif")
    s2 = read(scene_dir / "reflectance_swir2.tif")
    assert_matches(read(output_dir / "nsdsi.tif"), NSDSI[option](s1, s2), f"NSDSI{option + 1}")


def test_missing_brightness_temperature_fails(qgis_env, scene, tmp_path_factory):
    scene_dir, _ = scene
    output_dir = tmp_path_factory.mktemp("paper003_missing")
    result = helpers.run_model(qgis_env, MODEL, model_arguments(scene_dir, output_dir, TBH=None))
    helpers.assert_run_fails_naming(result, "TBH")
    assert not (output_dir / "mpdi.tif").exists()
