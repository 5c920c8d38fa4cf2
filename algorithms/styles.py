"""How raster outputs look in QGIS: one renderer per kind of quantity (DESIGN §7).

Every raster output of an algorithm declares an OutputStyle (a kind from KINDS, the name of the
loaded layer, the band shown). After the core has written an output, style_output() gives it the
style twice over:
- a `<name>.qml` beside the file, which QGIS loads by itself for a layer at `<name>.tif`, so a file
  dragged in from disk, or written inside a model or by qgis_process, opens styled;
- a post-processor on the context's details of that output, when Processing will load it: the
  Processing GUI loads results without their default style, so the layer is styled (and named)
  there too.

A multi-band output (a time stack, a map of several metrics) is drawn as one band with its legend,
never as an RGB composite of unrelated bands.

The ramps are published ones, sampled at evenly spaced positions (or given as the scheme's classes):
viridis (van der Walt and Smith, matplotlib 2015) and cividis (Nuñez, Anderton and Renslow 2018),
both perceptually uniform; ColorBrewer's RdBu, PuOr, BrBG, YlOrRd, YlGn, Blues and Greys (Brewer,
colorbrewer2.org).

QGIS takes ownership of the C++ side of a post-processor, but nothing on the C++ side keeps its
Python side (which holds postProcessLayer) alive, so every post-processor is also kept in
_AWAITING_LOAD until its layer has been styled.
"""

import math
import os
import tempfile
from collections import namedtuple

from qgis.core import (
    QgsColorRampShader,
    QgsGradientColorRamp,
    QgsGradientStop,
    QgsPalettedRasterRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
)
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument

# --- ramps ------------------------------------------------------------------------------------

# viridis at 0, 1/8, …, 1 (dark purple → yellow).
VIRIDIS = ("#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30",
           "#fde725")
# cividis at 0, 1/8, …, 1 (dark blue → yellow); designed to read the same with colour-vision
# deficiencies.
CIVIDIS = ("#00224e", "#1a386f", "#434e6c", "#61656f", "#7d7c78", "#9b9476", "#bcae6c", "#dec958",
           "#fee838")
# ColorBrewer's 11-class diverging schemes, with the centre made pure white so that 0 reads as
# "nothing" on r, bias and differences.
RED_WHITE_BLUE = ("#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#ffffff", "#d1e5f0",
                  "#92c5de", "#4393c3", "#2166ac", "#053061")  # RdBu
PURPLE_WHITE_ORANGE = ("#2d004b", "#542788", "#8073ac", "#b2abd2", "#d8daeb", "#ffffff", "#fee0b6",
                       "#fdb863", "#e08214", "#b35806", "#7f3b08")  # PuOr, reversed
BROWN_WHITE_GREEN = ("#543005", "#8c510a", "#bf812d", "#dfc27d", "#f6e8c3", "#ffffff", "#c7eae5",
                     "#80cdc1", "#35978f", "#01665e", "#003c30")  # BrBG
# ColorBrewer's 9-class sequential schemes.
YELLOW_ORANGE_RED = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c",
                     "#bd0026", "#800026")  # YlOrRd
YELLOW_GREEN = ("#ffffe5", "#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443",
                "#006837", "#004529")  # YlGn
BLUES = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c",
         "#08306b")
# Greys, reversed: dark is low backscatter, as in SAR images.
BLACK_TO_WHITE = ("#000000", "#252525", "#525252", "#737373", "#969696", "#bdbdbd", "#d9d9d9",
                  "#f0f0f0", "#ffffff")

# Volumetric soil moisture (m³/m³): 0.5 is about the porosity of most mineral soils, so the ramp
# spans everything from oven-dry to saturated.
SOIL_MOISTURE_MINIMUM = 0.0
SOIL_MOISTURE_MAXIMUM = 0.5
SOIL_MOISTURE_UNIT = "m³/m³"
# viridis reversed: dry is light yellow, wet is dark blue-purple; lightness falls evenly with
# moisture, so equal steps of moisture look like equal steps of colour.
DRY_TO_WET_COLOURS = tuple(reversed(VIRIDIS))

# --- kinds ------------------------------------------------------------------------------------

