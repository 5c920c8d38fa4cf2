"""REFERENCE, RESAMPLING, THREADS and CREATE_OPTIONS reach the core; the output format follows the extension."""

import pytest
from osgeo import gdal

from raster_helpers import RecordingFeedback, assert_pixels, write_raster


@pytest.fixture
def brightness_temperatures(tmp_path):
    tbv = write_raster(tmp_path / "tbv.tif", [[280.0, 270.0]])
    tbh = write_raster(tmp_path / "tbh.tif", [[260.0, 250.0]])
    return tbv, tbh


def test_common_parameters_in_the_request(run_algorithm, brightness_temperatures, tmp_path):
    tbv, tbh = brightness_temperatures
    feedback = RecordingFeedback()
    result = run_algorithm("mpdi", {
        "TBV": tbv, "TBH": tbh, "TBH_BAND": 1, "TBH_NODATA": 0, "RESAMPLING": 6, "THREADS": 2,
        "CREATE_OPTIONS": "COMPRESS=LZW;TILED=NO", "OUTPUT": str(tmp_path / "mpdi.tif")},
        feedback)
    request = feedback.request_sent()
    assert request["TBV"] == {"path": tbv, "band": 1, "nodata": None}
    assert request["TBH"] == {"path": tbh, "band": 1, "nodata": 0.0}
    assert request["REFERENCE"] == "TBV"
    assert (request["RESAMPLING"], request["THREADS"]) == ("mode", 2)
    assert request["CREATE_OPTIONS"] == ["COMPRESS=LZW", "TILED=NO"]
    dataset = gdal.Open(result["OUTPUT"])
    assert dataset.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE") == "LZW"
    assert_pixels(result["OUTPUT"], [[20.0 / 540.0, 20.0 / 520.0]])


def test_defaults_leave_creation_options_to_the_core(run_algorithm, brightness_temperatures,
                                                    tmp_path):
    tbv, tbh = brightness_temperatures
    feedback = RecordingFeedback()
    result = run_algorithm("mpdi", {"TBV": tbv, "TBH": tbh, "OUTPUT": str(tmp_path / "mpdi.tif")},
                           feedback)
    request = feedback.request_sent()
    assert "CREATE_OPTIONS" not in request
    assert (request["RESAMPLING"], request["THREADS"]) == ("bilinear", 0)
    assert gdal.Open(result["OUTPUT"]).GetMetadataItem(
        "COMPRESSION", "IMAGE_STRUCTURE") == "DEFLATE"


def test_temporary_output_and_another_format(run_algorithm, brightness_temperatures, tmp_path):
    tbv, tbh = brightness_temperatures
    temporary = run_algorithm("mpdi", {"TBV": tbv, "TBH": tbh, "OUTPUT": "TEMPORARY_OUTPUT"})
    assert temporary["OUTPUT"].endswith(".tif")
    assert_pixels(temporary["OUTPUT"], [[20.0 / 540.0, 20.0 / 520.0]])
    erdas = run_algorithm("mpdi", {"TBV": tbv, "TBH": tbh, "OUTPUT": str(tmp_path / "mpdi.img")})
    assert gdal.Open(erdas["OUTPUT"]).GetDriver().ShortName == "HFA"
    assert_pixels(erdas["OUTPUT"], [[20.0 / 540.0, 20.0 / 520.0]])


def test_reference_picks_the_output_grid(run_algorithm, tmp_path):
    coarse = write_raster(tmp_path / "tbv.tif", [[280.0, 270.0]], pixel_size=60.0)
    fine = write_raster(tmp_path / "tbh.tif", [[260.0, 260.0, 250.0, 250.0]] * 2, pixel_size=30.0)
    feedback = RecordingFeedback()
    # Options: 0 first input, 1 TBV, 2 TBH.
    result = run_algorithm("mpdi", {"TBV": coarse, "TBH": fine, "REFERENCE": 2, "RESAMPLING": 0,
                                    "OUTPUT": str(tmp_path / "mpdi.tif")}, feedback)
    assert feedback.request_sent()["REFERENCE"] == "TBH"
    assert any("TBV: aligned to the grid of TBH" in line for line in feedback.infos)
    assert_pixels(result["OUTPUT"], [[20.0 / 540.0, 20.0 / 540.0, 20.0 / 520.0, 20.0 / 520.0]] * 2)


def test_reference_must_be_an_input_of_the_run(run_without_core, tmp_path):
    from qgis.core import QgsProcessingException

    red = write_raster(tmp_path / "red.tif", [[0.1, 0.2]])
    nir = write_raster(tmp_path / "nir.tif", [[0.5, 0.4]])
    # Options: 0 first, 1 BLUE, 2 GREEN, 3 RED, 4 NIR, ...: BLUE is not read by NDVI.
    with pytest.raises(QgsProcessingException, match=r"REFERENCE \(1, BLUE\)"):
        run_without_core("spectralindex", {"INDEX": 0, "RED": red, "NIR": nir, "REFERENCE": 1,
                                           "OUTPUT": str(tmp_path / "ndvi.tif")})
