"""Samples from a vector layer or from rasters, and the base of the learning algorithms.

smr:trainmlp and smr:validationmetrics take their samples (pairs, for validation) either from
numeric fields of a vector layer, read here and sent to the core as JSON, or from rasters, which the
core reads and aligns itself. What they return is an HTML report and numbers, not rasters, so they
have neither creation options nor pixel counts.
"""

import math

from qgis.core import (
    QgsFeatureRequest,
    QgsProcessingException,
    QgsProcessingParameterFileDestination,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QVariant

from ..plugin.bridge import run_smr
from .base import SmrAlgorithm

REPORT_FILE_FILTER = "HTML files (*.html)"


def attribute_as_number(value):
    """A numeric attribute as the core takes it: a finite float, or None (NULL or NaN: skipped)."""
    if value is None or isinstance(value, QVariant):  # QGIS returns NULL as a null QVariant
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def attribute_as_group(value):
    """A group attribute as the core takes it: a number (sorted by value, so station 2 comes
    before station 10), a string, or None for NULL (the core's group "(none)")."""
    if value is None or isinstance(value, QVariant):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value if math.isfinite(value) else None
    if isinstance(value, (QDate, QDateTime, QTime)):
        return value.toString(Qt.ISODate)
    return str(value)


class LearningAlgorithm(SmrAlgorithm):
    """Base of the algorithms whose samples come from INPUT_LAYER or from rasters and whose
    outputs are a report (OUTPUT_REPORT) and numbers.

    Subclasses name their samples for the messages (SAMPLE_NOUN, SAMPLE_FIELDS, SAMPLE_RASTERS)
    and implement build_report().
    """

    INPUT_LAYER = "INPUT_LAYER"
    GROUP_FIELD = "GROUP_FIELD"
    OUTPUT_REPORT = "OUTPUT_REPORT"

    SAMPLE_NOUN = ""  # "samples" or "pairs"
    SAMPLE_FIELDS = ()  # the field parameters of INPUT_LAYER that make one sample
    SAMPLE_RASTERS = ()  # the raster parameters that give samples instead

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self._forget_declarations()
        self.define_parameters()

    def shortHelpString(self):  # noqa: N802 (QGIS API name)
        # Without the raster outputs' nodata and grid paragraph: HELP says what happens to
        # NULL and nodata samples.
        return self.tr(self.HELP).strip()

    def add_report_output(self, description):
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_REPORT, description, REPORT_FILE_FILTER))

    # --- the samples --------------------------------------------------------------------------

    def uses_vector_layer(self, parameters):
        """True for vector mode, False for raster mode; an error unless exactly one is given."""
        vector_given = self.has_value(parameters, self.INPUT_LAYER)
        # An empty list is what a multiple-layer parameter holds when no layer is chosen.
        rasters_given = any(self.has_value(parameters, key) and parameters[key] != []
                            for key in self.SAMPLE_RASTERS)
        fields = " and ".join(self.SAMPLE_FIELDS)
        rasters = " and ".join(self.SAMPLE_RASTERS)
        if vector_given and rasters_given:
            raise QgsProcessingException(
                f"{self.SAMPLE_NOUN.capitalize()} are given twice: {self.INPUT_LAYER} and "
                f"{'/'.join(self.SAMPLE_RASTERS)} are both set. Give either a vector layer "
                f"({self.INPUT_LAYER} with {fields}) or rasters ({rasters}), not both.")
        if not vector_given and not rasters_given:
            raise QgsProcessingException(
                f"No {self.SAMPLE_NOUN} given: set {self.INPUT_LAYER} (with {fields}) for a "
                f"vector layer, or {rasters} for rasters.")
        return vector_given

    def vector_source(self, parameters, context):
        source = self.parameterAsSource(parameters, self.INPUT_LAYER, context)
        if source is None:
            raise QgsProcessingException(
                f"{self.INPUT_LAYER}: not a vector layer QGIS can read "
                f"({parameters.get(self.INPUT_LAYER)!r}).")
        return source

    def field_index(self, source, key, name, numeric=True):
        """Index of the field NAME of INPUT_LAYER, given as parameter KEY; a clear error if it
        is missing or, when `numeric`, not numeric."""
        fields = source.fields()
        index = fields.lookupField(name)
        if index < 0:
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the layer given as {self.INPUT_LAYER} has "
                f"no such field; its fields are "
                f"{', '.join(field.name() for field in fields) or 'none'}.")
        field = fields.at(index)
        if numeric and not field.isNumeric():
            numeric_names = [other.name() for other in fields if other.isNumeric()]
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the field is of type {field.typeName()}, "
                f"not numeric; the numeric fields of {self.INPUT_LAYER} are "
                f"{', '.join(numeric_names) or 'none'}.")
        return index

    def group_field_index(self, parameters, context, source):
        """Index of the GROUP_FIELD of INPUT_LAYER (any type), or None when it is not set."""
        name = self.parameterAsString(parameters, self.GROUP_FIELD, context)
        return self.field_index(source, self.GROUP_FIELD, name, numeric=False) if name else None

    def read_columns(self, source, numeric_indices, group_index, feedback):
        """(one list per numeric field, the group list or None), as the core takes them, in
        feature order; features are read once, without geometries."""
        request = QgsFeatureRequest()
        request.setFlags(QgsFeatureRequest.NoGeometry)
        group_indices = [] if group_index is None else [group_index]
        request.setSubsetOfAttributes(list(numeric_indices) + group_indices)
        numbers = [[] for _ in numeric_indices]
        groups = None if group_index is None else []
        for feature in source.getFeatures(request):
            if feedback.isCanceled():
                raise QgsProcessingException(f"Cancelled: reading {self.INPUT_LAYER} was stopped.")
            attributes = feature.attributes()
            for column, index in zip(numbers, numeric_indices):
                column.append(attribute_as_number(attributes[index]))
            if groups is not None:
                groups.append(attribute_as_group(attributes[group_index]))
        return numbers, groups

    # --- running and reporting ----------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        """The HtmlReport of a finished run."""
        raise NotImplementedError

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = run_smr(self.COMMAND, request, feedback)
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        report = self.build_report(parameters, context, request, outputs)
        try:
            report.write(report_path)
        except OSError as error:
            raise QgsProcessingException(
                f"{self.OUTPUT_REPORT}: the report could not be written to '{report_path}': "
                f"{error.strerror or error}.") from error
        # The declared outputs only: the core's curves, predictions and plot samples are for the
        # report.
        results = {output.name(): outputs.get(output.name()) for output in self.outputDefinitions()}
        results[self.OUTPUT_REPORT] = report_path
        return results
