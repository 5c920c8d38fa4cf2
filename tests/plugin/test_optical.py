"""smr:spectralindex and smr:vegetationwatercontent on tiny rasters vs hand-computed pixels."""

import math

import pytest

from raster_helpers import RecordingFeedback, assert_pixels, write_raster

NAN = math.nan
NODATA = -9999.0

# One row, four pixels, six bands (BLUE, GREEN, RED, NIR, SWIR1, SWIR2 in bands 1..6):
#   0: ordinary vegetation
#   1: every band 0 except BLUE: 0/0 for every index but EVI (whose denominator is 1 − 7.5·0.5)
#   2: EVI denominator NIR + 6·RED − 7.5·BLUE + 1 = 0.875 + 0 − 1.875 + 1 = 0 (exact in binary)
#   3: nodata in every band
STACK = {
    "BLUE": [0.05, 0.5, 0.25, NODATA],
    "GREEN": [0.08, 0.0, 0.125, NODATA],
    "RED": [0.1, 0.0, 0.0, NODATA],
    "NIR": [0.4, 0.0, 0.875, NODATA],
    "SWIR1": [0.3, 0.0, 0.5, NODATA],
    "SWIR2": [0.2, 0.0, 0.25, NODATA],
}
BAND_NUMBER = {key: number for number, key in enumerate(STACK, start=1)}

# index: (INDEX option, inputs, expected pixels) — None is nodata.
INDEX_CASES = {
    "ndvi": (0, ("NIR", "RED"), [0.3 / 0.5, None, 1.0, None]),
    "ndmi": (1, ("NIR", "SWIR1"), [0.1 / 0.7, None, 0.375 / 1.375, None]),
    "ndwi": (2, ("GREEN", "NIR"), [-0.32 / 0.48, None, -0.75, None]),
    "evi": (3, ("NIR", "RED", "BLUE"), [2.5 * 0.3 / 1.625, 0.0, None, None]),
    "nsdsi1": (4, ("SWIR1", "SWIR2"), [0.1 / 0.3, None, 0.25 / 0.5, None]),
    "nsdsi2": (5, ("SWIR1", "SWIR2"), [0.1 / 0.2, None, 0.25 / 0.25, None]),
    "nsdsi3": (6, ("SWIR1", "SWIR2"), [0.1 / 0.5, None, 0.25 / 0.75, None]),
}


@pytest.fixture
def stack(tmp_path):
    return write_raster(tmp_path / "stack.tif", [[values] for values in STACK.values()],
                        nodata=NODATA)


def test_ndvi_with_nodata_nan_and_zero_denominator(run_algorithm, tmp_path):
    nir = write_raster(tmp_path / "nir.tif", [[0.5, 0.4, 0.3], [0.2, NODATA, 0.0], [0.6, 0.7, 0.1]],
                       nodata=NODATA)
    red = write_raster(tmp_path / "red.tif", [[0.1, 0.2, 0.3], [0.1, 0.1, 0.0], [NAN, 0.1, 0.1]],
                       nodata=NODATA)
    result = run_algorithm("spectralindex", {
        "INDEX": 0, "NIR": nir, "RED": red, "OUTPUT": str(tmp_path / "ndvi.tif")})
    # NDVI = (NIR − RED)/(NIR + RED), paper 000 eq. 4; 0/0 → nodata; NaN is nodata.
    assert_pixels(result["OUTPUT"], [[0.4 / 0.6, 0.2 / 0.6, 0.0],
                                     [0.1 / 0.3, None, None],
                                     [None, 0.6 / 0.8, 0.0]])
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (2, 1, 6)


@pytest.mark.parametrize("index", INDEX_CASES)
def test_every_index_from_one_multiband_raster(run_algorithm, stack, tmp_path, index):
    option, inputs, expected = INDEX_CASES[index]
    parameters = {"INDEX": option, "OUTPUT": str(tmp_path / f"{index}.tif")}
    for key in inputs:
        parameters[key] = stack
        parameters[f"{key}_BAND"] = BAND_NUMBER[key]
    result = run_algorithm("spectralindex", parameters)
    assert_pixels(result["OUTPUT"], [expected])
    assert result["NODATA_PIXELS"] == 1
    assert result["INVALID_PIXELS"] == expected.count(None) - 1


