"""smr:triplecollocation — the error variances of three products that observe the same variable,
without knowing the truth (paper 003 §2.2.1; extended triple collocation, McColl et al. 2014).

Triplets come from three stacks (read by the core, one collocation per pixel over time) or from
three numeric fields of a table (read here, one collocation per group, e.g. per station). The core
computes; this file validates the inputs, writes the per-group table and lays out the report with
paper 003 Fig. 8's box plots.
"""

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ..plugin.bridge import push_warning
from .base import STACK_OUTPUT_HELP
from .pixelwisereconstruction import parse_names
from .report import DIMENSIONLESS, HtmlReport, axis_unit, unit_suffix
from .samples import LearningAlgorithm
from .styles import OutputStyle
from .temporalmetrics import PERIOD_HELP

DATASETS = ("x", "y", "z")
# Per dataset, the core's fields in GROUPS and SAMPLE; OUTPUT_TABLE's columns are
# "<field>_<dataset>", e.g. error_std_x.
DATASET_FIELDS = ("error_variance", "error_std", "error_std_scaled", "snr_db", "r_truth",
                  "scaling")
PAIRS = ("xy", "xz", "yz")
# (status in GROUPS, count key suffix, label in the report), in the order the core applies them.
STATUSES = (
    ("collocated", "COLLOCATED", "Collocated"),
    ("empty", "EMPTY", "Empty (no triplet)"),
    ("few_observations", "FEW_OBSERVATIONS", "Fewer triplets than MIN_OBSERVATIONS"),
    ("low_correlation", "LOW_CORRELATION", "A pairwise r below MIN_CORRELATION or undefined"),
    ("negative_variance", "NEGATIVE_VARIANCE", "A negative error variance"),
)
MEDIAN_FIELDS = (("ERROR_STD", "error std (own units)"),
                 ("ERROR_STD_SCALED", "error std scaled to SCALE_TO"),
                 ("R_TRUTH", "r with the truth"), ("SNR_DB", "SNR (dB)"))


