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
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..plugin.bridge import run_smr
from .base import StackAlgorithm
from .samples import NetworkParameters
from .styles import style_on_load

# The core's subsets of a cell's pairs: (key in its results, label).
CELL_SUBSETS = (("TRAIN", "training"), ("VALIDATION", "validation"), ("TEST", "test"),
                ("ALL", "overall"))
CELL_METRICS = (("R", "mean r"), ("RMSE", "mean RMSE"), ("UBRMSE", "mean ubRMSE"),
                ("BIAS", "mean bias (estimate − target)"))

PERIOD_HELP = (
    "Empty or 'all': every band. 'first:last': band numbers, from 1, both included (e.g. "
    "'1:365'). 'YYYY-MM-DD:YYYY-MM-DD': the bands whose date (band description) lies in that "
    "closed interval, dates from TARGET, else from the first stack that has them.")


def parse_names(text):
    """'VV, VH, LST' -> ['VV', 'VH', 'LST']; empty -> []."""
    return [name.strip() for name in re.split(r"[,;]", text or "") if name.strip()]


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
        samples may replace the stacks."""
        predictors = QgsProcessingParameterMultipleLayers(
            self.PREDICTORS, self.tr("Predictor stacks, in this order (band = time step)"),
            QgsProcessing.TypeRaster, optional=optional)
        predictors.setHelp(self.tr(
            "One stack per network input (paper 001: AMSR2 brightness temperatures, GLDAS soil "
            "moisture, land and soil temperature, MODIS LAI), all with the target's time steps."))
        self.addParameter(predictors)
        names = QgsProcessingParameterString(
            self.PREDICTOR_NAMES, self.tr("Predictor names (comma-separated; empty: layer names)"),
            optional=True)
        names.setHelp(self.tr("One name per predictor stack, in the same order."))
        self.addParameter(names)
        self.add_stack_input(self.TARGET, self.tr("Target stack (e.g. SMAP soil moisture)"),
                             optional=optional)
        self.add_stack_input(self.PRECIPITATION,
                             self.tr("Precipitation stack (mm between overpasses)"), optional=True)
        threshold = QgsProcessingParameterNumber(
            self.PRECIPITATION_THRESHOLD, self.tr("Precipitation threshold (mm)"),
            QgsProcessingParameterNumber.Double, optional=True, minValue=0.0)
        threshold.setHelp(self.tr(
            "A time step whose precipitation is at or above it, or missing, is left out of "
            "training (paper 001 §3.2.4 uses 8.75 mm). Needed with PRECIPITATION and only with "
            "it; empty: no filtering."))
        self.addParameter(threshold)
        self.add_period_parameter(self.TRAINING_PERIOD, self.tr("Training period"))
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
        names = parse_names(self.parameterAsString(parameters, self.PREDICTOR_NAMES, context))
        if names and len(names) != len(predictors):
            raise QgsProcessingException(
                f"Invalid value for {self.PREDICTOR_NAMES} ('{', '.join(names)}'): "
                f"{len(names)} names for {len(predictors)} stacks in {self.PREDICTORS} "
                f"({', '.join(layer_names)}); give one name per stack, in the same order, or "
                f"leave it empty to use the layer names.")
        request = {self.PREDICTORS: predictors, self.PREDICTOR_NAMES: names or layer_names,
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
                f"(paper 001 uses 8.75), or leave {precipitation_key} empty.")
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
    TRAINING_BANDS = "TRAINING_BANDS"
    PREDICTION_BANDS = "PREDICTION_BANDS"
    BAND_RANGES = (TRAINING_BANDS, PREDICTION_BANDS)

    HELP = """
Paper 001 (reconstruction of SMAP soil moisture): one small BP network per grid cell, trained on that cell's own time series, then applied to every time step of the prediction period, e.g. to fill the gaps of a soil-moisture product from passive-microwave brightness temperatures, model soil moisture, temperatures and LAI.

