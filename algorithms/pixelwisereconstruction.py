"""smr:pixelwisereconstruction — paper 001's one BP network per grid cell over its time series.

The core reads the stacks, trains the networks (cells in parallel) and writes the reconstructed
stack; this file declares the parameters, checks the pairings the core would reject only after
opening every stack, and styles the output. The stack and precipitation parameters are shared
with smr:sensitivityanalysis (StackSamples).
"""

import re

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from .applymodel import add_clamp_parameters, clamp_request
from .base import StackAlgorithm
from .samples import NetworkParameters
from .styles import OutputStyle, estimate_style, raster_value_range

# The core's subsets of a cell's pairs: (key in its results, label).
CELL_SUBSETS = (("TRAIN", "training"), ("VALIDATION", "validation"), ("TEST", "test"),
                ("ALL", "overall"))
CELL_METRICS = (("R", "mean r"), ("RMSE", "mean RMSE"), ("UBRMSE", "mean ubRMSE"),
                ("BIAS", "mean bias (estimate − target)"))

PERIOD_HELP = (
    "Empty or 'all': every band. 'first:last': band numbers, from 1, both included (e.g. "
    "'1:365'). 'YYYY-MM-DD:YYYY-MM-DD': the bands whose date (band description) lies in that "
    "closed interval (e.g. '2015-04-01:2016-03-31'), dates from the target stack, else from the "
    "first stack that has them.")
# QGIS 3.22's string widget has no placeholder text, so the label shows the format.
PERIOD_FORMAT = "empty: all bands; e.g. 1:365 or 2015-04-01:2016-03-31"


def metric_band(subset, metric):
    """The band of METRICS holding `metric` of `subset` (keys of CELL_METRICS, CELL_SUBSETS)."""
    subsets = [key for key, _ in CELL_SUBSETS]
    metrics = [key for key, _ in CELL_METRICS]
    return subsets.index(subset) * len(metrics) + metrics.index(metric) + 1


def parse_names(text):
    """'VV, VH, LST' -> ['VV', 'VH', 'LST']; empty -> []."""
    return [name.strip() for name in re.split(r"[,;]", text or "") if name.strip()]


def stack_names(text, names_key, stacks_key, layer_names):
    """The names given in NAMES_KEY (`text`), one per stack of STACKS_KEY, or the layers' names
    when none are given."""
    names = parse_names(text)
    if names and len(names) != len(layer_names):
        raise QgsProcessingException(
            f"Invalid value for {names_key} ('{', '.join(names)}'): {len(names)} names for "
            f"{len(layer_names)} stacks in {stacks_key} ({', '.join(layer_names)}); give one name "
            f"per stack, in the same order, or leave it empty to use the layer names.")
    return names or layer_names


