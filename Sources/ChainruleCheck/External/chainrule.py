"""chainrule: check the backward rule of a layer written in NumPy or PyTorch.

    import numpy as np
    import chainrule

    def forward(x, w, b):
        return x @ w + b

    def backward(x, w, b, out, grad):
        return grad @ w.T, x.T @ grad, grad.sum(axis=0)

    if __name__ == "__main__":
        chainrule.serve(forward, backward, inputs={"x": (4, 3), "w": (3, 3), "b": (3,)}, seed=0)

`chainrule check --python layer.py` runs this file with python3 and compares
`backward` with finite differences of `forward`, element by element, naming
the input and the element that is wrong. `serve_torch(MyFunction, inputs=...)`
does the same for a `torch.autograd.Function`, in float64.

Run by hand (`python3 layer.py`, with this file on PYTHONPATH as
`chainrule python-module DIR` writes it), `serve` hands the file to
`chainrule check --python` when `chainrule` is on PATH, else runs forward and
backward once and says what it found.

Only NumPy is needed. The wire protocol (version 1) is described at the end
of this file and in docs/python.md.
"""

import json
import os
import shutil
import struct
import sys
import threading
import time
import traceback

import numpy as np

PROTOCOL_VERSION = 1

#: The environment variable through which `chainrule check --python` passes the
#: file descriptors of the pipe, as "READ,WRITE" (the child's ends).
FDS_VARIABLE = "CHAINRULE_BRIDGE_FDS"

#: Results of a batch are sent at least this often (seconds), so chainrule's
#: per-call deadline measures one call of the user's function, not a whole batch.
_FLUSH_INTERVAL = 0.05


class BridgeError(Exception):
    """A problem chainrule reports as it is: `kind` is one of "exception" (the
    user's function raised), "shape" (it returned the wrong shape), "value"
    (it returned something that is not an array of numbers, or `inputs` is
    malformed) or "protocol" (a malformed request)."""

    def __init__(self, kind, message, trace=""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.trace = trace


def serve(forward, backward, inputs, seed=0, branches=None, name=None):
    """Serves `forward(*inputs)` and `backward(*inputs, out, grad)` to chainrule.

    inputs: a dict from each input's name to its shape (a tuple, or an int for
        a vector; filled with seeded standard-normal values) or to its value
        (an array; an integer array, such as class labels, gets no gradient).
    backward: returns one gradient per input, shaped like that input, or None
        for an input without one; a single array when there is one input.
    seed: seeds the random values of the inputs given by shape.
    branches: optional `branches(*inputs)`, an integer array saying which
        piece of a piecewise rule each output took (relu's sign, max-pool's
        argmax): points whose patterns differ lie across a kink.
    name: the op's name in the report (default: forward's name).
    """
    def layer():
        name_ = name or getattr(forward, "__name__", "forward")
        return _Layer(forward, backward, _input_values(inputs, seed), branches, name_)

    # Taken out of the environment: a Python the layer starts does not have the pipe.
    fds = os.environ.pop(FDS_VARIABLE, None)
    if fds is None:
        _run_by_hand(layer())
    elif not _serve_pipe(layer, fds):
        sys.exit(1)


def serve_torch(function, inputs, seed=0, branches=None, name=None):
    """Serves a `torch.autograd.Function` (its `apply`) or any function of torch
    tensors, run in float64: forward without autograd, backward through
    `torch.autograd.grad`, so the Function's own `backward` is what is checked.
    The other arguments are those of `serve`."""
    import torch

    call = function.apply if hasattr(function, "apply") else function

    def tensors(arrays, requires_grad):
        result = []
        for a in arrays:
            if np.issubdtype(a.dtype, np.floating):
                result.append(torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad))
            else:
                result.append(torch.from_numpy(np.array(a)))
        return result

    def forward(*arrays):
        with torch.no_grad():
            return call(*tensors(arrays, False)).detach().numpy()

    def backward(*arguments):
        arrays, grad = arguments[:-2], arguments[-1]
        ts = tensors(arrays, True)
        wanted = [t for t in ts if t.requires_grad]
        with torch.enable_grad():
            out = call(*ts)
            grads = torch.autograd.grad(
                out, wanted, grad_outputs=torch.from_numpy(np.array(grad, dtype=np.float64)), allow_unused=True)
        found = iter(grads)
        result = []
        for t in ts:
            g = next(found) if t.requires_grad else None
            result.append(None if g is None else g.detach().numpy())
        return tuple(result)

    forward.__name__ = getattr(function, "__name__", "function")
    forward.chainrule_source = function
    serve(forward, backward, inputs, seed=seed, branches=branches, name=name)


