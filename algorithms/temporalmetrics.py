"""smr:temporalmetrics — agreement of an estimate stack with a reference stack, per pixel over time
(a 7-band map) and per time step over space (paper 003 §2.2.2's spatial correlation), with its HTML
report.

The core reads the stacks and computes every metric; this file declares the parameters and lays
out the report from the core's summary, per-step table and per-pixel sample.
"""

import datetime

from qgis.core import QgsProcessingParameterFileDestination, QgsProcessingParameterString

from .base import STACK_OUTPUT_HELP
from .report import DIMENSIONLESS, HtmlReport, axis_unit, unit_suffix
from .samples import LearningAlgorithm
from .styles import OutputStyle

CSV_FILE_FILTER = "CSV files (*.csv)"

PERIOD_HELP = (
    "Empty or 'all': every band. 'first:last': band numbers, from 1, both included (e.g. "
    "'1:365'). 'YYYY-MM-DD:YYYY-MM-DD': the bands whose date (band description) lies in that "
    "closed interval.")


def step_axis(steps):
    """The x values of a per-step plot and their axis title: the steps' dates when every step has
    one, else their band numbers."""
    dates = []
    for step in steps:
        try:
            dates.append(datetime.date.fromisoformat(str(step.get("date"))[:10]))
        except ValueError:
            return [step.get("band") for step in steps], "Band"
    return dates, "Date"


