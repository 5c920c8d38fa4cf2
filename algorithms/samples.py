"""Samples from a vector layer or from rasters, and the base of the learning algorithms.

smr:trainmlp and smr:validationmetrics take their samples (pairs, for validation) either from
numeric fields of a vector layer, read here and sent to the core as JSON, or from rasters, which the
core reads and aligns itself. What they return is an HTML report and numbers, not rasters, so they
have neither creation options nor pixel counts.

NetworkParameters declares the settings of BP-network training (HIDDEN … MAX_MEMORY_MB, the keys of
smr trainmlp) for every algorithm that trains networks, so their labels, defaults and option orders
are the same everywhere.
"""

import math

from qgis.core import (
    QgsFeatureRequest,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
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


def report_progress(feedback, done, total, doing):
    """Progress of a loop over features (`done` of `total`), then a cancel check, so that a
    cancel asked for at this report stops the loop here; `doing` names the loop in the message."""
    feedback.setProgress(100.0 * done / max(total, 1))
    if feedback.isCanceled():
        raise QgsProcessingException(f"Cancelled: {doing} was stopped.")


class NetworkParameters:
    """Mixin of an SmrAlgorithm that trains BP networks: declares their settings as the core's
    trainmlp keys (core/README.md) and checks the ratios. The choices go to the core through the
    algorithm's add_choice and add_number, so nothing else has to send them."""

    FEATURE_FIELDS = "FEATURE_FIELDS"
    TARGET_FIELD = "TARGET_FIELD"
    SAMPLE_FIELDS = (FEATURE_FIELDS, TARGET_FIELD)
    HIDDEN = "HIDDEN"
    HIDDEN_ACTIVATION = "HIDDEN_ACTIVATION"
    OUTPUT_ACTIVATION = "OUTPUT_ACTIVATION"
    NORMALISATION = "NORMALISATION"
    TRAINER = "TRAINER"
    EPOCHS = "EPOCHS"
    GOAL = "GOAL"
    MAX_FAIL = "MAX_FAIL"
    DIVISION = "DIVISION"
    TRAIN_RATIO = "TRAIN_RATIO"
    VALIDATION_RATIO = "VALIDATION_RATIO"
    TEST_RATIO = "TEST_RATIO"
    RESTARTS = "RESTARTS"
    SEED = "SEED"
    MIN_GRADIENT = "MIN_GRADIENT"
    MU = "MU"
    MU_DEC = "MU_DEC"
    MU_INC = "MU_INC"
    MU_MAX = "MU_MAX"
    LEARNING_RATE = "LEARNING_RATE"
    BATCH_SIZE = "BATCH_SIZE"
    MAX_MEMORY_MB = "MAX_MEMORY_MB"

    # Option indexes are public API (saved models store them): append, never reorder.
    ACTIVATION_CHOICES = (
        ("tansig (hyperbolic tangent)", "tansig"),
        ("logsig (logistic)", "logsig"),
        ("relu", "relu"),
        ("purelin (linear)", "purelin"),
    )
    NORMALISATION_CHOICES = (("mapminmax to [−1, 1]", "minus_one_one"),
                             ("mapminmax to [0, 1]", "zero_one"))
    TRAINER_CHOICES = (("Levenberg–Marquardt", "lm"), ("Adam", "adam"))
    DIVISION_CHOICES = (("random", "random"), ("block", "block"), ("interleaved", "interleaved"),
                        ("group", "group"))

    # Solver details few users change, in the advanced group wherever they are declared.
    SOLVER_KEYS = (OUTPUT_ACTIVATION, MIN_GRADIENT, MU, MU_DEC, MU_INC, MU_MAX, LEARNING_RATE,
                   BATCH_SIZE, MAX_MEMORY_MB)
    RATIO_KEYS = (TRAIN_RATIO, VALIDATION_RATIO, TEST_RATIO)

    def add_sample_layer_parameters(self, alternative):
        """INPUT_LAYER with its FEATURE_FIELDS and TARGET_FIELD, all optional since `alternative`
        (e.g. "the rasters below") may give the samples instead."""
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Samples: vector layer (or use {} below)").format(alternative),
            [QgsProcessing.TypeVector], optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.FEATURE_FIELDS, self.tr("Input (feature) fields"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Numeric, allowMultiple=True, optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.TARGET_FIELD, self.tr("Target field"), parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Numeric, optional=True))

    def add_network_parameters(self, hidden="10", ratios=(0.7, 0.15, 0.15),
                               normalisation="minus_one_one", divisions=4, advanced=()):
        """HIDDEN … MAX_MEMORY_MB with these defaults; `divisions`: how many of DIVISION_CHOICES
        the command accepts (the first ones); keys in `advanced` join SOLVER_KEYS there."""
        advanced = set(self.SOLVER_KEYS) | set(advanced)

        def number(key, description, default, **options):
            return self.add_number(key, description, default, advanced=key in advanced, **options)

        def choice(key, description, choices, default=0):
            return self.add_choice(key, description, choices, default=default,
                                   advanced=key in advanced)

        hidden_parameter = QgsProcessingParameterString(
            self.HIDDEN, self.tr("Neurons per hidden layer (e.g. '10' or '10 5')"), hidden)
        hidden_parameter.setHelp(self.tr("One number per hidden layer, separated by spaces or "
                                         "commas: 1 to 10 layers of 1 to 1000 neurons."))
        if self.HIDDEN in advanced:
            self._make_advanced(hidden_parameter)
        self.addParameter(hidden_parameter)
        choice(self.HIDDEN_ACTIVATION, self.tr("Hidden layer activation"),
               self.ACTIVATION_CHOICES)
        choice(self.OUTPUT_ACTIVATION, self.tr("Output layer activation"),
               self.ACTIVATION_CHOICES, default=3)
        choice(self.NORMALISATION, self.tr("Normalisation of inputs and target"),
               self.NORMALISATION_CHOICES,
               default=[value for _, value in self.NORMALISATION_CHOICES].index(normalisation))
        choice(self.TRAINER, self.tr("Trainer"), self.TRAINER_CHOICES)
        number(self.EPOCHS, self.tr("Maximum epochs"), 1000, minimum=1, maximum=1000000,
               integer=True)
        number(self.GOAL, self.tr("Goal (training MSE, in target units²)"), 0.0, minimum=0.0)
        number(self.MAX_FAIL, self.tr("Validation failures before stopping "
                                      "(0 = never stop early)"), 6, minimum=0, integer=True)
        choice(self.DIVISION, self.tr("Division into train / validation / test"),
               self.DIVISION_CHOICES[:divisions])
        for key, label, default in zip(self.RATIO_KEYS, (self.tr("Training ratio"),
                                                         self.tr("Validation ratio"),
                                                         self.tr("Test ratio")), ratios):
            number(key, label, default, minimum=0.0)
        number(self.RESTARTS, self.tr("Restarts (random initialisations, best kept)"), 1,
               minimum=1, integer=True)
        number(self.SEED, self.tr("Random seed"), 1, minimum=0, integer=True)
        number(self.MIN_GRADIENT, self.tr("Minimum gradient (Levenberg–Marquardt)"), 1e-7,
               minimum=0.0)
        number(self.MU, self.tr("Initial μ (Levenberg–Marquardt)"), 1e-3)
        number(self.MU_DEC, self.tr("μ decrease factor"), 0.1)
        number(self.MU_INC, self.tr("μ increase factor"), 10.0)
        number(self.MU_MAX, self.tr("Maximum μ"), 1e10)
        number(self.LEARNING_RATE, self.tr("Learning rate (Adam)"), 1e-3)
        number(self.BATCH_SIZE, self.tr("Batch size (Adam)"), 32, minimum=1, integer=True)
        memory = number(self.MAX_MEMORY_MB, self.tr("Memory limit of the training (MB)"), 4096,
                        minimum=16, maximum=1048576, integer=True)
        memory.setHelp(self.tr(
            "The core estimates the memory the training needs (Levenberg–Marquardt: the Jacobian, "
            "samples × weights, and three weights × weights matrices per restart; Adam: a batch's "
            "Jacobian; restarts or cells that run at once count once each) and stops with a message "
            "before training when the estimate is above this limit. Raise it if the machine has "
            "the memory free."))

    def check_ratios(self, parameters, context):
        ratios = [self.parameterAsDouble(parameters, key, context) for key in self.RATIO_KEYS]
        if sum(ratios) <= 0:
            raise QgsProcessingException(
                f"Invalid values for {', '.join(self.RATIO_KEYS)} "
                f"({', '.join(f'{r:g}' for r in ratios)}): they are divided by their sum, so at "
                f"least {self.TRAIN_RATIO} must be above 0, e.g. 0.7, 0.15, 0.15.")

    def network_request(self, parameters, context):
        """What the helpers do not send: HIDDEN (the core reads "10 5" and names HIDDEN in its
        errors), after the ratios are checked."""
        self.check_ratios(parameters, context)
        return {self.HIDDEN: self.parameterAsString(parameters, self.HIDDEN, context)}