# MARK: - The layer


class _Layer:
    """The user's functions at their inputs, with every return value checked."""

    def __init__(self, forward, backward, values, branches, name):
        self.forward_function = forward
        self.backward_function = backward
        self.branches_function = branches
        self.name = str(name)
        self.names = [n for n, _ in values]
        self.inputs = [v for _, v in values]
        self.counts = [v.size for v in self.inputs]
        self.total = sum(self.counts)
        self.output_shape = None

    def forward(self, arrays):
        out = _call("forward", self.forward_function, arrays)
        out = _as_numbers(out, "forward returned")
        if self.output_shape is not None and out.shape != self.output_shape:
            raise BridgeError(
                "shape",
                f"forward returned shape {_shape(out.shape)} at a perturbed point but "
                f"{_shape(self.output_shape)} at the given inputs: its output shape must not depend on the values")
        return out

    def branches(self, arrays):
        if self.branches_function is None:
            return None
        pattern = _call("branches", self.branches_function, arrays)
        try:
            pattern = np.asarray(pattern)
            if pattern.size and not np.issubdtype(pattern.dtype, np.integer) and not np.issubdtype(pattern.dtype, np.bool_):
                if not np.all(np.equal(np.mod(pattern, 1), 0)):
                    raise ValueError
            return pattern.astype(np.int64).ravel()
        except (TypeError, ValueError):
            raise BridgeError("value", f"branches returned {_describe(pattern)}; it must return an array of integers")

    def backward(self, arrays, out, grad):
        result = _call("backward", self.backward_function, list(arrays) + [out, grad])
        if len(self.inputs) == 1 and not isinstance(result, (tuple, list)):
            result = (result,)
        if not isinstance(result, (tuple, list)):
            raise BridgeError(
                "value",
                f"backward returned {_describe(result)}; it must return {len(self.inputs)} gradients "
                f"({', '.join(self.names)}), one per input, None for an input without one")
        if len(result) != len(self.inputs):
            raise BridgeError(
                "value",
                f"backward returned {len(result)} gradient{'s' if len(result) != 1 else ''}; "
                f"it must return {len(self.inputs)}, one per input ({', '.join(self.names)}), None for an input without one")
        gradients = []
        for name, value, g in zip(self.names, self.inputs, result):
            if g is None:
                gradients.append(None)
                continue
            g = _as_numbers(g, f"backward's gradient for {name!r} is")
            if g.shape != value.shape:
                raise BridgeError(
                    "shape",
                    f"backward's gradient for {name!r} has shape {_shape(g.shape)}; "
                    f"it must have the shape of {name}, {_shape(value.shape)}")
            gradients.append(g)
        return gradients

    def copies(self):
        """The inputs, copied: a function that writes into its arguments cannot change them."""
        return [v.copy() for v in self.inputs]

    def unpack(self, flat):
        """One point's inputs from its float64 values, in the inputs' own dtypes."""
        arrays, offset = [], 0
        for value, count in zip(self.inputs, self.counts):
            arrays.append(flat[offset:offset + count].reshape(value.shape).astype(value.dtype))
            offset += count
        return arrays

    def source(self):
        """Where forward (or the torch Function) is written: (file, line)."""
        target = getattr(self.forward_function, "chainrule_source", self.forward_function)
        code = getattr(target, "__code__", None)
        if code is not None:
            return code.co_filename, code.co_firstlineno
        try:
            import inspect
            return inspect.getsourcefile(target), inspect.getsourcelines(target)[1]
        except (TypeError, OSError):
            return None, None


def _call(role, function, arguments):
    try:
        return function(*arguments)
    except Exception as error:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
        trace = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
        trace += "".join(traceback.format_exception_only(type(error), error))
        raise BridgeError("exception", f"{role} raised {type(error).__name__}: {error}", trace) from None


def _as_numbers(value, what):
    try:
        array = np.asarray(value)
    except Exception:
        array = None
    if array is None or array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)):
        raise BridgeError("value", f"{what} {_describe(value)}; it must be an array of real numbers")
    if np.iscomplexobj(array):
        raise BridgeError("value", f"{what} complex numbers; chainrule checks real functions")
    return np.asarray(array, dtype=np.float64)


