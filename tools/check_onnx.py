"""Runs ONNX models written by `cortado export-onnx` in onnxruntime and compares their outputs
with Cortado's (the --reference files). usage: python tools/check_onnx.py NAME=MODEL.onnx,REF.h5 ...
Prints a Markdown table; exits 1 when any output differs by more than 1e-4, or any element by
more than 1e-3 of its value."""
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
    worst, relative, peak = 0.0, 0.0, None
    for name, value in zip(names, got):
        if name == "prob":
            peak = float(np.median(value.reshape(value.shape[0], -1).max(axis=1)))
        expected = np.asarray(ref["output"][name])
        if value.shape != expected.shape:
            raise SystemExit(f"{model_path}: output {name} has shape {value.shape}, Cortado's {expected.shape}")
        worst = max(worst, float(np.abs(value - expected).max()))
        relative = max(relative, float((np.abs(value - expected) / (np.abs(expected) + 1e-12)).max()))
    return names, worst, relative, len(onnx.load(model_path).graph.node), peak

def main():
    # "largest probability": the median over the batch of each example's top probability, to
    # show the outputs are not saturated (one-hot outputs would agree trivially).
    print("| net | outputs | nodes | largest probability | max abs difference | max relative difference |")
    print("|---|---|---|---|---|---|")
    failed = False
    for item in sys.argv[1:]:
        name, paths = item.split("=", 1)
        model, reference = paths.split(",")
        names, worst, relative, nodes, peak = check(model, reference)
        failed |= worst > 1e-4 or relative > 1e-3
        print(f"| {name} | {', '.join(names)} | {nodes} | {'–' if peak is None else f'{peak:.3f}'} | {worst:.2e} | {relative:.2e} |")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
