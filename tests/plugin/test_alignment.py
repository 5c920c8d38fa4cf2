"""Inputs on another grid or CRS are aligned to the reference grid, and the log says so."""

import numpy as np
import pytest
from osgeo import osr

from raster_helpers import (DEFAULT_ORIGIN, DEFAULT_PIXEL_SIZE, UTM_32N, RecordingFeedback,
                            read_raster, write_raster)

ROWS = COLUMNS = 10
RESAMPLING_NEAREST, RESAMPLING_BILINEAR = 0, 1


def run_ndvi(run_algorithm, red, nir, output, resampling):
    feedback = RecordingFeedback()
    result = run_algorithm("spectralindex", {
        "INDEX": 0, "RED": red, "NIR": nir, "RESAMPLING": resampling, "OUTPUT": str(output)},
        feedback)
    return result, feedback


def aligned_log_lines(feedback):
    return [line for line in feedback.infos if "aligned" in line]


def test_half_resolution_input_is_aligned_with_the_chosen_resampling(run_algorithm, tmp_path):
    # RED (the first input of NDVI, so the reference) on a 30 m grid; NIR on the same extent at
    # 60 m: with nearest resampling every 60 m pixel covers exactly 2×2 output pixels.
    red_values = np.full((ROWS, COLUMNS), 0.1)
    nir_coarse = 0.3 + 0.01 * np.arange(25).reshape(5, 5)
    red = write_raster(tmp_path / "red.tif", red_values)
    nir = write_raster(tmp_path / "nir60.tif", nir_coarse, pixel_size=2 * DEFAULT_PIXEL_SIZE)
    result, feedback = run_ndvi(run_algorithm, red, nir, tmp_path / "ndvi.tif", RESAMPLING_NEAREST)

    values, _, _, geotransform, _ = read_raster(result["OUTPUT"])
    assert values.shape == (ROWS, COLUMNS)
    assert geotransform == (DEFAULT_ORIGIN[0], DEFAULT_PIXEL_SIZE, 0.0, DEFAULT_ORIGIN[1], 0.0,
                            -DEFAULT_PIXEL_SIZE)
    nir_fine = np.kron(nir_coarse, np.ones((2, 2)))
    np.testing.assert_allclose(values, (nir_fine - 0.1) / (nir_fine + 0.1), rtol=1e-6)
    lines = aligned_log_lines(feedback)
    assert len(lines) == 1 and lines[0].startswith("NIR") and "nearest" in lines[0]


def test_input_in_another_crs_is_aligned(run_algorithm, tmp_path):
    red = write_raster(tmp_path / "red.tif", np.full((ROWS, COLUMNS), 0.1))
    # NIR in EPSG:4326 over the same area, with a margin so every output pixel is covered.
    utm, geographic = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(UTM_32N)
    geographic.ImportFromEPSG(4326)
    geographic.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    utm_to_geographic = osr.CoordinateTransformation(utm, geographic)
    x0, y0 = DEFAULT_ORIGIN
    size = ROWS * DEFAULT_PIXEL_SIZE
    corners = [utm_to_geographic.TransformPoint(x, y)[:2]
               for x in (x0, x0 + size) for y in (y0, y0 - size)]
    longitudes, latitudes = zip(*corners)
    margin = 0.001
    west, north = min(longitudes) - margin, max(latitudes) + margin
    step = 0.0001
    columns = int((max(longitudes) + margin - west) / step) + 1
    rows = int((north - (min(latitudes) - margin)) / step) + 1
    nir = write_raster(tmp_path / "nir4326.tif", np.full((rows, columns), 0.5), epsg=4326,
                       origin=(west, north), pixel_size=step)

    result, feedback = run_ndvi(run_algorithm, red, nir, tmp_path / "ndvi.tif", RESAMPLING_BILINEAR)
    values, _, _, _, wkt = read_raster(result["OUTPUT"])
    output_crs = osr.SpatialReference(wkt=wkt)
    assert output_crs.IsSame(utm)  # the output is on the reference (RED) grid
    np.testing.assert_allclose(values, np.full((ROWS, COLUMNS), 0.4 / 0.6), rtol=1e-6)
    assert result["NODATA_PIXELS"] == 0
    lines = aligned_log_lines(feedback)
    assert len(lines) == 1 and lines[0].startswith("NIR") and "bilinear" in lines[0]


def test_inputs_on_the_same_grid_are_not_resampled(run_algorithm, tmp_path):
    red = write_raster(tmp_path / "red.tif", np.full((ROWS, COLUMNS), 0.1))
    nir = write_raster(tmp_path / "nir.tif", np.full((ROWS, COLUMNS), 0.3))
    _, feedback = run_ndvi(run_algorithm, red, nir, tmp_path / "ndvi.tif", RESAMPLING_BILINEAR)
    assert aligned_log_lines(feedback) == []


@pytest.mark.parametrize("resampling, name", [(2, "cubic"), (5, "average")])
def test_resampling_name_reaches_the_core(run_algorithm, tmp_path, resampling, name):
    red = write_raster(tmp_path / "red.tif", np.full((ROWS, COLUMNS), 0.1))
    nir = write_raster(tmp_path / "nir60.tif", np.full((5, 5), 0.3),
                       pixel_size=2 * DEFAULT_PIXEL_SIZE)
    _, feedback = run_ndvi(run_algorithm, red, nir, tmp_path / "ndvi.tif", resampling)
    lines = aligned_log_lines(feedback)
    assert len(lines) == 1 and name in lines[0]
