"""The bridge: the only Python code that runs the smr executable (core/README.md is the contract).

run_smr() starts `smr <command>` with an argument list (never a shell), writes the parameters as
one JSON object on its stdin and turns the JSON lines it prints into Processing feedback:
progress -> setProgress, info -> pushInfo, warning -> reportError(fatalError=False). The final
result line becomes the return value; exit codes become QgsProcessingException with the core's
message. Cancelling terminates the process, which deletes its partial outputs itself.
"""

import collections
import json
import os
import queue
import shlex
import signal
import subprocess
import threading
from pathlib import Path

from qgis.core import QgsProcessingException, QgsProcessingFeedback

# CMake installs the executable into <plugin root>/bin; module-level so tests can move it.
PLUGIN_ROOT = Path(__file__).resolve().parent.parent
EXECUTABLE_ENVIRONMENT_VARIABLE = "SMR_EXECUTABLE"
BUILD_INSTRUCTIONS = "run scripts/build.sh or cmake --build build && cmake --install build"

EXIT_DONE = 0
EXIT_INTERNAL_ERROR = 1
EXIT_WRONG_INPUT = 2
EXIT_CANCELLED = 3

# How long a cancel may go unnoticed: the main loop wakes at least this often.
CANCEL_POLL_SECONDS = 0.1
# SIGTERM lets smr finish its current block and delete partial outputs; SIGKILL only if it hangs.
TERMINATE_GRACE_SECONDS = 10.0
STDERR_TAIL_LINES = 20


def find_executable():
    """Path of the smr executable: $SMR_EXECUTABLE, else the one installed with the plugin."""
    configured = os.environ.get(EXECUTABLE_ENVIRONMENT_VARIABLE)
    if configured:
        if not os.path.isfile(configured):
            raise QgsProcessingException(
                f"{EXECUTABLE_ENVIRONMENT_VARIABLE} is set to '{configured}', which is not a file. "
                f"Point it at the smr executable or unset it to use the one installed with the "
                f"plugin; to build smr, {BUILD_INSTRUCTIONS}.")
        return configured
    installed = PLUGIN_ROOT / "bin" / ("smr.exe" if os.name == "nt" else "smr")
    if not installed.is_file():
        raise QgsProcessingException(
            f"The smr executable was not found at {installed}. To build and install it, "
            f"{BUILD_INSTRUCTIONS}; or set {EXECUTABLE_ENVIRONMENT_VARIABLE} to its path.")
    return str(installed)


