"""smr:validationmetrics — agreement of an estimate with a reference, with its HTML report.

Pairs come from two numeric fields of a vector layer (read here and sent as PAIRS, optionally with
a group per pair) or from two rasters (read and aligned by the core). The core computes the
metrics; this file validates the inputs and writes the report.
"""

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ..plugin.bridge import run_smr
from .base import DEFAULT_RESAMPLING, RESAMPLING_METHODS, SmrAlgorithm
from .report import HtmlReport, METRIC_KEYS, ScatterPanel, metrics_from_outputs
from .trainmlp import (
    REPORT_FILE_FILTER,
    attribute_as_group,
    attribute_as_number,
    field_index,
    read_attribute_columns,
)


class ValidationMetrics(SmrAlgorithm):
    NAME = "validationmetrics"
    DISPLAY_NAME = "Validation metrics (estimate vs reference)"
    GROUP_ID = "machinelearning"
    COMMAND = "validationmetrics"

    INPUT_LAYER = "INPUT_LAYER"
    ESTIMATE_FIELD = "ESTIMATE_FIELD"
    REFERENCE_FIELD = "REFERENCE_FIELD"
    GROUP_FIELD = "GROUP_FIELD"
    ESTIMATE = "ESTIMATE"
    REFERENCE_RASTER = "REFERENCE_RASTER"
    UNIT = "UNIT"
    MAX_PLOT_PAIRS = "MAX_PLOT_PAIRS"
    SEED = "SEED"
    OUTPUT_REPORT = "OUTPUT_REPORT"
    SKIPPED = "SKIPPED"

    PAIRS = "PAIRS"  # the core's key for pairs read from a vector layer

    HELP = """
Compares an estimate (e.g. retrieved soil moisture) with a reference (in-situ probes, another product) as papers 001 (eq. 1–3) and 003 (§2.2.2) do, and writes an HTML report: the metrics table, a table per group when GROUP_FIELD is set, and a scatter plot with the 1:1 line.

Pairs, from exactly one of:
• a vector layer (INPUT_LAYER): ESTIMATE_FIELD and REFERENCE_FIELD are numeric fields of each feature; GROUP_FIELD optionally names each pair's group (e.g. the station) for the per-group table (pairs with a NULL group form the group "(none)");
• two rasters, ESTIMATE and REFERENCE_RASTER: every pixel where both are valid is a pair. A raster on another grid or CRS is aligned to the grid of ESTIMATE (advanced REFERENCE: or of REFERENCE_RASTER) with RESAMPLING, and the log says which one was; nearest keeps a coarse reference's own values.
A pair with a NULL, NaN, infinite or nodata value, or a pixel outside the other raster, is skipped and counted in SKIPPED.

Metrics over the N valid pairs, d = estimate − reference: BIAS = mean(d) — positive means the estimate is too high (paper 001 uses reference − estimate, the opposite sign); RMSE = √mean(d²); UBRMSE = √(RMSE² − BIAS²); MAE = mean|d|; R, the Pearson correlation, and R2 = R²; NSE = 1 − Σd²/Σ(reference − mean reference)² (Nash–Sutcliffe efficiency, the "coefficient of determination"). A metric that is undefined (fewer than 2 pairs, or a constant series for R and NSE) is left empty. RMSE, UBRMSE, MAE and BIAS are in the unit of the values (UNIT, shown in the report).
The scatter plot shows at most MAX_PLOT_PAIRS pairs, chosen at random with SEED; the metrics use every pair.
"""

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        # No creation options and no pixel counts: the output is a report and numbers.
        self._forget_declarations()
        self.define_parameters()

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
        resampling = self.add_choice(
            self.RESAMPLING, self.tr("Resampling of a raster on another grid"),
            [(method, method) for method in RESAMPLING_METHODS],
            default=RESAMPLING_METHODS.index(DEFAULT_RESAMPLING), advanced=True)
        resampling.setHelp(self.tr(
            "Raster mode only: the raster not on the grid chosen in REFERENCE is aligned to it "
            "with this method. Nearest keeps a coarse reference's own values."))
        threads = self.add_number(self.THREADS, self.tr("Threads (0 = all cores)"), 0, minimum=0,
                                  integer=True, advanced=True)
        threads.setHelp(self.tr("Threads reading the rasters; the metrics are the same for any "
                                "number of threads."))
        max_plot_pairs = self.add_number(
            self.MAX_PLOT_PAIRS, self.tr("Pairs shown in the scatter plot at most"), 20000,
            minimum=0, maximum=1000000, integer=True, advanced=True)
        max_plot_pairs.setHelp(self.tr("Chosen at random with SEED; the metrics use every pair."))
        self.add_number(self.SEED, self.tr("Random seed of the plotted pairs"), 1, minimum=0,
                        integer=True, advanced=True)

        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_REPORT, self.tr("Validation report"), REPORT_FILE_FILTER))
        for key in METRIC_KEYS:
            self.addOutput(QgsProcessingOutputNumber(key.upper(), self.tr(key.upper())))
        self.add_count_output(self.SKIPPED,
                              self.tr("Pairs skipped (a NULL, NaN, infinite or nodata value)"))

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        return self.tr(self.HELP).strip()

    # --- the request --------------------------------------------------------------------------

    def uses_vector_pairs(self, parameters):
        """True for vector mode, False for raster mode; an error unless exactly one is given."""
        vector_given = self.has_value(parameters, self.INPUT_LAYER)
        rasters_given = (self.has_value(parameters, self.ESTIMATE)
                         or self.has_value(parameters, self.REFERENCE_RASTER))
        if vector_given and rasters_given:
            raise QgsProcessingException(
                f"Pairs are given twice: {self.INPUT_LAYER} and {self.ESTIMATE}/"
                f"{self.REFERENCE_RASTER} are both set. Give either a vector layer "
                f"({self.INPUT_LAYER} with {self.ESTIMATE_FIELD} and {self.REFERENCE_FIELD}) or "
                f"two rasters ({self.ESTIMATE} and {self.REFERENCE_RASTER}), not both.")
        if not vector_given and not rasters_given:
            raise QgsProcessingException(
                f"No pairs given: set {self.INPUT_LAYER} (with {self.ESTIMATE_FIELD} and "
                f"{self.REFERENCE_FIELD}) for a vector layer, or {self.ESTIMATE} and "
                f"{self.REFERENCE_RASTER} for rasters.")
        return vector_given

    def raster_inputs_to_send(self, parameters, context):
        if self.uses_vector_pairs(parameters):
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
        source = self.parameterAsSource(parameters, self.INPUT_LAYER, context)
        if source is None:
            raise QgsProcessingException(
                f"{self.INPUT_LAYER}: not a vector layer QGIS can read "
                f"({parameters.get(self.INPUT_LAYER)!r}).")
        names = {}
        for key, role in ((self.ESTIMATE_FIELD, "estimate"),
                          (self.REFERENCE_FIELD, "reference")):
            names[key] = self.parameterAsString(parameters, key, context)
            if not names[key]:
                raise QgsProcessingException(
                    f"No {role} field: {key} is empty; choose the numeric field of "
                    f"{self.INPUT_LAYER} that holds the {role} values.")
        estimate_index = field_index(source, self.ESTIMATE_FIELD, names[self.ESTIMATE_FIELD],
                                     True, self.INPUT_LAYER)
        reference_index = field_index(source, self.REFERENCE_FIELD,
                                      names[self.REFERENCE_FIELD], True, self.INPUT_LAYER)
        if estimate_index == reference_index:
            raise QgsProcessingException(
                f"Invalid value for {self.REFERENCE_FIELD} ('{names[self.REFERENCE_FIELD]}'): it "
                f"is also {self.ESTIMATE_FIELD}; a field compared with itself agrees perfectly. "
                f"Choose the field of the reference values.")
        indices = [estimate_index, reference_index]
        group = self.parameterAsString(parameters, self.GROUP_FIELD, context)
        if group:
            indices.append(field_index(source, self.GROUP_FIELD, group, False, self.INPUT_LAYER))
        columns = read_attribute_columns(
            source, indices, feedback, f"Cancelled: reading {self.INPUT_LAYER} was stopped.")
        pairs = {"estimate": [attribute_as_number(value) for value in columns[0]],
                 "reference": [attribute_as_number(value) for value in columns[1]]}
        if group:
            pairs["groups"] = [attribute_as_group(value) for value in columns[2]]
        return pairs

    # --- running and reporting ----------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = run_smr(self.COMMAND, request, feedback)
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        unit = self.parameterAsString(parameters, self.UNIT, context).strip()
        names = self.compared_names(parameters, context)
        try:
            self.write_report(report_path, outputs, names, unit)
        except OSError as error:
            raise QgsProcessingException(
                f"{self.OUTPUT_REPORT}: the report could not be written to '{report_path}': "
                f"{error.strerror or error}.") from error
        results = {self.OUTPUT_REPORT: report_path, self.SKIPPED: outputs.get(self.SKIPPED)}
        for key in METRIC_KEYS:
            results[key.upper()] = outputs.get(key.upper())
        return results

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

    def write_report(self, path, outputs, names, unit):
        estimate_name, reference_name, origin = names
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
        report.write(path)
