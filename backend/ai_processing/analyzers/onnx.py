"""onnxruntime sessions: the best execution provider present, CPU as the floor."""

from pathlib import Path

import onnxruntime as ort

_PREFERRED = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


def onnx_session(path: Path, threads: int = 0) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # Idle pool threads sleep instead of spinning: decoding runs beside inference, on the
    # same cores, and spinning threads starved it (bench/analysis, pipeline vs bare model).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    available = set(ort.get_available_providers())
    providers = [name for name in _PREFERRED if name in available]
    return ort.InferenceSession(str(path), sess_options=options, providers=providers)
