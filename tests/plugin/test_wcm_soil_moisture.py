"""The soil moisture output of smr:watercloudinversion (Yu et al. eq. 6):
SM = (10·log10((σ⁰ − σ⁰_veg)/γ²) − C)/D."""

import math

import numpy as np
import pytest
from qgis.core import QgsRasterLayer, QgsSingleBandPseudoColorRenderer

from raster_helpers import (
    RecordingFeedback,
    assert_pixels,
    error_of,
    read_values,
    write_raster,
)

NODATA = -9999.0


def soil_moisture(total_db, vwc, theta, c=-17.0, d=28.0, a=0.12, b=0.09, v1_is_vwc=True):
    """Eq. 6 by hand; None where σ⁰ ≤ σ⁰_veg."""
    cos_theta = math.cos(math.radians(theta))
    attenuation = math.exp(-2.0 * b * vwc / cos_theta)
    vegetation = a * (vwc if v1_is_vwc else 1.0) * cos_theta * (1.0 - attenuation)
    total = 10.0 ** (total_db / 10.0)
    if total <= vegetation:
        return None
    return (10.0 * math.log10((total - vegetation) / attenuation) - c) / d


@pytest.fixture
def scene(tmp_path):
    """σ⁰ −9 dB at VWC 2 (SM 0.2356 with V1 = VWC), −30 dB at VWC 2 (below σ⁰_veg), nodata,
    −25 dB and −3 dB without vegetation (SM −0.2857 and 0.5)."""
    total = write_raster(tmp_path / "total.tif", [[-9.0, -30.0, NODATA, -25.0, -3.0]],
                         nodata=NODATA)
    vwc = write_raster(tmp_path / "vwc.tif", [[2.0, 2.0, 1.0, 0.0, 0.0]])
    return {"SIGMA0": total, "SIGMA0_UNIT": 0, "VWC": vwc, "ANGLE_CONSTANT": 40.0, "A": 0.12,
            "B": 0.09, "V1": 0, "OUTPUT": str(tmp_path / "soil.tif"),
            "SOIL_MOISTURE_OUTPUT": str(tmp_path / "sm.tif"), "C": -17.0, "D": 28.0}


def test_soil_moisture_hand_computed_with_counts(run_algorithm, scene):
    feedback = RecordingFeedback()
    result = run_algorithm("watercloudinversion", scene, feedback)
    # −9 dB, VWC 2, 40°: σ⁰_soil = −10.403722 dB, SM = (−10.403722 + 17)/28 = 0.2355814.
    assert soil_moisture(-9.0, 2.0, 40.0) == pytest.approx(0.2355814, rel=1e-6)
    assert_pixels(result["SOIL_MOISTURE_OUTPUT"],
                  [[0.2355814, None, None, -8.0 / 28.0, 0.5]], rel=2e-6)
    assert (result["NODATA_PIXELS"], result["INVALID_PIXELS"], result["VALID_PIXELS"]) == (1, 1, 3)
    # 0.5 is inside the default SM_MAX 0.6; written as computed without CLAMP.
    assert (result["SM_BELOW_PIXELS"], result["SM_ABOVE_PIXELS"], result["CLAMPED_PIXELS"]) == (
        1, 0, 0)
    assert "pixels have SM < 0" in "\n".join(feedback.warnings)
    # The same computation: SM = (σ⁰_soil[dB] − C)/D on the σ⁰_soil written beside it.
    soil = read_values(result["OUTPUT"])[0, 0]
    assert read_values(result["SOIL_MOISTURE_OUTPUT"])[0, 0] == pytest.approx(
        (soil + 17.0) / 28.0, rel=1e-6)


def test_paper_002_convention_v1_one(run_algorithm, scene):
    result = run_algorithm("watercloudinversion", dict(scene, V1=1))
    # V1 = 1: σ⁰_veg = 0.0344687, σ⁰_soil = −8.348454 dB, SM = 0.3089838.
    assert read_values(result["SOIL_MOISTURE_OUTPUT"])[0, 0] == pytest.approx(0.3089838, rel=2e-6)
    assert soil_moisture(-9.0, 2.0, 40.0, v1_is_vwc=False) == pytest.approx(0.3089838, rel=1e-6)


def test_parameters_pass_through_and_clamp_when_asked(run_algorithm, scene):
    feedback = RecordingFeedback()
    result = run_algorithm("watercloudinversion", dict(scene, SM_MAX=0.4, CLAMP=True), feedback)
    request = feedback.request_sent()
    assert (request["C"], request["D"], request["SM_MAX"], request["CLAMP"]) == (
        -17.0, 28.0, 0.4, True)
    assert request["SOIL_MOISTURE_OUTPUT"] == scene["SOIL_MOISTURE_OUTPUT"]
    assert_pixels(result["SOIL_MOISTURE_OUTPUT"], [[0.2355814, None, None, 0.0, 0.4]], rel=2e-6)
    assert (result["SM_BELOW_PIXELS"], result["SM_ABOVE_PIXELS"], result["CLAMPED_PIXELS"]) == (
        1, 1, 2)


