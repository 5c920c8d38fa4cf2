"""smr:samplestacks — the values of time stacks at points, as a long table with one row per point
and date (the in-situ table of a calibration, a training or a validation over time).

The points are read and reprojected here (into the CRS of the first stack, point ids kept); the
core reads only the pixels under them, block by block, and returns the values; this file writes
the table.
"""

import math

from qgis.core import (
    QgsCoordinateTransform,
    QgsCsException,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, Qt, QVariant

from ..plugin.bridge import push_warning, run_smr
from .base import SmrAlgorithm
from .pixelwisereconstruction import stack_names
from .samples import attribute_as_group, report_progress

# Features or rows between two progress reports and cancel checks.
ROWS_PER_REPORT = 1000
# The id column when no id field is chosen: the feature id ("fid" is the GeoPackage's own key
# column, which would refuse an id repeated on every date).
FEATURE_ID_COLUMN = "feature_id"


def json_id(value):
    """An id attribute as the core takes it: a number, text, or None for NULL."""
    group = attribute_as_group(value)
    if isinstance(group, float) and group.is_integer():
        return int(group)
    return group


class SampleStacks(SmrAlgorithm):
    NAME = "samplestacks"
    DISPLAY_NAME = "Sample time stacks at points (one row per point and date)"
    GROUP_ID = "validation"
    COMMAND = "samplestacks"

    INPUT = "INPUT"
    ID_FIELD = "ID_FIELD"
    STACKS = "STACKS"
    STACK_NAMES = "STACK_NAMES"
    OUTPUT = "OUTPUT"
    ROWS = "ROWS"
    POINTS = "POINTS"
    POINTS_OUTSIDE = "POINTS_OUTSIDE"
    NULL_VALUES = "NULL_VALUES"
    SKIPPED_FEATURES = "SKIPPED_FEATURES"

    HELP = """
Reads the values of one or more time stacks at points (e.g. soil-moisture stations) and writes them as a long table with one row per point and date: the point's id, the band number, the date and one column per stack. Use it to build the in-situ table of a water cloud calibration or a network training (stations × satellite overpasses: σ⁰, vegetation water content, incidence angle, …, as the calibration and the knowledge-guided LSTM of Yu et al. start from), or to compare a product with station measurements over time (then Time matching and Validation metrics).

Inputs: a point layer ('Points', INPUT; multipoint features with one point are accepted), an optional 'Point id field' (ID_FIELD; empty: the feature id, written to the column feature_id), and the 'Time stacks' (STACKS): multi-band rasters whose bands are the dates, with ISO dates such as 2016-01-07 as band descriptions (as the stacks smr writes carry them; a time of day after the date is ignored). All stacks need the same number of bands and, where two carry dates, the same dates band by band; otherwise the run stops with an error naming the two stacks, the band and both dates. A stack without dates takes those of the dated stacks; when no stack is dated, the date column is NULL and the band column tells the dates apart. The points are reprojected into the CRS of the first stack (stacks in another CRS get them transformed again by the core); a feature without a geometry, or whose point cannot be transformed, is skipped and counted in SKIPPED_FEATURES.

Values: the value of the pixel that holds the point, never interpolated. A point on the edge between two pixels takes the pixel east of it (higher column) and south of it (higher row, on a north-up raster); the raster's west and north edges are inside, its east and south edges outside. The stack's nodata value, NaN and infinite values are NULL. A point outside a stack keeps its rows, with NULL for that stack; it is counted in POINTS_OUTSIDE and the log names some of their ids. NULL_VALUES counts the NULL values of all stacks together. Values are in the stacks' own units (e.g. dB or linear σ⁰, m³/m³); Float32 values are written as the shortest decimal that reads back as the stored value (0.2, not 0.200000003).

The table (OUTPUT) keeps each point's geometry (in the point layer's CRS) on each of its rows, so it can be drawn and filtered on a map; its fields are the id (the id field's name and type, or feature_id), band (1, 2, …), date (a date field, read by Time matching as a time) and one decimal field per stack, named after the 'Column names' (STACK_NAMES: comma-separated, one per stack; empty: the layer names), made safe for every format: letters, digits and '_' (other characters become '_'), not starting with a digit ('s_' is put in front), unique against each other, the id, band and date (a suffix _2, _3 … is added). Rows run point by point, dates in band order. ROWS counts the rows (points × dates), POINTS the points sampled.

Only the pixels under the points are read, block by block of each stack, so the memory needed grows with the points and dates, not with the size of the rasters; the values are the same for any number of threads.
"""
    HELP_APPENDIX = ""
    REFERENCE_KEYS = ("yu",)
    TAGS = ("sample", "extract", "point", "station", "in situ", "time series", "stack",
            "long table", "raster values", "calibration", "validation")

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        # No output grid, resampling or creation options: the output is a table.
        self._forget_declarations()
        self.define_parameters()
        self.list_enum_values_in_help()

    def define_parameters(self):
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT, self.tr("Points (e.g. stations)"), [QgsProcessing.TypeVectorPoint]))
        id_field = QgsProcessingParameterField(
            self.ID_FIELD, self.tr("Point id field (empty: the feature id)"),
            parentLayerParameterName=self.INPUT, type=QgsProcessingParameterField.Any,
            optional=True)
        id_field.setHelp(self.tr("Written to every row of the point, with its name and type."))
        self.addParameter(id_field)
        stacks = QgsProcessingParameterMultipleLayers(
            self.STACKS, self.tr("Time stacks (band = date)"), QgsProcessing.TypeRaster)
        stacks.setHelp(self.tr(
            "One multi-band raster per variable, all with the same dates (band descriptions such "
            "as 2016-01-07); one column per stack."))
        self.addParameter(stacks)
        names = QgsProcessingParameterString(
            self.STACK_NAMES, self.tr("Column names (comma-separated; empty: layer names)"),
            optional=True)
        names.setHelp(self.tr("One name per stack, in the same order; made safe and unique as "
                              "field names."))
        self.addParameter(names)
        self.add_threads_parameter(self.tr(
            "Number of threads reading the stacks; 0 uses all cores. The values are the same for "
            "any number."))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Sampled table (one row per point and date)"),
            QgsProcessing.TypeVectorPoint))
        self.add_count_output(self.ROWS, self.tr("Rows written (points × dates)"))
        self.add_count_output(self.POINTS, self.tr("Points sampled"))
        self.add_count_output(self.POINTS_OUTSIDE,
                              self.tr("Points outside at least one stack (NULL there)"))
        self.add_count_output(self.NULL_VALUES,
                              self.tr("NULL values (nodata, NaN, or a point outside a stack)"))
        self.add_count_output(self.SKIPPED_FEATURES,
                              self.tr("Features skipped (no geometry, or not transformable)"))

    # --- the inputs ---------------------------------------------------------------------------

    def stack_inputs(self, parameters, context):
        """(the core's stacks, their names, the first stack's layer)."""
        stacks, layer_names = self.resolve_stack_layer_list(parameters, self.STACKS, context)
        if not stacks:
            raise QgsProcessingException(
                f"No stacks: {self.STACKS} is empty; give one or more time stacks (multi-band "
                f"rasters, band = date) to sample at the points.")
        names = stack_names(self.parameterAsString(parameters, self.STACK_NAMES, context),
                            self.STACK_NAMES, self.STACKS, layer_names)
        first = self.parameterAsLayerList(parameters, self.STACKS, context)[0]
        return stacks, names, first

    def point_source(self, parameters, context):
        source = self.parameterAsSource(parameters, self.INPUT, context)
        if source is None:
            raise QgsProcessingException(
                f"{self.INPUT}: not a vector layer QGIS can read ({parameters.get(self.INPUT)!r}).")
        geometry_type = QgsWkbTypes.geometryType(source.wkbType())
        if geometry_type != QgsWkbTypes.PointGeometry:
            raise QgsProcessingException(
                f"Invalid value for {self.INPUT}: the layer holds "
                f"{QgsWkbTypes.displayString(source.wkbType()) or 'no geometries'}, not points; "
                f"give a point layer (e.g. the stations), or turn polygons into points first "
                f"(e.g. Centroids).")
        return source

    def id_column(self, parameters, context, source):
        """(index of the id field or None for the feature id, the output's id QgsField)."""
        name = self.parameterAsString(parameters, self.ID_FIELD, context)
        if not name:
            return None, QgsField(FEATURE_ID_COLUMN, QVariant.LongLong)
        index = source.fields().lookupField(name)
        if index < 0:
            raise QgsProcessingException(
                f"Invalid value for {self.ID_FIELD} ('{name}'): {self.INPUT} has no such field; "
                f"its fields are {', '.join(f.name() for f in source.fields()) or 'none'}.")
        field = QgsField(source.fields().at(index))
        if field.name().lower() == "fid":
            # The GeoPackage's key column: a copy repeated on every date would be refused.
            field.setName("point_fid")
        return index, field

    def read_points(self, source, id_index, transform, feedback):
        """(ids, x, y, geometries, skipped) of the features that have a point."""
        ids, xs, ys, geometries = [], [], [], []
        skipped = 0
        total = source.featureCount()
        for position, feature in enumerate(source.getFeatures()):
            if position % ROWS_PER_REPORT == 0:
                report_progress(feedback, position if total > 0 else 0, total,
                                f"reading {self.INPUT}")
            geometry = feature.geometry()
            if geometry is None or geometry.isNull() or geometry.isEmpty():
                skipped += 1
                continue
            if geometry.isMultipart():
                parts = geometry.asMultiPoint()
                if len(parts) != 1:
                    raise QgsProcessingException(
                        f"Invalid value for {self.INPUT}: feature {feature.id()} is a multipoint "
                        f"of {len(parts)} points; give one point per feature (e.g. Multipart to "
                        f"singleparts first).")
                point = QgsPointXY(parts[0])
            else:
                point = geometry.asPoint()
            if transform is not None:
                try:
                    point = transform.transform(point)
                except QgsCsException:
                    skipped += 1
                    continue
            if not (math.isfinite(point.x()) and math.isfinite(point.y())):
                skipped += 1
                continue
            ids.append(feature.id() if id_index is None
                       else feature.attributes()[id_index])
            xs.append(point.x())
            ys.append(point.y())
            geometries.append(QgsGeometry(geometry))
        report_progress(feedback, total, total, f"reading {self.INPUT}")
        return ids, xs, ys, geometries, skipped

    # --- running ------------------------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        steps = QgsProcessingMultiStepFeedback(3, feedback)
        stacks, names, first_stack = self.stack_inputs(parameters, context)
        source = self.point_source(parameters, context)
        id_index, id_field = self.id_column(parameters, context, source)
        transform = None
        stack_crs = first_stack.crs()
        if stack_crs.isValid() and source.sourceCrs().isValid() and stack_crs != source.sourceCrs():
            transform = QgsCoordinateTransform(source.sourceCrs(), stack_crs,
                                               context.transformContext())
            feedback.pushInfo(f"The points are reprojected from {source.sourceCrs().authid()} to "
                              f"{stack_crs.authid()}, the CRS of {first_stack.name()}.")
        elif not stack_crs.isValid() or not source.sourceCrs().isValid():
            push_warning(feedback, (
                f"{self.INPUT} or the first stack ({first_stack.name()}) has no CRS: the points' "
                f"coordinates are taken as the stack's."))
        ids, xs, ys, geometries, skipped = self.read_points(source, id_index, transform, steps)
        if skipped:
            push_warning(feedback, (
                f"{skipped} features of {self.INPUT} have no point, or one that cannot be "
                f"transformed into the stacks' CRS: skipped (SKIPPED_FEATURES)."))
        if not ids:
            raise QgsProcessingException(
                f"{self.INPUT} has no point to sample ({source.featureCount()} features, "
                f"{skipped} without a usable point); give a point layer with features.")
        steps.setCurrentStep(1)
        request = {
            self.STACKS: stacks,
            "NAMES": names,
            self.POINTS: {"ids": [json_id(value) for value in ids], "x": xs, "y": ys},
            "ID_NAME": id_field.name(),
            self.THREADS: self.parameterAsInt(parameters, self.THREADS, context),
        }
        outputs = run_smr(self.COMMAND, request, steps)
        steps.setCurrentStep(2)
        destination = self.write_table(parameters, context, steps, source, id_field, ids,
                                       geometries, outputs)
        return {self.OUTPUT: destination, self.ROWS: outputs.get(self.ROWS),
                self.POINTS: outputs.get(self.POINTS),
                self.POINTS_OUTSIDE: outputs.get(self.POINTS_OUTSIDE),
                self.NULL_VALUES: outputs.get(self.NULL_VALUES),
                self.SKIPPED_FEATURES: skipped}

    def write_table(self, parameters, context, feedback, source, id_field, ids, geometries,
                    outputs):
        columns = outputs.get("COLUMNS") or []
        dates = outputs.get("DATES") or []
        values = outputs.get("VALUES") or []
        if len(values) != len(ids) * len(dates):
            raise QgsProcessingException(
                f"smr {self.COMMAND} returned {len(values)} rows for {len(ids)} points × "
                f"{len(dates)} dates.")
        fields = QgsFields()
        fields.append(id_field)
        fields.append(QgsField("band", QVariant.Int))
        fields.append(QgsField("date", QVariant.Date))
        for column in columns:
            fields.append(QgsField(column, QVariant.Double))
        sink, destination = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, source.wkbType(), source.sourceCrs())
        if sink is None:
            raise QgsProcessingException(
                f"{self.OUTPUT}: the table could not be created ({parameters.get(self.OUTPUT)!r}).")
        qdates = [QDate.fromString(date, Qt.ISODate) if date else None for date in dates]
        total = len(values)
        row = 0
        for point, point_id in enumerate(ids):
            for band, date in enumerate(qdates, start=1):
                if row % ROWS_PER_REPORT == 0:
                    report_progress(feedback, row, total, f"writing {self.OUTPUT}")
                feature = QgsFeature(fields)
                feature.setGeometry(geometries[point])
                feature.setAttributes([point_id, band, date] + list(values[row]))
                if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                    raise QgsProcessingException(
                        f"{self.OUTPUT}: a row could not be written ({sink.lastError()}).")
                row += 1
        report_progress(feedback, total, total, f"writing {self.OUTPUT}")
        return destination
