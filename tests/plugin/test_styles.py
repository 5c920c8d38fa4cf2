"""Styles of the raster outputs (algorithms/styles.py): one renderer per kind, declared for every
raster output, written as a .qml beside the output that QGIS loads by itself, applied and named
when Processing loads the output."""

import math
import os

import numpy as np
import pytest
from qgis.core import (
    QgsApplication,
    QgsColorRampShader,
    QgsPalettedRasterRenderer,
    QgsProcessingFeedback,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor

from raster_helpers import RecordingFeedback, error_of, write_raster, write_stack
from test_timeseries import CellStacks


@pytest.fixture
def styles(qgis_app):
    from smr.algorithms import styles as module

    return module


def layer_of(path):
    layer = QgsRasterLayer(str(path), "test", "gdal")
    assert layer.isValid(), path
    return layer


def renderer_type(path):
    layer = layer_of(path)
    return layer.renderer().type()


def ramp_of(renderer):
    """[(value, colour name, label)] of a pseudocolour renderer's shader items."""
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    return [(item.value, item.color.name(), item.label) for item in items]


def lightness(colour):
    """CIE L* of an sRGB colour (0 black … 100 white)."""
    def linear(channel):
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4
    colour = QColor(colour)
    y = (0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF())
         + 0.0722 * linear(colour.blueF()))
    f = y ** (1.0 / 3.0) if y > 216.0 / 24389.0 else (24389.0 / 27.0 * y + 16.0) / 116.0
    return 116.0 * f - 16.0


# --- one renderer per kind --------------------------------------------------------------------

def test_soil_moisture_is_one_perceptually_uniform_ramp_from_dry_to_wet(styles, tmp_path):
    layer = layer_of(write_raster(tmp_path / "sm.tif", [[0.1, 0.3]]))
    resolved = styles.style_layer(layer, "soil_moisture", name="soil moisture")
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer) and renderer.band() == 1
    assert (renderer.classificationMin(), renderer.classificationMax()) == (0.0, 0.5)
    assert resolved.unit == "m³/m³" and layer.name() == "soil moisture"
    shader = renderer.shader().rasterShaderFunction()
    assert shader.colorRampType() == QgsColorRampShader.Interpolated and not shader.clip()
    ramp = ramp_of(renderer)
    # viridis reversed: yellow when dry, dark blue-purple when wet.
    assert ramp[0][:2] == (0.0, "#fde725") and ramp[-1][:2] == (0.5, "#440154")
    assert ramp[0][2] == "0 m³/m³ (dry)" and ramp[-1][2] == "0.5 m³/m³ (wet)"
    assert all(label.split(" (")[0].endswith("m³/m³") for _, _, label in ramp)
    values = [value for value, _, _ in ramp]
    np.testing.assert_allclose(np.diff(values), 0.0625)
    # Perceptually uniform: lightness falls with moisture, in nearly equal steps.
    steps = -np.diff([lightness(colour) for _, colour, _ in ramp])
    assert (steps > 0).all() and steps.max() < 1.25 * steps.min()
    assert shader.legendSettings().suffix() == " m³/m³"