def test_landsat_scale_offset_and_integer_input_nodata(run_algorithm, tmp_path):
    from osgeo import gdal

    # Landsat C2 L2 DN with fill value 0: ρ = DN·2.75e-5 − 0.2.
    nir = write_raster(tmp_path / "nir.tif", [[30000, 0]], nodata=0, data_type=gdal.GDT_UInt16)
    red = write_raster(tmp_path / "red.tif", [[10000, 9000]], nodata=0, data_type=gdal.GDT_UInt16)
    result = run_algorithm("spectralindex", {
        "INDEX": 0, "NIR": nir, "RED": red, "SCALE": 2.75e-5, "OFFSET": -0.2,
        "OUTPUT": str(tmp_path / "ndvi.tif")})
    # NIR ρ = 0.625, RED ρ = 0.075: NDVI = 0.55/0.7.
    assert_pixels(result["OUTPUT"], [[0.55 / 0.7, None]])
    assert result["NODATA_PIXELS"] == 1


def test_only_the_bands_the_index_needs_are_sent(run_algorithm, stack, tmp_path):
    parameters = {"INDEX": 0, "OUTPUT": str(tmp_path / "ndvi.tif")}
    for key, number in BAND_NUMBER.items():
        parameters[key], parameters[f"{key}_BAND"] = stack, number
    feedback = RecordingFeedback()
    result = run_algorithm("spectralindex", parameters, feedback)
    request = feedback.request_sent()
    assert {"NIR", "RED"} <= request.keys()
    assert not {"BLUE", "GREEN", "SWIR1", "SWIR2"} & request.keys()
    assert_pixels(result["OUTPUT"], [INDEX_CASES["ndvi"][2]])


def test_nodata_override(run_algorithm, tmp_path):
    nir = write_raster(tmp_path / "nir.tif", [[0.5, 0.25]])  # no nodata of its own
    red = write_raster(tmp_path / "red.tif", [[0.1, 0.25]])
    result = run_algorithm("spectralindex", {
        "INDEX": 0, "NIR": nir, "RED": red, "RED_NODATA": 0.25,
        "OUTPUT": str(tmp_path / "ndvi.tif")})
    assert_pixels(result["OUTPUT"], [[0.4 / 0.6, None]])
    assert result["NODATA_PIXELS"] == 1


# Index values: ordinary, small positive (negative NDVI-model VWC), negative, nodata, NaN.
VWC_INPUT = [[0.5, 0.1, -0.5, NODATA, NAN]]


@pytest.mark.parametrize("model, coefficients, expected", [
    # paper 000 eq. 7: 1.9134·x² − 0.3215·x; at 0.1 it is −0.013016 → clamped to 0.
    (0, "", [1.9134 * 0.25 - 0.3215 * 0.5, 0.0, 1.9134 * 0.25 + 0.3215 * 0.5, None, None]),
    # eq. 8: 2.15·x + 0.32; at −0.5 it is −0.755 → 0.
    (1, "", [2.15 * 0.5 + 0.32, 2.15 * 0.1 + 0.32, 0.0, None, None]),
    # eq. 9: 1.44·x² + 1.36·x + 0.34.
    (2, "", [1.44 * 0.25 + 1.36 * 0.5 + 0.34, 1.44 * 0.01 + 1.36 * 0.1 + 0.34,
             1.44 * 0.25 - 1.36 * 0.5 + 0.34, None, None]),
    # user polynomial 1 + 2x + 3x².
    (3, "1, 2, 3", [1 + 1 + 0.75, 1 + 0.2 + 0.03, 1 - 1 + 0.75, None, None]),
])
def test_vegetation_water_content_models(run_algorithm, tmp_path, model, coefficients, expected):
    index = write_raster(tmp_path / "index.tif", VWC_INPUT, nodata=NODATA)
    result = run_algorithm("vegetationwatercontent", {
        "INPUT": index, "MODEL": model, "COEFFICIENTS": coefficients, "NEGATIVE": 0,
        "OUTPUT": str(tmp_path / "vwc.tif")})
    assert_pixels(result["OUTPUT"], [expected], rel=1e-5)
    assert result["NODATA_PIXELS"] == 2
    assert result["INVALID_PIXELS"] == 0
    assert result["CLAMPED_PIXELS"] == (0 if model >= 2 else 1)


@pytest.mark.parametrize("negative, expected_second_pixel, clamped", [
    (0, 0.0, 1),
    (1, None, 0),
    (2, 1.9134 * 0.01 - 0.3215 * 0.1, 0),
])
def test_negative_vwc_policies(run_algorithm, tmp_path, negative, expected_second_pixel, clamped):
    index = write_raster(tmp_path / "index.tif", [[0.5, 0.1]], nodata=NODATA)
    result = run_algorithm("vegetationwatercontent", {
        "INPUT": index, "MODEL": 0, "NEGATIVE": negative, "OUTPUT": str(tmp_path / "vwc.tif")})
    assert_pixels(result["OUTPUT"], [[1.9134 * 0.25 - 0.3215 * 0.5, expected_second_pixel]],
                  rel=1e-5)
    assert result["CLAMPED_PIXELS"] == clamped