class StackSamples:
    """Mixin of the algorithms that learn from predictor stacks and a target stack, as the core's
    PREDICTORS, PREDICTOR_NAMES, TARGET, PRECIPITATION, PRECIPITATION_THRESHOLD,
    TRAINING_PERIOD and MIN_PAIRS (core/README.md, pixelwisereconstruction)."""

    PREDICTORS = "PREDICTORS"
    PREDICTOR_NAMES = "PREDICTOR_NAMES"
    TARGET = "TARGET"
    PRECIPITATION = "PRECIPITATION"
    PRECIPITATION_THRESHOLD = "PRECIPITATION_THRESHOLD"
    TRAINING_PERIOD = "TRAINING_PERIOD"
    MIN_PAIRS = "MIN_PAIRS"

    def add_paper001_network_parameters(self):
        """The per-cell network of paper 001: 12 hidden neurons, 80/10/10, inputs and target
        scaled to [0, 1]; random, block or interleaved division over a cell's pairs."""
        self.add_network_parameters(
            hidden="12", ratios=(0.8, 0.1, 0.1), normalisation="zero_one", divisions=3,
            advanced=(self.HIDDEN_ACTIVATION, self.TRAINER, self.EPOCHS, self.GOAL,
                      self.MAX_FAIL, self.DIVISION))

    def add_stack_sample_parameters(self, optional=False):
        """PREDICTORS … TRAINING_PERIOD and MIN_PAIRS; `optional` where another source of
        samples may replace the stacks (their labels then name stack mode)."""
        mode = self.tr("Stack mode: ") if optional else ""
        predictors = QgsProcessingParameterMultipleLayers(
            self.PREDICTORS, mode + self.tr("Predictor stacks, in this order (band = time step)"),
            QgsProcessing.TypeRaster, optional=optional)
        predictors.setHelp(self.tr(
            "One stack per network input (Wang and Xu 2021: AMSR2 brightness temperatures, "
            "GLDAS soil moisture, land and soil temperature, MODIS LAI), all with the target's "
            "time steps."))
        self.addParameter(predictors)
        names = QgsProcessingParameterString(
            self.PREDICTOR_NAMES, self.tr("Predictor names (comma-separated; empty: layer names)"),
            optional=True)
        names.setHelp(self.tr("One name per predictor stack, in the same order."))
        self.addParameter(names)
        self.add_stack_input(self.TARGET, mode + self.tr("Target stack (e.g. SMAP soil moisture)"),
                             optional=optional)
        self.add_stack_input(self.PRECIPITATION,
                             self.tr("Precipitation stack (mm between overpasses)"), optional=True)
        threshold = QgsProcessingParameterNumber(
            self.PRECIPITATION_THRESHOLD, self.tr("Precipitation threshold (mm)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0.0)
        threshold.setHelp(self.tr(
            "A time step whose precipitation is at or above it, or missing, is left out of "
            "training (Wang and Xu 2021, §3.2.4, use 8.75 mm). Needed with the precipitation "
            "stack (PRECIPITATION) and only with it; empty: no filtering."))
        self.addParameter(threshold)
        self.add_period_parameter(self.TRAINING_PERIOD, self.tr("Training period ({})")
                                  .format(PERIOD_FORMAT))
        self.add_number(self.MIN_PAIRS, self.tr("Minimum valid pairs per cell"), 50, minimum=2,
                        integer=True, send=False)

    def add_period_parameter(self, key, description):
        period = QgsProcessingParameterString(key, description, optional=True)
        period.setHelp(self.tr(PERIOD_HELP))
        self.addParameter(period)

    def stack_sample_request(self, parameters, context):
        """The core's keys of the stack samples; TARGET and PRECIPITATION go as stack inputs."""
        predictors, layer_names = self.resolve_stack_layer_list(
            parameters, self.PREDICTORS, context)
        if not predictors:
            raise QgsProcessingException(
                f"No predictors: {self.PREDICTORS} is empty; give one stack per network input.")
        if not self.has_value(parameters, self.TARGET):
            raise QgsProcessingException(
                f"No target: {self.TARGET} is empty; give the stack the networks learn to "
                f"estimate (e.g. SMAP soil moisture), with the predictors' time steps.")
        names = stack_names(self.parameterAsString(parameters, self.PREDICTOR_NAMES, context),
                            self.PREDICTOR_NAMES, self.PREDICTORS, layer_names)
        request = {self.PREDICTORS: predictors, self.PREDICTOR_NAMES: names,
                   self.MIN_PAIRS: self.parameterAsInt(parameters, self.MIN_PAIRS, context)}
        period = self.parameterAsString(parameters, self.TRAINING_PERIOD, context).strip()
        if period:
            request[self.TRAINING_PERIOD] = period
        return request

    def threshold_request(self, parameters, context, precipitation_key, needs_threshold=True):
        """PRECIPITATION_THRESHOLD when set, checked against the precipitation it filters
        (`precipitation_key`: the parameter that gives it)."""
        threshold = self.optional_double(parameters, self.PRECIPITATION_THRESHOLD, context)
        has_precipitation = self.has_value(parameters, precipitation_key)
        if threshold is not None and not has_precipitation:
            raise QgsProcessingException(
                f"Invalid value for {self.PRECIPITATION_THRESHOLD} ({threshold:g} mm): a "
                f"threshold needs precipitation to compare with; set {precipitation_key} or "
                f"leave {self.PRECIPITATION_THRESHOLD} empty.")
        if threshold is None and has_precipitation and needs_threshold:
            raise QgsProcessingException(
                f"{precipitation_key} is set but {self.PRECIPITATION_THRESHOLD} is empty: give "
                f"the threshold in mm at and above which a time step is left out of training "
                f"(Wang and Xu 2021 use 8.75), or leave {precipitation_key} empty.")
        return {} if threshold is None else {self.PRECIPITATION_THRESHOLD: threshold}


class PixelwiseReconstruction(StackSamples, NetworkParameters, StackAlgorithm):
    NAME = "pixelwisereconstruction"
    DISPLAY_NAME = "Pixel-wise reconstruction (one network per cell, time series)"
    GROUP_ID = "machinelearning"
    COMMAND = "pixelwisereconstruction"

    PREDICTION_PERIOD = "PREDICTION_PERIOD"
    OUTPUT = "OUTPUT"
    METRICS = "METRICS"
    COUNTS = "COUNTS"
    CELLS = "CELLS"
    TRAINED_CELLS = "TRAINED_CELLS"
    SKIPPED_CELLS = "SKIPPED_CELLS"
    FAILED_CELLS = "FAILED_CELLS"
    EXCLUDED_BY_PRECIPITATION = "EXCLUDED_BY_PRECIPITATION"
    EXTRAPOLATED_STEPS = "EXTRAPOLATED_STEPS"
    MASK_EXTRAPOLATED = "MASK_EXTRAPOLATED"
    MASKED_STEPS = "MASKED_STEPS"
    CLAMPED_STEPS = "CLAMPED_STEPS"
    TRAINING_BANDS = "TRAINING_BANDS"
    PREDICTION_BANDS = "PREDICTION_BANDS"
    BAND_RANGES = (TRAINING_BANDS, PREDICTION_BANDS)

    HELP = """
Fills the gaps of a soil-moisture time series cell by cell, with one small neural network per grid cell trained on that cell's own history (the reconstruction of Wang and Xu 2021). Use it to gap-fill or extend a satellite soil-moisture product (e.g. SMAP) from predictors available every day, such as passive-microwave brightness temperatures, model soil moisture, temperatures and LAI.

Inputs are time stacks (one band per time step) with the same steps: the 'Predictor stacks' (PREDICTORS, one per network input), the 'Target stack' (TARGET, what the networks learn) and, optionally, a 'Precipitation stack' (mm fallen between the overpasses of predictors and target) with its 'Precipitation threshold': steps with that much rain or more, or with none recorded, are left out of training (Wang and Xu: 8.75 mm) and counted in EXCLUDED_BY_PRECIPITATION. 'Training period' and 'Prediction period' are empty or 'all' (every band), band numbers 'first:last' counted from 1 (e.g. 1:365), or dates 'YYYY-MM-DD:YYYY-MM-DD' matched against the bands' dates (e.g. 2015-04-01:2016-03-31); TRAINING_BANDS and PREDICTION_BANDS return the bands used, as 'first:last'. All stacks need the same number of bands and, where two carry dates, the same dates. The outputs take the grid of the target stack; stacks on another grid are aligned to it with the resampling method.

Per cell, a pair is a step of the training period where every predictor and the target are valid. A cell with fewer pairs than 'Minimum valid pairs per cell' (MIN_PAIRS, default 50) is skipped and counted in SKIPPED_CELLS. Otherwise its pairs are divided 80/10/10 into training, validation and test samples (random, block or interleaved over the cell's pairs in time order), and a network with 'Neurons per hidden layer' hidden neurons (Wang and Xu: 12) and a linear output is trained by Levenberg–Marquardt with early stopping on the validation samples, as Train neural network does (advanced settings). A cell whose target is constant or whose training diverged has no network and is counted in FAILED_CELLS.

Outputs: the reconstructed stack over the prediction period, in the target's unit (m³/m³ for soil moisture), with the target's dates as band descriptions; a step where a predictor is missing, and every step of a cell without a network, is nodata. The optional per-cell metrics (16 bands) hold r, RMSE, ubRMSE and bias for the training, validation, test and overall pairs in turn (Wang and Xu, eq. 1–3 and Fig. 4), in the target's unit; the optional pair counts (5 bands) hold the valid pairs, those excluded by precipitation, and the training, validation and test samples. bias = mean(estimate − target): positive means the estimate is too high (Wang and Xu use the opposite sign). MEAN_TRAIN_R … MEAN_ALL_BIAS are the means over the trained cells. EXTRAPOLATED_STEPS counts the reconstructed cell-steps where a predictor lies outside the range the cell's network was trained on (e.g. frozen days, which a target like SMAP never covers): the network extrapolates there, often to values no soil can hold (e.g. −2.7 to 9.4 m³/m³ on the sample scene).

Values a user can trust: 'Leave steps outside the cell's training range empty' (MASK_EXTRAPOLATED, on by default) makes those steps nodata, counted in MASKED_STEPS — as SMAP itself has no value on frozen ground; untick it to reconstruct every step, as Wang and Xu do. 'Lowest estimate kept' and 'Highest estimate kept' (CLAMP_MIN, default 0; CLAMP_MAX, empty by default; in the target's unit) set the remaining estimates beyond them to the bound, counted in CLAMPED_STEPS. The default lower bound is 0 because soil moisture cannot be negative (clear it for a target that can be); there is no default upper bound because the wettest possible value depends on the soil's porosity, unknown here: give your product's valid maximum (0.6 m³/m³ for the sample scene's SMAP). The per-cell metrics describe the networks before masking and clamping. Each cell's seed derives from the random seed and the cell's position alone, so the outputs are the same for any number of threads. When the reconstruction is loaded it gets the soil-moisture colour ramp.

Method, per cell: inputs and target scaled to [0, 1] by their training minimum and maximum (min–max scaling, MATLAB's mapminmax, as Wang and Xu), tansig (tanh) hidden neurons and a linear output, trained by Levenberg–Marquardt as in Train neural network.
"""
    REFERENCE_KEYS = ("wang2021",)
    TAGS = ("reconstruction", "gap filling", "neural network", "per pixel", "time series",
            "stack", "SMAP", "AMSR2", "GLDAS", "machine learning", "RMSE", "ubRMSE")

    def define_parameters(self):
        self.add_stack_sample_parameters()
        self.add_period_parameter(self.PREDICTION_PERIOD, self.tr("Prediction period ({})")
                                  .format(PERIOD_FORMAT))
        self.add_estimate_limits()
        self.add_paper001_network_parameters()
        self.add_resampling_choice(
            self.tr("Resampling of stacks on another grid"),
            self.tr("Used only for stacks on another grid or CRS than TARGET: they are aligned "
                    "to it on the fly. Bilinear suits continuous data."))
        self.add_threads_parameter(self.tr(
            "Cells are trained in parallel. The outputs are the same for any number of threads."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")

        self.add_raster_output(self.OUTPUT, self.tr("Reconstructed stack (target units)"),
                               style="soil_moisture")
        # One band each, never an RGB of unrelated bands: r over all of a cell's pairs, and
        # the cell's valid pairs.
        self.add_raster_output(self.METRICS, self.tr("Per-cell metrics (16 bands)"),
                               optional=True, style=OutputStyle(
                                   "correlation", "cell r (all pairs)",
                                   band=metric_band("ALL", "R")))
        self.add_raster_output(self.COUNTS, self.tr("Per-cell pair counts (5 bands)"),
                               optional=True,
                               style=OutputStyle("count", "valid pairs", band=1, unit="pairs"))
        for key, description in (
                (self.CELLS, "Grid cells"),
                (self.TRAINED_CELLS, "Cells with a trained network"),
                (self.SKIPPED_CELLS, "Cells skipped (fewer than MIN_PAIRS pairs)"),
                (self.FAILED_CELLS, "Cells whose training failed (constant target, diverged)"),
                (self.EXCLUDED_BY_PRECIPITATION, "Pairs left out for precipitation"),
                (self.EXTRAPOLATED_STEPS,
                 "Reconstructed cell-steps with a predictor outside its cell's training range"),
                (self.MASKED_STEPS, "Cell-steps left empty: outside the cell's training range"),
                (self.CLAMPED_STEPS, "Cell-steps set to the lowest or highest value kept")):
            self.add_count_output(key, self.tr(description))
        for subset, subset_label in CELL_SUBSETS:
            for metric, metric_label in CELL_METRICS:
                self.addOutput(QgsProcessingOutputNumber(
                    f"MEAN_{subset}_{metric}",
                    self.tr("{}: {} over trained cells").format(subset_label.capitalize(),
                                                                metric_label)))
        self.addOutput(QgsProcessingOutputString(
            self.TRAINING_BANDS, self.tr("Bands of the training period (first:last)")))
        self.addOutput(QgsProcessingOutputString(
            self.PREDICTION_BANDS, self.tr("Bands of the prediction period (first:last)")))

    def command_parameters(self, parameters, context, feedback):
        request = self.stack_sample_request(parameters, context)
        request.update(self.threshold_request(parameters, context, self.PRECIPITATION))
        period = self.parameterAsString(parameters, self.PREDICTION_PERIOD, context).strip()
        if period:
            request[self.PREDICTION_PERIOD] = period
        request.update(self.network_request(parameters, context))
        request.update(clamp_request(self, parameters, context))
        request[self.MASK_EXTRAPOLATED] = self.parameterAsBoolean(
            parameters, self.MASK_EXTRAPOLATED, context)
        return request

    def add_estimate_limits(self):
        """What the reconstruction keeps of the networks' estimates. Defaults for a soil-moisture
        target (core/README.md says why): no step where the network extrapolates, nothing below
        0, no upper bound."""
        mask = QgsProcessingParameterBoolean(
            self.MASK_EXTRAPOLATED,
            self.tr("Leave steps outside the cell's training range empty (nodata)"), True)
        mask.setHelp(self.tr(
            "A step where a predictor lies outside the range the cell's network was trained on "
            "(e.g. a frozen day, which SMAP never retrieves) is nodata instead of an "
            "extrapolation, and counted in MASKED_STEPS. Untick it to reconstruct every step, as "
            "Wang and Xu do; EXTRAPOLATED_STEPS counts those steps either way."))
        self.addParameter(mask)
        add_clamp_parameters(
            self, minimum=0.0,
            minimum_help="0: soil moisture (and most gap-filled quantities) cannot be negative; "
                         "clear it for a target that can, e.g. a temperature in °C.",
            maximum_help="Empty: no upper bound, since the wettest valid value depends on the "
                         "soil's porosity (about 0.35–0.6 m³/m³); give your product's valid "
                         "maximum, e.g. 0.6.")

    def output_style(self, key, path, parameters, context):
        if key != self.OUTPUT:
            return super().output_style(key, path, parameters, context)
        # In the target's units: the target's own values say whether that is soil moisture
        # (the reconstruction itself may extrapolate far outside them).
        target = self.parameterAsRasterLayer(parameters, self.TARGET, context)
        return estimate_style(raster_value_range(target.source()), "soil moisture (reconstructed)",
                              f"{target.name()} (reconstructed)")

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = self.run_core(request, parameters, context, feedback)
        results = {output.name(): outputs.get(output.name())
                   for output in self.outputDefinitions()}
        for key in self.BAND_RANGES:
            bands = outputs.get(key)
            # The period syntax, so a model can pass it on as another run's period.
            results[key] = f"{bands[0]}:{bands[1]}" if isinstance(bands, list) else bands
        return results
