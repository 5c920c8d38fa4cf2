"""smr:validationmetrics — agreement of an estimate with a reference, with its HTML report.

Pairs come from two numeric fields of a vector layer (read by the plugin, samples.py, and sent as
PAIRS, optionally with a group per pair) or from two rasters (read and aligned by the core). The
core computes the metrics; this file validates the inputs and lays out the report.
"""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterString,
)

from .report import (
    HtmlReport,
    METRIC_KEYS,
    ScatterPanel,
    metrics_from_outputs,
    unit_mismatch,
    unit_mismatch_warning,
)
from .samples import LearningAlgorithm


class ValidationMetrics(LearningAlgorithm):
    NAME = "validationmetrics"
    DISPLAY_NAME = "Validation metrics (estimate vs reference)"
    GROUP_ID = "validation"
    COMMAND = "validationmetrics"

    ESTIMATE_FIELD = "ESTIMATE_FIELD"
    REFERENCE_FIELD = "REFERENCE_FIELD"
    ESTIMATE = "ESTIMATE"
    REFERENCE_RASTER = "REFERENCE_RASTER"
    UNIT = "UNIT"
    MAX_PLOT_PAIRS = "MAX_PLOT_PAIRS"
    SEED = "SEED"
    SKIPPED = "SKIPPED"

    PAIRS = "PAIRS"  # the core's key for pairs read from a vector layer

    SAMPLE_NOUN = "pairs"
    SAMPLE_FIELDS = (ESTIMATE_FIELD, REFERENCE_FIELD)
    SAMPLE_RASTERS = (ESTIMATE, REFERENCE_RASTER)

    HELP = """
Measures how well an estimate (e.g. a soil-moisture map or a network's output) agrees with a reference (in-situ probes, another product): correlation, RMSE, ubRMSE, bias, MAE and Nash–Sutcliffe efficiency, with an HTML report. Use it to validate a retrieval against stations, or one product against another.

The pairs come from one of two sources, which is why the dialog shows every pair input as optional: fill in one group, leave the other empty.
• Vector mode: 'Vector mode: pairs layer' (INPUT_LAYER) with its numeric 'estimate field' (ESTIMATE_FIELD) and 'reference field' (REFERENCE_FIELD) are required; the 'group field' (GROUP_FIELD) adds a table per group, e.g. per station (pairs with a NULL group form the group "(none)").
• Raster mode: 'Raster mode: estimate raster' (ESTIMATE) and 'Raster mode: reference raster' (REFERENCE_RASTER) are required; every pixel where both are valid is a pair. A raster on another grid or CRS is aligned to the grid of the estimate (or, with the advanced 'Output grid taken from' (REFERENCE), of the reference) with the resampling method, and the log says which one was; nearest keeps a coarse reference's own values.
A pair with a NULL, NaN, infinite or nodata value, or a pixel outside the other raster, is skipped and counted in SKIPPED. RMSE, ubRMSE, MAE and bias are in the unit of the values ('Unit of the values' names it in the report); r, R² and NSE have none. A metric that is undefined (fewer than 2 pairs, or a constant series for r and NSE) is left empty. The scatter plot shows at most 'Pairs shown in the scatter plot at most' pairs, chosen at random with the seed; the metrics use every pair. Above 2,000 pairs it shows their density (hexagons coloured by the number of pairs in each).
Different units: when the typical magnitudes of estimate and reference (the medians of their absolute values; in raster mode over the plotted pairs) differ by a factor of 10 or more, e.g. ASCAT soil moisture in % saturation against probes in m³/m³, the report and the log warn, the report shows r and R² but not NSE, RMSE, ubRMSE, MAE and bias (their numbers are in a note), and the scatter plot gives each axis its own range. Rescale with smr:cdfmatching first, or convert the unit. A text field whose values are numbers (a CSV loaded without field types) is read as numbers; values that are not numbers are skipped and counted in the log.

Equations, over the N valid pairs with d = estimate − reference (Wang and Xu, eq. 1–3; Lv et al., §2.2.2): BIAS = mean(d): positive means the estimate is too high (Wang and Xu use reference − estimate, the opposite sign); RMSE = √mean(d²); UBRMSE = √(RMSE² − BIAS²); MAE = mean|d|; R, the Pearson correlation, and R2 = R²; NSE = 1 − Σd²/Σ(reference − mean reference)², the Nash–Sutcliffe efficiency (also called the coefficient of determination).
"""
    REFERENCE_KEYS = ("wang2021", "lv2021")
    TAGS = ("validation", "accuracy", "RMSE", "ubRMSE", "bias", "MAE", "correlation", "R²",
            "NSE", "Nash–Sutcliffe", "in situ", "scatter plot")

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Vector mode: pairs layer (leave empty to use the "
                                      "rasters of raster mode)"),
            [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.ESTIMATE_FIELD, self.tr("Vector mode: estimate field"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Any, optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.REFERENCE_FIELD, self.tr("Vector mode: reference field"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Any, optional=True))
        group_field = QgsProcessingParameterField(
            self.GROUP_FIELD, self.tr("Vector mode: group field (a table per group, e.g. per "
                                      "station)"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True)
        self.addParameter(group_field)
        self.add_raster_input(self.ESTIMATE, self.tr("Raster mode: estimate raster"),
                              optional=True)
        self.add_raster_input(self.REFERENCE_RASTER, self.tr("Raster mode: reference raster"),
                              optional=True)
        unit = QgsProcessingParameterString(
            self.UNIT, self.tr("Unit of the values, for the report (e.g. m³/m³)"), optional=True)
        unit.setHelp(self.tr("Shown on the report's axes and metrics; not used in the "
                             "computation."))
        self.addParameter(unit)

        self.add_reference_parameter()
        self.add_resampling_choice(self.tr("Resampling of a raster on another grid"), self.tr(
            "Raster mode only: the raster not on the grid chosen in REFERENCE is aligned to it "
            "with this method. Nearest keeps a coarse reference's own values."))
        self.add_threads_parameter(self.tr("Threads reading the rasters; the metrics are the "
                                           "same for any number of threads."))
        max_plot_pairs = self.add_number(
            self.MAX_PLOT_PAIRS, self.tr("Pairs shown in the scatter plot at most"), 20000,
            minimum=0, maximum=1000000, integer=True, advanced=True)
        max_plot_pairs.setHelp(self.tr("Chosen at random with SEED; the metrics use every pair."))
        self.add_number(self.SEED, self.tr("Random seed of the plotted pairs"), 1, minimum=0,
                        integer=True, advanced=True)

        self.add_report_output(self.tr("Validation report"))
        for key in METRIC_KEYS:
            self.addOutput(QgsProcessingOutputNumber(key.upper(), self.tr(key.upper())))
        self.add_count_output(self.SKIPPED,
                              self.tr("Pairs skipped (a NULL, NaN, infinite or nodata value)"))

    # --- the request --------------------------------------------------------------------------

    def raster_inputs_to_send(self, parameters, context):
        if self.uses_vector_layer(parameters):
            return []
        for key, other in ((self.ESTIMATE, self.REFERENCE_RASTER),
                           (self.REFERENCE_RASTER, self.ESTIMATE)):
            if not self.has_value(parameters, key):
                raise QgsProcessingException(
                    f"{key} is empty but {other} is set: raster mode compares two rasters; give "
                    f"both {self.ESTIMATE} and {self.REFERENCE_RASTER}, or a vector layer in "
                    f"{self.INPUT_LAYER} instead.")
        return [self.ESTIMATE, self.REFERENCE_RASTER]

    def command_parameters(self, parameters, context, feedback):
        if not self.has_value(parameters, self.INPUT_LAYER):
            return {}
        return {self.PAIRS: self.vector_pairs(parameters, context, feedback)}

    def vector_pairs(self, parameters, context, feedback):
        source = self.vector_source(parameters, context)
        names = {}
        for key, role in ((self.ESTIMATE_FIELD, "estimate"),
                          (self.REFERENCE_FIELD, "reference")):
            names[key] = self.parameterAsString(parameters, key, context)
            if not names[key]:
                raise QgsProcessingException(
                    f"No {role} field: {key} is empty; choose the numeric field of "
                    f"{self.INPUT_LAYER} that holds the {role} values.")
        estimate_index = self.field_index(source, self.ESTIMATE_FIELD, names[self.ESTIMATE_FIELD])
        reference_index = self.field_index(source, self.REFERENCE_FIELD,
                                           names[self.REFERENCE_FIELD])
        if estimate_index == reference_index:
            raise QgsProcessingException(
                f"Invalid value for {self.REFERENCE_FIELD} ('{names[self.REFERENCE_FIELD]}'): it "
                f"is also {self.ESTIMATE_FIELD}; a field compared with itself agrees perfectly. "
                f"Choose the field of the reference values.")
        (estimates, references), groups = self.read_columns(
            source, [(self.ESTIMATE_FIELD, estimate_index),
                     (self.REFERENCE_FIELD, reference_index)],
            self.group_field_index(parameters, context, source), feedback)
        pairs = {"estimate": estimates, "reference": references}
        if groups is not None:
            pairs["groups"] = groups
        return pairs

    # --- running and reporting ----------------------------------------------------------------

    def compared_names(self, parameters, context):
        """(estimate, reference, where they come from) as the user knows them."""
        if self.has_value(parameters, self.INPUT_LAYER):
            source = self.parameterAsSource(parameters, self.INPUT_LAYER, context)
            return (self.parameterAsString(parameters, self.ESTIMATE_FIELD, context),
                    self.parameterAsString(parameters, self.REFERENCE_FIELD, context),
                    f"fields of the layer {source.sourceName()}")
        return (self.parameterAsRasterLayer(parameters, self.ESTIMATE, context).name(),
                self.parameterAsRasterLayer(parameters, self.REFERENCE_RASTER, context).name(),
                "rasters, every pixel where both are valid")

    def build_report(self, parameters, context, request, outputs):
        unit = self.parameterAsString(parameters, self.UNIT, context).strip()
        estimate_name, reference_name, origin = self.compared_names(parameters, context)
        report = HtmlReport(f"Validation of the estimate {estimate_name} against the reference "
                            f"{reference_name}")
        report.paragraph(
            f"Estimate: {estimate_name}; reference: {reference_name} ({origin}). Pairs compared: "
            f"{outputs.get('N')}; skipped for a missing value: {outputs.get(self.SKIPPED)}.")
        note = time_matching_note(estimate_name, reference_name)
        if note:
            report.paragraph(note, note=True)
        # Vector mode: every pair read; raster mode: the core's random sample of the pairs.
        pairs = request.get(self.PAIRS) or outputs.get("SAMPLE") or {}
        mismatch = unit_mismatch(pairs.get("reference") or [], pairs.get("estimate") or [])
        if mismatch:
            report.warning(unit_mismatch_warning(mismatch, estimate_name, reference_name))
        report.heading("Metrics")
        units_differ = mismatch is not None
        report.metrics_table([("All pairs", metrics_from_outputs(outputs))], "Pairs", unit,
                             units_differ)
        groups = outputs.get("GROUPS")
        if groups:
            report.heading("Metrics per group")
            report.metrics_table([(row.get("group"), row) for row in groups], "Group", unit,
                                 units_differ)
        report.bias_convention()

        report.heading("Estimate against reference")
        sample = outputs.get("SAMPLE") or {}
        panel = ScatterPanel("All pairs", sample.get("reference", []),
                             sample.get("estimate", []), total=outputs.get("N") or 0)
        report.scatter_plots([panel], f"Reference: {reference_name}",
                             f"Estimate: {estimate_name}", unit, units_differ)
        return report


# The value fields of smr:timematching's pairs: "reference" there is the series whose times are
# kept, which is often the satellite product, i.e. the estimate here.
TIME_MATCHING_FIELDS = ("reference_value", "other_value")


def time_matching_note(estimate_name, reference_name):
    """A note when the pairs come from smr:timematching, whose field names say "reference" of a
    series that may well be the estimate here; None otherwise."""
    # Also reference_value_matched, the field smr:cdfmatching adds to those pairs.
    if not any(name.startswith(field) for name in (estimate_name, reference_name)
               for field in TIME_MATCHING_FIELDS):
        return None
    return (f"The field names come from smr:timematching, where reference_value holds the series "
            f"whose times were kept (its REFERENCE_LAYER) and other_value the series matched to "
            f"them; they do not say which one is the truth. Here {estimate_name} is compared as "
            f"the estimate and {reference_name} as the reference.")
