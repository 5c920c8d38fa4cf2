"""The bridge: the only Python code that runs the smr executable (core/README.md is the contract).

run_smr() starts `smr <command>` with an argument list (never a shell), writes the parameters as
one JSON object on its stdin and turns the JSON lines it prints into Processing feedback:
progress -> setProgress, info -> pushInfo, warning -> pushWarning. The final result line becomes
the return value; exit codes become QgsProcessingException with the core's message. Cancelling
terminates the process, which deletes its partial outputs itself.

The log shows the call as a shell line with the request, its long lists of values shortened (a
trained network's samples would fill the log with thousands of numbers). With the environment
variable SMR_DEBUG_REQUESTS set to a folder, every full request is saved there as a JSON file and
the log shows `smr <command> <file>`, which reruns the step exactly.
"""

import collections
import configparser
import json
import os
import platform
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from qgis.core import QgsProcessingException, QgsProcessingFeedback

# The plugin folder (module-level so tests can move it); find_executable() says where smr is.
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

# The logged request: a list of more than LOGGED_LIST_LIMIT plain values (numbers, strings, null)
# shows its first LOGGED_LIST_HEAD and how many more there are. Lists of objects (raster inputs)
# and short lists (bands, hidden layers, names) are shown in full: the line still says what ran.
LOGGED_LIST_LIMIT = 20
LOGGED_LIST_HEAD = 3
DEBUG_REQUESTS_ENVIRONMENT_VARIABLE = "SMR_DEBUG_REQUESTS"


def find_executable():
    """Path of the smr executable: $SMR_EXECUTABLE, else the one installed with the plugin.

    An executable that check_executable() found wrong (another version, or it does not run)
    raises that message here, so every algorithm run fails with what to do.
    """
    executable = _locate_executable()
    checked = _CHECKED_EXECUTABLES.get(executable)
    if checked is not None:
        signature, problem = checked
        if signature != _file_signature(executable):  # replaced since the check: check again
            problem = check_executable()
        if problem:
            raise QgsProcessingException(problem)
    return executable


def check_executable():
    """None when smr is found and `smr --version` prints the plugin's version; else what to do.

    The provider calls this once when it loads. The answer is kept for the executable's path until
    the file changes, and find_executable() raises it for every run.
    """
    try:
        executable = _locate_executable()
    except QgsProcessingException as error:
        return str(error)
    problem = _version_problem(executable)
    _CHECKED_EXECUTABLES[executable] = (_file_signature(executable), problem)
    return problem


def plugin_version():
    """The plugin's version: `version` in its metadata.txt (CMake builds smr with the same)."""
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read(PLUGIN_ROOT / "metadata.txt", encoding="utf-8")
    return metadata.get("general", "version", fallback="").strip()


# Executable path -> (file signature when checked, problem message or None).
_CHECKED_EXECUTABLES = {}
VERSION_CHECK_TIMEOUT_SECONDS = 10
# The Debian package puts the plugin in <prefix>/share/qgis/python/plugins/smr (where Debian's
# QGIS looks for system plugins) and the executable in <prefix>/bin, not in /usr/share.
SYSTEM_PLUGIN_PARENTS = ("plugins", "python", "qgis", "share")
# The plugin ZIP (smr/bin/smr) is built on Debian 12; these packages hold the libraries smr links.
ZIP_RUNTIME_PACKAGES = "libgdal32 libgomp1"


def _executable_name():
    return "smr.exe" if os.name == "nt" else "smr"


def _system_prefix():
    """<prefix> when the plugin is installed as <prefix>/share/qgis/python/plugins/smr, else None."""
    parents = PLUGIN_ROOT.parents
    if len(parents) > len(SYSTEM_PLUGIN_PARENTS) and all(
            parents[index].name == name for index, name in enumerate(SYSTEM_PLUGIN_PARENTS)):
        return parents[len(SYSTEM_PLUGIN_PARENTS)]
    return None