class LearningAlgorithm(SmrAlgorithm):
    """Base of the algorithms whose samples come from INPUT_LAYER or from rasters and whose
    outputs are a report (OUTPUT_REPORT) and numbers.

    Subclasses name their samples for the messages (SAMPLE_NOUN, SAMPLE_FIELDS, SAMPLE_RASTERS)
    and implement build_report().
    """

    INPUT_LAYER = "INPUT_LAYER"
    GROUP_FIELD = "GROUP_FIELD"
    OUTPUT_REPORT = "OUTPUT_REPORT"
    SAMPLES = "SAMPLES"  # the core's key for samples read from INPUT_LAYER (trainmlp and the sweep)

    SAMPLE_NOUN = "samples"  # or "pairs"
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

    def vector_source(self, parameters, context, key=None):
        """The feature source of INPUT_LAYER, or of the layer parameter `key`."""
        key = key or self.INPUT_LAYER
        source = self.parameterAsSource(parameters, key, context)
        if source is None:
            raise QgsProcessingException(
                f"{key}: not a vector layer QGIS can read ({parameters.get(key)!r}).")
        return source

    def field_index(self, source, key, name, numeric=True, layer_key=None):
        """Index of the field NAME of INPUT_LAYER (or of the layer parameter `layer_key`), given
        as parameter KEY; a clear error if it is missing or, when `numeric`, not numeric."""
        layer_key = layer_key or self.INPUT_LAYER
        fields = source.fields()
        index = fields.lookupField(name)
        if index < 0:
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the layer given as {layer_key} has "
                f"no such field; its fields are "
                f"{', '.join(field.name() for field in fields) or 'none'}.")
        field = fields.at(index)
        if numeric and not field.isNumeric():
            numeric_names = [other.name() for other in fields if other.isNumeric()]
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the field is of type {field.typeName()}, "
                f"not numeric; the numeric fields of {layer_key} are "
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

    def field_samples(self, parameters, context, feedback, features_key, target_key,
                      extra_fields=(), with_groups=False):
        """The core's SAMPLES object read from INPUT_LAYER, and the target field's name.

        features_key and target_key are the field parameters of the inputs and the target;
        extra_fields: (field parameter, SAMPLES key) of optional numeric columns sent beside
        "target" when the parameter is set (e.g. precipitation); with_groups adds GROUP_FIELD
        as "groups" when it is set."""
        source = self.vector_source(parameters, context)
        feature_names = self.parameterAsFields(parameters, features_key, context)
        if not feature_names:
            raise QgsProcessingException(
                f"No input fields: {features_key} is empty; choose one or more numeric "
                f"fields of {self.INPUT_LAYER} as the network's inputs.")
        target = self.parameterAsString(parameters, target_key, context)
        if not target:
            raise QgsProcessingException(
                f"No target: {target_key} is empty; choose the numeric field of "
                f"{self.INPUT_LAYER} the network learns to estimate.")
        feature_indices = [self.field_index(source, features_key, name)
                           for name in feature_names]
        target_index = self.field_index(source, target_key, target)
        if target_index in feature_indices:
            raise QgsProcessingException(
                f"Invalid value for {target_key} ('{target}'): the target is also among "
                f"{features_key} ({', '.join(feature_names)}); a network given its target "
                f"as an input learns nothing. Remove it from {features_key}.")
        extras = []
        for key, sample_key in extra_fields:
            name = self.parameterAsString(parameters, key, context)
            if name:
                extras.append((sample_key, self.field_index(source, key, name)))
        group_index = self.group_field_index(parameters, context, source) if with_groups else None
        columns, groups = self.read_columns(
            source, feature_indices + [target_index] + [index for _, index in extras],
            group_index, feedback)
        count = len(feature_indices)
        samples = {
            "names": [source.fields().at(index).name() for index in feature_indices],
            "features": columns[:count],
            "target": columns[count],
        }
        for (sample_key, _), column in zip(extras, columns[count + 1:]):
            samples[sample_key] = column
        if groups is not None:
            samples["groups"] = groups
        feedback.pushInfo(f"{len(samples['target'])} features read from {self.INPUT_LAYER}.")
        return samples, source.fields().at(target_index).name()

    # --- running and reporting ----------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        """The HtmlReport of a finished run."""
        raise NotImplementedError

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 (QGIS API name)
        request = self.build_request(parameters, context, feedback)
        outputs = run_smr(self.COMMAND, request, feedback)
        return self.write_report(parameters, context, request, outputs)

    def write_report(self, parameters, context, request, outputs):
        """OUTPUT_REPORT written; the declared outputs with the report's path."""
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        report = self.build_report(parameters, context, request, outputs)
        try:
            report.write(report_path)
        except OSError as error:
            raise QgsProcessingException(
                f"{self.OUTPUT_REPORT}: the report could not be written to '{report_path}': "
                f"{error.strerror or error}.") from error
        results = self.processing_results(outputs)
        results[self.OUTPUT_REPORT] = report_path
        return results

    def processing_results(self, outputs):
        """The declared outputs only: the core's curves, predictions and plot samples are for the
        report. Subclasses turn values QGIS outputs cannot hold (lists) into what they can."""
        return {output.name(): outputs.get(output.name()) for output in self.outputDefinitions()}
