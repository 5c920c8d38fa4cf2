"""smr:timematching — pairs each row of a reference series (e.g. satellite overpasses) with the
nearest-in-time row of another series (e.g. in-situ probes) within a window.

The layers are read here: times become seconds since 1970-01-01 UTC, rows without a value or a time
are left out and counted. The core matches the times; this file writes the matched pairs.
"""

import datetime

from qgis.core import (
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QVariant

from ..plugin.bridge import run_smr
from .samples import LearningAlgorithm, NumberReader, attribute_as_group, report_progress

TIME_FIELD_TYPES = (QVariant.DateTime, QVariant.Date, QVariant.String)
# Rows between two progress reports and cancel checks while a layer is read or the output written.
ROWS_PER_REPORT = 1000
SECONDS_PER_HOUR = 3600.0


class UnreadableTime(ValueError):
    pass


def seconds_since_epoch(value):
    """A time attribute as seconds since 1970-01-01T00:00Z, or None when it is NULL or empty.

    Times without a time zone (most QDateTime attributes, ISO strings without an offset, dates)
    are taken as UTC, so the result never depends on the machine's time zone. Raises
    UnreadableTime for a string that is not ISO-8601."""
    if value is None or isinstance(value, QVariant):  # QGIS returns NULL as a null QVariant
        return None
    if isinstance(value, QDateTime):
        if not value.isValid():
            return None
        if value.timeSpec() == Qt.LocalTime:
            value = QDateTime(value.date(), value.time(), Qt.UTC)
        return value.toMSecsSinceEpoch() / 1000.0
    if isinstance(value, QDate):
        if not value.isValid():
            return None
        return QDateTime(value, QTime(0, 0), Qt.UTC).toMSecsSinceEpoch() / 1000.0
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError as error:
        raise UnreadableTime(text) from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.timestamp()


def utc_date_time(seconds):
    return QDateTime.fromMSecsSinceEpoch(int(round(seconds * 1000.0)), Qt.UTC)


def group_key(value):
    """A group attribute as a string, so that station 7 of an integer field meets station '7' of
    a text field (or 7.0 of a real one); None for NULL."""
    group = attribute_as_group(value)
    if isinstance(group, float) and group.is_integer():
        return str(int(group))
    return None if group is None else str(group)


class SeriesRows:
    """The rows of one layer that have a time and a value, with their groups (None: NULL) when
    grouped and their geometries on the reference side."""

    def __init__(self):
        self.times = []
        self.values = []
        self.groups = []
        self.geometries = []
        self.skipped = 0


class TimeMatching(LearningAlgorithm):
    NAME = "timematching"
    DISPLAY_NAME = "Time matching (pair two time series within a window)"
    GROUP_ID = "validation"
    COMMAND = "timematching"

    REFERENCE_LAYER = "REFERENCE_LAYER"
    REFERENCE_TIME_FIELD = "REFERENCE_TIME_FIELD"
    REFERENCE_VALUE_FIELD = "REFERENCE_VALUE_FIELD"
    REFERENCE_GROUP_FIELD = "REFERENCE_GROUP_FIELD"
    OTHER_LAYER = "OTHER_LAYER"
    OTHER_TIME_FIELD = "OTHER_TIME_FIELD"
    OTHER_VALUE_FIELD = "OTHER_VALUE_FIELD"
    OTHER_GROUP_FIELD = "OTHER_GROUP_FIELD"
    WINDOW_HOURS = "WINDOW_HOURS"
    UNIQUE = "UNIQUE"
    OUTPUT = "OUTPUT"
    MATCHED = "MATCHED"
    UNMATCHED = "UNMATCHED"
    SKIPPED = "SKIPPED"
    DUPLICATES_DROPPED = "DUPLICATES_DROPPED"

    # (prefix of the parameter keys, layer key, role in messages)
    SIDES = (("REFERENCE", REFERENCE_LAYER, "reference"), ("OTHER", OTHER_LAYER, "other"))

    HELP = """
Pairs two time series by time: each row of the reference series (usually satellite overpasses, whose times are kept) is matched with the row of the other series (usually in-situ measurements) nearest in time, if it lies within the largest time difference. Use it before comparing a satellite product with in-situ probes (Validation metrics, smr:validationmetrics) or rescaling one onto the other (CDF matching, smr:cdfmatching).

'Largest time difference (hours)' (WINDOW_HOURS, default 1 hour): a difference of exactly that many hours still matches. Of two equally near rows, the earlier one is taken. The rows need not be sorted.

Each series is a layer — a vector layer or a table without geometry, e.g. a CSV loaded as a delimited text layer with its field types detected, so that values are numbers — with a time field and a numeric value field. Time fields may be date/time or date fields, or text in ISO-8601 form such as '2007-01-02 07:06:24.336000', '2007-01-02T07:06:24Z' or '2007-01-02'; times without a time zone are taken as UTC, text with an offset (+02:00) is converted to UTC. A text time that cannot be read is an error naming the field, the row and the text.
With a group field on both sides ('Reference: group field' and 'Other: group field', REFERENCE_GROUP_FIELD and OTHER_GROUP_FIELD; both or neither, e.g. the station), rows match only within the same group; numbers and text of the same value are the same group (7, 7.0 and '7'), and rows with a NULL group form one group of their own.
A row with a NULL or NaN value or a NULL time is skipped and counted in SKIPPED (both layers together).

'Match each row of the other series at most once' (UNIQUE, default off): when two reference rows want the same row, the nearer one keeps it (equally near: the earlier reference row) and the other stays unmatched, counted in DUPLICATES_DROPPED. Without it, one in-situ measurement may serve several overpasses.

The matched pairs (OUTPUT) have one feature per matched reference row, in the reference layer's order, with the reference feature's geometry and the fields group (only with groups), reference_time, reference_value, other_time, other_value and offset_hours = other_time − reference_time in hours; times are in UTC. They feed Validation metrics (estimate field reference_value, reference field other_value, or the reverse) and the table mode of CDF matching. MATCHED counts the matched reference rows, UNMATCHED the reference rows (with a time and a value) without a match.
"""
    REFERENCE_KEYS = ()
    TAGS = ("time matching", "temporal matching", "collocation in time", "nearest time",
            "in situ", "station", "overpass", "time series", "pairs", "validation")

    def define_parameters(self):
        for prefix, layer_key, role in self.SIDES:
            self.addParameter(QgsProcessingParameterFeatureSource(
                layer_key, self.tr(f"{role.capitalize()} series (layer or table)"),
                [QgsProcessing.TypeVector]))
            self.addParameter(QgsProcessingParameterField(
                f"{prefix}_TIME_FIELD", self.tr(f"{role.capitalize()}: time field"),
                parentLayerParameterName=layer_key, type=QgsProcessingParameterField.Any))
            self.addParameter(QgsProcessingParameterField(
                f"{prefix}_VALUE_FIELD", self.tr(f"{role.capitalize()}: value field"),
                parentLayerParameterName=layer_key, type=QgsProcessingParameterField.Any))
            self.addParameter(QgsProcessingParameterField(
                f"{prefix}_GROUP_FIELD", self.tr(f"{role.capitalize()}: group field (e.g. "
                                                 f"station; optional)"),
                parentLayerParameterName=layer_key, type=QgsProcessingParameterField.Any,
                optional=True))
        window = self.add_number(self.WINDOW_HOURS, self.tr("Largest time difference (hours)"),
                                 1.0, minimum=0.0, maximum=87600.0)
        window.setHelp(self.tr("Above 0 and at most 87600 (10 years); a difference of exactly "
                               "this many hours still matches."))
        self.addParameter(QgsProcessingParameterBoolean(
            self.UNIQUE, self.tr("Match each row of the other series at most once"), False))
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, self.tr("Matched pairs"), QgsProcessing.TypeVector))
        self.add_count_output(self.MATCHED, self.tr("Reference rows matched"))
        self.add_count_output(self.UNMATCHED, self.tr("Reference rows without a match"))
        self.add_count_output(self.SKIPPED,
                              self.tr("Rows skipped (a NULL or NaN value or a NULL time)"))
        self.add_count_output(self.DUPLICATES_DROPPED,
                              self.tr("Matches dropped because UNIQUE gave the row to a nearer "
                                      "reference row"))

    # --- reading the series -------------------------------------------------------------------

    def grouped(self, parameters):
        """Whether rows match within groups; an error when only one layer has a group field."""
        given = [self.has_value(parameters, f"{prefix}_GROUP_FIELD")
                 for prefix, _, _ in self.SIDES]
        if given[0] != given[1]:
            present, absent = ((self.REFERENCE_GROUP_FIELD, self.OTHER_GROUP_FIELD) if given[0]
                               else (self.OTHER_GROUP_FIELD, self.REFERENCE_GROUP_FIELD))
            raise QgsProcessingException(
                f"{present} is set but {absent} is empty: rows match only within the same group "
                f"(e.g. station), so both layers need their group field, or neither.")
        return given[0]

    def time_field_index(self, source, key, name, layer_key):
        index = self.field_index(source, key, name, numeric=False, layer_key=layer_key)
        field = source.fields().at(index)
        if field.type() not in TIME_FIELD_TYPES:
            usable = [other.name() for other in source.fields()
                      if other.type() in TIME_FIELD_TYPES]
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the field is of type {field.typeName()}; a "
                f"time field is a date/time, a date or text in ISO-8601 form (e.g. 2007-01-02 "
                f"07:06:24). The fields of {layer_key} that may hold times are "
                f"{', '.join(usable) or 'none'}.")
        return index

    def read_series(self, parameters, context, feedback, side, grouped):
        """The usable rows of one layer, with their geometries for the reference side."""
        prefix, layer_key, _ = side
        source = self.vector_source(parameters, context, layer_key)
        keys = [f"{prefix}_TIME_FIELD", f"{prefix}_VALUE_FIELD"]
        names = [self.parameterAsString(parameters, key, context) for key in keys]
        time_index = self.time_field_index(source, keys[0], names[0], layer_key)
        value_index = self.field_index(source, keys[1], names[1], layer_key=layer_key)
        group_index = None
        if grouped:
            group_key_name = f"{prefix}_GROUP_FIELD"
            group_index = self.field_index(
                source, group_key_name, self.parameterAsString(parameters, group_key_name,
                                                               context),
                numeric=False, layer_key=layer_key)
        with_geometry = layer_key == self.REFERENCE_LAYER
        request = QgsFeatureRequest()
        if not with_geometry:
            request.setFlags(QgsFeatureRequest.NoGeometry)
        rows = SeriesRows()
        reader = NumberReader(source, [(keys[1], value_index)], layer_key)
        total = source.featureCount()
        for position, feature in enumerate(source.getFeatures(request)):
            if position % ROWS_PER_REPORT == 0:
                report_progress(feedback, position, total, f"reading {layer_key}")
            attributes = feature.attributes()
            try:
                seconds = seconds_since_epoch(attributes[time_index])
            except UnreadableTime as error:
                raise QgsProcessingException(
                    f"Invalid value in {keys[0]} ('{names[0]}') of {layer_key}: row "
                    f"{position + 1} (feature id {feature.id()}) holds '{error}', which is not "
                    f"an ISO-8601 date or time; write times such as '2007-01-02 07:06:24' or "
                    f"'2007-01-02T07:06:24+02:00' (UTC unless an offset is given), or use a "
                    f"date/time field.") from None
            value = reader.number(attributes, value_index)
            group = group_key(attributes[group_index]) if grouped else None
            if seconds is None or value is None:
                rows.skipped += 1
                continue
            rows.times.append(seconds)
            rows.values.append(value)
            if grouped:
                rows.groups.append(group)
            if with_geometry:
                rows.geometries.append(feature.geometry())
        report_progress(feedback, total, total, f"reading {layer_key}")
        reader.check(feedback)
        feedback.pushInfo(f"{layer_key}: {len(rows.times)} rows read, {rows.skipped} skipped "
                          f"(a NULL or NaN value or a NULL time).")
        return source, rows

    # --- running ------------------------------------------------------------------------------

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        grouped = self.grouped(parameters)
        # Reading each layer, the core, writing the pairs.
        steps = QgsProcessingMultiStepFeedback(4, feedback)
        reference_source, reference = self.read_series(
            parameters, context, steps, self.SIDES[0], grouped)
        steps.setCurrentStep(1)
        _, other = self.read_series(parameters, context, steps, self.SIDES[1], grouped)
        steps.setCurrentStep(2)
        request = self.build_request(parameters, context, steps)
        request.update({"REFERENCE_TIMES": reference.times, "OTHER_TIMES": other.times,
                        self.UNIQUE: self.parameterAsBoolean(parameters, self.UNIQUE, context)})
        if grouped:
            request.update({"REFERENCE_GROUPS": reference.groups, "OTHER_GROUPS": other.groups})
        outputs = run_smr(self.COMMAND, request, steps)
        steps.setCurrentStep(3)
        destination = self.write_pairs(parameters, context, steps, reference_source, reference,
                                       other, outputs.get("MATCHES") or [], grouped)
        return {self.OUTPUT: destination, self.MATCHED: outputs.get(self.MATCHED),
                self.UNMATCHED: outputs.get(self.UNMATCHED),
                self.SKIPPED: reference.skipped + other.skipped,
                self.DUPLICATES_DROPPED: outputs.get(self.DUPLICATES_DROPPED)}

    def write_pairs(self, parameters, context, feedback, reference_source, reference, other,
                    matches, grouped):
        fields = QgsFields()
        if grouped:
            fields.append(QgsField("group", QVariant.String))
        for side in ("reference", "other"):
            fields.append(QgsField(f"{side}_time", QVariant.DateTime))
            fields.append(QgsField(f"{side}_value", QVariant.Double))
        fields.append(QgsField("offset_hours", QVariant.Double))
        sink, destination = self.parameterAsSink(
            parameters, self.OUTPUT, context, fields, reference_source.wkbType(),
            reference_source.sourceCrs())
        if sink is None:
            raise QgsProcessingException(
                f"{self.OUTPUT}: the matched pairs could not be created "
                f"({parameters.get(self.OUTPUT)!r}).")
        for position, (reference_index, other_index) in enumerate(matches):
            if position % ROWS_PER_REPORT == 0:
                report_progress(feedback, position, len(matches),
                                            f"writing {self.OUTPUT}")
            reference_time = reference.times[reference_index]
            other_time = other.times[other_index]
            feature = QgsFeature(fields)
            feature.setGeometry(reference.geometries[reference_index])
            attributes = [reference.groups[reference_index]] if grouped else []
            attributes += [utc_date_time(reference_time), reference.values[reference_index],
                           utc_date_time(other_time), other.values[other_index],
                           (other_time - reference_time) / SECONDS_PER_HOUR]
            feature.setAttributes(attributes)
            if not sink.addFeature(feature, QgsFeatureSink.FastInsert):
                raise QgsProcessingException(
                    f"{self.OUTPUT}: a pair could not be written ({sink.lastError()}).")
        return destination
