"""smr:trainmlp — a "BP network" (MATLAB fitnet + trainlm) trained on samples, with its report.

Samples come from a vector layer (features and target are numeric fields, read by the plugin,
samples.py, and sent as SAMPLES) or from rasters (every pixel where all rasters are valid, read by
the core). The core trains and writes the model file; this file validates what QGIS users get
wrong, and lays out the HTML report from the core's curves and predictions.
"""

import re

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
)

from ..plugin.bridge import push_warning
from .applymodel import MODEL_FILE_FILTER, read_model_summary
from .report import SUBSET_COLOURS, HtmlReport, METRIC_KEYS, ScatterPanel, metrics_from_outputs
from .samples import LearningAlgorithm, NetworkParameters

# The core's subsets: (prefix of its result keys, name in PREDICTIONS and CURVES, label).
SUBSETS = (
    ("TRAIN_", "train", "Train"),
    ("VALIDATION_", "validation", "Validation"),
    ("TEST_", "test", "Test"),
    ("ALL_", "all", "All"),
)


def choice_label(choices, value):
    """The label of the (label, core value) option whose value is `value`."""
    return next(label for label, option_value in choices if option_value == value)


def parse_hidden_layers(text, key):
    """'10 5' or '10, 5' -> [10, 5]: neurons per hidden layer (the core checks the limits)."""
    items = [item for item in re.split(r"[,;\s]+", text.strip()) if item]
    if not items:
        raise QgsProcessingException(
            f"Invalid value for {key} ('{text}'): give the number of neurons of each hidden layer "
            f"as whole numbers separated by spaces or commas, e.g. '10' or '10 5'.")
    sizes = []
    for item in items:
        if not re.fullmatch(r"\+?\d+", item):
            raise QgsProcessingException(
                f"Invalid value for {key} ('{item}' in '{text}'): neurons per hidden layer are "
                f"whole numbers separated by spaces or commas, e.g. '10' or '10 5'.")
        sizes.append(int(item))
    return sizes