@pytest.mark.parametrize("kind, minimum, maximum, first, middle, last, unit", [
    ("correlation", -1.0, 1.0, "#67001f", "#ffffff", "#053061", ""),
    ("spectral_index", -1.0, 1.0, "#543005", "#ffffff", "#003c30", ""),
    ("sigma0_db", -30.0, 0.0, "#000000", "#969696", "#ffffff", "dB"),
    ("sigma0_linear", 0.0, 0.3, "#000000", "#969696", "#ffffff", "m²/m²"),
    ("fraction", 0.0, 1.0, "#00224e", "#7d7c78", "#fee838", ""),
])
def test_kinds_with_a_fixed_range(styles, tmp_path, kind, minimum, maximum, first, middle, last,
                                  unit):
    layer = layer_of(write_raster(tmp_path / "values.tif", [[0.2, 0.4]]))
    styles.style_layer(layer, kind)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer) and renderer.band() == 1
    assert (renderer.classificationMin(), renderer.classificationMax()) == (minimum, maximum)
    ramp = ramp_of(renderer)
    assert (ramp[0][0], ramp[-1][0]) == (minimum, maximum)
    assert (ramp[0][1], ramp[len(ramp) // 2][1], ramp[-1][1]) == (first, middle, last)
    assert ramp[len(ramp) // 2][0] == pytest.approx((minimum + maximum) / 2.0)
    if unit:
        assert all(label.endswith(f" {unit}") for _, _, label in ramp)


def test_bias_is_symmetric_around_zero_with_white_at_zero(styles, tmp_path):
    # 2–98 % of the values reach about 0.068: the range is ±0.08 (a round number above it).
    values = np.linspace(-0.03, 0.07, 100).reshape(10, 10)
    layer = layer_of(write_raster(tmp_path / "bias.tif", values, nodata=-9999.0))
    resolved = styles.style_layer(layer, styles.OutputStyle("bias", unit="m³/m³"))
    renderer = layer.renderer()
    assert (resolved.minimum, resolved.maximum) == (pytest.approx(-0.08), pytest.approx(0.08))
    assert renderer.classificationMin() == pytest.approx(-0.08)
    ramp = ramp_of(renderer)
    assert ramp[5][0] == pytest.approx(0.0, abs=1e-12) and ramp[5][1] == "#ffffff"
    assert ramp[0][2] == "−0.08 m³/m³ (too low)" and ramp[-1][2] == "0.08 m³/m³ (too high)"
    # Given limits are kept.
    styles.style_layer(layer, styles.OutputStyle("bias", minimum=-0.1, maximum=0.1))
    assert layer.renderer().classificationMax() == 0.1


def test_errors_start_at_zero(styles, tmp_path):
    values = np.linspace(0.001, 0.043, 50).reshape(5, 10)
    layer = layer_of(write_raster(tmp_path / "rmse.tif", values, nodata=-9999.0))
    styles.style_layer(layer, styles.OutputStyle("error", unit="m³/m³"))
    renderer = layer.renderer()
    assert (renderer.classificationMin(), renderer.classificationMax()) == (
        0.0, pytest.approx(0.05))
    ramp = ramp_of(renderer)
    assert ramp[0][1] == "#ffffcc" and ramp[-1][1] == "#800026"  # YlOrRd
    assert ramp[-1][2] == "0.05 m³/m³"


def test_vegetation_water_content_starts_at_zero_and_ends_above_the_data(styles, tmp_path):
    # 2–98 % of the values reach about 1.27 kg/m²: the ramp ends at 1.5, the next round number.
    values = np.linspace(0.1, 1.3, 100).reshape(10, 10)
    layer = layer_of(write_raster(tmp_path / "vwc.tif", values, nodata=-9999.0))
    styles.style_layer(layer, "vwc")
    renderer = layer.renderer()
    assert (renderer.classificationMin(), renderer.classificationMax()) == (
        0.0, pytest.approx(1.5))
    ramp = ramp_of(renderer)
    assert ramp[0][1] == "#ffffe5" and ramp[-1][1] == "#004529"  # YlGn
    assert ramp[-1][2] == "1.5 kg/m²"


def test_p_values_in_significance_classes(styles, tmp_path):
    layer = layer_of(write_raster(tmp_path / "p.tif", [[0.001, 0.03, 0.07, 0.5]]))
    styles.style_layer(layer, "p_value")
    shader = layer.renderer().shader().rasterShaderFunction()
    assert shader.colorRampType() == QgsColorRampShader.Discrete
    assert ramp_of(layer.renderer()) == [
        (0.01, "#08306b", "p ≤ 0.01"), (0.05, "#2171b5", "0.01 < p ≤ 0.05"),
        (0.1, "#6baed6", "0.05 < p ≤ 0.1"), (math.inf, "#c6dbef", "p > 0.1")]
    # A discrete shader gives a value the colour of the first class bound at or above it.
    assert shader.shade(0.05)[1:4] == (0x21, 0x71, 0xb5)
    assert shader.shade(0.9)[1:4] == (0xc6, 0xdb, 0xef)


def test_counts_in_classes_of_equal_width(styles, tmp_path):
    # The largest count, 152, rounds up to 200: 0, then 1–50, 51–100, 101–150, ≥ 151.
    layer = layer_of(write_raster(tmp_path / "n.tif", [[0.0, 37.0, 152.0]]))
    styles.style_layer(layer, styles.OutputStyle("count", unit="pairs"))
    assert [(value, label) for value, _, label in ramp_of(layer.renderer())] == [
        (0.0, "0 pairs"), (50.0, "1–50 pairs"), (100.0, "51–100 pairs"),
        (150.0, "101–150 pairs"), (math.inf, "≥ 151 pairs")]
    shader = layer.renderer().shader().rasterShaderFunction()
    assert shader.colorRampType() == QgsColorRampShader.Discrete
    assert shader.shade(0.0)[1:4] == (0xbd, 0xbd, 0xbd)  # no pair: grey


def test_masks_are_categories_with_labels(styles, tmp_path):
    layer = layer_of(write_raster(tmp_path / "mask.tif", [[0.0, 1.0]]))
    styles.style_layer(layer, "mask")
    renderer = layer.renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer) and renderer.band() == 1
    assert [(item.value, item.label, item.color.name()) for item in renderer.classes()] == [
        (0.0, "kept", "#f0f0f0"), (1.0, "masked", "#e31a1c")]


def test_other_values_follow_the_data(styles, tmp_path):
    values = np.linspace(10.0, 20.0, 101).reshape(1, 101)
    layer = layer_of(write_raster(tmp_path / "value.tif", values, nodata=-9999.0))
    resolved = styles.style_layer(layer, styles.OutputStyle("value", "MPDI"))
    # The 2 % and 98 % points, 10.2 and 19.8, to a bin of QGIS's histogram.
    assert resolved.minimum == pytest.approx(10.2, abs=0.15)
    assert resolved.maximum == pytest.approx(19.8, abs=0.15)
    assert (layer.renderer().classificationMin(), layer.renderer().classificationMax()) == (
        resolved.minimum, resolved.maximum)
    assert ramp_of(layer.renderer())[0][1] == "#00224e"


def test_a_band_the_raster_does_not_have_and_an_unknown_kind(styles, tmp_path):
    layer = layer_of(write_raster(tmp_path / "one.tif", [[0.5]]))
    assert styles.style_layer(layer, styles.OutputStyle("correlation", band=7)).band == 1
    assert layer.renderer().band() == 1
    with pytest.raises(ValueError) as raised:
        styles.OutputStyle("soilmoisture")
    assert "'soilmoisture'" in str(raised.value) and "soil_moisture" in str(raised.value)
    assert styles.style_layer(QgsRasterLayer(str(tmp_path / "missing.tif"), "x"), "vwc") is None


def test_estimates_get_the_soil_moisture_ramp_only_in_its_range(styles):
    assert styles.estimate_style((0.02, 0.45), "sm", "other").kind == "soil_moisture"
    assert styles.estimate_style(None, "sm", "other") == styles.OutputStyle("soil_moisture", "sm")
    vwc = styles.estimate_style((0.2, 4.5), "sm", "vwc", "kg/m²")
    assert (vwc.kind, vwc.name, vwc.minimum, vwc.maximum, vwc.unit) == (
        "value", "vwc", 0.2, 4.5, "kg/m²")


# --- every raster output declares one ---------------------------------------------------------

def raster_outputs(algorithm):
    """Keys of the outputs QGIS or the user opens as rasters: raster destinations and file
    destinations that offer GeoTIFF."""
    return [parameter.name() for parameter in algorithm.parameterDefinitions()
            if isinstance(parameter, QgsProcessingParameterRasterDestination)
            or (isinstance(parameter, QgsProcessingParameterFileDestination)
                and "*.tif" in parameter.fileFilter())]


def test_every_raster_output_of_every_algorithm_has_a_style(styles):
    provider = QgsApplication.processingRegistry().providerById("smr")
    checked = 0
    for algorithm in provider.algorithms():
        declared = algorithm.output_styles()
        for key in raster_outputs(algorithm):
            assert key in declared, f"{algorithm.id()}: the raster output {key} has no style"
            assert declared[key].kind in styles.KINDS
            checked += 1
        assert set(declared) <= set(raster_outputs(algorithm)), algorithm.id()
    assert checked >= 17  # the outputs of 12 algorithms today: none was missed by the filter


# --- written beside the output, loaded by QGIS itself -----------------------------------------

def index_parameters(tmp_path, output):
    red = write_raster(tmp_path / "red.tif", [[0.1, 0.2], [0.05, 0.3]])
    nir = write_raster(tmp_path / "nir.tif", [[0.5, 0.2], [0.45, 0.1]])
    return {"INDEX": 0, "RED": red, "NIR": nir, "OUTPUT": output}


def test_run_writes_a_qml_that_qgis_loads_with_the_file(run_algorithm, tmp_path):
    output = tmp_path / "ndvi.tif"
    run_algorithm("spectralindex", index_parameters(tmp_path, str(output)))
    assert (tmp_path / "ndvi.qml").is_file()
    assert not [path.name for path in tmp_path.iterdir() if ".partial" in path.name]
    # A file dragged in from disk: QGIS finds ndvi.qml beside ndvi.tif by itself.
    layer = layer_of(output)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    assert (renderer.classificationMin(), renderer.classificationMax()) == (-1.0, 1.0)
    assert ramp_of(renderer)[0][1] == "#543005" and ramp_of(renderer)[5][1] == "#ffffff"
    # Without it, the same file opens grey.
    os.remove(tmp_path / "ndvi.qml")
    assert renderer_type(output) == "singlebandgray"


def test_a_multi_band_metric_map_opens_as_one_metric(run_algorithm, tmp_path):
    reference = np.arange(36, dtype=float).reshape(4, 3, 3) / 100.0 + np.array(
        [0.0, 0.3, 0.1, 0.2])[:, None, None]
    output = tmp_path / "metrics.tif"
    run_algorithm("temporalmetrics", {
        "ESTIMATE": write_stack(tmp_path / "e.tif", 2.0 * reference + 1.0),
        "REFERENCE_STACK": write_stack(tmp_path / "r.tif", reference), "MIN_OBSERVATIONS": 4,
        "OUTPUT": str(output), "OUTPUT_REPORT": str(tmp_path / "report.html")})
    layer = layer_of(output)  # kept: the layer owns its renderer
    renderer = layer.renderer()
    assert renderer.type() == "singlebandpseudocolor" and renderer.band() == 1  # r
    assert (renderer.classificationMin(), renderer.classificationMax()) == (-1.0, 1.0)
    os.remove(tmp_path / "metrics.qml")
    assert renderer_type(output) == "multibandcolor"  # what the .qml prevents


def test_triple_collocation_shows_the_scaled_error_of_x(run_algorithm, tmp_path):
    generator = np.random.default_rng(5)
    truth = generator.uniform(0.1, 0.4, (40, 2, 2))
    stacks = {key: write_stack(tmp_path / f"{key}.tif",
                               gain * truth + generator.normal(0.0, 0.02, truth.shape))
              for key, gain in (("X", 1.0), ("Y", 2.0), ("Z", 0.5))}
    output = tmp_path / "tc.tif"
    run_algorithm("triplecollocation", {
        **stacks, "UNIT": "m³/m³", "OUTPUT": str(output),
        "OUTPUT_REPORT": str(tmp_path / "report.html")})
    layer = layer_of(output)
    renderer = layer.renderer()
    assert renderer.type() == "singlebandpseudocolor" and renderer.band() == 7
    assert layer.bandName(7).endswith("error_std_scaled x (X)")
    assert renderer.classificationMin() == 0.0 and renderer.classificationMax() > 0.0
    assert ramp_of(renderer)[-1][2].endswith(" m³/m³")


def test_reconstruction_stack_metrics_and_counts(run_algorithm, tmp_path):
    stacks = CellStacks(tmp_path)
    run_algorithm("pixelwisereconstruction", stacks.reconstruction(
        METRICS=str(tmp_path / "metrics.tif"), COUNTS=str(tmp_path / "counts.tif")))
    reconstructed = layer_of(tmp_path / "reconstructed.tif")
    assert reconstructed.bandCount() == 60
    renderer = reconstructed.renderer()
    assert renderer.type() == "singlebandpseudocolor" and renderer.band() == 1
    assert (renderer.classificationMin(), renderer.classificationMax()) == (0.0, 0.5)
    metrics = layer_of(tmp_path / "metrics.tif")
    assert metrics.renderer().band() == 13 and metrics.bandName(13).endswith("r overall")
    assert metrics.renderer().classificationMin() == -1.0
    counts = layer_of(tmp_path / "counts.tif")
    assert counts.renderer().band() == 1 and counts.bandName(1).endswith("valid pairs")
    # 60 pairs per cell: 60 rounds up to 60, classes of 15.
    assert ramp_of(counts.renderer())[1][2] == "1–15 pairs"


def test_no_qml_for_an_output_the_run_did_not_write(run_algorithm, run_without_core, tmp_path):
    total = write_raster(tmp_path / "total.tif", [[-8.0]])
    vwc = write_raster(tmp_path / "vwc.tif", [[1.0]])
    run_algorithm("watercloudinversion", {
        "SIGMA0": total, "VWC": vwc, "OUTPUT": str(tmp_path / "soil.tif")})
    assert sorted(path.name for path in tmp_path.glob("*.qml")) == ["soil.qml"]
    soil_layer = layer_of(tmp_path / "soil.tif")
    soil = soil_layer.renderer()
    assert (soil.classificationMin(), soil.classificationMax()) == (-30.0, 0.0)  # dB
    # A failed run writes nothing.
    error_of(run_without_core, "spectralindex", {
        "INDEX": 0, "RED": total, "OUTPUT": str(tmp_path / "failed.tif")})
    assert not (tmp_path / "failed.qml").exists()


def test_a_qml_that_cannot_be_written_is_a_warning(run_algorithm, tmp_path):
    (tmp_path / "ndvi.qml").mkdir()  # where the .qml would go: os.replace fails
    warnings = []

    class Warnings(RecordingFeedback):
        def pushWarning(self, warning):  # noqa: N802 (QGIS API name)
            warnings.append(warning)
            super().pushWarning(warning)

    feedback = Warnings()
    result = run_algorithm("spectralindex", index_parameters(tmp_path, str(tmp_path / "ndvi.tif")),
                           feedback)
    assert result["OUTPUT"] == str(tmp_path / "ndvi.tif") and result["VALID_PIXELS"] == 4
    assert len(warnings) == 1 and str(tmp_path / "ndvi.qml") in warnings[0]
    assert (tmp_path / "ndvi.qml").is_dir()
    assert not [path.name for path in tmp_path.iterdir() if ".partial" in path.name]


# --- styled and named when Processing loads the output ----------------------------------------

def run_and_load(algorithm_id, parameters):
    """processing.runAndLoadResults, as the dialog runs an algorithm: the loaded layers."""
    import processing
    from smr.algorithms import styles

    project = QgsProject.instance()
    before = set(project.mapLayers())
    awaiting = set(styles._AWAITING_LOAD)
    processing.runAndLoadResults(algorithm_id, parameters, feedback=QgsProcessingFeedback())
    added = [project.mapLayer(layer_id) for layer_id in set(project.mapLayers()) - before]
    assert styles._AWAITING_LOAD == awaiting  # every post-processor let go once it had run
    return added


@pytest.mark.parametrize("index, name", [(0, "NDVI"), (2, "NDWI")])
def test_loaded_layer_is_named_after_what_it_holds(run_algorithm, tmp_path, index, name):
    parameters = index_parameters(tmp_path, "TEMPORARY_OUTPUT")
    parameters["INDEX"] = index
    parameters["GREEN"] = parameters["RED"]
    added = run_and_load("smr:spectralindex", parameters)
    try:
        assert [layer.name() for layer in added] == [name]
        renderer = added[0].renderer()
        assert renderer.type() == "singlebandpseudocolor"
        assert (renderer.classificationMin(), renderer.classificationMax()) == (-1.0, 1.0)
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


def test_loaded_metric_map_is_temporal_r(run_algorithm, tmp_path):
    reference = np.arange(36, dtype=float).reshape(4, 3, 3) / 100.0
    added = run_and_load("smr:temporalmetrics", {
        "ESTIMATE": write_stack(tmp_path / "e.tif", reference * 3.0),
        "REFERENCE_STACK": write_stack(tmp_path / "r.tif", reference), "MIN_OBSERVATIONS": 4,
        "OUTPUT": "TEMPORARY_OUTPUT", "OUTPUT_REPORT": str(tmp_path / "report.html")})
    try:
        rasters = [layer for layer in added if isinstance(layer, QgsRasterLayer)]
        assert [layer.name() for layer in rasters] == ["temporal r"]
        assert rasters[0].renderer().type() == "singlebandpseudocolor"
        assert rasters[0].renderer().band() == 1
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


def test_a_name_chosen_in_a_model_is_kept(styles, tmp_path):
    from qgis.core import QgsProcessingContext

    path = write_raster(tmp_path / "sm.tif", [[0.2]])
    awaiting = set(styles._AWAITING_LOAD)
    context = QgsProcessingContext()
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails(
        "Soil moisture map", QgsProject.instance(), "OUTPUT"))
    assert styles.style_on_load(context, path, "soil_moisture", "Estimate (m³/m³)")
    assert context.layerToLoadOnCompletionDetails(path).name == "Soil moisture map"
    context.addLayerToLoadOnCompletion(path, QgsProcessingContext.LayerDetails(
        "Estimate (m³/m³)", QgsProject.instance(), "OUTPUT"))
    assert styles.style_on_load(context, path, "soil_moisture", "Estimate (m³/m³)")
    assert context.layerToLoadOnCompletionDetails(path).name == "soil moisture"
    # Nothing loads them: they go with the context.
    styles._AWAITING_LOAD.intersection_update(awaiting)


def one_step_model():
    """A model of one step, smr:spectralindex, whose OUTPUT is the model output "ndvi map"."""
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterRasterLayer,
    )

    model = QgsProcessingModelAlgorithm("index", "tests")
    step = QgsProcessingModelChildAlgorithm("smr:spectralindex")
    step.setChildId("index")
    for key in ("RED", "NIR"):
        model.addModelParameter(QgsProcessingParameterRasterLayer(key.lower(), key),
                                QgsProcessingModelParameter(key.lower()))
        step.addParameterSources(key, [
            QgsProcessingModelChildParameterSource.fromModelParameter(key.lower())])
    step.addParameterSources("INDEX", [QgsProcessingModelChildParameterSource.fromStaticValue(0)])
    output = QgsProcessingModelOutput("ndvi map")
    output.setChildOutputName("OUTPUT")
    step.setModelOutputs({"ndvi map": output})
    model.addChildAlgorithm(step)
    return model