class TemporalMetrics(LearningAlgorithm):
    NAME = "temporalmetrics"
    DISPLAY_NAME = "Temporal and spatial metrics of two stacks (estimate vs reference)"
    GROUP_ID = "validation"
    COMMAND = "temporalmetrics"

    ESTIMATE = "ESTIMATE"
    REFERENCE_STACK = "REFERENCE_STACK"
    PERIOD = "PERIOD"
    MIN_OBSERVATIONS = "MIN_OBSERVATIONS"
    SIGNIFICANCE = "SIGNIFICANCE"
    UNIT = "UNIT"
    MAX_PLOT_PIXELS = "MAX_PLOT_PIXELS"
    SEED = "SEED"
    OUTPUT = "OUTPUT"
    SPATIAL_OUTPUT = "SPATIAL_OUTPUT"

    # (result key, description): the numbers a model can wire.
    NUMBER_OUTPUTS = (
        ("STEPS", "Time steps compared (bands of PERIOD)"),
        ("SIGNIFICANT_STEPS", "Steps whose spatial r has p < SIGNIFICANCE"),
        ("MEAN_SPATIAL_R", "Mean spatial r over the significant steps"),
        ("COMPARED_PIXELS", "Pixels with at least MIN_OBSERVATIONS pairs"),
        ("FEW_OBSERVATIONS_PIXELS", "Pixels with 1 to MIN_OBSERVATIONS − 1 pairs"),
        ("EMPTY_PIXELS", "Pixels without a pair"),
        ("CONSTANT_PIXELS", "Compared pixels with a constant series (r undefined)"),
        ("NON_FINITE_VALUES", "Infinite values met and dropped"),
        ("MEAN_TEMPORAL_R", "Mean temporal r over the compared pixels"),
        ("MEAN_RMSE", "Mean RMSE over the compared pixels"),
        ("MEAN_UBRMSE", "Mean ubRMSE over the compared pixels"),
        ("MEAN_BIAS", "Mean bias (estimate − reference) over the compared pixels"),
        ("MEAN_MAE", "Mean MAE over the compared pixels"),
    )

    HELP = """
Compares an estimate time stack with a reference time stack of the same dates, pixel by pixel over time (a map of r, RMSE, ubRMSE, bias and MAE) and date by date across the pixels (the spatial correlation), as Wang and Xu (2021) and Lv et al. (2021) evaluate soil-moisture products. Use it to validate a reconstructed or downscaled product against a reference product over a period.

'Estimate stack' and 'Reference stack' have one band per time step, the same steps. 'Period' selects them: empty or 'all' for every band, band numbers 'first:last' counted from 1 (e.g. 1:365), or dates 'YYYY-MM-DD:YYYY-MM-DD' matched against the bands' dates (e.g. 2016-04-01:2017-03-31). The stacks need the same number of bands and, where both carry dates, the same dates. A value that is nodata, NaN or infinite in either stack drops that pair only (NON_FINITE_VALUES counts the infinite ones). The map takes the grid of the estimate; a reference on another grid or CRS is aligned to it with the resampling method. RMSE, ubRMSE, bias and MAE are in the unit of the stacks ('Unit of the values', e.g. m³/m³, shown in the report); r and p are dimensionless. The maps and numbers are the same for any number of threads.

The temporal metrics map (OUTPUT) has 7 bands, in this order: r, p_value, rmse, ubrmse, bias, mae, n. Masks, each counted: a pixel without a pair (EMPTY_PIXELS) or with fewer than 'Pairs a correlation needs' (MIN_OBSERVATIONS, default 10; FEW_OBSERVATIONS_PIXELS) is nodata in bands 1–6 and has its n in band 7; a pixel whose estimate or reference is constant over its pairs (CONSTANT_PIXELS, among COMPARED_PIXELS) has no r or p (nodata) but has its RMSE, ubRMSE, bias and MAE. MEAN_TEMPORAL_R, MEAN_RMSE, MEAN_UBRMSE, MEAN_BIAS and MEAN_MAE are the means over the compared pixels where the metric is defined.

The optional spatial metrics (CSV, SPATIAL_OUTPUT) have one row per time step, over every pixel where both stacks are valid at that step: band, date, n, r, p_value, rmse, ubrmse, bias, mae (empty where undefined, e.g. r of a step with fewer pixels than MIN_OBSERVATIONS). MEAN_SPATIAL_R is the mean r over the SIGNIFICANT_STEPS, the steps whose p-value is below the 'Significance level α of the spatial r' (SIGNIFICANCE, default 0.05, as Lv et al.); it is empty when no step is significant. The HTML report (OUTPUT_REPORT) holds the summary, box plots of the per-pixel r, RMSE, ubRMSE and bias of a random sample of at most 'Pixels in the report's box plots at most' compared pixels (chosen with the seed; the means use every pixel), and the spatial r per step with the significant steps marked.

Equations, over the n pairs of a pixel (or of a step) with d = estimate − reference (Wang and Xu, eq. 1–3; Lv et al., §2.2.2): r, the Pearson correlation, with its two-sided p-value from Student's t with n − 2 degrees of freedom, t = r·√((n − 2)/(1 − r²)) (|r| = 1 gives p = 0); RMSE = √mean(d²); ubRMSE = √(RMSE² − bias²); bias = mean(d): positive means the estimate is too high (Wang and Xu use reference − estimate, the opposite sign); MAE = mean|d|.
"""
    REFERENCE_KEYS = ("wang2021", "lv2021")
    TAGS = ("validation", "time series", "stack", "temporal correlation", "spatial correlation",
            "metric map", "RMSE", "ubRMSE", "bias", "MAE", "p-value")

    HELP_APPENDIX = STACK_OUTPUT_HELP

    def define_parameters(self):
        self.add_stack_input(self.ESTIMATE, self.tr("Estimate stack (band = time step)"))
        self.add_stack_input(self.REFERENCE_STACK,
                             self.tr("Reference stack (the same time steps)"))
        period = QgsProcessingParameterString(
            self.PERIOD, self.tr("Period (empty: every band; e.g. 1:365 or "
                                 "2016-04-01:2017-03-31)"), optional=True)
        period.setHelp(self.tr(PERIOD_HELP))
        self.addParameter(period)
        min_observations = self.add_number(
            self.MIN_OBSERVATIONS, self.tr("Pairs a correlation needs (per pixel and per step)"),
            10, minimum=3, integer=True)
        min_observations.setHelp(self.tr(
            "3 to the number of bands of PERIOD: a pixel with fewer valid pairs over time gets no "
            "metric, and a step with fewer valid pixels no spatial r."))
        significance = self.add_number(
            self.SIGNIFICANCE, self.tr("Significance level α of the spatial r"), 0.05,
            minimum=0.0, maximum=1.0)
        significance.setHelp(self.tr("Between 0 and 1: steps whose spatial r has a p-value below "
                                     "α enter MEAN_SPATIAL_R (Lv et al. 2021 use 0.05)."))
        unit = QgsProcessingParameterString(
            self.UNIT, self.tr("Unit of the values, for the report (e.g. m³/m³)"), optional=True)
        unit.setHelp(self.tr("Shown in the report; not used in the computation."))
        self.addParameter(unit)

        self.add_resampling_choice(self.tr("Resampling of a reference on another grid"), self.tr(
            "REFERENCE_STACK on another grid or CRS than ESTIMATE is aligned to it with this "
            "method; nearest keeps a coarse product's own values."))
        self.add_threads_parameter(self.tr("Number of threads of the smr core; 0 uses all cores. "
                                           "The outputs are the same for any number."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")
        max_plot_pixels = self.add_number(
            self.MAX_PLOT_PIXELS, self.tr("Pixels in the report's box plots at most"), 20000,
            minimum=0, maximum=1000000, integer=True, advanced=True)
        max_plot_pixels.setHelp(self.tr("Chosen at random with SEED among the compared pixels; "
                                        "the maps and means use every pixel."))
        self.add_number(self.SEED, self.tr("Random seed of the plotted pixels"), 1, minimum=0,
                        integer=True, advanced=True)

        # Seven unrelated bands would load as an RGB of r, p and RMSE: the map shows r, the
        # metric papers 001 and 003 map first; the other bands are a click away in its properties.
        self.add_raster_output(self.OUTPUT, self.tr(
            "Temporal metrics (r, p_value, rmse, ubrmse, bias, mae, n)"),
            style=OutputStyle("correlation", "temporal r", band=1))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.SPATIAL_OUTPUT, self.tr("Spatial metrics per time step (CSV)"), CSV_FILE_FILTER,
            optional=True, createByDefault=False))
        self.add_report_output(self.tr("Temporal and spatial metrics report"))
        for key, description in self.NUMBER_OUTPUTS:
            self.add_count_output(key, self.tr(description))

    def command_parameters(self, parameters, context, feedback):
        request = {}
        period = self.parameterAsString(parameters, self.PERIOD, context).strip()
        if period:
            request[self.PERIOD] = period
        spatial_output = self.parameterAsFileOutput(parameters, self.SPATIAL_OUTPUT, context)
        if spatial_output:
            request[self.SPATIAL_OUTPUT] = spatial_output
        return request

    # --- the report ---------------------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        unit = self.parameterAsString(parameters, self.UNIT, context).strip()
        estimate = self.parameterAsRasterLayer(parameters, self.ESTIMATE, context).name()
        reference = self.parameterAsRasterLayer(parameters, self.REFERENCE_STACK, context).name()
        alpha = request[self.SIGNIFICANCE]
        steps = outputs.get("SPATIAL") or []
        compared = outputs.get("COMPARED_PIXELS") or 0

        report = HtmlReport(f"Temporal and spatial metrics: {estimate} against {reference}")
        report.definition_table([
            ("Estimate (ESTIMATE)", estimate),
            ("Reference (REFERENCE_STACK)", reference),
            ("Period (PERIOD)", request.get(self.PERIOD, "all bands")),
            ("Time steps compared (STEPS)", outputs.get("STEPS")),
            ("Pairs a correlation needs (MIN_OBSERVATIONS)", request[self.MIN_OBSERVATIONS]),
            ("Significance level α (SIGNIFICANCE)", alpha),
        ])

        report.heading("Temporal metrics: per pixel over time")
        report.definition_table([
            ("Compared pixels (COMPARED_PIXELS)", compared),
            ("… of which constant, without r (CONSTANT_PIXELS)",
             outputs.get("CONSTANT_PIXELS")),
            ("Pixels with too few pairs (FEW_OBSERVATIONS_PIXELS)",
             outputs.get("FEW_OBSERVATIONS_PIXELS")),
            ("Pixels without a pair (EMPTY_PIXELS)", outputs.get("EMPTY_PIXELS")),
            ("Infinite values dropped (NON_FINITE_VALUES)", outputs.get("NON_FINITE_VALUES")),
            ("Mean temporal r (MEAN_TEMPORAL_R)", outputs.get("MEAN_TEMPORAL_R")),
            (f"Mean RMSE{unit_suffix(unit)} (MEAN_RMSE)", outputs.get("MEAN_RMSE")),
            (f"Mean ubRMSE{unit_suffix(unit)} (MEAN_UBRMSE)", outputs.get("MEAN_UBRMSE")),
            (f"Mean bias{unit_suffix(unit)} (MEAN_BIAS)", outputs.get("MEAN_BIAS")),
            (f"Mean MAE{unit_suffix(unit)} (MEAN_MAE)", outputs.get("MEAN_MAE")),
        ])
        report.bias_convention()
        sample = outputs.get("SAMPLE") or {}
        sampled = len(sample.get("rmse") or [])
        if sampled:
            report.box_plots([
                ("Temporal r", f"r{DIMENSIONLESS}", [("r", sample.get("r") or [])]),
                ("RMSE and ubRMSE", f"Error{axis_unit(unit)}",
                 [("RMSE", sample.get("rmse") or []), ("ubRMSE", sample.get("ubrmse") or [])]),
                ("Bias (estimate − reference)", f"Bias{axis_unit(unit)}",
                 [("bias", sample.get("bias") or [])]),
            ], f"Per-pixel metrics over time of a sample of {sampled} of the {compared} compared "
               f"pixels, chosen at random with SEED {request[self.SEED]} (r is missing for "
               f"constant pixels).")
        else:
            report.paragraph("No compared pixel to plot.", note=True)

        report.heading("Spatial correlation: per time step over the pixels")
        report.definition_table([
            ("Steps with p < α (SIGNIFICANT_STEPS)",
             f"{outputs.get('SIGNIFICANT_STEPS')} of {outputs.get('STEPS')}"),
            ("Mean spatial r of those steps (MEAN_SPATIAL_R)", outputs.get("MEAN_SPATIAL_R")),
        ])
        if steps:
            significant = [step.get("p_value") is not None and step["p_value"] < alpha
                           for step in steps]
            x_values, x_label = step_axis(steps)
            report.marked_series(
                x_values, [step.get("r") for step in steps], significant,
                ("Spatial r per time step", f"p < {alpha:g}", f"p ≥ {alpha:g}",
                 "Mean of the filled points"),
                (x_label, f"Spatial r{DIMENSIONLESS}"), level=outputs.get("MEAN_SPATIAL_R"),
                y_limits=(-1.05, 1.05),
                caption=f"Pearson r across the pixels at each time step (Lv et al. 2021, §2.2.2); "
                        f"filled points: p < {alpha:g}, whose mean is the dashed line; gaps: "
                        f"steps with fewer than {request[self.MIN_OBSERVATIONS]} valid pixels.")
            rows = [(str(step.get("date") or f"band {step.get('band')}"),
                     [step.get("band"), step.get("n"), step.get("r"), step.get("p_value"),
                      step.get("rmse"), step.get("ubrmse"), step.get("bias"), step.get("mae")])
                    for step in steps]
            report.table(["Step", "Band", "N", "r", "p", f"RMSE{unit_suffix(unit)}",
                          f"ubRMSE{unit_suffix(unit)}", f"bias{unit_suffix(unit)}",
                          f"MAE{unit_suffix(unit)}"], rows)
        else:
            report.paragraph("The core returned no time step.", note=True)
        return report