def _debian_package_file(version):
    architecture = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), "<architecture>")
    return f"smr_{version}_{architecture}.deb"


def _what_to_do(executable):
    """How to get the smr that matches this plugin, for the way the executable was installed."""
    version = plugin_version()
    if os.environ.get(EXECUTABLE_ENVIRONMENT_VARIABLE):
        return (f"Point {EXECUTABLE_ENVIRONMENT_VARIABLE} at smr {version}, or unset it to use the "
                f"smr installed with the plugin.")
    prefix = _system_prefix()
    if prefix is not None and Path(executable) == prefix / "bin" / _executable_name():
        return (f"Install the SMR {version} Debian package again, which holds the plugin and the "
                f"matching executable: sudo apt install --reinstall ./{_debian_package_file(version)}")
    return (f"Install the SMR {version} plugin ZIP again (Plugins ▸ Manage and Install Plugins ▸ "
            f"Install from ZIP), which holds the matching smr/bin/smr; from a source checkout, "
            f"{BUILD_INSTRUCTIONS}.")


def _locate_executable():
    configured = os.environ.get(EXECUTABLE_ENVIRONMENT_VARIABLE)
    if configured:
        if not os.path.isfile(configured):
            raise QgsProcessingException(
                f"{EXECUTABLE_ENVIRONMENT_VARIABLE} is set to '{configured}', which is not a file. "
                f"Point it at the smr executable or unset it to use the one installed with the "
                f"plugin; to build smr, {BUILD_INSTRUCTIONS}.")
        return configured
    bundled = PLUGIN_ROOT / "bin" / _executable_name()
    if bundled.is_file():
        _restore_execute_permission(bundled)
        return str(bundled)
    prefix = _system_prefix()
    if prefix is not None:
        system = prefix / "bin" / _executable_name()
        if system.is_file():
            return str(system)
        version = plugin_version()
        raise QgsProcessingException(
            f"The smr executable was not found at {system}, where the SMR Debian package installs "
            f"it. Install the SMR {version} package again: sudo apt install --reinstall "
            f"./{_debian_package_file(version)}; or set {EXECUTABLE_ENVIRONMENT_VARIABLE} to its path.")
    raise QgsProcessingException(
        f"The smr executable was not found at {bundled}. The plugin ZIP holds it as smr/bin/smr: "
        f"install the ZIP again (Plugins ▸ Manage and Install Plugins ▸ Install from ZIP). To build "
        f"and install it from a source checkout, {BUILD_INSTRUCTIONS}; or set "
        f"{EXECUTABLE_ENVIRONMENT_VARIABLE} to its path.")


def _restore_execute_permission(path):
    """QGIS's "Install from ZIP" writes every file without the execute bit: give it back."""
    if os.name == "nt" or os.access(path, os.X_OK):
        return
    mode = path.stat().st_mode
    try:
        path.chmod(mode | (mode & 0o444) >> 2)  # execute wherever read is allowed
    except OSError:
        pass  # the version check then says that it cannot start


