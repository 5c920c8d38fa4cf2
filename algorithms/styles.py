"""Styles that outputs get when QGIS loads them into the project (DESIGN §7).

Processing loads an output after the algorithm has finished; a post-processor registered on the
context's details of that output styles the layer then. QGIS takes ownership of the C++ side of a
post-processor, but nothing on the C++ side keeps its Python side (which holds postProcessLayer)
alive, so every post-processor is also kept in _AWAITING_LOAD until its layer has been styled.
"""

from qgis.core import (
    QgsColorRampShader,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor

# Volumetric soil moisture (m³/m³): 0.5 is about the porosity of most mineral soils, so the ramp
# spans everything from oven-dry to saturated.
SOIL_MOISTURE_MINIMUM = 0.0
SOIL_MOISTURE_MAXIMUM = 0.5
SOIL_MOISTURE_UNIT = "m³/m³"

# Dry (brown) to wet (blue), evenly spaced over the ramp.
DRY_TO_WET_COLOURS = ("#8c510a", "#d8b365", "#f6e8c3", "#c6dbef", "#4292c6", "#08306b")

_AWAITING_LOAD = set()


def dry_to_wet_renderer(provider, minimum, maximum, unit, band=1):
    """A singleband pseudocolour renderer of `band`: DRY_TO_WET_COLOURS from minimum to maximum.

    Values beyond the ends take the end colours, so out-of-range pixels stay visible.
    """
    last = len(DRY_TO_WET_COLOURS) - 1
    positions = [index / last for index in range(len(DRY_TO_WET_COLOURS))]
    colours = [QColor(colour) for colour in DRY_TO_WET_COLOURS]
    # The source ramp is what the layer properties dialog offers when the user reclassifies.
    source_ramp = QgsGradientColorRamp(
        colours[0], colours[-1], False,
        [QgsGradientStop(position, colour)
         for position, colour in zip(positions[1:-1], colours[1:-1])])
    unit_suffix = f" {unit}" if unit else ""
    items = []
    for position, colour in zip(positions, colours):
        value = minimum + position * (maximum - minimum)
        items.append(QgsColorRampShader.ColorRampItem(value, colour, f"{value:.3g}{unit_suffix}"))
    colour_ramp = QgsColorRampShader(minimum, maximum)
    colour_ramp.setColorRampType(QgsColorRampShader.Interpolated)
    colour_ramp.setSourceColorRamp(source_ramp)
    colour_ramp.setColorRampItemList(items)
    colour_ramp.setClip(False)
    shader = QgsRasterShader(minimum, maximum)
    shader.setRasterShaderFunction(colour_ramp)
    renderer = QgsSingleBandPseudoColorRenderer(provider, band, shader)
    renderer.setClassificationMin(minimum)
    renderer.setClassificationMax(maximum)
    return renderer


class _DryToWetStyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, minimum, maximum, unit):
        super().__init__()
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        try:
            if isinstance(layer, QgsRasterLayer) and layer.isValid():
                layer.setRenderer(dry_to_wet_renderer(
                    layer.dataProvider(), self.minimum, self.maximum, self.unit))
                layer.triggerRepaint()
        finally:
            # QGIS styles a loaded layer once; the C++ side is deleted with the context.
            _AWAITING_LOAD.discard(self)


def style_on_load(context, output_path, minimum=SOIL_MOISTURE_MINIMUM,
                  maximum=SOIL_MOISTURE_MAXIMUM, unit=SOIL_MOISTURE_UNIT):
    """Give the raster output `output_path` the dry-to-wet ramp if QGIS will load it.

    Defaults are the soil-moisture ramp, 0–0.5 m³/m³. Returns whether a style was registered.
    """
    if not output_path or not context.willLoadLayerOnCompletion(output_path):
        return False
    post_processor = _DryToWetStyleOnLoad(minimum, maximum, unit)
    _AWAITING_LOAD.add(post_processor)
    context.layerToLoadOnCompletionDetails(output_path).setPostProcessor(post_processor)
    return True
