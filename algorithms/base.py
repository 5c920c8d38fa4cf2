"""The shared base of every SMR algorithm: parameters, validation and the call to the smr core.

An algorithm file only declares its parameters (with the add_* helpers below), its help and the
core command it runs. The base turns the parameter values into the core's JSON request
(core/README.md), validates what QGIS knows better than the core (layers, band numbers, creation
options), and returns the core's outputs.
"""

import math
import os
import re
from pathlib import Path

from qgis.core import (
    QgsMapLayerType,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication, QUrl
from qgis.PyQt.QtGui import QIcon

from ..plugin.bridge import run_smr
from . import styles
from .references import references_help

ICON_DIRECTORY = Path(__file__).resolve().parent.parent / "icons"
# One HTML page per algorithm, generated from the help below by scripts/build-docs and shipped with
# the plugin, so that the dialog's Help button works offline.
DOCS_DIRECTORY = Path(__file__).resolve().parent.parent / "docs"

# Search words of every algorithm; each adds its own (TAGS).
COMMON_TAGS = ("soil moisture", "SMR", "remote sensing")

# Group id -> (display name, icon file). Group ids are stable; saved models do not use them,
# but the toolbox does.
GROUPS = {
    "optical": ("Optical", "optical.svg"),
    "radar": ("Radar", "radar.svg"),
    "passivemicrowave": ("Passive microwave", "passive.svg"),
    "machinelearning": ("Machine learning", "machinelearning.svg"),
    "validation": ("Validation", "validation.svg"),
}

BAND_SUFFIX = "_BAND"
NODATA_SUFFIX = "_NODATA"

# GDAL resampling names as the core expects them; the index is what the user picks.
RESAMPLING_METHODS = ("nearest", "bilinear", "cubic", "cubicspline", "lanczos", "average", "mode")
DEFAULT_RESAMPLING = "bilinear"

NODATA_AND_OUTPUT_HELP = (
    "Nodata: each input's own nodata value (or the value given in its advanced '…: nodata value' "
    "parameter) and NaN propagate to the output. Pixels where every input is valid but the "
    "equation is undefined become nodata too and are counted in INVALID_PIXELS; "
    "NODATA_PIXELS counts pixels with a nodata input, VALID_PIXELS the rest. "
    "Outputs are Float32 GeoTIFF with nodata −9999. The outputs take the grid (extent, pixel "
    "size, CRS) of the first raster input the algorithm reads, in the order of the dialog, or of "
    "the one chosen in the advanced 'Output grid taken from' (REFERENCE); inputs on another grid "
    "or CRS are aligned to it on the fly with the advanced resampling method (RESAMPLING), and "
    "the log says which ones were.")


STACK_OUTPUT_HELP = (
    "Time stacks: one multi-band raster per variable, band = time step; band descriptions carry "
    "ISO dates such as 2015-04-01 when known, and the stacks smr writes carry the dates of their "
    "input stack. Every band of a stack is read. A nodata value (the stack's own, the one given "
    "in its advanced '…: nodata value' parameter, or NaN) is a gap at that time step only, never "
    "a reason to drop the whole pixel. Outputs are Float32 stacks with nodata −9999, tiled and "
    "band-interleaved GeoTIFF by default.")


def icon_path(file_name):
    return str(ICON_DIRECTORY / file_name)


def enum_values_help(definition):
    """'Scripts and qgis_process: KEY=0 for label 0, 1 for label 1, …' of an enum parameter."""
    options = definition.options()
    listing = ", ".join(f"{number} = {label}" for number, label in enumerate(options))
    return (f"Scripts and qgis_process give the number ({definition.name()}=0 … "
            f"{len(options) - 1}): {listing}.")


def first_sentence(text):
    """The text up to its first full stop followed by a space or the end of a line."""
    text = " ".join(text.split())
    # Not at the full stop of an abbreviation.
    match = re.search(r"(?<!e\.g)(?<!i\.e)(?<!et al)(?<!Fig)(?<!eq)\.(\s|$)", text)
    return text[:match.start() + 1] if match else text


def parse_creation_options(text):
    """'KEY=VALUE KEY=VALUE' or 'KEY=VALUE;KEY=VALUE' -> ['KEY=VALUE', ...]."""
    options = [item for item in re.split(r"[\s;]+", text.strip()) if item]
    for option in options:
        key, separator, _ = option.partition("=")
        if not separator or not key:
            raise QgsProcessingException(
                f"Invalid value for CREATE_OPTIONS ('{option}'): write GDAL creation options as "
                f"KEY=VALUE separated by spaces or ';', e.g. 'COMPRESS=LZW TILED=YES'.")
    return options


def parse_number_list(text, key):
    """'c0, c1, c2' (commas, semicolons or spaces) -> [c0, c1, c2] as floats."""
    numbers = []
    for item in re.split(r"[,;\s]+", text.strip()):
        if not item:
            continue
        try:
            number = float(item)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise QgsProcessingException(
                f"Invalid value for {key} ('{item}' in '{text}'): give finite numbers with '.' "
                f"as decimal point, separated by commas, e.g. '0.34, 1.36, 1.44'.")
        numbers.append(number)
    return numbers


class SmrAlgorithm(QgsProcessingAlgorithm):
    """Base of every algorithm of the smr provider.

    Subclasses set NAME (the public id after "smr:"), DISPLAY_NAME, GROUP_ID, COMMAND (the smr
    command), HELP, REFERENCE_KEYS and TAGS, and implement define_parameters(). Hooks for what the
    helpers cannot express: raster_inputs_to_send() and command_parameters().

    HELP starts in plain words (what the algorithm does and when to use it: its first sentence is
    the toolbox's tooltip), then gives units and nodata, then the equation; it names parameters by
    their dialog label, with the key in parentheses where scripts need it. The full references
    (references.py) and HELP_APPENDIX close it.
    """

    NAME = ""
    DISPLAY_NAME = ""
    GROUP_ID = ""
    COMMAND = ""
    HELP = ""
    REFERENCE_KEYS = ()  # keys of references.REFERENCES that HELP cites, in the order cited
    TAGS = ()  # search words of the toolbox, besides COMMON_TAGS
    HELP_APPENDIX = NODATA_AND_OUTPUT_HELP  # what every algorithm of the family shares

    REFERENCE = "REFERENCE"
    RESAMPLING = "RESAMPLING"
    THREADS = "THREADS"
    CREATE_OPTIONS = "CREATE_OPTIONS"
    NODATA_PIXELS = "NODATA_PIXELS"
    INVALID_PIXELS = "INVALID_PIXELS"
    VALID_PIXELS = "VALID_PIXELS"

    def __init__(self):
        super().__init__()
        self._forget_declarations()

    def _forget_declarations(self):
        self._raster_inputs = []  # keys, in declaration order (the first is the reference grid)
        self._stack_inputs = []  # time-stack keys (every band read), in declaration order
        self._choices = {}  # enum key -> the core's value for each option index
        self._numbers = {}  # number key passed to the core as it is -> True if an integer
        self._raster_outputs = []  # raster destination keys
        self._output_styles = {}  # raster output key -> styles.OutputStyle, see output_style()

    # --- what a subclass declares -------------------------------------------------------------

    def define_parameters(self):
        raise NotImplementedError

    def raster_inputs_to_send(self, parameters, context):
        """Keys of the raster inputs the core gets: by default every one that has a value."""
        return [key for key in self._raster_inputs if self.has_value(parameters, key)]

    def command_parameters(self, parameters, context, feedback):
        """Core parameters the helpers don't produce (a dict merged into the request)."""
        return {}

    # --- helpers to declare parameters --------------------------------------------------------

    def add_raster_input(self, key, description, optional=False):
        """KEY (raster), KEY_BAND (band, default 1) and the advanced KEY_NODATA override."""
        self.addParameter(QgsProcessingParameterRasterLayer(key, description, optional=optional))
        # Optional so that scripts and qgis_process calls may leave it out: unset means band 1.
        band = QgsProcessingParameterBand(
            key + BAND_SUFFIX, self.tr("{}: band").format(description), 1, key, optional=True)
        band.setHelp(self.tr("Band number, from 1; band 1 when not set."))
        self.addParameter(band)
        nodata = QgsProcessingParameterNumber(
            key + NODATA_SUFFIX, self.tr("{}: nodata value (override the band's nodata)")
            .format(description), QgsProcessingParameterNumber.Double, optional=True)
        nodata.setHelp(self.tr("Leave empty to use the band's own nodata value. NaN is always "
                               "treated as nodata."))
        self._make_advanced(nodata)
        self.addParameter(nodata)
        self._raster_inputs.append(key)

    def add_choice(self, key, description, choices, default=0, advanced=False):
        """An enum whose options are (label, core value) pairs; the core gets the value.

        The option index is public API (saved models store it): append options, never reorder.
        """
        parameter = QgsProcessingParameterEnum(
            key, description, [self.tr(label) for label, _ in choices], defaultValue=default)
        if advanced:
            self._make_advanced(parameter)
        self.addParameter(parameter)
        self._choices[key] = [value for _, value in choices]
        return parameter

    def add_number(self, key, description, default, minimum=None, maximum=None, integer=False,
                   advanced=False, send=True):
        """A number; with send=False the subclass passes it on itself (command_parameters)."""
        number_type = (QgsProcessingParameterNumber.Integer if integer
                       else QgsProcessingParameterNumber.Double)
        parameter = QgsProcessingParameterNumber(key, description, number_type, default)
        if minimum is not None:
            parameter.setMinimum(minimum)
        if maximum is not None:
            parameter.setMaximum(maximum)
        if advanced:
            self._make_advanced(parameter)
        self.addParameter(parameter)
        if send:
            self._numbers[key] = integer
        return parameter

    def add_raster_output(self, key, description, optional=False, style=None):
        """A raster destination; an optional one is off unless the user asks for it. `style`: a
        kind of styles.KINDS or a styles.OutputStyle (see declare_output_style)."""
        self.addParameter(QgsProcessingParameterRasterDestination(
            key, description, optional=optional, createByDefault=not optional))
        self._raster_outputs.append(key)
        self.declare_output_style(key, style)

    def declare_output_style(self, key, style):
        """How the raster output KEY is drawn once written (a kind of styles.KINDS or a
        styles.OutputStyle); every raster output declares one (tests/plugin/test_styles.py)."""
        if style is not None:
            self._output_styles[key] = styles.as_output_style(style)

    def output_styles(self):
        """{raster output key: its declared styles.OutputStyle}."""
        return dict(self._output_styles)

    def output_style(self, key, path, parameters, context):
        """The style of the raster output KEY, just written to `path`: the declared one unless a
        subclass knows better from the parameters (e.g. the index computed, the unit chosen)."""
        return self._output_styles[key]

    def add_count_output(self, key, description):
        self.addOutput(QgsProcessingOutputNumber(key, description))

    def _make_advanced(self, parameter):
        parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)

    def add_reference_parameter(self):
        """The advanced REFERENCE choice of the output grid.

        Subclasses whose raster inputs are not declared with add_raster_input (a list of layers)
        replace it and put REFERENCE into the request themselves.
        """
        # Option 0 is "the first raster input given"; then one option per raster input, in
        # declaration order (append new inputs at the end: the index is public API).
        # The options show the inputs' labels, as the dialog does; the key follows for scripts.
        reference = QgsProcessingParameterEnum(
            self.REFERENCE, self.tr("Output grid taken from"),
            [self.tr("First raster input given")]
            + [f"{self.parameterDefinition(key).description()} ({key})"
               for key in self._raster_inputs], defaultValue=0)
        reference.setHelp(self.tr(
            "The outputs take the extent, pixel size and CRS of this raster input; the other inputs "
            "are aligned to it with the resampling method (RESAMPLING)."))
        self._make_advanced(reference)
        self.addParameter(reference)

    def add_resampling_choice(self, description, help_text):
        """The advanced RESAMPLING choice: GDAL's method for inputs on another grid or CRS."""
        resampling = self.add_choice(
            self.RESAMPLING, description, [(method, method) for method in RESAMPLING_METHODS],
            default=RESAMPLING_METHODS.index(DEFAULT_RESAMPLING), advanced=True)
        resampling.setHelp(help_text)

    def add_threads_parameter(self, help_text):
        """The advanced THREADS number of the smr core (0 = all cores)."""
        threads = self.add_number(self.THREADS, self.tr("Threads (0 = all cores)"), 0,
                                  minimum=0, integer=True, advanced=True)
        threads.setHelp(help_text)

    def add_creation_options_parameter(self, defaults):
        """The advanced CREATE_OPTIONS string; `defaults` describes what it replaces."""
        create_options = QgsProcessingParameterString(
            self.CREATE_OPTIONS, self.tr("GDAL creation options of the outputs"), optional=True)
        create_options.setHelp(self.tr(
            "KEY=VALUE pairs separated by spaces or ';', e.g. 'COMPRESS=LZW TILED=YES'. They "
            "replace the defaults ({}).").format(defaults))
        self._make_advanced(create_options)
        self.addParameter(create_options)

    def add_stack_input(self, key, description, optional=False):
        """A time stack KEY (a raster whose bands are the time steps, all read) and the advanced
        KEY_NODATA override; no band parameter, since every band is read."""
        self.addParameter(QgsProcessingParameterRasterLayer(key, description, optional=optional))
        nodata = QgsProcessingParameterNumber(
            key + NODATA_SUFFIX, self.tr("{}: nodata value (override the bands' nodata)")
            .format(description), QgsProcessingParameterNumber.Double, optional=True)
        nodata.setHelp(self.tr("Leave empty to use the stack's own nodata value. NaN is always "
                               "treated as nodata."))
        self._make_advanced(nodata)
        self.addParameter(nodata)
        self._stack_inputs.append(key)

    def _add_common_parameters(self):
        self.add_reference_parameter()
        self.add_resampling_choice(self.tr("Resampling of inputs on another grid"), self.tr(
            "Used only for inputs on another grid or CRS than the reference (the first raster "
            "input): they are aligned to it on the fly. Bilinear suits continuous data; use "
            "nearest or mode for masks and classes."))
        self.add_threads_parameter(self.tr("Number of threads of the smr core; 0 uses all cores."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled 256, DEFLATE, PREDICTOR=3, BIGTIFF=IF_SAFER")
        self.add_count_output(self.NODATA_PIXELS, self.tr("Pixels with a nodata input"))
        self.add_count_output(self.INVALID_PIXELS,
                              self.tr("Pixels where the equation is undefined (set to nodata)"))
        self.add_count_output(self.VALID_PIXELS, self.tr("Valid output pixels"))

    # --- reading parameter values -------------------------------------------------------------

    @staticmethod
    def has_value(parameters, key):
        value = parameters.get(key)
        return value is not None and value != ""

    def choice(self, parameters, key, context):
        """The core's value for the option the user picked in the enum KEY."""
        index = self.parameterAsEnum(parameters, key, context)
        values = self._choices[key]
        if not 0 <= index < len(values):
            raise QgsProcessingException(
                f"Invalid value for {key} ({index}): valid values are 0 to {len(values) - 1}.")
        return values[index]

    def reference_key(self, parameters, context, input_keys):
        """The raster input whose grid the outputs take; it must be one the core gets."""
        index = self.parameterAsEnum(parameters, self.REFERENCE, context)
        if index == 0:
            return input_keys[0]
        if not 1 <= index <= len(self._raster_inputs):
            raise QgsProcessingException(
                f"Invalid value for {self.REFERENCE} ({index}): valid values are 0 to "
                f"{len(self._raster_inputs)}.")
        key = self._raster_inputs[index - 1]
        if key not in input_keys:
            raise QgsProcessingException(
                f"Invalid value for {self.REFERENCE} ({index}, {key}): {key} is not an input of this "
                f"run; choose one of {', '.join(input_keys)} or 0 for the first.")
        return key

    def optional_double(self, parameters, key, context):
        """The number given for KEY, or None when left empty (NaN counts as empty)."""
        if not self.has_value(parameters, key):
            return None
        value = self.parameterAsDouble(parameters, key, context)
        return None if math.isnan(value) else value

    def resolve_raster_input(self, parameters, key, context):
        """KEY, KEY_BAND, KEY_NODATA -> the core's {"path", "band", "nodata"} object."""
        layer = self.parameterAsRasterLayer(parameters, key, context)
        if layer is None or not layer.isValid():
            raise QgsProcessingException(self._unreadable_raster_message(parameters, key))
        self._check_read_by_gdal(key, layer)
        band_key = key + BAND_SUFFIX
        band = self.parameterAsInt(parameters, band_key, context)
        band_count = layer.bandCount()
        if not 1 <= band <= band_count:
            raise QgsProcessingException(
                f"Invalid band number for {band_key} ({band}): valid values for the input raster "
                f"are 1 to {band_count}")
        return {
            "path": layer.source(),
            "band": band,
            "nodata": self.optional_double(parameters, key + NODATA_SUFFIX, context),
        }

    def resolve_raster_layer_list(self, parameters, key, context):
        """A multiple-raster parameter -> (the core's raster objects, the layers' names).

        Band 1 and each band's own nodata: a list has no per-layer band or nodata parameters.
        """
        layers = self.parameterAsLayerList(parameters, key, context)
        core_inputs, names = [], []
        for position, layer in enumerate(layers, start=1):
            label = f"{key} (raster {position} of {len(layers)})"
            if layer is None or not layer.isValid():
                raise QgsProcessingException(f"{label}: not a valid raster layer.")
            if layer.type() != QgsMapLayerType.RasterLayer:
                raise QgsProcessingException(
                    f"{label}: '{layer.name()}' is not a raster layer; give raster layers only.")
            self._check_read_by_gdal(label, layer)
            core_inputs.append({"path": layer.source(), "band": 1, "nodata": None})
            names.append(layer.name())
        return core_inputs, names

    def resolve_stack_input(self, parameters, key, context):
        """KEY, KEY_NODATA -> the core's stack object {"path", "nodata"}."""
        layer = self.parameterAsRasterLayer(parameters, key, context)
        if layer is None or not layer.isValid():
            raise QgsProcessingException(self._unreadable_raster_message(parameters, key))
        self._check_read_by_gdal(key, layer)
        return {"path": layer.source(),
                "nodata": self.optional_double(parameters, key + NODATA_SUFFIX, context)}

    def resolve_stack_layer_list(self, parameters, key, context):
        """A multiple-raster parameter of time stacks -> (the core's stack objects, the layers'
        names); each stack with its own nodata."""
        rasters, names = self.resolve_raster_layer_list(parameters, key, context)
        return [{"path": raster["path"], "nodata": raster["nodata"]} for raster in rasters], names

    @staticmethod
    def _check_read_by_gdal(label, layer):
        if layer.providerType() != "gdal":
            raise QgsProcessingException(
                f"{label}: the layer '{layer.name()}' comes from the '{layer.providerType()}' data "
                f"provider, but smr reads rasters through GDAL only; save it as a GeoTIFF first.")

    @staticmethod
    def _unreadable_raster_message(parameters, key):
        value = parameters.get(key)
        if isinstance(value, str):
            # A GDAL source may carry options after '|'; only the file part can be checked.
            path = value.split("|")[0]
            if not os.path.exists(path):
                return f"{key}: the file '{path}' does not exist."
            return f"{key}: '{value}' is not a raster that GDAL can read."
        return f"{key}: not a valid raster layer ({value!r})."

    # --- QgsProcessingAlgorithm ---------------------------------------------------------------

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self._forget_declarations()
        self.define_parameters()
        self._add_common_parameters()
        self.list_enum_values_in_help()

    def list_enum_values_in_help(self):
        """Append to every enum parameter's help the number of each option.

        QGIS 3.22's qgis_process and processing.run take an enum's number, not its label
        (DIVISION=3, not 'group'); the dialog shows the labels only. Called once every parameter
        is declared, so that help set after a parameter was added is kept.
        """
        for definition in self.parameterDefinitions():
            if definition.type() != "enum":
                continue
            listing = enum_values_help(definition)
            current = definition.help()
            if listing not in current:
                definition.setHelp(f"{current}\n{listing}" if current else listing)

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        # Validation happens here rather than in prepareAlgorithm: QGIS swallows exceptions from
        # prepareAlgorithm into a generic "There were errors executing the algorithm", while
        # these propagate with their message to processing.run, qgis_process and the dialog log.
        request = self.build_request(parameters, context, feedback)
        return self.run_core(request, parameters, context, feedback)

    def run_core(self, request, parameters, context, feedback):
        """The smr command run on `request`, then the raster outputs it wrote styled."""
        outputs = run_smr(self.COMMAND, request, feedback)
        self.style_outputs(request, parameters, context, feedback)
        return outputs

    def style_outputs(self, request, parameters, context, feedback):
        """A .qml beside each raster output of `request`, and its style and name when QGIS
        loads it. Only keys in the request: those are the files the core has just written (an
        optional output left off, or a table run's raster, is not there)."""
        for key in self._output_styles:
            path = request.get(key)
            if not isinstance(path, str) or not os.path.isfile(path):
                continue
            if os.path.splitext(path)[1].lower() == ".json":  # a file output that is no raster
                continue
            description = self.parameterDefinition(key).description()
            styles.style_output(path, self.output_style(key, path, parameters, context),
                                context, feedback, description)

    def build_request(self, parameters, context, feedback):
        """The core's JSON parameters; raises QgsProcessingException naming a bad parameter."""
        request = {}
        input_keys = self.raster_inputs_to_send(parameters, context)
        for key in input_keys:
            request[key] = self.resolve_raster_input(parameters, key, context)
        if input_keys:
            # Explicit, so the output grid never depends on the order of keys in the request.
            request[self.REFERENCE] = self.reference_key(parameters, context, input_keys)
        for key in self._stack_inputs:
            if self.has_value(parameters, key):
                request[key] = self.resolve_stack_input(parameters, key, context)
        for key in self._choices:
            request[key] = self.choice(parameters, key, context)
        for key, integer in self._numbers.items():
            request[key] = (self.parameterAsInt(parameters, key, context) if integer
                            else self.parameterAsDouble(parameters, key, context))
        create_options = parse_creation_options(
            self.parameterAsString(parameters, self.CREATE_OPTIONS, context) or "")
        if create_options:
            request[self.CREATE_OPTIONS] = create_options
        request.update(self.command_parameters(parameters, context, feedback))
        for key in self._raster_outputs:
            path = self.parameterAsOutputLayer(parameters, key, context)
            if path:
                request[key] = path
        return request

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.DISPLAY_NAME)

    def group(self):
        return self.tr(GROUPS[self.GROUP_ID][0])

    def groupId(self):  # noqa: N802 (QGIS API name)
        return self.GROUP_ID

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802 (QGIS API name)
        return icon_path(GROUPS[self.GROUP_ID][1])

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        # Plain text: the dialog turns each line into a paragraph of HTML, so no '<' or '&'.
        parts = [self.tr(self.HELP).strip(), self.tr(self.HELP_APPENDIX).strip(),
                 references_help(self.REFERENCE_KEYS)]
        return "\n\n".join(part for part in parts if part)

    def shortDescription(self):  # noqa: N802 (QGIS API name)
        """The first sentence of HELP: the toolbox's tooltip."""
        return first_sentence(self.tr(self.HELP))

    def helpUrl(self):  # noqa: N802 (QGIS API name)
        """The algorithm's page in the plugin's docs/ folder (file://), for the Help button."""
        return QUrl.fromLocalFile(str(DOCS_DIRECTORY / f"{self.name()}.html")).toString()

    def tags(self):
        return [self.tr(tag) for tag in self.TAGS + COMMON_TAGS]

    def createInstance(self):  # noqa: N802 (QGIS API name)
        return type(self)()

    def tr(self, text):
        return QCoreApplication.translate("SmrAlgorithm", text)


class StackAlgorithm(SmrAlgorithm):
    """Base of the algorithms over time stacks (core/README.md, "Time-series commands").

    Their outputs are stacks and their counts are their own, so they declare their engine
    parameters themselves (add_stack_input, add_resampling_choice, add_threads_parameter,
    add_creation_options_parameter) instead of getting REFERENCE and the pixel counts.
    """

    HELP_APPENDIX = STACK_OUTPUT_HELP

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self._forget_declarations()
        self.define_parameters()
        self.list_enum_values_in_help()
