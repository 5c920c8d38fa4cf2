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
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QVariant

from ..plugin.bridge import push_warning
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


TYPED_LOADING_HOW_TO = (
    "If the layer is a CSV file, load it with field types: in the Data Source Manager's "
    "Delimited Text tab tick 'Detect field types' (in a URI, detectTypes=yes, e.g. "
    "'delimitedtext://file:///data/pairs.csv?delimiter=,&detectTypes=yes'), or put a .csvt file "
    "beside the CSV naming each column's type, e.g. \"String\",\"Real\",\"Real\". Numbers with a "
    "decimal comma need the delimited-text option decimalPoint=, as well.")
# Unparsable text values quoted in the log and in errors, as examples.
TEXT_EXAMPLES = 3


def is_text_field(field):
    return field.type() == QVariant.String


class TextNumbers:
    """Numbers from a text field, value by value: what a CSV file gives when it is loaded without
    field types (OGR's CSV driver, or delimited text with detectTypes=no), where "0.25" is text.

    Counts the values read as numbers and those that are not numbers (skipped as missing, like
    NULL); an empty text is NULL. check() turns the counts into a log line, a warning when some
    values were not numbers, and an error when none was a number."""

    def __init__(self, key, name, layer_key, numeric_names=()):
        """numeric_names: the layer's numeric fields, named in the error as the alternatives."""
        self.key, self.name, self.layer_key = key, name, layer_key
        self.numeric_names = list(numeric_names)
        self.numbers = 0
        self.not_numbers = 0
        self.examples = []

    def parse(self, value):
        if value is None or isinstance(value, QVariant):
            return None
        text = str(value).strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            self.not_numbers += 1
            if len(self.examples) < TEXT_EXAMPLES and text not in self.examples:
                self.examples.append(text)
            return None
        self.numbers += 1
        return number if math.isfinite(number) else None

    def check(self, feedback):
        examples = ", ".join(f"'{example}'" for example in self.examples)
        if self.numbers == 0 and self.not_numbers > 0:
            raise QgsProcessingException(
                f"Invalid value for {self.key} ('{self.name}'): the field of {self.layer_key} is "
                f"text, not numeric, and none of its {self.not_numbers} values is a number (e.g. "
                f"{examples}); the numeric fields of {self.layer_key} are "
                f"{', '.join(self.numeric_names) or 'none'}. {TYPED_LOADING_HOW_TO}")
        feedback.pushInfo(
            f"{self.key} ('{self.name}') is a text field of {self.layer_key}: {self.numbers} "
            f"values read as numbers, {self.not_numbers} not numbers.")
        if self.not_numbers:
            push_warning(feedback, (
                f"{self.key} ('{self.name}'): {self.not_numbers} of "
                f"{self.numbers + self.not_numbers} text values are not numbers (e.g. "
                f"{examples}) and are skipped as missing values. {TYPED_LOADING_HOW_TO}"))


class NumberReader:
    """The numbers of some fields of one layer: numeric fields as QGIS gives them, text fields
    parsed by TextNumbers; the one place where the algorithms turn attributes into numbers."""

    def __init__(self, source, fields, layer_key):
        """fields: (parameter key, field index) of each field read."""
        self._text = {}
        numeric_names = [field.name() for field in source.fields() if field.isNumeric()]
        for key, index in fields:
            field = source.fields().at(index)
            if is_text_field(field) and index not in self._text:
                self._text[index] = TextNumbers(key, field.name(), layer_key, numeric_names)

    def number(self, attributes, index):
        text = self._text.get(index)
        if text is None:
            return attribute_as_number(attributes[index])
        return text.parse(attributes[index])

    def check(self, feedback):
        """Log the counts of the text fields; an error for a text field without a number."""
        for text in self._text.values():
            text.check(feedback)


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


# Features read between two progress reports and cancel checks.
FEATURES_PER_REPORT = 1000
# The learning algorithms' bar (percent): reading a vector layer, then the core (sampling rasters
# and training, in its own proportions), then the report (plots can take seconds).
READING_END = 5.0
CORE_END = 95.0