# How a kind is drawn:
#   shader: "ramp" (continuous, interpolated), "classes" (discrete shader, CLASSES or counted
#           from the data) or "categories" (paletted renderer, CATEGORIES);
#   minimum, maximum: the ramp's range; None where it comes from the data (see _data_range);
#   symmetric: the range is −L…L around 0;
#   ends: legend words for the two ends of the ramp (e.g. dry, wet), or None.
Kind = namedtuple("Kind", "title unit shader colours minimum maximum symmetric ends description")

KINDS = {
    "soil_moisture": Kind(
        "soil moisture", SOIL_MOISTURE_UNIT, "ramp", DRY_TO_WET_COLOURS, SOIL_MOISTURE_MINIMUM,
        SOIL_MOISTURE_MAXIMUM, False, ("dry", "wet"),
        "volumetric soil moisture, 0–0.5 m³/m³, viridis reversed (dry yellow → wet dark blue)"),
    "correlation": Kind(
        "r", "", "ramp", RED_WHITE_BLUE, -1.0, 1.0, False, None,
        "Pearson r, −1…1, red (−1) → white (0) → blue (1)"),
    "bias": Kind(
        "bias", "", "ramp", PURPLE_WHITE_ORANGE, None, None, True, ("too low", "too high"),
        "estimate − reference, symmetric around 0: purple (too low) → white → orange (too high)"),
    "error": Kind(
        "error", "", "ramp", YELLOW_ORANGE_RED, 0.0, None, False, None,
        "RMSE, ubRMSE, MAE, error std: 0 (light yellow) → large (dark red)"),
    "p_value": Kind(
        "p-value", "", "classes", BLUES[-1:-9:-2], 0.0, 1.0, False, None,
        "p-value in the classes ≤ 0.01, ≤ 0.05, ≤ 0.1 and > 0.1, dark (significant) → light"),
    "count": Kind(
        "count", "", "classes", ("#bdbdbd",) + BLUES[2::2], 0.0, None, False, None,
        "counts: 0 in grey, then four classes of equal width up to the largest count, Blues"),
    "mask": Kind(
        "mask", "", "categories", ("#f0f0f0", "#e31a1c"), None, None, False, None,
        "mask: 0 kept (light grey), 1 masked (red)"),
    "spectral_index": Kind(
        "index", "", "ramp", BROWN_WHITE_GREEN, -1.0, 1.0, False, None,
        "normalised index, −1…1, brown (−1) → white (0) → green (1)"),
    # Grassland holds well under 1 kg/m², maize several: a fixed range would leave one of them a
    # single colour, so the ramp runs from 0 to a round number above the data.
    "vwc": Kind(
        "VWC", "kg/m²", "ramp", YELLOW_GREEN, 0.0, None, False, None,
        "vegetation water content, 0 kg/m² (light yellow) → a round number above the 98 % point "
        "of the data (dark green), YlGn"),
    "sigma0_db": Kind(
        "σ⁰", "dB", "ramp", BLACK_TO_WHITE, -30.0, 0.0, False, None,
        "backscatter in dB, −30…0 dB, black → white"),
    "sigma0_linear": Kind(
        "σ⁰", "m²/m²", "ramp", BLACK_TO_WHITE, 0.0, 0.3, False, None,
        "backscatter in linear power, 0–0.3 m²/m², black → white"),
    "difference_db": Kind(
        "difference", "dB", "ramp", BROWN_WHITE_GREEN, None, None, True, None,
        "a difference in dB, symmetric around 0: brown (negative) → white → green (positive)"),
    "fraction": Kind(
        "fraction", "", "ramp", CIVIDIS, 0.0, 1.0, False, None,
        "a dimensionless 0–1 quantity (BTI, γ², r with the truth), cividis"),
    "value": Kind(
        "value", "", "ramp", CIVIDIS, None, None, False, None,
        "any other quantity: cividis over the 2–98 % range of the data (or a given range)"),
}

P_VALUE_CLASSES = ((0.01, "p ≤ 0.01"), (0.05, "0.01 < p ≤ 0.05"), (0.1, "0.05 < p ≤ 0.1"),
                   (math.inf, "p > 0.1"))
MASK_CATEGORIES = ((0, "kept"), (1, "masked"))