def test_defaults_sent_when_left_empty(run_algorithm, scene):
    feedback = RecordingFeedback()
    run_algorithm("watercloudinversion", scene, feedback)
    request = feedback.request_sent()
    assert (request["SM_MAX"], request["CLAMP"]) == (0.6, False)


def test_nothing_of_it_is_sent_without_the_output(run_algorithm, scene, tmp_path):
    parameters = {key: value for key, value in scene.items() if key != "SOIL_MOISTURE_OUTPUT"}
    feedback = RecordingFeedback()
    result = run_algorithm("watercloudinversion", parameters, feedback)
    request = feedback.request_sent()
    for key in ("SOIL_MOISTURE_OUTPUT", "C", "D", "SM_MAX", "CLAMP"):
        assert key not in request
    assert "C and D are used by the soil moisture output only" in "\n".join(feedback.infos)
    assert result["SM_BELOW_PIXELS"] is None and not result.get("SOIL_MOISTURE_OUTPUT")
    assert not (tmp_path / "sm.tif").exists()


def test_soil_moisture_output_gets_the_soil_moisture_style(run_algorithm, scene, tmp_path):
    run_algorithm("watercloudinversion", scene)
    assert (tmp_path / "sm.qml").is_file()
    # A file opened from disk finds sm.qml beside it: the dry-to-wet ramp, 0–0.5 m³/m³.
    layer = QgsRasterLayer(str(tmp_path / "sm.tif"), "sm", "gdal")
    assert layer.isValid()
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    assert (renderer.classificationMin(), renderer.classificationMax()) == (0.0, 0.5)
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert items[0].color.name() == "#fde725" and items[-1].color.name() == "#440154"


@pytest.mark.parametrize("missing", ["C", "D"])
def test_c_and_d_are_needed_for_the_output(run_algorithm, scene, missing, tmp_path):
    parameters = {key: value for key, value in scene.items() if key != missing}
    message = error_of(run_algorithm, "watercloudinversion", parameters)
    assert f"Invalid value for {missing} (empty)" in message
    assert "SOIL_MOISTURE_OUTPUT" in message
    assert not (tmp_path / "sm.tif").exists() and not (tmp_path / "soil.tif").exists()


def test_zero_slope_is_refused(run_algorithm, scene, tmp_path):
    message = error_of(run_algorithm, "watercloudinversion", dict(scene, D=0.0))
    assert "D is 0" in message
    assert not (tmp_path / "sm.tif").exists()


@pytest.mark.parametrize("sm_max", [0.0, -0.1])
def test_sm_max_must_be_above_zero(run_algorithm, scene, sm_max):
    message = error_of(run_algorithm, "watercloudinversion", dict(scene, SM_MAX=sm_max))
    assert "SM_MAX" in message


def test_identity_with_the_forward_model(run_algorithm, tmp_path):
    rng = np.random.default_rng(11)
    moisture = rng.uniform(0.05, 0.45, (5, 6))
    soil = write_raster(tmp_path / "soil_in.tif", -17.0 + 28.0 * moisture)  # Yu et al. eq. 3
    vwc = write_raster(tmp_path / "vwc.tif", rng.uniform(0.0, 2.5, (5, 6)))
    angle = write_raster(tmp_path / "angle.tif", rng.uniform(30.0, 45.0, (5, 6)))
    common = {"VWC": vwc, "ANGLE": angle, "A": 0.12, "B": 0.09, "V1": 1}
    forward = run_algorithm("watercloudforward", dict(
        common, SIGMA_SOIL=soil, SIGMA_SOIL_UNIT=0, OUTPUT_UNIT=1,
        OUTPUT=str(tmp_path / "total.tif")))
    inverted = run_algorithm("watercloudinversion", dict(
        common, SIGMA0=forward["OUTPUT"], SIGMA0_UNIT=1, C=-17.0, D=28.0,
        OUTPUT=str(tmp_path / "soil.tif"), SOIL_MOISTURE_OUTPUT=str(tmp_path / "sm.tif")))
    np.testing.assert_allclose(read_values(inverted["SOIL_MOISTURE_OUTPUT"]), moisture, atol=1e-5)
    assert inverted["INVALID_PIXELS"] == 0 and inverted["SM_BELOW_PIXELS"] == 0
