"""smr:sensitivityanalysis — paper 001 §3.2 and Fig. 3: how the networks' accuracy changes with
one setting (hidden neurons, division ratios, inputs, precipitation threshold).

Samples are pooled from a vector layer (read here, samples.py) or drawn from stacks (cells read by
the core, as smr:pixelwisereconstruction). The core trains, writes the CSV of every run and returns
the mean metrics per setting; this file lays out the HTML report with paper 001's four panels.
"""

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputString,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterString,
)

from ..plugin.bridge import push_warning
from .pixelwisereconstruction import StackSamples, parse_names
from .report import HtmlReport, unit_suffix
from .samples import LearningAlgorithm, NetworkParameters
from .trainmlp import choice_label

CSV_FILE_FILTER = "CSV files (*.csv)"

# The core's subsets in SETTINGS: (key, label in the report, panel title of paper 001 Fig. 3).
SETTING_SUBSETS = (("train", "training", "Training"), ("validation", "validation", "Validation"),
                   ("test", "test", "Testing"), ("all", "overall", "Overall"))


class SensitivityAnalysis(StackSamples, NetworkParameters, LearningAlgorithm):
    NAME = "sensitivityanalysis"
    DISPLAY_NAME = "Sensitivity analysis of network settings"
    GROUP_ID = "machinelearning"
    COMMAND = "sensitivityanalysis"

    AXIS = "AXIS"
    VALUES = "VALUES"
    REPEATS = "REPEATS"
    BASE_INPUTS = "BASE_INPUTS"
    PRECIPITATION_FIELD = "PRECIPITATION_FIELD"
    CELLS = "CELLS"
    TARGET_UNIT = "TARGET_UNIT"
    OUTPUT_CSV = "OUTPUT_CSV"
    OUTPUT_REPORT = "OUTPUT_HTML"
    BEST_SETTING = "BEST_SETTING"
    BEST_INDEX = "BEST_INDEX"
    CELLS_USED = "CELLS_USED"
    SELECTED_INPUTS = "SELECTED_INPUTS"

    SAMPLE_RASTERS = (StackSamples.PREDICTORS, StackSamples.TARGET)

    # Option indexes are public API (saved models store them): append, never reorder.
    AXIS_CHOICES = (("hidden neurons", "hidden"),
                    ("training / validation / test ratios", "ratios"),
                    ("inputs (forward addition)", "inputs"),
                    ("precipitation threshold", "precipitation"))
    # The x-axis title of the panels, per axis.
    AXIS_TITLES = {"hidden": "Hidden neurons", "ratios": "Training-validation-test (%)",
                   "inputs": "Inputs", "precipitation": "Precipitation threshold (mm)"}

    HELP = """
Trains the same kind of neural network again and again while one setting varies (hidden neurons, training/validation/test ratios, inputs, or the precipitation threshold) and reports how the accuracy changes, to choose that setting as Wang and Xu (2021) did before their reconstruction (their section 3.2 and figure 3).

'Setting to vary' (AXIS) and 'Values of the setting' (VALUES; empty: Wang and Xu's values):
• hidden neurons: numbers of hidden neurons, e.g. 2, 4, 8, 12 (default 2 to 12);
• training / validation / test ratios: 'train-validation-test' percentages, e.g. 40-15-45, 80-10-10 (default the 13 of their §3.2.3, 40-15-45 … 80-10-10);
• precipitation threshold: thresholds in mm, e.g. 8.75, 12.5 (default the 8 of their §3.2.4, 8.75 … 17.5): time steps with at least that much precipitation are left out of training; needs precipitation, and 'Precipitation threshold' stays empty;
• inputs (forward addition, their §3.2.1): starting from 'Inputs to start forward addition from' (BASE_INPUTS, comma-separated names; default the first 5 inputs, or the first one if there are 5 or fewer), each round adds the remaining input with the lowest mean overall RMSE, until all are in; SELECTED_INPUTS gives the order. The values are not used.
Each setting is trained 'Trainings per setting' times (REPEATS, default 3), each time with its own seed; the settings not varied keep their values (12 hidden neurons, ratios 0.8, 0.1, 0.1, the precipitation threshold, the division, min–max scaling to [0, 1] and the trainer's settings).

The samples come from one of two sources, which is why the dialog shows every sample input as optional: fill in one group, leave the other empty.
• Vector mode: the samples layer with its input fields, target field and, optionally, 'Vector mode: precipitation field' (mm) of each sample; all samples are pooled into one network per run; a feature with a NULL or NaN value is skipped.
• Stack mode: the predictor stacks (with their names), the target stack and optionally a precipitation stack, as in Pixel-wise reconstruction: 'Stack mode: cells to sample' (CELLS) grid cells with at least the minimum valid pairs in the training period are chosen at random by the seed (0 = every such cell), and each trains its own network; the metrics are averaged over them.

Outputs: the runs (CSV, OUTPUT_CSV), one row per setting × repeat × subset: axis, setting, repeat, subset, cells (how many cells were averaged; 1 for pooled samples), mean r, RMSE, ubRMSE and bias; the report (HTML, OUTPUT_HTML) with the mean metrics per setting (the best marked) and the four panels of Wang and Xu's Fig. 3 (mean r and RMSE of the training, validation, test and overall samples against the setting, the best boxed); BEST_SETTING and BEST_INDEX (from 0), the setting with the lowest mean overall RMSE, their criterion (§3.3). RMSE, ubRMSE and bias are in the target's unit ('Unit of the target', m³/m³ for soil moisture; r has none). bias = mean(estimate − reference): positive means the estimate is too high (Wang and Xu use the opposite sign). The results are the same for any number of threads.
"""
    REFERENCE_KEYS = ("wang2021",)
    TAGS = ("sensitivity analysis", "hyperparameter", "hidden neurons", "forward selection",
            "precipitation threshold", "neural network", "time series", "machine learning",
            "RMSE")

    def define_parameters(self):
        self.add_choice(self.AXIS, self.tr("Setting to vary"), self.AXIS_CHOICES)
        values = QgsProcessingParameterString(
            self.VALUES, self.tr("Values of the setting (comma-separated; empty: Wang and Xu's)"),
            optional=True)
        values.setHelp(self.tr(
            "hidden: e.g. '2, 4, 8, 12'; ratios: e.g. '40-15-45, 80-10-10' (percent); "
            "precipitation: e.g. '8.75, 12.5' (mm); not used for inputs."))
        self.addParameter(values)
        self.add_number(self.REPEATS, self.tr("Trainings per setting"), 3, minimum=1,
                        integer=True)
        base_inputs = QgsProcessingParameterString(
            self.BASE_INPUTS, self.tr("Inputs to start forward addition from (comma-separated "
                                      "names)"), optional=True)
        base_inputs.setHelp(self.tr("Only when varying the inputs. Empty: the first 5 inputs "
                                    "(the first one if there are 5 or fewer)."))
        self.addParameter(base_inputs)

        self.add_sample_layer_parameters(self.tr("the stacks of stack mode"))
        self.addParameter(QgsProcessingParameterField(
            self.PRECIPITATION_FIELD, self.tr("Vector mode: precipitation field (mm)"),
            parentLayerParameterName=self.INPUT_LAYER,
            type=QgsProcessingParameterField.Any, optional=True))

        self.add_stack_sample_parameters(optional=True)
        self.add_number(self.CELLS, self.tr("Stack mode: cells to sample (0 = every cell "
                                            "with enough pairs)"), 100, minimum=0, integer=True,
                        send=False)
        target_unit = QgsProcessingParameterString(
            self.TARGET_UNIT, self.tr("Unit of the target, for the report"), "m³/m³",
            optional=True)
        target_unit.setHelp(self.tr("Shown on the report's axes and tables; not used in "
                                    "training."))
        self.addParameter(target_unit)

        self.add_paper001_network_parameters()
        self.add_resampling_choice(
            self.tr("Resampling of stacks on another grid"),
            self.tr("Stacks only: stacks on another grid or CRS than TARGET are aligned to it "
                    "with this method."))
        self.add_threads_parameter(self.tr("Cells and repeats are trained in parallel. The "
                                           "results are the same for any number of threads."))

        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_CSV, self.tr("Runs (CSV)"), CSV_FILE_FILTER))
        self.add_report_output(self.tr("Sensitivity report"))
        self.addOutput(QgsProcessingOutputString(
            self.BEST_SETTING, self.tr("Best setting (lowest mean overall RMSE)")))
        self.add_count_output(self.BEST_INDEX, self.tr("Index of the best setting (from 0)"))
        self.add_count_output(self.CELLS_USED, self.tr("Cells used (stacks; 0 for samples)"))
        self.addOutput(QgsProcessingOutputString(
            self.SELECTED_INPUTS, self.tr("Inputs in the order forward addition added them")))

    # --- the request --------------------------------------------------------------------------

    def command_parameters(self, parameters, context, feedback):
        vector_mode = self.uses_vector_layer(parameters)
        axis = self.choice(parameters, self.AXIS, context)
        request = self.network_request(parameters, context)
        request[self.OUTPUT_CSV] = self.parameterAsFileOutput(parameters, self.OUTPUT_CSV, context)
        # As typed: the core reads each entry by AXIS and names VALUES and the entry when one is
        # wrong.
        values = self.parameterAsString(parameters, self.VALUES, context).strip()
        if values:
            if axis == "inputs":
                push_warning(feedback, f"{self.VALUES} is not used for AXIS inputs: forward "
                                       f"addition evaluates its own combinations.")
            else:
                request[self.VALUES] = values
        base_inputs = parse_names(self.parameterAsString(parameters, self.BASE_INPUTS, context))
        if base_inputs:
            if axis == "inputs":
                request[self.BASE_INPUTS] = base_inputs
            else:
                push_warning(feedback, f"{self.BASE_INPUTS} is used for AXIS inputs only.")

        precipitation_key = self.PRECIPITATION_FIELD if vector_mode else self.PRECIPITATION
        if vector_mode:
            if self.has_value(parameters, self.PRECIPITATION):
                raise QgsProcessingException(
                    f"{self.PRECIPITATION} is a stack, for stack samples; with samples from "
                    f"{self.INPUT_LAYER} give the precipitation as {self.PRECIPITATION_FIELD}.")
            request[self.SAMPLES], _ = self.field_samples(
                parameters, context, feedback, self.FEATURE_FIELDS, self.TARGET_FIELD,
                extra_fields=((self.PRECIPITATION_FIELD, "precipitation"),))
        else:
            if self.has_value(parameters, self.PRECIPITATION_FIELD):
                raise QgsProcessingException(
                    f"{self.PRECIPITATION_FIELD} is a field of {self.INPUT_LAYER}; with stack "
                    f"samples give the precipitation as the stack {self.PRECIPITATION}.")
            request.update(self.stack_sample_request(parameters, context))
            request[self.CELLS] = self.parameterAsInt(parameters, self.CELLS, context)
        if axis == "precipitation":
            if not self.has_value(parameters, precipitation_key):
                raise QgsProcessingException(
                    f"Invalid value for {self.AXIS} (precipitation): sweeping the precipitation "
                    f"threshold needs precipitation; set {precipitation_key}.")
            if self.has_value(parameters, self.PRECIPITATION_THRESHOLD):
                raise QgsProcessingException(
                    f"{self.PRECIPITATION_THRESHOLD} is what AXIS precipitation varies: give the "
                    f"thresholds as {self.VALUES} (empty: Wang and Xu's 8.75 to 17.5 mm) and leave "
                    f"{self.PRECIPITATION_THRESHOLD} empty.")
        # Pooled samples may carry precipitation that only a sweep uses; stacks always filter.
        request.update(self.threshold_request(
            parameters, context, precipitation_key,
            needs_threshold=axis != "precipitation" and not vector_mode))
        if (vector_mode and axis != "precipitation"
                and self.PRECIPITATION_THRESHOLD not in request
                and self.has_value(parameters, self.PRECIPITATION_FIELD)):
            push_warning(
                feedback,
                f"{self.PRECIPITATION_FIELD} is not used: without {self.PRECIPITATION_THRESHOLD} "
                f"no sample is left out for precipitation.")
        return request

    def build_request(self, parameters, context, feedback):
        request = super().build_request(parameters, context, feedback)
        if self.SAMPLES in request:
            del request[self.RESAMPLING]  # nothing is aligned in vector mode
        return request

    def processing_results(self, outputs):
        results = super().processing_results(outputs)
        selected = outputs.get(self.SELECTED_INPUTS)
        results[self.SELECTED_INPUTS] = ", ".join(selected) if isinstance(selected, list) \
            else selected
        return results

    # --- the report ---------------------------------------------------------------------------

    def build_report(self, parameters, context, request, outputs):
        unit = self.parameterAsString(parameters, self.TARGET_UNIT, context).strip()
        axis = request[self.AXIS]
        settings = outputs.get("SETTINGS") or []
        labels = [str(setting.get("label")) for setting in settings]
        best_index = outputs.get(self.BEST_INDEX)
        if not isinstance(best_index, int) or not 0 <= best_index < len(settings):
            best_index = None

        report = HtmlReport(f"Sensitivity analysis: {choice_label(self.AXIS_CHOICES, axis)}")
        rows = [("Setting varied (AXIS)", choice_label(self.AXIS_CHOICES, axis)),
                ("Settings evaluated", ", ".join(labels)),
                ("Trainings per setting (REPEATS)", request[self.REPEATS]),
                ("Best setting (lowest mean overall RMSE)",
                 f"{labels[best_index]} ({self.BEST_INDEX} = {best_index}, counted from 0)"
                 if best_index is not None else None)]
        if axis == "inputs":
            base = settings[0].get("value") if settings else None
            rows.append(("Forward addition started from (base)",
                         ", ".join(base) if isinstance(base, list) else base))
            selected = outputs.get(self.SELECTED_INPUTS) or []
            rows.append(("Inputs in the order forward addition added them", ", ".join(selected)))
        if self.SAMPLES in request:
            rows.append(("Samples", f"{len(request[self.SAMPLES]['target'])} features of the "
                                    f"vector layer, pooled into one network per run"))
        else:
            rows.append(("Samples", f"stacks: {outputs.get(self.CELLS_USED)} cells with at "
                                    f"least {request[self.MIN_PAIRS]} valid pairs, one network "
                                    f"per cell and run (CELLS = {request[self.CELLS]}, 0 = all)"))
        rows.append(("Runs (CSV)", outputs.get(self.OUTPUT_CSV)))
        report.definition_table(rows)

        report.heading("Mean metrics per setting")
        header = ["Setting", "Runs"]
        for _, subset_label, _ in SETTING_SUBSETS:
            header += [f"{subset_label.capitalize()} r",
                       f"{subset_label.capitalize()} RMSE{unit_suffix(unit)}"]
        header += [f"Overall ubRMSE{unit_suffix(unit)}", f"Overall bias{unit_suffix(unit)}"]
        table_rows = []
        for setting in settings:
            values = [setting.get("runs")]
            for subset, _, _ in SETTING_SUBSETS:
                metrics = setting.get(subset) or {}
                values += [metrics.get("r"), metrics.get("rmse")]
            overall = setting.get("all") or {}
            values += [overall.get("ubrmse"), overall.get("bias")]
            table_rows.append((str(setting.get("label")), values))
        report.table(header, table_rows, highlighted=best_index)
        report.paragraph(
            "Each value is the mean over the runs of a setting (REPEATS trainings, each with its "
            "own seed) of the mean over the cells (stacks) or of the pooled samples; the marked "
            "row is the best setting. r is dimensionless; RMSE, ubRMSE and bias are in the "
            f"target's unit{unit_suffix(unit)}.", note=True)
        report.bias_convention()

        report.heading("Accuracy against the setting (Wang and Xu 2021, Fig. 3)")
        panels = [(title, [(setting.get(subset) or {}).get("r") for setting in settings],
                   [(setting.get(subset) or {}).get("rmse") for setting in settings])
                  for subset, _, title in SETTING_SUBSETS]
        if settings:
            report.setting_panels(labels, panels, best_index, self.AXIS_TITLES[axis], unit)
        else:
            report.paragraph("The core returned no setting to plot.", note=True)

        report.heading("Fixed settings")
        # The swept setting is not fixed: its values are the table's rows above.
        swept = {"hidden": (self.HIDDEN,),
                 "ratios": (self.TRAIN_RATIO, self.VALIDATION_RATIO, self.TEST_RATIO),
                 "precipitation": (self.PRECIPITATION_THRESHOLD,)}.get(axis, ())
        keys = [key for key in (
            self.HIDDEN, self.TRAIN_RATIO, self.VALIDATION_RATIO, self.TEST_RATIO,
            self.PRECIPITATION_THRESHOLD, self.DIVISION, self.NORMALISATION, self.TRAINER,
            self.HIDDEN_ACTIVATION, self.OUTPUT_ACTIVATION, self.EPOCHS, self.GOAL,
            self.MAX_FAIL, self.RESTARTS, self.SEED, self.THREADS) if key not in swept]
        report.definition_table(
            (f"{self.parameterDefinition(key).description()} ({key})", request.get(key))
            for key in keys if key in request)
        return report