def _file_signature(path):
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _version_problem(executable):
    expected = plugin_version()
    try:
        answer = subprocess.run(
            [executable, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            encoding="utf-8", errors="replace", timeout=VERSION_CHECK_TIMEOUT_SECONDS,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except subprocess.TimeoutExpired:
        return (f"The smr executable {executable} did not answer `smr --version` within "
                f"{VERSION_CHECK_TIMEOUT_SECONDS} s. {_what_to_do(executable)}")
    except OSError as error:
        return (f"The smr executable {executable} cannot start: {error.strerror or error}. "
                f"{_what_to_do(executable)}")
    if answer.returncode != 0:
        details = " ".join(answer.stderr.split())[-500:] or "no message"
        advice = _what_to_do(executable)
        if "error while loading shared libraries" in answer.stderr:
            advice = (f"smr needs the libraries of Debian 12 (GDAL 3.6, OpenMP): install them with "
                      f"sudo apt install {ZIP_RUNTIME_PACKAGES}, or install the SMR Debian package "
                      f"instead of the ZIP. " + advice)
        return (f"The smr executable {executable} does not run (`smr --version` exited with "
                f"{answer.returncode}: {details}). {advice}")
    words = answer.stdout.split()
    found = words[1] if len(words) == 2 and words[0] == "smr" else None
    if found is None:
        return (f"The program {executable} is not the smr executable: `--version` printed "
                f"'{answer.stdout.strip()[:200]}' instead of 'smr {expected}'. {_what_to_do(executable)}")
    if found != expected:
        return (f"The smr executable {executable} is version {found}, but the SMR plugin is version "
                f"{expected}; they must be the same version. {_what_to_do(executable)}")
    return None


def run_smr(command, parameters, feedback=None):
    """Run `smr <command>` with `parameters` (a JSON-serialisable dict); return its "outputs"."""
    feedback = feedback if feedback is not None else QgsProcessingFeedback()
    executable = find_executable()
    try:
        request = json.dumps(parameters, allow_nan=False)
    except ValueError as error:
        raise QgsProcessingException(
            f"The parameters for smr {command} cannot be written as JSON: {error}") from error
    log_command(executable, command, parameters, request, feedback)

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


def push_warning(feedback, text):
    """A warning in the Processing log (orange), not an error line (red): pushWarning exists
    since QGIS 3.16.2; older feedback objects get a non-fatal reportError."""
    warn = getattr(feedback, "pushWarning", None)
    if warn is not None:
        warn(text)
    else:
        feedback.reportError(text, fatalError=False)


def abbreviated_json(value):
    """`value` as JSON, except that a list of more than LOGGED_LIST_LIMIT plain values becomes
    e.g. `[0.12, 0.31, 0.2, … 9,997 more]` (deliberately not JSON, so that nobody reruns a
    shortened request by mistake)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(key))}: {abbreviated_json(item)}"
                               for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        if len(value) > LOGGED_LIST_LIMIT and not any(
                isinstance(item, (dict, list, tuple)) for item in value):
            shown = ", ".join(json.dumps(item) for item in value[:LOGGED_LIST_HEAD])
            return f"[{shown}, … {len(value) - LOGGED_LIST_HEAD:,} more]"
        return "[" + ", ".join(abbreviated_json(item) for item in value) + "]"
    return json.dumps(value, allow_nan=False)


def log_command(executable, command, parameters, request, feedback):
    """Show the call in the log: `smr <command> <<< '<request>'` with long lists shortened, or
    `smr <command> <file>` when SMR_DEBUG_REQUESTS names a folder for the full request (a folder
    that cannot be written costs a warning, never the run)."""
    folder = os.environ.get(DEBUG_REQUESTS_ENVIRONMENT_VARIABLE)
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
            handle, path = tempfile.mkstemp(prefix=f"{command}-", suffix=".json", dir=folder)
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(request)
            feedback.pushCommandInfo(f"{shlex.quote(executable)} {command} {shlex.quote(path)}")
            return
        except OSError as error:
            push_warning(feedback, f"The full request could not be saved in "
                                   f"{DEBUG_REQUESTS_ENVIRONMENT_VARIABLE}='{folder}': "
                                   f"{error.strerror or error}.")
    shown = abbreviated_json(parameters)
    feedback.pushCommandInfo(f"{shlex.quote(executable)} {command} <<< {shlex.quote(shown)}")
    if shown != request:
        feedback.pushInfo(
            f"(Lists of more than {LOGGED_LIST_LIMIT} values are shortened in the line above. To "
            f"get the full request, set the environment variable "
            f"{DEBUG_REQUESTS_ENVIRONMENT_VARIABLE} to a folder: each request is then saved "
            f"there as a JSON file that `smr {command} <file>` reruns.)")


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
            push_warning(feedback, log_text)
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