# Cells read to estimate a data-driven range: enough for stable percentiles, fast on any raster.
STATISTICS_SAMPLE_SIZE = 250000
# The share of valid pixels left out at each end of a data-driven range, as QGIS's default
# cumulative cut.
DATA_RANGE_CUT = 0.02
COUNT_CLASSES = 4


class OutputStyle(namedtuple("OutputStyle", "kind name band minimum maximum unit")):
    """How one raster output is drawn: a key of KINDS, the loaded layer's name (None: the kind's
    title), the band shown, and the range and unit when they differ from the kind's."""

    __slots__ = ()

    def __new__(cls, kind, name=None, band=1, minimum=None, maximum=None, unit=None):
        if kind not in KINDS:
            raise ValueError(f"Unknown style kind '{kind}'; known kinds: {', '.join(KINDS)}.")
        return super().__new__(cls, kind, name, band, minimum, maximum, unit)

    @property
    def layer_name(self):
        return self.name or KINDS[self.kind].title


def as_output_style(style):
    """An OutputStyle from an OutputStyle or a kind name."""
    return style if isinstance(style, OutputStyle) else OutputStyle(style)


def estimate_style(value_range, soil_moisture_name, other_name, unit=""):
    """An estimate in a target's units, whose values span `value_range` (low, high): the
    soil-moisture ramp, named `soil_moisture_name`, when that range lies in 0–1 (volumetric soil
    moisture); otherwise the "value" ramp over that range, named `other_name`, since another
    quantity (e.g. VWC in kg/m²) would be a single colour on 0–0.5 m³/m³. An unknown range
    (None, or low > high) gives the soil-moisture ramp."""
    low, high = value_range or (None, None)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)) \
            or low > high or (0.0 <= low and high <= 1.0):
        return OutputStyle("soil_moisture", soil_moisture_name)
    return OutputStyle("value", other_name, minimum=low, maximum=high, unit=unit)


def raster_value_range(path, band=1):
    """(low, high): the 2 % and 98 % points of a raster band's valid values, or None when the
    file cannot be read or the band holds no valid value."""
    layer = QgsRasterLayer(path, "", "gdal", _without_default_style())
    if not layer.isValid() or not 1 <= band <= layer.bandCount():
        return None
    return _data_range(layer.dataProvider(), band)


def band_named(path, description, default=1):
    """The number of the band of `path` whose description is `description`, else `default`."""
    layer = QgsRasterLayer(path, "", "gdal", _without_default_style())
    if layer.isValid():
        for band in range(1, layer.bandCount() + 1):
            # QGIS names a GDAL band "Band <n>: <description>".
            if layer.bandName(band).split(": ", 1)[-1] == description:
                return band
    return default


# --- renderers --------------------------------------------------------------------------------

def _label(value, unit):
    text = "−∞" if value == -math.inf else "∞" if value == math.inf else f"{value:.4g}"
    return text.replace("-", "−") + (f" {unit}" if unit else "")