class TripleCollocation(LearningAlgorithm):
    NAME = "triplecollocation"
    DISPLAY_NAME = "Triple collocation (error of three products without the truth)"
    GROUP_ID = "validation"
    COMMAND = "triplecollocation"

    X = "X"
    Y = "Y"
    Z = "Z"
    STACKS = (X, Y, Z)
    NAMES = "NAMES"
    PERIOD = "PERIOD"
    X_FIELD = "X_FIELD"
    Y_FIELD = "Y_FIELD"
    Z_FIELD = "Z_FIELD"
    FIELDS = (X_FIELD, Y_FIELD, Z_FIELD)
    SCALE_TO = "SCALE_TO"
    MIN_CORRELATION = "MIN_CORRELATION"
    MIN_OBSERVATIONS = "MIN_OBSERVATIONS"
    UNIT = "UNIT"
    MAX_PLOT_PIXELS = "MAX_PLOT_PIXELS"
    SEED = "SEED"
    OUTPUT = "OUTPUT"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    SKIPPED = "SKIPPED"
    TABLE = "TABLE"  # the core's key for the triplets read from INPUT_LAYER

    SAMPLE_NOUN = "triplets"
    SAMPLE_FIELDS = FIELDS
    SAMPLE_RASTERS = STACKS

    # Option indexes are public API (saved models store them): append, never reorder.
    SCALE_CHOICES = (("X (the first dataset)", "x"), ("Y (the second dataset)", "y"),
                     ("Z (the third dataset)", "z"))
    # What only stack mode uses: left out of a table-mode request.
    STACK_ONLY_KEYS = ("RESAMPLING", "THREADS", "CREATE_OPTIONS", MAX_PLOT_PIXELS, SEED)

    HELP = """
Estimates the random error of three products that measure the same variable (e.g. soil moisture from a radiometer, a scatterometer and a land-surface model), and each one's correlation with the unknown truth, without knowing the truth: triple collocation. Use it where no in-situ reference exists, provided the three products' errors are independent of each other.

The triplets come from one of two sources, which is why the dialog shows every input as optional: fill in one group, leave the other empty.
• Stack mode: the three stacks X, Y and Z (band = time step, the same steps; 'Period of the stacks' selects them, e.g. 1:365 or 2016-01-01:2016-12-31): one collocation per pixel over the steps where all three are valid (a nodata, NaN or infinite value drops that step's triplet only; NON_FINITE_VALUES counts the infinite ones). The output raster (OUTPUT) has 19 bands on the grid of X; Y and Z on another grid or CRS are aligned to it with the resampling method.
• Table mode: a table or vector layer (INPUT_LAYER) with three numeric fields for X, Y and Z: one collocation per group of the group field (e.g. the station; features with a NULL group form the group "(none)"), or one for all features without it; the output table (OUTPUT_TABLE) has one row per group. A feature with a NULL or NaN value is skipped and counted in SKIPPED.
'Names of X, Y, Z' gives the datasets' names for the report and the band descriptions (default: the layer or field names). The products may have different units and gains: 'Scale the errors to the units of' (SCALE_TO) picks the dataset in whose units the scaled errors are given.

Masks, the first that applies, each counted (COLLOCATED_…, EMPTY_…, FEW_OBSERVATIONS_…, LOW_CORRELATION_…, NEGATIVE_VARIANCE_…; _PIXELS for stacks, _GROUPS for tables): no triplet; fewer triplets than 'Triplets a collocation needs' (MIN_OBSERVATIONS, default 30); a pairwise Pearson r below 'Minimum pairwise correlation' (MIN_CORRELATION, default 0.2, as Lv et al. §3.3) or undefined; a negative error variance. Masked pixels are nodata in bands 1–18 and have their n in band 19; masked groups have empty values.
Output bands: 1–3 error_variance, 4–6 error_std, 7–9 error_std_scaled, 10–12 snr_db, 13–15 r_truth, 16–18 scaling, each for X, Y, Z in turn, 19 n. Table columns: group, n, status, r_xy, r_xz, r_yz, then error_variance_x … scaling_z. MEDIAN_ERROR_STD_X … MEDIAN_SNR_DB_Z are the medians over the collocated groups (tables) or over a random sample of at most 'Pixels in the report's box plots and medians at most' collocated pixels chosen with the seed (stacks), the same sample as the report's box plots. The HTML report (OUTPUT_REPORT) holds the mask counts, the medians, and box plots of the scaled error standard deviations and of the correlations with the truth per dataset (as Lv et al. Fig. 8).

Equations (Lv et al. 2021, §2.2.1; extended triple collocation, McColl et al. 2014), with the covariances σ over the n triplets (denominator n − 1): error variance σ²_εX = σ²_X − σ_XY·σ_XZ/σ_YZ (and cyclic for Y and Z), in the dataset's own units²; error std = √σ²_ε; R²_X = σ_XY·σ_XZ/(σ²_X·σ_YZ), r_truth = √R² (the correlation with the truth); SNR_X = 10·log10((σ_XY·σ_XZ/σ_YZ)/σ²_εX) dB (signal over error variance). The scaling factor of a dataset puts its anomalies into the units of SCALE_TO's dataset (1 for that dataset; with SCALE_TO X: s_Y = σ_XZ/σ_YZ, s_Z = σ_XY/σ_YZ), and error_std_scaled = scaling · error std compares the three in those units.
"""
    REFERENCE_KEYS = ("lv2021", "mccoll2014")
    TAGS = ("triple collocation", "extended triple collocation", "TC", "error variance", "SNR",
            "uncertainty", "validation", "stack", "soil moisture products")

    HELP_APPENDIX = STACK_OUTPUT_HELP

    def define_parameters(self):
        for key, ordinal in zip(self.STACKS, ("first", "second", "third")):
            self.add_stack_input(key, self.tr("Stack mode: {}, the {} product's stack")
                                 .format(key, ordinal), optional=True)
        period = QgsProcessingParameterString(
            self.PERIOD, self.tr("Stack mode: period (empty: every band; e.g. 1:365 or "
                                 "2016-01-01:2016-12-31)"), optional=True)
        period.setHelp(self.tr(PERIOD_HELP))
        self.addParameter(period)

        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Table mode: triplets table or vector layer (leave "
                                      "empty to use the stacks)"), [QgsProcessing.TypeVector],
            optional=True))
        for key, name in zip(self.FIELDS, ("X", "Y", "Z")):
            self.addParameter(QgsProcessingParameterField(
                key, self.tr("Table mode: {} field").format(name),
                parentLayerParameterName=self.INPUT_LAYER,
                type=QgsProcessingParameterField.Any, optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.GROUP_FIELD, self.tr("Table mode: group field (one collocation per group, "
                                      "e.g. station)"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True))

        names = QgsProcessingParameterString(
            self.NAMES, self.tr("Names of X, Y, Z (comma-separated; empty: layer or field "
                                "names)"), optional=True)
        names.setHelp(self.tr("Three names, for the report and the band descriptions."))
        self.addParameter(names)
        self.add_choice(self.SCALE_TO, self.tr("Scale the errors to the units of"),
                        self.SCALE_CHOICES)
        self.add_number(self.MIN_CORRELATION,
                        self.tr("Minimum pairwise correlation (else masked)"), 0.2,
                        minimum=-1.0, maximum=1.0)
        self.add_number(self.MIN_OBSERVATIONS, self.tr("Triplets a collocation needs"), 30,
                        minimum=3, maximum=1000000000, integer=True)
        unit = QgsProcessingParameterString(
            self.UNIT, self.tr("Unit of the dataset the errors are scaled to, for the report "
                               "(e.g. m³/m³)"),
            optional=True)
        unit.setHelp(self.tr("Shown in the report; not used in the computation."))
        self.addParameter(unit)

        self.add_resampling_choice(self.tr("Resampling of stacks on another grid"), self.tr(
            "Stacks only: Y and Z on another grid or CRS than X are aligned to it with this "
            "method."))
        self.add_threads_parameter(self.tr("Number of threads of the smr core (stacks); 0 uses "
                                           "all cores. The outputs are the same for any number."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")
        max_plot_pixels = self.add_number(
            self.MAX_PLOT_PIXELS, self.tr("Pixels in the report's box plots and medians at most"),
            20000, minimum=0, maximum=1000000, integer=True, advanced=True)
        max_plot_pixels.setHelp(self.tr("Stacks only: chosen at random with SEED among the "
                                        "collocated pixels."))
        self.add_number(self.SEED, self.tr("Random seed of the sampled pixels"), 1, minimum=0,
                        integer=True, advanced=True)

        # Optional, since a table has no raster, yet created by default, since stacks need it;
        # not declared with add_raster_output, so a table run never evaluates (and never loads)
        # it.
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr("Triple collocation (stacks: 19 bands)"), optional=True,
            createByDefault=True))
        # One band of the 19, never an RGB of three: X's error std in SCALE_TO's units, the
        # number paper 003 Fig. 8 compares.
        self.declare_output_style(self.OUTPUT, OutputStyle(
            "error", "scaled error std of X", band=DATASET_FIELDS.index("error_std_scaled")
            * len(DATASETS) + 1))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TABLE, self.tr("Triple collocation per group (table)"),
            QgsProcessing.TypeVector, optional=True, createByDefault=True))
        self.add_report_output(self.tr("Triple collocation report"))
        for _, suffix, label in STATUSES:
            self.add_count_output(f"{suffix}_PIXELS", self.tr(f"Pixels: {label.lower()}"))
        for _, suffix, label in STATUSES:
            self.add_count_output(f"{suffix}_GROUPS", self.tr(f"Groups: {label.lower()}"))
        self.add_count_output(self.SKIPPED, self.tr("Table rows skipped (a NULL or NaN value)"))
        self.add_count_output("NON_FINITE_VALUES",
                              self.tr("Stacks: infinite values met and dropped"))
        for field, label in MEDIAN_FIELDS:
            for dataset in DATASETS:
                self.add_count_output(f"MEDIAN_{field}_{dataset.upper()}",
                                      self.tr(f"Median {label} of {dataset.upper()}"))

    # --- the request --------------------------------------------------------------------------

    def command_parameters(self, parameters, context, feedback):
        names = parse_names(self.parameterAsString(parameters, self.NAMES, context))
        if names and len(names) != 3:
            raise QgsProcessingException(
                f"Invalid value for {self.NAMES} ('{', '.join(names)}'): {len(names)} names; "
                f"give three, for X, Y and Z in turn, or leave it empty.")
        if self.uses_vector_layer(parameters):
            if self.has_value(parameters, self.PERIOD):
                push_warning(feedback, f"{self.PERIOD} is used with stacks only; every row of "
                                       f"the table is collocated.")
            table, field_names = self.table_triplets(parameters, context, feedback)
            return {self.TABLE: table, self.NAMES: names or field_names}
        missing = [key for key in self.STACKS if not self.has_value(parameters, key)]
        if missing:
            given = [key for key in self.STACKS if key not in missing]
            raise QgsProcessingException(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty but "
                f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set: stack mode "
                f"collocates three stacks; give {self.X}, {self.Y} and {self.Z}, or a table in "
                f"{self.INPUT_LAYER} instead.")
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not output:
            raise QgsProcessingException(
                f"{self.OUTPUT} is empty: with stacks the error variances are written to a "
                f"19-band raster; give its file name.")
        request = {self.OUTPUT: output, self.NAMES: names or [
            self.parameterAsRasterLayer(parameters, key, context).name() for key in self.STACKS]}
        period = self.parameterAsString(parameters, self.PERIOD, context).strip()
        if period:
            request[self.PERIOD] = period
        return request

    def table_triplets(self, parameters, context, feedback):
        """The core's TABLE read from INPUT_LAYER, and the three field names."""
        source = self.vector_source(parameters, context)
        names = []
        for key in self.FIELDS:
            name = self.parameterAsString(parameters, key, context)
            if not name:
                raise QgsProcessingException(
                    f"No {key[0]} field: {key} is empty; a table gives the triplets as three "
                    f"numeric fields of {self.INPUT_LAYER}, {', '.join(self.FIELDS)}.")
            names.append(name)
        indices = [self.field_index(source, key, name) for key, name in zip(self.FIELDS, names)]
        for position, index in enumerate(indices):
            if index in indices[:position]:
                other = self.FIELDS[indices.index(index)]
                raise QgsProcessingException(
                    f"Invalid value for {self.FIELDS[position]} ('{names[position]}'): it is also "
                    f"{other}; triple collocation needs three datasets with independent errors. "
                    f"Choose three different fields.")
        columns, groups = self.read_columns(
            source, list(zip(self.FIELDS, indices)),
            self.group_field_index(parameters, context, source), feedback)
        table = dict(zip(DATASETS, columns))
        if groups is not None:
            table["groups"] = groups
        feedback.pushInfo(f"{len(columns[0])} features read from {self.INPUT_LAYER}.")
        return table, [source.fields().at(index).name() for index in indices]

    def build_request(self, parameters, context, feedback):
        request = super().build_request(parameters, context, feedback)
        if self.TABLE in request:
            for key in self.STACK_ONLY_KEYS:
                request.pop(key, None)
        return request

    # --- running ------------------------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = self.run_core(request, parameters, context, feedback)
        results = self.write_report(parameters, context, request, outputs, feedback)
        if self.TABLE in request:
            results[self.OUTPUT] = None
            results[self.OUTPUT_TABLE] = self.write_group_table(
                parameters, context, outputs.get("GROUPS") or [])
        return results

    def output_style(self, key, path, parameters, context):
        names = parse_names(self.parameterAsString(parameters, self.NAMES, context))
        x_name = names[0] if names else self.parameterAsRasterLayer(
            parameters, self.X, context).name()
        unit = self.parameterAsString(parameters, self.UNIT, context).strip()
        return super().output_style(key, path, parameters, context)._replace(
            name=f"scaled error std of X ({x_name})", unit=unit)

    def write_group_table(self, parameters, context, groups):
        """OUTPUT_TABLE, one geometryless row per group; its destination, or None if not asked."""
        fields = QgsFields()
        fields.append(QgsField("group", QVariant.String))
        fields.append(QgsField("n", QVariant.LongLong))
        fields.append(QgsField("status", QVariant.String))
        for pair in PAIRS:
            fields.append(QgsField(f"r_{pair}", QVariant.Double))
        for dataset in DATASETS:
            for name in DATASET_FIELDS:
                fields.append(QgsField(f"{name}_{dataset}", QVariant.Double))
        sink, destination = self.parameterAsSink(
            parameters, self.OUTPUT_TABLE, context, fields, QgsWkbTypes.NoGeometry,
            QgsCoordinateReferenceSystem())
        if sink is None:
            return None
        for group in groups:
            feature = QgsFeature(fields)
            pairwise = group.get("pairwise_r") or {}
            values = [str(group.get("group")), group.get("n"), group.get("status")]
            values += [pairwise.get(pair) for pair in PAIRS]
            for dataset in DATASETS:
                estimates = group.get(dataset) or {}
                values += [estimates.get(name) for name in DATASET_FIELDS]
            feature.setAttributes(values)
            if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(
                    f"{self.OUTPUT_TABLE}: a row could not be written ({sink.lastError()}).")
        return destination

    # --- the report ---------------------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        unit = self.parameterAsString(parameters, self.UNIT, context).strip()
        table_mode = self.TABLE in request
        names = [str(name) for name in (outputs.get(self.NAMES) or request[self.NAMES])]
        labels = [f"{dataset.upper()}: {name}" for dataset, name in zip(DATASETS, names)]
        scale_to = request[self.SCALE_TO]
        scale_name = names[DATASETS.index(scale_to)]
        suffix = "GROUPS" if table_mode else "PIXELS"

        report = HtmlReport(f"Triple collocation: {', '.join(names)}")
        rows = [(f"Dataset {label.split(':')[0]}", label.split(": ", 1)[1]) for label in labels]
        if table_mode:
            source = self.parameterAsSource(parameters, self.INPUT_LAYER, context)
            rows.append(("Triplets", f"fields of the layer {source.sourceName()}, one "
                                     f"collocation per group"))
            rows.append(("Rows skipped for a missing value (SKIPPED)",
                         outputs.get(self.SKIPPED)))
        else:
            rows.append(("Triplets", "stacks, one collocation per pixel over time"))
            rows.append(("Period (PERIOD)", request.get(self.PERIOD, "all bands")))
        rows += [("Errors scaled to the units of (SCALE_TO)", f"{scale_to.upper()} "
                                                             f"({scale_name})"),
                 ("Minimum pairwise correlation (MIN_CORRELATION)",
                  request[self.MIN_CORRELATION]),
                 ("Triplets a collocation needs (MIN_OBSERVATIONS)",
                  request[self.MIN_OBSERVATIONS])]
        report.definition_table(rows)

        report.heading("Masks")
        report.table(["Status", "Pixels" if not table_mode else "Groups"],
                     [(f"{label} ({key}_{suffix})", [outputs.get(f"{key}_{suffix}")])
                      for _, key, label in STATUSES])

        report.heading("Medians")
        report.table(["Dataset"] + [f"Median {label}" for _, label in MEDIAN_FIELDS],
                     [(label, [outputs.get(f"MEDIAN_{field}_{dataset.upper()}")
                               for field, _ in MEDIAN_FIELDS])
                      for dataset, label in zip(DATASETS, labels)])
        collocated = outputs.get(f"COLLOCATED_{suffix}") or 0
        if table_mode:
            values = self.collocated_group_values(outputs.get("GROUPS") or [])
            where = f"the {collocated} collocated groups"
        else:
            values = (outputs.get("SAMPLE") or {})
            sampled = len((values.get("error_std_scaled") or {}).get("x") or [])
            where = (f"a sample of {sampled} of the {collocated} collocated pixels, chosen at "
                     f"random with SEED {request.get(self.SEED)}")
        report.paragraph(f"Medians over {where}. Error std in each dataset's own units; scaled "
                         f"error std in the units of {scale_to.upper()} ({scale_name})"
                         f"{unit_suffix(unit)}.", note=True)

        report.heading("Errors and correlations with the truth (Lv et al. 2021, Fig. 8)")
        if collocated:
            report.box_plots([
                (f"Error std scaled to {scale_to.upper()}",
                 f"Error std{axis_unit(unit) if unit else f' (units of {scale_to.upper()})'}",
                 [(label, (values.get("error_std_scaled") or {}).get(dataset) or [])
                  for dataset, label in zip(DATASETS, labels)]),
                ("Correlation with the truth", f"r_truth{DIMENSIONLESS}",
                 [(label, (values.get("r_truth") or {}).get(dataset) or [])
                  for dataset, label in zip(DATASETS, labels)]),
            ], f"Error standard deviations in the units of {scale_to.upper()} ({scale_name}) "
               f"and correlations with the unknown truth per dataset, over {where}.")
        else:
            report.paragraph("Nothing was collocated: no box plot.", note=True)

        if table_mode:
            report.heading("Per group")
            header = ["Group", "N", "Status"]
            header += [f"Scaled error std {label}" for label in labels]
            header += [f"r_truth {label}" for label in labels]
            report.table(header, [
                (str(group.get("group")),
                 [group.get("n"), group.get("status")]
                 + [(group.get(dataset) or {}).get("error_std_scaled") for dataset in DATASETS]
                 + [(group.get(dataset) or {}).get("r_truth") for dataset in DATASETS])
                for group in outputs.get("GROUPS") or []])
        return report

    @staticmethod
    def collocated_group_values(groups):
        """{"error_std_scaled": {"x": [...], ...}, "r_truth": {...}} over the collocated groups."""
        collocated = [group for group in groups if group.get("status") == "collocated"]
        return {name: {dataset: [(group.get(dataset) or {}).get(name) for group in collocated]
                       for dataset in DATASETS}
                for name in ("error_std_scaled", "r_truth")}
