"""smr:applymodel — a trained network (smr model file) applied pixel by pixel to rasters."""

import json
import math
import os
from collections import namedtuple

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from ..plugin.bridge import run_smr
from .base import SmrAlgorithm
from .styles import (SOIL_MOISTURE_MAXIMUM, SOIL_MOISTURE_MINIMUM, SOIL_MOISTURE_UNIT,
                     style_on_load)

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
Applies a network trained by "Train neural network" (smr:trainmlp) — the BP network of papers 000 (Chang et al.), 001 and 003 (Lv et al.) — to every pixel of the input rasters, e.g. to map soil moisture from σ⁰ VV, σ⁰ VH and the soil backscatter.

MODEL is the smr model file (JSON, "format": "smr-model", "kind": "mlp"). It holds the input names and their training minimum and maximum, the target's name, minimum and maximum, the normalisation (mapminmax to [−1, 1] or [0, 1]), and the layers (weights, biases, activations tansig, logsig, relu or purelin). Each pixel's inputs are scaled by mapminmax with the inputs' training ranges, run through the layers, and the output is scaled back with the target's range. Nothing in the file is executed; a file with a missing, wrong or non-finite field is rejected with a message naming it.

INPUTS: one raster per model input, in the model's order (when the count differs, the error lists the model's inputs). Band 1 of each raster is read, with its own nodata value; for another band, extract it first (e.g. with Rearrange bands). The layer names are sent as INPUT_NAMES: a layer named like a different model input (e.g. VH given where the model expects VV) is an error, so swapped inputs are caught.

The estimate is in the target's units, as in training: m³/m³ for volumetric soil moisture. A nodata pixel in any input is nodata in the output; an estimate that is not a finite number (an overflow in a badly scaled network) becomes nodata too and is counted in INVALID_PIXELS. CLAMP_MIN and CLAMP_MAX (optional) set estimates below or above them to the bound; those pixels are counted in CLAMPED_PIXELS. OUT_OF_RANGE_PIXELS counts valid pixels where an input lies outside its training minimum–maximum: there the network extrapolates, and its estimates deserve less trust.

When the output is loaded into the project it gets a brown (dry) to blue (wet) colour ramp from 0 to 0.5 m³/m³; a model whose target range lies outside 0–1 gets the same ramp over its target's training range instead.

Output grid: the first raster of INPUTS, or the raster numbered in the advanced REFERENCE parameter.
"""

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL, self.tr("Trained model file"), QgsProcessingParameterFile.File,
            fileFilter=self.tr(MODEL_FILE_FILTER)))
        inputs = QgsProcessingParameterMultipleLayers(
            self.INPUTS, self.tr("Input rasters, in the model's input order (band 1 of each)"),
            QgsProcessing.TypeRaster)
        inputs.setMinimumNumberInputs(1)
        self.addParameter(inputs)
        for key, description in (
                (self.CLAMP_MIN, self.tr("Lowest estimate kept (lower ones are set to it)")),
                (self.CLAMP_MAX, self.tr("Highest estimate kept (higher ones are set to it)"))):
            bound = QgsProcessingParameterNumber(
                key, description, QgsProcessingParameterNumber.Double, optional=True)
            bound.setHelp(self.tr("Optional, in the target's units; leave empty to keep every "
                                  "estimate as the network gives it."))
            self.addParameter(bound)
        self.add_raster_output(self.OUTPUT, self.tr("Estimate (e.g. soil moisture, m³/m³)"))
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
        for key in (self.CLAMP_MIN, self.CLAMP_MAX):
            bound = self.optional_double(parameters, key, context)
            if bound is not None:
                request[key] = bound
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
        outputs = run_smr(self.COMMAND, request, feedback)
        minimum, maximum, unit = self.output_ramp(summary)
        style_on_load(context, request[self.OUTPUT], minimum, maximum, unit)
        return outputs

    @staticmethod
    def output_ramp(summary):
        """(minimum, maximum, unit) of the output's colour ramp.

        The soil-moisture ramp unless the target's training range shows another quantity
        (e.g. vegetation water content in kg/m²), which would be a single colour on it.
        """
        soil_moisture = (SOIL_MOISTURE_MINIMUM, SOIL_MOISTURE_MAXIMUM, SOIL_MOISTURE_UNIT)
        if summary is None:
            return soil_moisture
        low, high = summary.target_minimum, summary.target_maximum
        if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
            return soil_moisture
        if 0.0 <= low and high <= 1.0:
            return soil_moisture
        return low, high, ""