def _nice_ceiling(value):
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is ≥ value (> 0)."""
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        candidate = mantissa * 10.0 ** exponent
        if candidate >= value * (1.0 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)


def _data_range(provider, band):
    """(low, high): the 2 % and 98 % points of the band's valid values, from a sample; None
    when the band has no valid value."""
    low, high = provider.cumulativeCut(band, DATA_RANGE_CUT, 1.0 - DATA_RANGE_CUT, QgsRectangle(),
                                       STATISTICS_SAMPLE_SIZE)
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        return None
    return low, high


def _data_maximum(provider, band):
    statistics = provider.bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max,
                                         QgsRectangle(), STATISTICS_SAMPLE_SIZE)
    # A band without a valid value keeps the initial minimum > maximum.
    if statistics.minimumValue > statistics.maximumValue:
        return None
    return statistics.maximumValue if math.isfinite(statistics.maximumValue) else None


def resolve(style, provider):
    """`style` with every number fixed: the band (band 1 if the raster has fewer bands), the
    range (the kind's, the one given, or read from the band), the unit. The .qml and the loaded
    layer are drawn from the same resolved style, so they agree."""
    style = as_output_style(style)
    kind = KINDS[style.kind]
    band = style.band if 1 <= style.band <= provider.bandCount() else 1
    unit = kind.unit if style.unit is None else style.unit
    minimum = kind.minimum if style.minimum is None else style.minimum
    maximum = kind.maximum if style.maximum is None else style.maximum
    if kind.shader == "categories":
        return style._replace(band=band, unit=unit)
    if kind.symmetric and (minimum is None or maximum is None):
        data = _data_range(provider, band)
        limit = max(abs(data[0]), abs(data[1])) if data else 0.0
        limit = _nice_ceiling(limit) if limit > 0.0 else 1.0
        minimum, maximum = -limit, limit
    elif style.kind == "count" and maximum is None:
        largest = _data_maximum(provider, band)
        maximum = _nice_ceiling(largest) if largest and largest > 0 else float(COUNT_CLASSES)
    elif minimum is None or maximum is None:
        data = _data_range(provider, band)
        if minimum is None and maximum is None:
            minimum, maximum = data if data else (0.0, 1.0)
        elif maximum is None:
            high = data[1] if data else 0.0
            maximum = _nice_ceiling(high - minimum) + minimum if high > minimum else minimum + 1.0
        else:
            low = data[0] if data else maximum
            minimum = low if low < maximum else maximum - 1.0
    if not minimum < maximum:  # a constant band: widen, so the ramp is defined
        minimum, maximum = minimum - 0.5, maximum + 0.5
    return style._replace(band=band, minimum=float(minimum), maximum=float(maximum), unit=unit)


def _gradient(colours):
    """The source ramp the layer properties dialog offers when the user reclassifies."""
    last = len(colours) - 1
    return QgsGradientColorRamp(
        QColor(colours[0]), QColor(colours[-1]), False,
        [QgsGradientStop(index / last, QColor(colour))
         for index, colour in enumerate(colours[1:-1], start=1)])


def _ramp_items(kind, minimum, maximum, unit):
    last = len(kind.colours) - 1
    items = []
    for index, colour in enumerate(kind.colours):
        value = minimum + index / last * (maximum - minimum)
        if index == last:
            value = maximum  # exactly, whatever the rounding of the sum
        label = _label(value, unit)
        if kind.ends and index in (0, last):
            label += f" ({kind.ends[0 if index == 0 else 1]})"
        items.append(QgsColorRampShader.ColorRampItem(value, QColor(colour), label))
    return items


def _class_items(style, kind):
    """Discrete items: a value v takes the colour of the first item whose value is ≥ v."""
    if style.kind == "p_value":
        return [QgsColorRampShader.ColorRampItem(bound, QColor(colour), label)
                for (bound, label), colour in zip(P_VALUE_CLASSES, kind.colours)]
    # Counts: 0 on its own, then COUNT_CLASSES classes of equal integer width.
    width = max(1, math.ceil(style.maximum / COUNT_CLASSES))
    unit = f" {style.unit}" if style.unit else ""
    items = [QgsColorRampShader.ColorRampItem(0.0, QColor(kind.colours[0]), f"0{unit}")]
    for number in range(1, COUNT_CLASSES + 1):
        low, high = (number - 1) * width + 1, number * width
        bound, label = float(high), f"{low}–{high}{unit}"
        if number == COUNT_CLASSES:
            bound, label = math.inf, f"≥ {low}{unit}"
        items.append(QgsColorRampShader.ColorRampItem(bound, QColor(kind.colours[number]), label))
    return items


def renderer_for(provider, style):
    """The renderer of a resolved OutputStyle (see resolve) for a raster data provider."""
    kind = KINDS[style.kind]
    if kind.shader == "categories":
        classes = [QgsPalettedRasterRenderer.Class(value, QColor(colour), label)
                   for (value, label), colour in zip(MASK_CATEGORIES, kind.colours)]
        return QgsPalettedRasterRenderer(provider, style.band, classes)
    shader_function = QgsColorRampShader(style.minimum, style.maximum)
    shader_function.setSourceColorRamp(_gradient(kind.colours))
    if kind.shader == "classes":
        shader_function.setColorRampType(QgsColorRampShader.Discrete)
        shader_function.setColorRampItemList(_class_items(style, kind))
    else:
        shader_function.setColorRampType(QgsColorRampShader.Interpolated)
        shader_function.setColorRampItemList(
            _ramp_items(kind, style.minimum, style.maximum, style.unit))
    # Values beyond the ends take the end colours, so out-of-range pixels stay visible.
    shader_function.setClip(False)
    legend = shader_function.legendSettings()
    if style.unit:
        legend.setSuffix(f" {style.unit}")
    shader_function.setLegendSettings(legend)
    shader = QgsRasterShader(style.minimum, style.maximum)
    shader.setRasterShaderFunction(shader_function)
    renderer = QgsSingleBandPseudoColorRenderer(provider, style.band, shader)
    renderer.setClassificationMin(style.minimum)
    renderer.setClassificationMax(style.maximum)
    return renderer


def style_layer(layer, style, name=None):
    """Give a raster layer the renderer of `style` (a kind name such as "soil_moisture", or an
    OutputStyle) and, when `name` is given, that name. Public: the sample project styles its
    layers with it. Returns the resolved OutputStyle, or None for a layer that is not a valid
    raster."""
    if not isinstance(layer, QgsRasterLayer) or not layer.isValid():
        return None
    resolved = resolve(style, layer.dataProvider())
    layer.setRenderer(renderer_for(layer.dataProvider(), resolved))
    if name:
        layer.setName(name)
    layer.triggerRepaint()
    return resolved


# --- outputs ----------------------------------------------------------------------------------

def _without_default_style():
    # Reading a .qml of an earlier run would be wasted work: it is about to be replaced.
    options = QgsRasterLayer.LayerOptions()
    options.loadDefaultStyle = False
    return options


def style_file_path(raster_path):
    """Where QGIS looks for a raster's default style: the same path with .qml."""
    return os.path.splitext(raster_path)[0] + ".qml"


def write_style_file(raster_path, style):
    """Write `style` as the .qml beside `raster_path`; return the resolved style.

    The .qml is written to a temporary file beside it and renamed, so a failed write never
    leaves half a .qml. Raises OSError when the raster cannot be read or the file not written.
    """
    layer = QgsRasterLayer(raster_path, "", "gdal", _without_default_style())
    if not layer.isValid():
        raise OSError(f"'{raster_path}' could not be opened as a raster")
    resolved = style_layer(layer, style)
    document = QDomDocument("qgis")
    error = layer.exportNamedStyle(document)
    if error:
        raise OSError(error)
    target = style_file_path(raster_path)
    handle, temporary = tempfile.mkstemp(
        prefix=os.path.basename(target) + ".", suffix=".partial",
        dir=os.path.dirname(os.path.abspath(target)))
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(bytes(document.toByteArray()))
        os.replace(temporary, target)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise
    return resolved


class _StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, style):
        super().__init__()
        self.style = style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        try:
            style_layer(layer, self.style)
        finally:
            # QGIS styles a loaded layer once; the C++ side is deleted with the context.
            _AWAITING_LOAD.discard(self)