class ProgressSpan(QgsProcessingFeedback):
    """The feedback of one phase of an algorithm: its progress 0–100 moves the bar of `feedback`
    from `start` to `end` only; the log and cancelling are those of `feedback`.

    QgsProcessingMultiStepFeedback gives every step an equal share of the bar, but reading a
    layer takes a second and training minutes. Without spans, the core's progress (0–100 % of
    training) restarted the bar after a reading loop that had already filled it."""

    def __init__(self, feedback, start, end):
        super().__init__(False)  # the log stays with `feedback`
        self._feedback = feedback
        self._start, self._end = start, end
        # Direct: QGIS cancels from the main thread while the algorithm runs in a task's thread,
        # which has no event loop to deliver a queued call.
        feedback.canceled.connect(self.cancel, Qt.DirectConnection)
        self.progressChanged.connect(self._forward_progress, Qt.DirectConnection)
        if feedback.isCanceled():
            self.cancel()

    def _forward_progress(self, percent):
        share = min(max(float(percent), 0.0), 100.0) / 100.0
        self._feedback.setProgress(self._start + share * (self._end - self._start))

    def isCanceled(self):  # noqa: N802 (QGIS API name)
        return self._feedback.isCanceled() or super().isCanceled()

    def setProgressText(self, text):  # noqa: N802
        self._feedback.setProgressText(text)

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self._feedback.reportError(error, fatalError)

    def pushWarning(self, warning):  # noqa: N802
        self._feedback.pushWarning(warning)

    def pushInfo(self, info):  # noqa: N802
        self._feedback.pushInfo(info)

    def pushCommandInfo(self, info):  # noqa: N802
        self._feedback.pushCommandInfo(info)

    def pushDebugInfo(self, info):  # noqa: N802
        self._feedback.pushDebugInfo(info)

    def pushConsoleInfo(self, info):  # noqa: N802
        self._feedback.pushConsoleInfo(info)

    def htmlLog(self):  # noqa: N802
        return self._feedback.htmlLog()

    def textLog(self):  # noqa: N802
        return self._feedback.textLog()


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
        (e.g. "the rasters") may give the samples instead."""
        # Optional to QGIS, since the other mode leaves them empty; the labels name the mode
        # that needs them, as QGIS cannot mark "required in one mode".
        layer = QgsProcessingParameterFeatureSource(
            self.INPUT_LAYER, self.tr("Vector mode: samples layer (leave empty to use {})")
            .format(alternative), [QgsProcessing.TypeVector], optional=True)
        layer.setHelp(self.tr("Required in vector mode, with the input fields and the target "
                              "field; leave it empty to use {} instead.").format(alternative))
        self.addParameter(layer)
        self.addParameter(QgsProcessingParameterField(
            self.FEATURE_FIELDS, self.tr("Vector mode: input (feature) fields"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Any, allowMultiple=True, optional=True))
        self.addParameter(QgsProcessingParameterField(
            self.TARGET_FIELD, self.tr("Vector mode: target field"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Any, optional=True))

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

    # Without the raster outputs' nodata and grid paragraph: HELP says what happens to NULL and
    # nodata samples.
    HELP_APPENDIX = ""

    def initAlgorithm(self, config=None):  # noqa: N802 (QGIS API name)
        self._forget_declarations()
        self.define_parameters()
        self.list_enum_values_in_help()

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
        as parameter KEY; a clear error if it is missing or, when `numeric`, neither numeric nor
        text (a text field's values are read as numbers by NumberReader)."""
        layer_key = layer_key or self.INPUT_LAYER
        fields = source.fields()
        index = fields.lookupField(name)
        if index < 0:
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the layer given as {layer_key} has "
                f"no such field; its fields are "
                f"{', '.join(field.name() for field in fields) or 'none'}.")
        field = fields.at(index)
        if numeric and not field.isNumeric() and not is_text_field(field):
            numeric_names = [other.name() for other in fields if other.isNumeric()]
            raise QgsProcessingException(
                f"Invalid value for {key} ('{name}'): the field is of type {field.typeName()}, "
                f"not numeric; the numeric fields of {layer_key} are "
                f"{', '.join(numeric_names) or 'none'} (text fields holding numbers are read "
                f"too).")
        return index

    def group_field_index(self, parameters, context, source):
        """Index of the GROUP_FIELD of INPUT_LAYER (any type), or None when it is not set."""
        name = self.parameterAsString(parameters, self.GROUP_FIELD, context)
        return self.field_index(source, self.GROUP_FIELD, name, numeric=False) if name else None

    def read_columns(self, source, numeric_fields, group_index, feedback):
        """(one list per numeric field, the group list or None), as the core takes them, in
        feature order; features are read once, without geometries.

        numeric_fields: (parameter key, field index) of each column, the key for the messages
        about a text field's values (NumberReader)."""
        numeric_indices = [index for _, index in numeric_fields]
        reader = NumberReader(source, numeric_fields, self.INPUT_LAYER)
        request = QgsFeatureRequest()
        request.setFlags(QgsFeatureRequest.NoGeometry)
        group_indices = [] if group_index is None else [group_index]
        request.setSubsetOfAttributes(numeric_indices + group_indices)
        numbers = [[] for _ in numeric_indices]
        groups = None if group_index is None else []
        total = source.featureCount()  # −1 when the provider cannot tell without reading
        for position, feature in enumerate(source.getFeatures(request)):
            if position % FEATURES_PER_REPORT == 0:
                report_progress(feedback, position if total > 0 else 0, total,
                                f"reading {self.INPUT_LAYER}")
            attributes = feature.attributes()
            for column, index in zip(numbers, numeric_indices):
                column.append(reader.number(attributes, index))
            if groups is not None:
                groups.append(attribute_as_group(attributes[group_index]))
        feedback.setProgress(100.0)
        reader.check(feedback)
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
                extras.append((sample_key, key, self.field_index(source, key, name)))
        group_index = self.group_field_index(parameters, context, source) if with_groups else None
        columns, groups = self.read_columns(
            source, [(features_key, index) for index in feature_indices]
            + [(target_key, target_index)] + [(key, index) for _, key, index in extras],
            group_index, feedback)
        count = len(feature_indices)
        samples = {
            "names": [source.fields().at(index).name() for index in feature_indices],
            "features": columns[:count],
            "target": columns[count],
        }
        for (sample_key, _, _), column in zip(extras, columns[count + 1:]):
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
        request = self.build_request(parameters, context,
                                     ProgressSpan(feedback, 0.0, READING_END))
        outputs = self.run_core(request, parameters, context,
                                ProgressSpan(feedback, READING_END, CORE_END))
        results = self.write_report(parameters, context, request, outputs, feedback)
        feedback.setProgress(100.0)
        return results

    def write_report(self, parameters, context, request, outputs, feedback=None):
        """OUTPUT_REPORT written; the declared outputs with the report's path. The report's
        warnings (e.g. a unit mismatch) go to the log as well."""
        report_path = self.parameterAsFileOutput(parameters, self.OUTPUT_REPORT, context)
        report = self.build_report(parameters, context, request, outputs)
        if feedback is not None:
            for warning in report.warnings:
                push_warning(feedback, warning)
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