class TrainMlp(NetworkParameters, LearningAlgorithm):
    NAME = "trainmlp"
    DISPLAY_NAME = "Train neural network (MLP, Levenberg–Marquardt)"
    GROUP_ID = "machinelearning"
    COMMAND = "trainmlp"

    INPUT_RASTERS = "INPUT_RASTERS"
    TARGET_RASTER = "TARGET_RASTER"
    MAX_SAMPLES = "MAX_SAMPLES"
    TARGET_NAME = "TARGET_NAME"
    TARGET_UNIT = "TARGET_UNIT"
    OUTPUT_MODEL = "OUTPUT_MODEL"
    SKIPPED_SAMPLES = "SKIPPED_SAMPLES"
    BEST_RESTART = "BEST_RESTART"
    BEST_EPOCH = "BEST_EPOCH"
    EPOCHS_RUN = "EPOCHS_RUN"
    STOP_REASON = "STOP_REASON"

    SAMPLE_RASTERS = (INPUT_RASTERS, TARGET_RASTER)

    HELP = """
Trains a small neural network (a multilayer perceptron, the "BP network" of the soil-moisture papers) by Levenberg–Marquardt to estimate a target, such as in-situ soil moisture, from predictors, such as radar backscatter. It writes the trained model, for Apply trained model to rasters, and a report of its accuracy.

The samples come from one of two sources, which is why the dialog shows every sample input as optional: fill in one group, leave the other empty.
• Vector mode, e.g. in-situ probes with the predictors sampled at their location: 'Vector mode: samples layer' (INPUT_LAYER), its 'input (feature) fields' (FEATURE_FIELDS) and its 'target field' (TARGET_FIELD) are required; the 'group field' (GROUP_FIELD) is needed only to divide by group, which keeps whole groups (stations, fields) in one subset. A feature with a NULL or NaN value in one of these fields is skipped and counted in SKIPPED_SAMPLES.
• Raster mode: 'Raster mode: input rasters' (INPUT_RASTERS, band 1 of each) and 'Raster mode: target raster' (TARGET_RASTER) are required; every pixel where all of them are valid is a sample ('Raster mode: samples to keep' above 0 keeps that many, chosen at random by the seed). Rasters on other grids are aligned to the target's grid with the resampling method.

Training: the samples are divided into training, validation and test subsets (random 70/15/15 by default; the 4:1 split of Chang et al. is the ratios 0.8, 0.2, 0). Training stops after the maximum epochs, at the goal, below the minimum gradient or after 'Validation failures before stopping' epochs without a new validation minimum, and the weights of the validation minimum are kept. Restarts trains from that many random starting weights and keeps the one with the lowest validation error (Lv et al. train four times). Adam is offered for networks too large for Levenberg–Marquardt (more than 5000 weights). The same seed gives the same model file for any number of threads.

Outputs: the model file (JSON, format smr-model), an HTML report (metrics of each subset, scatter plots with the 1:1 line, training curves, the network and its settings) and the metrics as numbers (TRAIN_RMSE, TEST_R2, …; empty where a subset has fewer than 2 samples). The inputs may be in any unit, since each is scaled by its training range; the goal and the RMSE, UBRMSE, MAE and BIAS outputs are in the target's unit (m³/m³ for volumetric soil moisture; 'Unit of the target' names it in the report). bias = mean(estimate − reference): positive means the estimate is too high (Wang and Xu use the opposite sign).

Method, as MATLAB's fitnet with trainlm: tansig (tanh) hidden layers and a purelin (linear) output, Nguyen–Widrow initialisation, inputs and target scaled by mapminmax to [−1, 1] (Wang and Xu scale to [0, 1]); Levenberg–Marquardt steps dX = −(JᵀJ + μI)⁻¹Jᵀe, with μ multiplied by the μ increase factor until the error falls and by the μ decrease factor after a successful step.
"""
    REFERENCE_KEYS = ("chang", "lv2021", "wang2021")
    TAGS = ("neural network", "MLP", "multilayer perceptron", "BP network", "backpropagation",
            "Levenberg–Marquardt", "Adam", "training", "regression", "machine learning",
            "in situ", "RMSE", "ubRMSE")

    def define_parameters(self):
        self.add_sample_layer_parameters(self.tr("the rasters of raster mode"))
        group_field = QgsProcessingParameterField(
            self.GROUP_FIELD, self.tr("Vector mode: group field (to divide by group)"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True)
        group_field.setHelp(self.tr("Each sample's group, e.g. its station: with 'Division into "
                                    "train / validation / test' by group (DIVISION=3), whole "
                                    "groups go to one subset. A feature whose group is NULL is "
                                    "skipped."))
        self.addParameter(group_field)
        input_rasters = QgsProcessingParameterMultipleLayers(
            self.INPUT_RASTERS, self.tr("Raster mode: input rasters (band 1 of each)"),
            QgsProcessing.TypeRaster, optional=True)
        input_rasters.setHelp(self.tr("Required in raster mode, with the target raster: one "
                                      "raster per network input. Leave empty in vector mode."))
        self.addParameter(input_rasters)
        self.add_raster_input(self.TARGET_RASTER, self.tr("Raster mode: target raster"),
                              optional=True)
        max_samples = self.add_number(
            self.MAX_SAMPLES, self.tr("Raster mode: samples to keep (0 = every valid pixel)"), 0,
            minimum=0, integer=True, send=False)
        max_samples.setHelp(self.tr("Raster mode only: keep this many valid pixels, chosen at "
                                    "random by the random seed (SEED)."))

        target_name = QgsProcessingParameterString(
            self.TARGET_NAME, self.tr("Name of the target in the model file"), optional=True)
        target_name.setHelp(self.tr("Empty: the target field's or target raster's name."))
        self.addParameter(target_name)
        target_unit = QgsProcessingParameterString(
            self.TARGET_UNIT, self.tr("Unit of the target, for the report (e.g. m³/m³)"),
            optional=True)
        target_unit.setHelp(self.tr("Shown on the report's axes and metrics; not used in "
                                    "training."))
        self.addParameter(target_unit)

        self.add_network_parameters()
        self.add_threads_parameter(self.tr("Restarts run in parallel, then the rows of the "
                                           "Jacobian. The model is the same for any number of "
                                           "threads."))
        self.add_resampling_choice(
            self.tr("Resampling of rasters on another grid (raster mode)"),
            self.tr("Raster mode only: input rasters on another grid or CRS than the target raster "
                    "are aligned to it with this method."))

        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_MODEL, self.tr("Model file"), MODEL_FILE_FILTER))
        self.add_report_output(self.tr("Training report"))

        for prefix, _, label in SUBSETS:
            for key in METRIC_KEYS:
                self.addOutput(QgsProcessingOutputNumber(
                    prefix + key.upper(), self.tr("{}: {}").format(label, key.upper())))
        self.add_count_output(self.SKIPPED_SAMPLES,
                              self.tr("Features skipped (a NULL or NaN value)"))
        self.add_count_output(self.BEST_RESTART, self.tr("Restart kept (0-based)"))
        self.add_count_output(self.BEST_EPOCH, self.tr("Epoch whose weights were kept"))
        self.add_count_output(self.EPOCHS_RUN, self.tr("Epochs run by the kept restart"))
        self.addOutput(QgsProcessingOutputString(self.STOP_REASON, self.tr("Why training stopped")))

    # --- the request --------------------------------------------------------------------------

    def raster_inputs_to_send(self, parameters, context):
        # TARGET_RASTER is resolved with the input list in command_parameters, in raster mode only.
        return []

    def command_parameters(self, parameters, context, feedback):
        vector_mode = self.uses_vector_layer(parameters)
        division = self.choice(parameters, self.DIVISION, context)
        self.check_ratios(parameters, context)
        request = {
            self.HIDDEN: parse_hidden_layers(
                self.parameterAsString(parameters, self.HIDDEN, context), self.HIDDEN),
            self.OUTPUT_MODEL: self.parameterAsFileOutput(parameters, self.OUTPUT_MODEL, context),
        }
        if vector_mode:
            samples, target_name = self.vector_samples(parameters, context, feedback, division)
            request[self.SAMPLES] = samples
            if self.parameterAsInt(parameters, self.MAX_SAMPLES, context) > 0:
                push_warning(feedback, f"{self.MAX_SAMPLES} applies to raster samples only; "
                                       f"every feature of {self.INPUT_LAYER} is used.")
        else:
            target_name = self.raster_samples(parameters, context, division, request)
        request[self.TARGET_NAME] = (
            self.parameterAsString(parameters, self.TARGET_NAME, context).strip() or target_name)
        return request

    def build_request(self, parameters, context, feedback):
        request = super().build_request(parameters, context, feedback)
        if self.SAMPLES in request:
            del request[self.RESAMPLING]  # nothing is aligned in vector mode
        return request

    def vector_samples(self, parameters, context, feedback, division):
        """The core's SAMPLES object from the vector layer, and the target field's name."""
        if division == "group" and not self.parameterAsString(parameters, self.GROUP_FIELD,
                                                               context):
            raise QgsProcessingException(
                f"Invalid value for {self.DIVISION} (group): dividing by group needs "
                f"{self.GROUP_FIELD}, the field of {self.INPUT_LAYER} that names each sample's "
                f"group (e.g. its station). Set {self.GROUP_FIELD} or choose random, block or "
                f"interleaved division.")
        return self.field_samples(parameters, context, feedback, self.FEATURE_FIELDS,
                                  self.TARGET_FIELD, with_groups=True)

    def raster_samples(self, parameters, context, division, request):
        """Fill the raster-mode keys of the request; return the target raster's name."""
        if division == "group":
            raise QgsProcessingException(
                f"Invalid value for {self.DIVISION} (group): dividing by group needs "
                f"{self.GROUP_FIELD}, which only a vector layer ({self.INPUT_LAYER}) has. Choose "
                f"random, block or interleaved division for raster samples.")
        inputs, names = self.resolve_raster_layer_list(parameters, self.INPUT_RASTERS, context)
        if not inputs:
            raise QgsProcessingException(
                f"No input rasters: {self.INPUT_RASTERS} is empty; give one raster per network "
                f"input together with {self.TARGET_RASTER}.")
        if not self.has_value(parameters, self.TARGET_RASTER):
            raise QgsProcessingException(
                f"No target raster: {self.TARGET_RASTER} is empty; give the raster the network "
                f"learns to estimate together with {self.INPUT_RASTERS}.")
        request[self.INPUT_RASTERS] = inputs
        request["INPUT_NAMES"] = names
        request[self.TARGET_RASTER] = self.resolve_raster_input(
            parameters, self.TARGET_RASTER, context)
        request[self.MAX_SAMPLES] = self.parameterAsInt(parameters, self.MAX_SAMPLES, context)
        return self.parameterAsRasterLayer(parameters, self.TARGET_RASTER, context).name()

    # --- running and reporting ----------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        unit = self.parameterAsString(parameters, self.TARGET_UNIT, context).strip()
        target_name = request[self.TARGET_NAME]
        report = HtmlReport(f"Neural network training: {target_name}")
        best_restart = outputs.get(self.BEST_RESTART)
        report.definition_table([
            ("Model file", outputs.get(self.OUTPUT_MODEL)),
            ("Samples used", outputs.get("ALL_N")),
            ("Features skipped (a NULL or NaN value)", outputs.get(self.SKIPPED_SAMPLES)),
            ("Restart kept", f"{best_restart + 1} of {request[self.RESTARTS]} "
                             f"({self.BEST_RESTART} = {best_restart}, counted from 0)"
             if isinstance(best_restart, int) else best_restart),
            ("Epochs run by the kept restart", outputs.get(self.EPOCHS_RUN)),
            ("Weights kept from epoch", outputs.get(self.BEST_EPOCH)),
            ("Why training stopped", outputs.get(self.STOP_REASON)),
        ])

        report.heading("Metrics")
        report.metrics_table(
            [(label, metrics_from_outputs(outputs, prefix)) for prefix, _, label in SUBSETS],
            "Subset", unit)
        report.bias_convention()

        report.heading("Estimate against reference")
        predictions = outputs.get("PREDICTIONS") or {}
        panels = []
        for _, subset, label in SUBSETS[:3]:
            pairs = [(reference, estimate) for reference, estimate, member in zip(
                predictions.get("reference", []), predictions.get("estimate", []),
                predictions.get("subset", [])) if member == subset]
            if pairs:
                panels.append(ScatterPanel(label, [r for r, _ in pairs], [e for _, e in pairs],
                                           SUBSET_COLOURS[subset]))
        report.scatter_plots(panels, f"Reference: {target_name}",
                             f"Estimate: network output for {target_name}", unit)

        report.heading("Training curves")
        curves = outputs.get("CURVES") or {}
        report.training_curves(curves, outputs.get(self.BEST_EPOCH), unit)

        report.heading("Network")
        report.definition_table(self.network_rows(request, outputs))
        report.heading("Training settings")
        report.definition_table(self.settings_rows(request))
        return report

    def network_rows(self, request, outputs):
        if self.SAMPLES in request:
            input_names = request[self.SAMPLES]["names"]
        else:
            input_names = request["INPUT_NAMES"]
        # The model file as the core wrote it; a report without the ranges beats no report.
        summary = read_model_summary(outputs.get(self.OUTPUT_MODEL))
        ranges = dict(zip(summary.input_names, summary.input_ranges)) if summary else {}
        rows = [("Inputs", ", ".join(
            f"{name} ({ranges[name][0]:.4g} to {ranges[name][1]:.4g})" if name in ranges else name
            for name in input_names))]
        for number, neurons in enumerate(request[self.HIDDEN], start=1):
            rows.append((f"Hidden layer {number}",
                         f"{neurons} neurons, {request[self.HIDDEN_ACTIVATION]}"))
        rows.append(("Output layer", f"1 neuron ({request[self.TARGET_NAME]}), "
                                     f"{request[self.OUTPUT_ACTIVATION]}"))
        rows.append(("Normalisation",
                     choice_label(self.NORMALISATION_CHOICES, request[self.NORMALISATION])))
        return rows

    def settings_rows(self, request):
        if self.SAMPLES in request:
            source = "vector layer, one sample per feature"
        else:
            source = (f"rasters (every pixel where all are valid), aligned with "
                      f"{request[self.RESAMPLING]} resampling; "
                      f"{self.MAX_SAMPLES} = {request[self.MAX_SAMPLES]} (0 = all)")
        rows = [("Samples", source),
                ("Trainer", choice_label(self.TRAINER_CHOICES, request[self.TRAINER]))]
        keys = [self.EPOCHS, self.GOAL, self.MAX_FAIL, self.DIVISION, self.TRAIN_RATIO,
                self.VALIDATION_RATIO, self.TEST_RATIO, self.RESTARTS, self.SEED, self.THREADS]
        if request[self.TRAINER] == "lm":
            keys += [self.MIN_GRADIENT, self.MU, self.MU_DEC, self.MU_INC, self.MU_MAX]
        else:
            keys += [self.LEARNING_RATE, self.BATCH_SIZE]
        rows.extend((f"{self.parameterDefinition(key).description()} ({key})", request[key])
                    for key in keys)
        return rows
