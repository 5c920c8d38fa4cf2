"""smr:applymodel — a trained network (smr model file) applied pixel by pixel to rasters."""

import json
import os
from collections import namedtuple

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from .base import SmrAlgorithm
from .styles import estimate_style

# The early input-count check is a courtesy; a bigger file is left to the core alone rather than
# parsed twice (a network at the format's size limits is hundreds of megabytes of JSON).
LARGEST_MODEL_READ_IN_PYTHON = 64 * 1024 * 1024

MODEL_FILE_FILTER = "SMR model (*.json)"

ModelSummary = namedtuple(
    "ModelSummary", "input_names input_ranges target_name target_minimum target_maximum")


def read_model_summary(path):
    """Input names and training ranges (minimum, maximum) and the target's name and range of an
    smr model file, or None if it does not look like one.

    Only for friendly messages, the output's style and the training report: the core validates
    every field of the file and explains what is wrong with it, so nothing here raises on a bad
    file.
    """
    try:
        if os.path.getsize(path) > LARGEST_MODEL_READ_IN_PYTHON:
            return None
        with open(path, encoding="utf-8") as stream:
            model = json.load(stream)
        if model.get("format") != "smr-model":
            return None
        inputs = model["inputs"]
        target = model["target"]
        return ModelSummary([str(item["name"]) for item in inputs],
                            [(float(item["minimum"]), float(item["maximum"])) for item in inputs],
                            str(target.get("name", "")),
                            float(target["minimum"]), float(target["maximum"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None


CLAMP_MIN = "CLAMP_MIN"
CLAMP_MAX = "CLAMP_MAX"
NO_BOUND_HELP = "Leave empty to keep every estimate as the network gives it."


def add_clamp_parameters(algorithm, minimum=None, maximum=None,
                         minimum_help=NO_BOUND_HELP, maximum_help=NO_BOUND_HELP):
    """CLAMP_MIN and CLAMP_MAX, optional numbers in the target's unit (defaults `minimum`,
    `maximum`; None: empty), of the algorithms that apply networks; the core sets an estimate
    beyond one to it and counts it."""
    for key, description, default, help_text in (
            (CLAMP_MIN, "Lowest estimate kept (lower ones are set to it)", minimum, minimum_help),
            (CLAMP_MAX, "Highest estimate kept (higher ones are set to it)", maximum,
             maximum_help)):
        bound = QgsProcessingParameterNumber(
            key, algorithm.tr(description), QgsProcessingParameterNumber.Double, default,
            optional=True)
        bound.setHelp(algorithm.tr("In the target's unit. {}").format(algorithm.tr(help_text)))
        algorithm.addParameter(bound)


def clamp_request(algorithm, parameters, context):
    """The bounds that are set, as the core's keys (the core checks CLAMP_MIN ≤ CLAMP_MAX). A
    bound left out of `parameters` (a script, qgis_process) takes its default; one given empty
    (cleared in the dialog) is no bound."""
    request = {}
    for key in (CLAMP_MIN, CLAMP_MAX):
        if key in parameters:
            bound = algorithm.optional_double(parameters, key, context)
        else:
            bound = algorithm.parameterDefinition(key).defaultValue()
        # QGIS itself refuses ±inf; NaN is empty (optional_double).
        if bound is not None:
            request[key] = float(bound)
    return request


class ApplyModel(SmrAlgorithm):
    NAME = "applymodel"
    DISPLAY_NAME = "Apply trained model to rasters"
    GROUP_ID = "machinelearning"
    COMMAND = "applymodel"

    MODEL = "MODEL"
    INPUTS = "INPUTS"
    INPUT_NAMES = "INPUT_NAMES"
    CLAMP_MIN = "CLAMP_MIN"
    CLAMP_MAX = "CLAMP_MAX"
    OUTPUT = "OUTPUT"
    CLAMPED_PIXELS = "CLAMPED_PIXELS"
    OUT_OF_RANGE_PIXELS = "OUT_OF_RANGE_PIXELS"

    HELP = """
Maps soil moisture (or any target) by running a trained neural network on every pixel of a set of rasters. Use it after Train neural network (smr:trainmlp), with the same inputs the network was trained on as rasters: e.g. σ⁰ VV, σ⁰ VH and the soil backscatter, as Chang et al. map soil moisture.

'Trained model file' (MODEL) is the .json file written by Train neural network. 'Input rasters' (INPUTS): one raster per model input, in the model's order (when the count differs, the error lists the model's inputs). Band 1 of each raster is read, with its own nodata value; for another band, extract it first (e.g. with Rearrange bands). The layers' names are checked against the model's input names (INPUT_NAMES), so that swapped inputs (VH given where the model expects VV) are caught.

The estimate is in the target's unit, as in training: m³/m³ for volumetric soil moisture. A nodata pixel in any input is nodata in the output; an estimate that is not a finite number (an overflow in a badly scaled network) becomes nodata too and is counted in INVALID_PIXELS. 'Lowest estimate kept' and 'Highest estimate kept' (CLAMP_MIN, CLAMP_MAX; optional, in the target's unit) set estimates beyond them to the bound; those pixels are counted in CLAMPED_PIXELS. OUT_OF_RANGE_PIXELS counts valid pixels where an input lies outside its training minimum–maximum: there the network extrapolates, and its estimates deserve less trust. When the output is loaded it gets the soil-moisture colour ramp (0–0.5 m³/m³), or, for a model whose target's training range lies outside 0–1, a ramp over that range. The output grid is that of the first input raster, or of the raster numbered in the advanced 'Output grid taken from raster number' (REFERENCE).

How a pixel is computed: each input is scaled with its training minimum and maximum to the network's range (min–max scaling, MATLAB's mapminmax, to [−1, 1] or [0, 1]), the inputs pass through the layers (activations tansig, logsig, relu or purelin), and the output is scaled back with the target's training range. The model file ("format": "smr-model", "kind": "mlp") holds the input names and ranges, the target's name and range, the normalisation and the layers' weights and biases; nothing in it is executed, and a file with a missing, wrong or non-finite field is rejected with a message naming it.
"""
    REFERENCE_KEYS = ("chang",)
    TAGS = ("neural network", "MLP", "BP network", "apply model", "predict", "inference",
            "soil moisture map", "regression", "machine learning")

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Trained model file"), QgsProcessingParameterFile.File,
            fileFilter=self.tr(MODEL_FILE_FILTER)))
        inputs = QgsProcessingParameterMultipleLayers(
            self.INPUTS, self.tr("Input rasters, in the model's input order (band 1 of each)"),
            QgsProcessing.TypeRaster)
        inputs.setMinimumNumberInputs(1)
        self.addParameter(inputs)
        add_clamp_parameters(self)
        self.add_raster_output(self.OUTPUT, self.tr("Estimate (e.g. soil moisture, m³/m³)"),
                               style="soil_moisture")
        self.add_count_output(self.CLAMPED_PIXELS,
                              self.tr("Estimates set to CLAMP_MIN or CLAMP_MAX"))
        self.add_count_output(self.OUT_OF_RANGE_PIXELS,
                              self.tr("Valid pixels with an input outside its training range"))

    def add_reference_parameter(self):
        # The number of rasters is only known at run time, so the grid is chosen by position
        # rather than from an enum of inputs; 0 keeps the meaning it has in the other algorithms.
        reference = QgsProcessingParameterNumber(
            self.REFERENCE, self.tr("Output grid taken from raster number (0 = the first)"),
            QgsProcessingParameterNumber.Integer, 0, minValue=0)
        reference.setHelp(self.tr(
            "Position in INPUTS, from 1, of the raster whose extent, pixel size and CRS the output "
            "takes; 0 (default) means the first. The other rasters are aligned to it with the "
            "RESAMPLING method."))
        self._make_advanced(reference)
        self.addParameter(reference)

    def command_parameters(self, parameters, context, feedback):
        model_path = self.model_path(parameters, context)
        core_inputs, names = self.resolve_raster_layer_list(parameters, self.INPUTS, context)
        request = {
            self.MODEL: model_path,
            self.INPUTS: core_inputs,
            self.INPUT_NAMES: names,
            self.REFERENCE: self.reference_input_key(parameters, context, len(core_inputs)),
        }
        request.update(clamp_request(self, parameters, context))
        return request

    def check_input_count(self, summary, request):
        """The early courtesy check (see LARGEST_MODEL_READ_IN_PYTHON): one raster per model
        input, with the model's inputs listed when the count differs."""
        if summary is None or len(summary.input_names) == len(request[self.INPUTS]):
            return
        raise QgsProcessingException(
            f"INPUTS: the model {request[self.MODEL]} takes {len(summary.input_names)} input "
            f"rasters, in this order: {', '.join(summary.input_names)}; "
            f"{len(request[self.INPUTS])} were given "
            f"({', '.join(request[self.INPUT_NAMES]) or 'none'}). Give one raster per model "
            f"input, in the model's order.")

    def model_path(self, parameters, context):
        path = self.parameterAsFile(parameters, self.MODEL, context)
        if not path or not os.path.isfile(path):
            what = "does not exist" if not path or not os.path.exists(path) else "is not a file"
            raise QgsProcessingException(
                f"MODEL: '{path}' {what}; choose a model file (*.json) written by Train neural "
                f"network (smr:trainmlp).")
        return path

    def reference_input_key(self, parameters, context, raster_count):
        """The core's key of the raster whose grid the output takes: INPUTS_<0-based index>."""
        number = self.parameterAsInt(parameters, self.REFERENCE, context)
        if not 0 <= number <= raster_count:
            raise QgsProcessingException(
                f"Invalid value for {self.REFERENCE} ({number}): INPUTS holds {raster_count} "
                f"raster{'s' if raster_count != 1 else ''}; give 0 for the first or a position "
                f"from 1 to {raster_count}.")
        return f"{self.INPUTS}_{max(number - 1, 0)}"

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        # Read once, for the input count before the core runs and for the output's style after.
        summary = read_model_summary(request[self.MODEL])
        self.check_input_count(summary, request)
        self._model_summary = summary
        return self.run_core(request, parameters, context, feedback)

    def output_style(self, key, path, parameters, context):
        """The soil-moisture ramp unless the target's training range shows another quantity
        (e.g. vegetation water content in kg/m²), drawn over that range and named after it."""
        summary = getattr(self, "_model_summary", None)
        if summary is None:
            return super().output_style(key, path, parameters, context)
        return estimate_style((summary.target_minimum, summary.target_maximum),
                              "soil moisture", summary.target_name or "estimate")