def run_smr(command, parameters, feedback=None):
    """Run `smr <command>` with `parameters` (a JSON-serialisable dict); return its "outputs"."""
    feedback = feedback if feedback is not None else QgsProcessingFeedback()
    executable = find_executable()
    try:
        request = json.dumps(parameters, allow_nan=False)
    except ValueError as error:
        raise QgsProcessingException(
            f"The parameters for smr {command} cannot be written as JSON: {error}") from error
    # A shell line with the JSON input: everything needed to rerun the step by hand.
    feedback.pushCommandInfo(
        f"{shlex.quote(executable)} {command} <<< {shlex.quote(request)}")

    try:
        process = subprocess.Popen(
            [executable, command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace",
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except OSError as error:
        raise QgsProcessingException(
            f"Could not start the smr executable {executable}: {error.strerror or error}. "
            f"If it is missing or broken, {BUILD_INSTRUCTIONS}.") from error

    run = _RunOutcome()
    stdout_lines = queue.Queue()
    # Readers run on their own threads so a full stdout or stderr pipe never blocks smr, while
    # feedback is only touched from this (the algorithm's) thread.
    readers = [
        threading.Thread(target=_read_lines_into,
                         args=(process.stdout, stdout_lines.put, _END_OF_STDOUT), daemon=True),
        threading.Thread(target=_read_lines_into,
                         args=(process.stderr, run.stderr_lines.append, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        _send_request(process, request)
        _relay_until_exit(process, command, stdout_lines, feedback, run)
    finally:
        if process.poll() is None:
            _stop(process)
        # The pipes reach end-of-file once smr is gone; join before closing them under the readers.
        for reader in readers:
            reader.join(timeout=TERMINATE_GRACE_SECONDS)
        for stream in (process.stdin, process.stdout, process.stderr):
            _close_quietly(stream)
    return _outcome_to_outputs(command, process.returncode, run, feedback)


# Put on the stdout queue by its reader when smr closes stdout.
_END_OF_STDOUT = object()


class _RunOutcome:
    """What the bridge learnt from smr's stdout and stderr."""

    def __init__(self):
        self.outputs = None
        self.error_message = ""
        self.stderr_lines = collections.deque(maxlen=STDERR_TAIL_LINES)

    def stderr_tail(self):
        return "\n".join(self.stderr_lines).strip()


def _read_lines_into(stream, sink, end_marker):
    for line in stream:
        sink(line.rstrip("\r\n"))
    if end_marker is not None:
        sink(end_marker)


def _send_request(process, request):
    try:
        process.stdin.write(request)
        process.stdin.close()
    except OSError:
        pass  # smr exited before reading its input; its exit code and stderr say why


def _relay_until_exit(process, command, stdout_lines, feedback, run):
    """Relay stdout lines to feedback until smr has exited; stop it when the user cancels."""
    stdout_open = True
    while stdout_open or process.poll() is None:
        if feedback.isCanceled():
            _stop(process)
            raise QgsProcessingException(f"Cancelled: smr {command} was stopped by the user.")
        if not stdout_open:
            try:
                process.wait(timeout=CANCEL_POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            continue
        try:
            line = stdout_lines.get(timeout=CANCEL_POLL_SECONDS)
        except queue.Empty:
            continue
        if line is _END_OF_STDOUT:
            stdout_open = False
        else:
            _relay_line(line, feedback, run)


def _relay_line(line, feedback, run):
    text = line.strip()
    if not text:
        return
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        # Not part of the protocol (e.g. a library printing to stdout): show it, don't fail.
        feedback.pushInfo(text)
        return
    kind = message.get("type")
    if kind == "progress":
        value = message.get("value")
        if isinstance(value, (int, float)):
            feedback.setProgress(100.0 * min(max(float(value), 0.0), 1.0))
    elif kind == "log":
        log_text = str(message.get("message", ""))
        level = message.get("level")
        if level == "warning":
            feedback.reportError(log_text, fatalError=False)
        elif level == "debug":
            feedback.pushDebugInfo(log_text)
        else:
            feedback.pushInfo(log_text)
    elif kind == "result" and isinstance(message.get("outputs"), dict):
        run.outputs = message["outputs"]
    elif kind == "error":
        run.error_message = str(message.get("message", "")).strip()
    else:
        feedback.pushInfo(text)


def _outcome_to_outputs(command, exit_code, run, feedback):
    for line in run.stderr_lines:
        feedback.pushDebugInfo(f"smr stderr: {line}")
    reason = run.error_message or run.stderr_tail()
    if exit_code == EXIT_DONE:
        if run.outputs is None:
            raise QgsProcessingException(
                f"smr {command} failed (internal error): it exited without a result line. {reason}"
                .strip())
        return run.outputs
    if exit_code == EXIT_WRONG_INPUT:
        raise QgsProcessingException(
            reason or f"smr {command} rejected its parameters (exit code 2) without saying why.")
    if exit_code == EXIT_CANCELLED:
        raise QgsProcessingException(f"Cancelled: smr {command} was stopped before it finished.")
    if exit_code < 0:
        how = f"killed by signal {_signal_name(-exit_code)}"
    else:
        how = f"exit code {exit_code}"
    raise QgsProcessingException(
        f"smr {command} failed (internal error): {how}." + (f"\n{reason}" if reason else ""))


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _stop(process):
    """SIGTERM, then wait; smr deletes its partial outputs and exits 3."""
    process.terminate()
    try:
        process.wait(timeout=TERMINATE_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _close_quietly(stream):
    if stream is None:
        return
    try:
        stream.close()
    except OSError:
        pass