def test_an_output_of_a_model_gets_its_qml_and_keeps_the_model_name(run_algorithm, tmp_path):
    import processing

    parameters = index_parameters(tmp_path, None)
    model = one_step_model()
    inputs = {"red": parameters["RED"], "nir": parameters["NIR"]}
    processing.run(model, {**inputs, "index:ndvi map": str(tmp_path / "model_ndvi.tif")})
    layer = layer_of(tmp_path / "model_ndvi.tif")
    assert layer.renderer().type() == "singlebandpseudocolor"
    assert layer.renderer().classificationMin() == -1.0
    added = run_and_load(model, {**inputs, "index:ndvi map": "TEMPORARY_OUTPUT"})
    try:
        assert [layer.name() for layer in added] == ["ndvi map"]
        assert added[0].renderer().type() == "singlebandpseudocolor"
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in added])


@pytest.mark.parametrize("scale, kind_range", [(0.01, (0.0, 0.5)), (0.1, None)])
def test_cdf_matched_stack_and_its_mapping(run_algorithm, tmp_path, scale, kind_range):
    # Source in % saturation, 10 … 64; the reference is the source × scale: m³/m³ (0.1 … 0.64)
    # for 0.01, a quantity of 1 … 6.4 for 0.1.
    steps = np.arange(10.0, 50.0)[:, None, None] + np.array([[0.0, 5.0], [10.0, 15.0]])
    source = write_stack(tmp_path / "source.tif", steps)
    reference = write_stack(tmp_path / "reference.tif", steps * scale)
    run_algorithm("cdfmatching", {
        "SOURCE": source, "REFERENCE_STACK": reference, "OUTPUT": str(tmp_path / "matched.tif"),
        "MAPPING_OUTPUT": str(tmp_path / "mapping.tif")})
    matched = layer_of(tmp_path / "matched.tif")
    renderer = matched.renderer()
    assert renderer.type() == "singlebandpseudocolor" and renderer.band() == 1
    if kind_range:  # soil moisture
        assert (renderer.classificationMin(), renderer.classificationMax()) == kind_range
    else:  # the 2–98 % of band 1, 1 … 2.5, as far as QGIS's histogram of 4 pixels tells
        assert 1.0 <= renderer.classificationMin() < 1.5 < renderer.classificationMax() <= 2.5
    mapping = layer_of(tmp_path / "mapping.tif")
    assert mapping.bandCount() == 42 and mapping.renderer().type() == "singlebandpseudocolor"
    assert mapping.renderer().band() == 11 and mapping.bandName(11).endswith("source p50")
