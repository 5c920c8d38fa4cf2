"""smr:cdfmatching — rescales a product onto a reference's distribution (CDF matching), per pixel of
a stack or for a field of a table.

Stacks are read, fitted and rescaled by the core. A table is read here and sent as SERIES; the
core returns one rescaled value per feature, which this file writes into a copy of the layer.
"""

import math
import os

from qgis.core import (
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QVariant

from ..plugin.bridge import push_warning
from .base import STACK_OUTPUT_HELP
from .samples import LearningAlgorithm, NumberReader, report_progress
from .styles import OutputStyle, band_named, estimate_style, raster_value_range
from .temporalmetrics import PERIOD_HELP

MAPPING_FILE_FILTER = "GeoTIFF mapping per pixel (*.tif *.tiff);;JSON mapping (*.json)"
JSON_SUFFIX = ".json"
# Features between two progress reports and cancel checks while a table is read or written.
FEATURES_PER_REPORT = 1000


def is_json_path(path):
    return os.path.splitext(path)[1].lower() == JSON_SUFFIX


class CdfMatching(LearningAlgorithm):
    NAME = "cdfmatching"
    DISPLAY_NAME = "CDF matching (rescale a product onto a reference)"
    GROUP_ID = "validation"
    COMMAND = "cdfmatching"

    SOURCE = "SOURCE"
    REFERENCE_STACK = "REFERENCE_STACK"
    FIT_PERIOD = "FIT_PERIOD"
    SOURCE_FIELD = "SOURCE_FIELD"
    REFERENCE_FIELD = "REFERENCE_FIELD"
    MATCHED_FIELD = "MATCHED_FIELD"
    MAPPING = "MAPPING"
    METHOD = "METHOD"
    PERCENTILES = "PERCENTILES"
    MIN_OBSERVATIONS = "MIN_OBSERVATIONS"
    EDGES = "EDGES"
    OUTPUT = "OUTPUT"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    MAPPING_OUTPUT = "MAPPING_OUTPUT"
    SERIES = "SERIES"  # the core's key for the values read from INPUT_LAYER
    PIXEL_COUNTS = ("MATCHED_PIXELS", "EMPTY_PIXELS", "FEW_OBSERVATIONS_PIXELS",
                    "CONSTANT_PIXELS")
    # What only stacks use: left out of a table's request.
    STACK_ONLY_KEYS = ("RESAMPLING", "THREADS", "CREATE_OPTIONS")
    # What a saved mapping replaces: left out of the request beside MAPPING, where the core would
    # only log that they are not used.
    FITTING_KEYS = (METHOD, PERCENTILES, MIN_OBSERVATIONS, EDGES)

    # Option indexes are public API (saved models store them): append, never reorder.
    METHOD_CHOICES = (("percentile (piecewise linear between matched percentiles)", "percentile"),
                      ("mean and standard deviation", "mean_std"),
                      ("minimum and maximum", "min_max"))
    EDGE_CHOICES = (("linear (extend the outer segments)", "linear"),
                    ("clamp (hold the reference's end values)", "clamp"))

    HELP = """
Rescales a product so that the distribution of its values matches a reference's (CDF matching), the usual calibration step before soil-moisture products are compared or merged; Wang and Xu (2021) name it the main calibration method, as used for ESA CCI soil moisture. The mapping is fitted on pairs (the same time step, or the same feature) where both are valid, then applied to every value of the product; the rescaled values are in the reference's unit (e.g. m³/m³ from % saturation).

The data come in one of two forms, which is why the dialog shows every input as optional: fill in one group, leave the other empty.
• Stack mode (band = time step): the source stack to rescale with the reference stack (the same time steps; 'Period the mapping is fitted on' selects the steps fitted, e.g. 1:365 or 2015-04-01:2016-03-31, default all), one mapping per pixel; or the source stack with a mapping saved earlier ('Mapping saved earlier', MAPPING): a mapping raster written by 'Save the mapping' for stacks (each pixel its own mapping, e.g. fitted on one year and applied to the next; on another grid it is aligned to the source with nearest neighbour, since blending neighbours' nodes would invent mappings), or a .json mapping of a table (every pixel the same mapping). A saved mapping brings its own method and edges. The rescaled stack (OUTPUT) has every band of the source, nodata where the source is or where the pixel has no mapping. Pixels are counted: MATCHED_PIXELS, EMPTY_PIXELS (no pair), FEW_OBSERVATIONS_PIXELS, CONSTANT_PIXELS, UNMAPPED_PIXELS (nodata in a mapping raster); NON_FINITE_VALUES counts the infinite values met, which are dropped like nodata. The saved mapping (MAPPING_OUTPUT, optional, .tif) holds the source percentiles in its first bands, as many as 'Percentiles matched', and the reference's in the next ones (2 + 2 bands for the mean and standard deviation or the minimum and maximum methods); unused nodes (merged ties) are nodata. A reference on another grid or CRS is aligned to the source's grid with the resampling method. The outputs are the same for any number of threads.
• Table mode (INPUT_LAYER, a vector layer or a table): the source field is rescaled onto the reference field (e.g. the pairs written by Time matching), or with a mapping saved earlier as JSON (the reference field is then not needed). The rescaled table (OUTPUT_TABLE) is a copy of every feature with a new field, 'Name of the new field' (default: the source field's name followed by _matched), NULL where the source value is NULL or NaN. N counts the pairs fitted, SKIPPED the features without a pair. The saved mapping (MAPPING_OUTPUT, optional, .json) applies to other tables.

Methods ('Method'):
• percentile (default): the source's and the reference's percentiles at 'Percentiles matched' evenly spaced levels (default 21: every 5 %, 0 to 100; linear interpolation between order statistics, as numpy's default) are matched, and a value is mapped piecewise linearly between them. Equal source percentiles (ties) merge into one whose reference value is the mean of theirs. Beyond the outermost source percentiles ('Beyond the outermost source percentiles', EDGES), linear extends the first and last segments and clamp holds the reference's end values;
• mean and standard deviation: y = μ_ref + (x − μ_src)·σ_ref/σ_src, linear everywhere;
• minimum and maximum: the source's minimum and maximum are mapped onto the reference's, linearly (edges as for percentile).
Fewer pairs than 'Pairs a mapping needs' (MIN_OBSERVATIONS, default 20), or a source that is constant over them, gives no mapping.
"""
    REFERENCE_KEYS = ("wang2021",)
    TAGS = ("CDF matching", "cumulative distribution", "rescaling", "bias correction",
            "percentile", "calibration", "climatology", "stack", "soil moisture products")

    HELP_APPENDIX = STACK_OUTPUT_HELP

    def define_parameters(self):
        self.add_stack_input(self.SOURCE, self.tr("Stack mode: source stack to rescale"),
                             optional=True)
        self.add_stack_input(self.REFERENCE_STACK, self.tr("Stack mode: reference stack (the same "
                                                           "time steps)"), optional=True)
        period = QgsProcessingParameterString(
            self.FIT_PERIOD, self.tr("Stack mode: period the mapping is fitted on (empty: every "
                                     "band; e.g. 1:365 or 2015-04-01:2016-03-31)"),
            optional=True)
        period.setHelp(self.tr(PERIOD_HELP))
        self.addParameter(period)

        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Table mode: table or vector layer (leave empty to use "
                                      "the stacks)"),
            [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.SOURCE_FIELD, self.tr("Table mode: source field to rescale"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.REFERENCE_FIELD, self.tr("Table mode: reference field"),
            parentLayerParameterName=self.INPUT_LAYER, type=QgsProcessingParameterField.Any,
            optional=True))
        matched = QgsProcessingParameterString(
            self.MATCHED_FIELD, self.tr("Table mode: name of the new field (empty: the source "
                                        "field's name followed by _matched)"),
            optional=True)
        matched.setHelp(self.tr("Must not be a field of the table already."))
        self.addParameter(matched)

        mapping = QgsProcessingParameterFile(
            self.MAPPING, self.tr("Mapping saved earlier (instead of the reference)"),
            optional=True, fileFilter=MAPPING_FILE_FILTER)
        mapping.setHelp(self.tr("Stacks: a mapping raster written by 'Save the mapping' "
                                "(MAPPING_OUTPUT); tables: a .json mapping written by it."))
        self.addParameter(mapping)
        self.add_choice(self.METHOD, self.tr("Method"), self.METHOD_CHOICES)
        self.add_number(self.PERCENTILES, self.tr("Percentiles matched (percentile method)"), 21,
                        minimum=2, maximum=1001, integer=True)
        self.add_number(self.MIN_OBSERVATIONS, self.tr("Pairs a mapping needs"), 20, minimum=2,
                        maximum=1000000000, integer=True)
        self.add_choice(self.EDGES, self.tr("Beyond the outermost source percentiles"),
                        self.EDGE_CHOICES)

        self.add_resampling_choice(self.tr("Resampling of a reference on another grid"), self.tr(
            "Stacks only: REFERENCE_STACK on another grid or CRS than SOURCE is aligned to it "
            "with this method. A MAPPING raster is always aligned with nearest neighbour."))
        self.add_threads_parameter(self.tr("Number of threads of the smr core (stacks); 0 uses "
                                           "all cores. The outputs are the same for any number."))
        self.add_creation_options_parameter(
            "GeoTIFF: tiled, DEFLATE, PREDICTOR=3, band-interleaved, BIGTIFF=IF_SAFER")

        # Optional, as the other mode does not write it, yet created by default; not declared
        # with add_raster_output, so a table run never evaluates (and never loads) it.
        self.addParameter(QgsProcessingParameterRasterDestination(
            self.OUTPUT, self.tr("Rescaled stack"), optional=True, createByDefault=True))
        self.declare_output_style(self.OUTPUT, OutputStyle("soil_moisture"))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT_TABLE, self.tr("Rescaled table"), QgsProcessing.TypeVector,
            optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.MAPPING_OUTPUT, self.tr("Save the mapping (stacks: .tif, tables: .json)"),
            MAPPING_FILE_FILTER, optional=True, createByDefault=False))
        # A mapping raster has 4 to 2002 bands; dragged in, it would open as an RGB of three
        # percentiles.
        self.declare_output_style(self.MAPPING_OUTPUT,
                                  OutputStyle("value", "CDF mapping: source median"))
        for key, description in (
                ("MATCHED_PIXELS", "Pixels rescaled"),
                ("EMPTY_PIXELS", "Pixels without a pair"),
                ("FEW_OBSERVATIONS_PIXELS", "Pixels with fewer pairs than MIN_OBSERVATIONS"),
                ("CONSTANT_PIXELS", "Pixels whose source is constant (no mapping)"),
                ("UNMAPPED_PIXELS", "Pixels without a mapping in the MAPPING raster"),
                ("NON_FINITE_VALUES", "Infinite values met and dropped (stacks)"),
                ("N", "Table: pairs fitted"),
                ("SKIPPED", "Table: features without a pair (a NULL or NaN value)")):
            self.add_count_output(key, self.tr(description))

    # --- the request --------------------------------------------------------------------------

    def uses_table(self, parameters):
        """True for a table, False for stacks; an error unless exactly one is given."""
        table = self.has_value(parameters, self.INPUT_LAYER)
        stacks = self.has_value(parameters, self.SOURCE)
        if table and stacks:
            raise QgsProcessingException(
                f"The source is given twice: {self.INPUT_LAYER} and {self.SOURCE} are both set. "
                f"Give either a stack ({self.SOURCE} with {self.REFERENCE_STACK} or "
                f"{self.MAPPING}) or a table ({self.INPUT_LAYER} with {self.SOURCE_FIELD}), not "
                f"both.")
        if not table and not stacks:
            raise QgsProcessingException(
                f"No source given: set {self.SOURCE} (a stack) with {self.REFERENCE_STACK} or "
                f"{self.MAPPING}, or {self.INPUT_LAYER} (a table) with {self.SOURCE_FIELD}.")
        return table

    def command_parameters(self, parameters, context, feedback):
        table = self.uses_table(parameters)
        mapping = self.parameterAsFile(parameters, self.MAPPING, context)
        mapping_output = self.parameterAsFileOutput(parameters, self.MAPPING_OUTPUT, context)
        request = {}
        if mapping:
            if table and not is_json_path(mapping):
                raise QgsProcessingException(
                    f"Invalid value for {self.MAPPING} ('{mapping}'): a table is rescaled with a "
                    f".json mapping, written by {self.MAPPING_OUTPUT} for a table; a mapping "
                    f"raster holds one mapping per pixel, for stacks.")
            if mapping_output:
                raise QgsProcessingException(
                    f"{self.MAPPING} and {self.MAPPING_OUTPUT} are both set: with a saved mapping "
                    f"nothing is fitted, so there is no mapping to save. Leave one empty.")
            request[self.MAPPING] = mapping
        if mapping_output:
            if table != is_json_path(mapping_output):
                raise QgsProcessingException(
                    f"Invalid value for {self.MAPPING_OUTPUT} ('{mapping_output}'): "
                    + ("a table's mapping is saved as .json." if table else
                       "a stack's mapping is a raster: give a .tif file, not .json."))
            request[self.MAPPING_OUTPUT] = mapping_output
        if table:
            if self.has_value(parameters, self.REFERENCE_STACK):
                raise QgsProcessingException(
                    f"{self.REFERENCE_STACK} is a stack, for a SOURCE stack; with a table in "
                    f"{self.INPUT_LAYER} give the reference as {self.REFERENCE_FIELD}.")
            if self.has_value(parameters, self.FIT_PERIOD):
                push_warning(feedback, f"{self.FIT_PERIOD} is used with stacks only; every "
                                       f"feature of the table is fitted.")
            request[self.SERIES] = self.table_series(parameters, context, feedback, bool(mapping))
            return request

        for key in (self.SOURCE_FIELD, self.REFERENCE_FIELD, self.MATCHED_FIELD):
            if self.has_value(parameters, key):
                raise QgsProcessingException(
                    f"{key} is a field of {self.INPUT_LAYER}, for tables; with the stack "
                    f"{self.SOURCE} leave it empty.")
        reference_given = self.has_value(parameters, self.REFERENCE_STACK)
        if reference_given == bool(mapping):
            raise QgsProcessingException(
                f"{self.SOURCE} is rescaled either onto {self.REFERENCE_STACK} or with a saved "
                f"{self.MAPPING}: " + ("both are set; give one." if mapping else
                                       "give one of them."))
        output = self.parameterAsOutputLayer(parameters, self.OUTPUT, context)
        if not output:
            raise QgsProcessingException(
                f"{self.OUTPUT} is empty: the rescaled stack needs a file name.")
        request[self.OUTPUT] = output
        period = self.parameterAsString(parameters, self.FIT_PERIOD, context).strip()
        if period:
            request[self.FIT_PERIOD] = period
        return request

    def table_field(self, source, key, context, parameters, role):
        name = self.parameterAsString(parameters, key, context)
        if not name:
            raise QgsProcessingException(
                f"No {role} field: {key} is empty; choose the numeric field of "
                f"{self.INPUT_LAYER} that holds the {role} values.")
        return self.field_index(source, key, name)

    def table_series(self, parameters, context, feedback, with_mapping):
        """The core's SERIES, read from INPUT_LAYER in feature order (self._feature_ids keeps
        which feature each value came from)."""
        source = self.vector_source(parameters, context)
        source_index = self.table_field(source, self.SOURCE_FIELD, context, parameters, "source")
        indices = [source_index]
        keys = [self.SOURCE_FIELD]
        if with_mapping:
            if self.has_value(parameters, self.REFERENCE_FIELD):
                raise QgsProcessingException(
                    f"{self.REFERENCE_FIELD} and {self.MAPPING} are both set: a saved mapping "
                    f"replaces the reference. Leave {self.REFERENCE_FIELD} empty to apply "
                    f"{self.MAPPING}, or {self.MAPPING} empty to fit onto {self.REFERENCE_FIELD}.")
        else:
            reference_index = self.table_field(source, self.REFERENCE_FIELD, context, parameters,
                                               "reference")
            if reference_index == source_index:
                raise QgsProcessingException(
                    f"Invalid value for {self.REFERENCE_FIELD} "
                    f"('{source.fields().at(reference_index).name()}'): it is also "
                    f"{self.SOURCE_FIELD}; a field matched onto itself does not change. Choose "
                    f"the field of the reference values.")
            indices.append(reference_index)
            keys.append(self.REFERENCE_FIELD)
        self._matched_field = self.matched_field_name(parameters, context, source, source_index)

        reader = NumberReader(source, list(zip(keys, indices)), self.INPUT_LAYER)
        request = QgsFeatureRequest()
        request.setFlags(QgsFeatureRequest.NoGeometry)
        request.setSubsetOfAttributes(indices)
        columns = [[] for _ in indices]
        self._feature_ids = []
        total = source.featureCount()
        for position, feature in enumerate(source.getFeatures(request)):
            if position % FEATURES_PER_REPORT == 0:
                report_progress(feedback, position, total, f"reading {self.INPUT_LAYER}")
            attributes = feature.attributes()
            for column, index in zip(columns, indices):
                column.append(reader.number(attributes, index))
            self._feature_ids.append(feature.id())
        report_progress(feedback, total, total, f"reading {self.INPUT_LAYER}")
        reader.check(feedback)
        feedback.pushInfo(f"{len(self._feature_ids)} features read from {self.INPUT_LAYER}.")
        series = {"source": columns[0]}
        if not with_mapping:
            series["reference"] = columns[1]
        return series

    def matched_field_name(self, parameters, context, source, source_index):
        name = self.parameterAsString(parameters, self.MATCHED_FIELD, context).strip()
        if not name:
            name = f"{source.fields().at(source_index).name()}_matched"
        if source.fields().lookupField(name) >= 0:
            raise QgsProcessingException(
                f"Invalid value for {self.MATCHED_FIELD} ('{name}'): {self.INPUT_LAYER} already "
                f"has a field of that name; give another name in {self.MATCHED_FIELD}.")
        return name

    def build_request(self, parameters, context, feedback):
        request = super().build_request(parameters, context, feedback)
        if self.SERIES in request:
            for key in self.STACK_ONLY_KEYS:
                request.pop(key, None)
        if self.MAPPING in request:
            for key in self.FITTING_KEYS:
                request.pop(key, None)
            # Without RESAMPLING the core aligns a mapping raster with nearest neighbour.
            request.pop("RESAMPLING", None)
        return request

    # --- running ------------------------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        table = self.uses_table(parameters)
        # Reading the table, the core, writing the table; stacks: the core alone.
        steps = QgsProcessingMultiStepFeedback(3 if table else 1, feedback)
        request = self.build_request(parameters, context, steps)
        if table:
            steps.setCurrentStep(1)
        outputs = self.run_core(request, parameters, context, steps)
        results = self.processing_results(outputs)
        if table:
            steps.setCurrentStep(2)
            results[self.OUTPUT] = None
            results[self.OUTPUT_TABLE] = self.write_table(
                parameters, context, steps, outputs.get("RESCALED") or [])
        return results

    def output_style(self, key, path, parameters, context):
        if key == self.MAPPING_OUTPUT:
            return super().output_style(key, path, parameters, context)._replace(
                band=band_named(path, "source p50"))
        # The rescaled stack is in the reference's units, whatever the source's.
        source = self.parameterAsRasterLayer(parameters, self.SOURCE, context).name()
        return estimate_style(raster_value_range(path), "soil moisture (CDF-matched)",
                              f"{source} (CDF-matched)")

    def write_table(self, parameters, context, feedback, rescaled):
        """OUTPUT_TABLE: every feature of INPUT_LAYER with its rescaled value."""
        if len(rescaled) != len(self._feature_ids):
            raise QgsProcessingException(
                f"smr {self.COMMAND} returned {len(rescaled)} rescaled values for "
                f"{len(self._feature_ids)} features (internal error).")
        source = self.vector_source(parameters, context)
        fields = QgsFields(source.fields())
        fields.append(QgsField(self._matched_field, QVariant.Double))
        sink, destination = self.parameterAsSink(
            parameters, self.OUTPUT_TABLE, context, fields, source.wkbType(), source.sourceCrs())
        if sink is None:
            return None
        value_of = dict(zip(self._feature_ids, rescaled))
        total = len(self._feature_ids)
        for position, feature in enumerate(source.getFeatures()):
            if position % FEATURES_PER_REPORT == 0:
                report_progress(feedback, position, total, f"writing {self.OUTPUT_TABLE}")
            value = value_of.get(feature.id())
            output = QgsFeature(fields)
            output.setGeometry(feature.geometry())
            output.setAttributes(feature.attributes() + [
                None if value is None or not math.isfinite(value) else float(value)])
            if not sink.addFeature(output, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(
                    f"{self.OUTPUT_TABLE}: feature {feature.id()} could not be written "
                    f"({sink.lastError()}).")
        return destination
