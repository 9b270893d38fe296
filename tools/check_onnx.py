"""Runs ONNX models written by `cortado export-onnx` in onnxruntime and compares their outputs
with Cortado's (the --reference files). usage: python tools/check_onnx.py NAME=MODEL.onnx,REF.h5 ...
Prints a Markdown table; exits 1 when an output differs by more than 1e-4 absolute or 1e-3
relative, and by more than ten times the net's own drift: how far onnxruntime's outputs move
when every input value moves by 2 ulp. Deep nets with random weights amplify rounding (ResNet-152
moves 1.8e-3 relative for 2 ulp), so a fixed tolerance alone would call their rounding a bug;
a wrong fold or operator shows as a difference many times the drift."""
import sys
import h5py
import numpy as np
import onnx
import onnxruntime as ort

def check(model_path, reference_path):
    onnx.checker.check_model(onnx.load(model_path))
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    ref = h5py.File(reference_path, "r")
    feeds = {name: np.asarray(ref["input"][name], dtype=np.float32) for name in ref["input"]}
    names = [o.name for o in session.get_outputs()]
    got = session.run(names, feeds)
    nudged = {name: np.nextafter(np.nextafter(x, np.inf), np.inf).astype(np.float32) if x.dtype == np.float32 else x
              for name, x in feeds.items()}
    drift_abs, drift_rel = differences(session.run(names, nudged), got)
    expected = [np.asarray(ref["output"][name]) for name in names]
    for name, value, e in zip(names, got, expected):
        if value.shape != e.shape:
            raise SystemExit(f"{model_path}: output {name} has shape {value.shape}, Cortado's {e.shape}")
    worst, relative = differences(got, expected)
    peak = next((float(np.median(v.reshape(v.shape[0], -1).max(axis=1))) for name, v in zip(names, got) if name == "prob"), None)
    return names, worst, relative, len(onnx.load(model_path).graph.node), peak, drift_abs, drift_rel

def differences(values, expected):
    """Largest absolute and relative element difference over a list of output arrays."""
    worst = max(float(np.abs(v - e).max()) for v, e in zip(values, expected))
    relative = max(float((np.abs(v - e) / (np.abs(e) + 1e-12)).max()) for v, e in zip(values, expected))
    return worst, relative

def main():
    # "largest probability": the median over the batch of each example's top probability, to
    # show the outputs are not saturated (one-hot outputs would agree trivially).
    print("| net | outputs | nodes | largest probability | max abs difference | max relative difference | 2-ulp drift (abs, rel) |")
    print("|---|---|---|---|---|---|---|")
    failed = False
    for item in sys.argv[1:]:
        name, paths = item.split("=", 1)
        model, reference = paths.split(",")
        names, worst, relative, nodes, peak, drift_abs, drift_rel = check(model, reference)
        failed |= worst > max(1e-4, 10 * drift_abs) or relative > max(1e-3, 10 * drift_rel)
        print(f"| {name} | {', '.join(names)} | {nodes} | {'–' if peak is None else f'{peak:.3f}'} | {worst:.2e} | {relative:.2e}"
              f" | {drift_abs:.1e}, {drift_rel:.1e} |")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