def _input_values(inputs, seed):
    if not isinstance(inputs, dict) or not inputs:
        raise BridgeError(
            "value", f"inputs must be a dict from names to shapes or arrays, e.g. {{'x': (4, 3)}}; got {_describe(inputs)}")
    rng = np.random.default_rng(seed)
    values = []
    for name, spec in inputs.items():
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = (spec,)
        if isinstance(spec, tuple) and all(isinstance(n, int) and not isinstance(n, bool) for n in spec):
            # A tuple of whole numbers is a shape, never values: (-3,) is a mistake, not the array [-3].
            if any(n < 0 for n in spec):
                raise BridgeError(
                    "value", f"input {name!r} has the shape {_shape(spec)}; sizes are whole numbers from 0 "
                    f"(to give values, pass an array, e.g. np.array({list(spec)}, dtype=float))")
            values.append((str(name), rng.standard_normal(spec)))
            continue
        array = np.array(spec)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)):
            raise BridgeError(
                "value", f"input {name!r} is {_describe(spec)}; give a shape such as (4, 3) or an array of numbers")
        if np.iscomplexobj(array):
            raise BridgeError("value", f"input {name!r} is complex; chainrule checks real functions")
        if np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float64)
        values.append((str(name), array))
    return values


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {_shape(value.shape)}"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 60 else text[:57] + '...'}"


# MARK: - Run by hand


def _run_by_hand(layer):
    """Without chainrule at the other end: hand the file to chainrule if it is on
    PATH, else run forward and backward once and say what came out."""
    executable = shutil.which("chainrule")
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if executable and script and os.path.isfile(script):
        os.execv(executable, [executable, "check", "--python", script, "--python-interpreter", sys.executable]
                 + sys.argv[1:])
    out = layer.forward(layer.copies())
    grad = np.random.default_rng(1).standard_normal(out.shape)
    gradients = layer.backward(layer.copies(), out, grad)
    shapes = ", ".join(
        f"{n} {_shape(g.shape)}" if g is not None else f"{n} none" for n, g in zip(layer.names, gradients))
    print(f"{layer.name}: output {_shape(out.shape)}; gradients {shapes}.\n"
          f"chainrule is not on PATH: run `chainrule check --python {sys.argv[0] or 'FILE'}` to check the rule.",
          file=sys.stderr)


# MARK: - The pipe