_AWAITING_LOAD = set()


def style_on_load(context, output_path, style, description=None):
    """Style the output at `output_path` when Processing loads it, and name the layer after what
    it holds where QGIS would name it after the output's `description`. Returns whether QGIS will
    load it."""
    if not output_path or not context.willLoadLayerOnCompletion(output_path):
        return False
    style = as_output_style(style)
    details = context.layerToLoadOnCompletionDetails(output_path)
    # A name other than the output's description was chosen by someone (a model's output name):
    # keep it. QGIS still names a layer saved to a file of the user's choosing after the file,
    # as its "prefer file name as layer name" setting says.
    if not details.name or details.name == description:
        details.name = style.layer_name
    post_processor = _StyleOnLoad(style)
    _AWAITING_LOAD.add(post_processor)
    details.setPostProcessor(post_processor)
    return True


def style_output(output_path, style, context, feedback=None, description=None):
    """Style a raster output the run has just written: its .qml and, if QGIS loads it, the
    loaded layer. A .qml that cannot be written is a warning, never a failed run."""
    style = as_output_style(style)
    try:
        style = write_style_file(output_path, style)
    except OSError as error:
        if feedback is not None:
            feedback.pushWarning(
                f"Warning: the style file {style_file_path(output_path)} could not be written "
                f"({error.strerror or error}); the raster is complete, but opened from disk it "
                f"will not have the {KINDS[style.kind].title} colours.")
    style_on_load(context, output_path, style, description)
