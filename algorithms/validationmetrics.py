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

from .report import HtmlReport, METRIC_KEYS, ScatterPanel, metrics_from_outputs
from .samples import LearningAlgorithm


class ValidationMetrics(LearningAlgorithm):
    NAME = "validationmetrics"
    DISPLAY_NAME = "Validation metrics (estimate vs reference)"
    GROUP_ID = "machinelearning"
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
Compares an estimate (e.g. retrieved soil moisture) with a reference (in-situ probes, another product) as papers 001 (eq. 1–3) and 003 (§2.2.2) do, and writes an HTML report: the metrics table, a table per group when GROUP_FIELD is set, and a scatter plot with the 1:1 line.

Pairs, from exactly one of:
• a vector layer (INPUT_LAYER): ESTIMATE_FIELD and REFERENCE_FIELD are numeric fields of each feature; GROUP_FIELD optionally names each pair's group (e.g. the station) for the per-group table (pairs with a NULL group form the group "(none)");
• two rasters, ESTIMATE and REFERENCE_RASTER: every pixel where both are valid is a pair. A raster on another grid or CRS is aligned to the grid of ESTIMATE (advanced REFERENCE: or of REFERENCE_RASTER) with RESAMPLING, and the log says which one was; nearest keeps a coarse reference's own values.
A pair with a NULL, NaN, infinite or nodata value, or a pixel outside the other raster, is skipped and counted in SKIPPED.

Metrics over the N valid pairs, d = estimate − reference: BIAS = mean(d) — positive means the estimate is too high (paper 001 uses reference − estimate, the opposite sign); RMSE = √mean(d²); UBRMSE = √(RMSE² − BIAS²); MAE = mean|d|; R, the Pearson correlation, and R2 = R²; NSE = 1 − Σd²/Σ(reference − mean reference)² (Nash–Sutcliffe efficiency, the "coefficient of determination"). A metric that is undefined (fewer than 2 pairs, or a constant series for R and NSE) is left empty. RMSE, UBRMSE, MAE and BIAS are in the unit of the values (UNIT, shown in the report).
The scatter plot shows at most MAX_PLOT_PAIRS pairs, chosen at random with SEED; the metrics use every pair.
"""

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Pairs: vector layer (or use the rasters below)"),
            [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.ESTIMATE_FIELD, self.tr("Estimate field"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Numeric, optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.REFERENCE_FIELD, self.tr("Reference field"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Numeric, optional=True))
        group_field = QgsProcessingParameterField(
            self.GROUP_FIELD, self.tr("Group field (a table per group, e.g. per station)"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True)
        self.addParameter(group_field)
        self.add_raster_input(self.ESTIMATE, self.tr("Estimate raster"), optional=True)
        self.add_raster_input(self.REFERENCE_RASTER, self.tr("Reference raster"), optional=True)
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
            source, [estimate_index, reference_index],
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
        report = HtmlReport(f"Validation: {estimate_name} against {reference_name}")
        report.paragraph(
            f"Estimate: {estimate_name}; reference: {reference_name} ({origin}). Pairs compared: "
            f"{outputs.get('N')}; skipped for a missing value: {outputs.get(self.SKIPPED)}.")
        report.heading("Metrics")
        report.metrics_table([("All pairs", metrics_from_outputs(outputs))], "Pairs", unit)
        groups = outputs.get("GROUPS")
        if groups:
            report.heading("Metrics per group")
            report.metrics_table([(row.get("group"), row) for row in groups], "Group", unit)
        report.bias_convention()

        report.heading("Estimate against reference")
        sample = outputs.get("SAMPLE") or {}
        panel = ScatterPanel("All pairs", sample.get("reference", []),
                             sample.get("estimate", []), total=outputs.get("N") or 0)
        report.scatter_plots([panel], f"Reference {reference_name}",
                             f"Estimate {estimate_name}", unit)
        return report