def _serve_pipe(make_layer, fds):
    """Answers chainrule's requests until END; False after reporting an error."""
    try:
        read_fd, write_fd = (int(fd) for fd in fds.split(","))
    except ValueError:
        raise SystemExit(f"chainrule: {FDS_VARIABLE}={fds!r} is not READ,WRITE")
    _watch_parent()
    pipe = _Pipe(os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb"))
    try:
        layer = make_layer()
        pipe.send(b"HELO", _hello(layer))
        while True:
            tag, body = pipe.receive()
            if tag is None or tag == b"END ":
                return True
            if tag == b"FWD ":
                _forward_batch(layer, body, pipe)
            elif tag == b"BWD ":
                pipe.send(b"GRAD", _backward(layer, body))
            else:
                raise BridgeError("protocol", f"unknown request {tag!r}")
    except BridgeError as error:
        pipe.send_error(error)
        return False


class _Pipe:
    """Frames: a 4-byte ASCII tag, the body's length as a little-endian uint32, the body."""

    def __init__(self, incoming, outgoing):
        self.incoming = incoming
        self.outgoing = outgoing

    def send(self, tag, body):
        self.outgoing.write(tag + struct.pack("<I", len(body)))
        self.outgoing.write(body)
        self.outgoing.flush()

    def send_error(self, error):
        report = {"kind": error.kind, "message": error.message, "traceback": error.trace}
        self.send(b"ERR ", json.dumps(report).encode())

    def receive(self):
        header = self.incoming.read(8)
        if len(header) < 8:
            return None, None
        (length,) = struct.unpack("<I", header[4:])
        body = self.incoming.read(length)
        if len(body) < length:
            return None, None
        return header[:4], body


def _watch_parent():
    """Exits when chainrule is gone (it was killed while a call ran): no orphans."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _hello(layer):
    out = layer.forward(layer.copies())
    layer.output_shape = out.shape
    pattern = layer.branches(layer.copies())
    probe = np.random.default_rng(0x5EED).standard_normal(out.shape)
    gradients = layer.backward(layer.copies(), out, probe)
    file, line = layer.source()
    meta = {
        "protocol": PROTOCOL_VERSION,
        "name": layer.name,
        "file": file,
        "line": line,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": getattr(sys.modules.get("torch"), "__version__", None),
        "inputs": [
            {"name": n, "shape": list(v.shape), "dtype": str(v.dtype),
             "differentiable": bool(g is not None and np.issubdtype(v.dtype, np.floating))}
            for n, v, g in zip(layer.names, layer.inputs, gradients)],
        "output": list(out.shape),
        "branches": pattern is not None,
    }
    text = json.dumps(meta).encode()
    body = bytearray(struct.pack("<I", len(text)) + text)
    for value in layer.inputs:
        body += np.ascontiguousarray(value, dtype="<f8").tobytes()
    body += _point(out, pattern)
    return bytes(body)


def _point(out, pattern):
    data = np.ascontiguousarray(out, dtype="<f8").tobytes()
    if pattern is None:
        return data
    return data + struct.pack("<I", pattern.size) + np.ascontiguousarray(pattern, dtype="<i8").tobytes()


def _forward_batch(layer, body, pipe):
    if len(body) < 4:
        raise BridgeError("protocol", "FWD without a point count")
    (count,) = struct.unpack("<I", body[:4])
    if len(body) != 4 + 8 * count * layer.total:
        raise BridgeError(
            "protocol", f"FWD of {count} points must carry {8 * count * layer.total} bytes of values, got {len(body) - 4}")
    points = np.frombuffer(body, dtype="<f8", offset=4).reshape(count, layer.total)
    first, pending, last_flush = 0, bytearray(), time.monotonic()
    for index in range(count):
        arrays = layer.unpack(points[index])
        pending += _point(layer.forward(arrays), layer.branches(arrays))
        now = time.monotonic()
        if now - last_flush >= _FLUSH_INTERVAL or index == count - 1:
            pipe.send(b"OUTS", struct.pack("<II", first, index + 1 - first) + pending)
            first, pending, last_flush = index + 1, bytearray(), now


def _backward(layer, body):
    out_count = int(np.prod(layer.output_shape))
    if len(body) != 8 * (layer.total + 2 * out_count):
        raise BridgeError(
            "protocol", f"BWD must carry {8 * (layer.total + 2 * out_count)} bytes of values, got {len(body)}")
    flat = np.frombuffer(body, dtype="<f8")
    arrays = layer.unpack(flat[:layer.total])
    out = flat[layer.total:layer.total + out_count].reshape(layer.output_shape).copy()
    grad = flat[layer.total + out_count:].reshape(layer.output_shape).copy()
    reply = bytearray()
    for g in layer.backward(arrays, out, grad):
        if g is None:
            reply += b"\x00"
        else:
            reply += b"\x01" + np.ascontiguousarray(g, dtype="<f8").tobytes()
    return bytes(reply)


# MARK: - Protocol, version 1
#
# chainrule starts `python3 FILE` with FDS_VARIABLE = "READ,WRITE" naming the
# child's ends of two pipes. Every message is a frame: a 4-byte ASCII tag, the
# body's length (uint32, little-endian), the body. Numbers are float64 and
# integers int64, little-endian, arrays row-major.
#
#   HELO  python -> chainrule, once, from serve(): uint32 n, n bytes of JSON
#         {protocol, name, file, line, python, numpy, torch, inputs: [{name, shape,
#         dtype, differentiable}], output: shape, branches: bool}, then every
#         input's values, then the output at them (and, when branches is true,
#         uint32 m and m int64: its branch pattern).
#   FWD   chainrule -> python: uint32 P, then P points, each every input's
#         values one after the other.
#   OUTS  python -> chainrule, answering FWD in one or more frames (at least
#         every 50 ms): uint32 first, uint32 k, then k outputs as in HELO.
#   BWD   chainrule -> python: the inputs, the output, the upstream gradient.
#   GRAD  python -> chainrule: per input, a byte 1 followed by its gradient,
#         or a byte 0 for none.
#   ERR   python -> chainrule, instead of any answer: JSON {kind, message,
#         traceback}; python then exits.
#   END   chainrule -> python: serve() returns.