Per cell, a pair is a time step of TRAINING_PERIOD where every predictor and the target are valid. With PRECIPITATION (mm fallen between the overpasses of predictors and target) and PRECIPITATION_THRESHOLD, steps with precipitation at or above the threshold, or missing, are left out of training (paper 001 §3.2.4: 8.75 mm) and counted in EXCLUDED_BY_PRECIPITATION. A cell with fewer than MIN_PAIRS pairs (default 50) is skipped and counted in SKIPPED_CELLS. Otherwise its inputs and target are scaled by mapminmax to [0, 1] (paper 001; NORMALISATION), its pairs are divided 80/10/10 into training, validation and test samples (DIVISION random, block or interleaved, over the cell's pairs in time order), and a network with HIDDEN tansig neurons (paper 001: 12) and a linear output is trained by Levenberg–Marquardt with early stopping on the validation samples, as smr:trainmlp (advanced settings). A cell whose target is constant or whose training diverged has no network and is counted in FAILED_CELLS.

OUTPUT is the reconstructed stack over PREDICTION_PERIOD, in the target's units (m³/m³ for soil moisture), with the target's dates as band descriptions; a step where a predictor is missing, and every step of a cell without a network, is nodata. METRICS (optional, 16 bands) holds per cell r, RMSE, ubRMSE and bias for the training, validation, test and overall pairs, in turn (paper 001 eq. 1–3 and Fig. 4), in the target's units; COUNTS (optional, 5 bands) the valid pairs, those excluded by precipitation and the training, validation and test samples. bias = mean(estimate − target): positive means the estimate is too high (paper 001 uses the opposite sign). MEAN_<subset>_<metric> are the means over trained cells. EXTRAPOLATED_STEPS counts the reconstructed cell-steps where a predictor lies outside the range the cell's network was trained on (e.g. frozen days, which a target like SMAP never covers): the network extrapolates there, and a warning says how many.

Periods: TRAINING_PERIOD and PREDICTION_PERIOD are empty or 'all' (every band), 'first:last' band numbers from 1 (e.g. '1:365'), or 'YYYY-MM-DD:YYYY-MM-DD' on the bands' dates; TRAINING_BANDS and PREDICTION_BANDS return the bands used as 'first:last'. All stacks need the same number of bands and, where two carry dates, the same dates. Outputs take the grid of TARGET; stacks on another grid are aligned to it with RESAMPLING. Each cell's seed derives from SEED and its position alone, so the outputs are the same for any number of THREADS. When OUTPUT is loaded it gets the soil-moisture colour ramp (0–0.5 m³/m³) on its first band.
"""

    def define_parameters(self):
        self.add_stack_sample_parameters()
        self.add_period_parameter(self.PREDICTION_PERIOD, self.tr("Prediction period"))
        self.add_paper001_network_parameters()
        self.add_resampling_choice(
            self.tr("Resampling of stacks on another grid"),
            self.tr("Used only for stacks on another grid or CRS than TARGET: they are aligned "
                    "to it on the fly. Bilinear suits continuous data."))
        self.add_threads_parameter(self.tr(
            "Cells are trained in parallel. The outputs are the same for any number of threads."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")

        self.add_raster_output(self.OUTPUT, self.tr("Reconstructed stack (target units)"))
        self.add_raster_output(self.METRICS, self.tr("Per-cell metrics (16 bands)"),
                               optional=True)
        self.add_raster_output(self.COUNTS, self.tr("Per-cell pair counts (5 bands)"),
                               optional=True)
        for key, description in (
                (self.CELLS, "Grid cells"),
                (self.TRAINED_CELLS, "Cells with a trained network"),
                (self.SKIPPED_CELLS, "Cells skipped (fewer than MIN_PAIRS pairs)"),
                (self.FAILED_CELLS, "Cells whose training failed (constant target, diverged)"),
                (self.EXCLUDED_BY_PRECIPITATION, "Pairs left out for precipitation"),
                (self.EXTRAPOLATED_STEPS,
                 "Reconstructed cell-steps with a predictor outside its cell's training range")):
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
        return request

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = run_smr(self.COMMAND, request, feedback)
        style_on_load(context, request[self.OUTPUT])
        results = {output.name(): outputs.get(output.name())
                   for output in self.outputDefinitions()}
        for key in self.BAND_RANGES:
            bands = outputs.get(key)
            # The period syntax, so a model can pass it on as another run's period.
            results[key] = f"{bands[0]}:{bands[1]}" if isinstance(bands, list) else bands
        return results
