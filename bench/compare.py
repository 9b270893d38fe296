"""Cortado against PyTorch on the same workloads, alternating (A B A B ...), on this machine.
Run through bench/compare.sh, which builds Cortado in release and makes the venv. Prints a
table and writes it between the compare markers of bench/RESULTS.md."""
import argparse, json, os, platform, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORTADO = os.path.join(ROOT, ".build", "release", "cortado")
TORCH = [sys.executable, os.path.join(ROOT, "bench", "torch_caffe.py")]
REF = os.path.join(ROOT, "..", "shared", "reference", "prototxt", "bvlc", "models")


def run(cmd):
    """Runs a command from the repository root; returns its stdout and stderr together."""
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode:
        sys.exit(f"compare.py: {' '.join(cmd)} failed:\n{proc.stdout[-3000:]}")
    return proc.stdout


def peak_rss(cmd):
    """Runs cmd under /usr/bin/time; returns (output, peak RSS MB)."""
    out = run(["/usr/bin/time", "-f", "PEAK_RSS_KB %M"] + cmd)
    kb = int(re.search(r"PEAK_RSS_KB (\d+)", out).group(1))
    return out, kb / 1024


def cortado_train(solver, iterations):
    log = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    out, rss = peak_rss([CORTADO, "train", "--solver", solver, "--log-json", log, "--progress", "never"])
    records = {r["iteration"]: r for r in map(json.loads, open(log)) if r["type"] == "train"}
    os.unlink(log)
    return records[iterations]["seconds"] - records[0]["seconds"], rss


def cortado_time(model):
    out, rss = peak_rss([CORTADO, "time", "--model", model, "--synthetic-data", "--iterations", "10"])
    return float(re.search(r"Average Forward-Backward: ([0-9.]+) ms", out).group(1)) / 1000, rss


def torch_run(args):
    out = run(TORCH + args)
    return json.loads(out.strip().splitlines()[-1])["seconds"], None


WORKLOADS = {
    "LeNet training, 1000 iterations, batch 64 (s)": (
        lambda: cortado_train("bench/solvers/lenet_1000.prototxt", 1000),
        lambda: torch_run(["train", "--model", "models/lenet/lenet_train_test.prototxt", "--data",
                           "data/fashion-mnist/train.h5", "--batch", "64", "--iterations", "1000"])),
    "CIFAR-10 quick training, 200 iterations, batch 100 (s)": (
        lambda: cortado_train("bench/solvers/cifar10_quick_200.prototxt", 200),
        lambda: torch_run(["train", "--model", "bench/nets/cifar10_quick_synthetic.prototxt", "--batch", "100",
                           "--shape", "3", "32", "32", "--iterations", "200", "--lr", "0.001", "--decay", "0.004"])),
    "CaffeNet forward+backward, batch 10 (ms)": (
        lambda: scale(cortado_time(f"{REF}/bvlc_reference_caffenet/deploy.prototxt")),
        lambda: scale(torch_run(["time", "--model", f"{REF}/bvlc_reference_caffenet/deploy.prototxt", "--iterations", "10"]))),
    "GoogLeNet forward+backward, batch 10 (ms)": (
        lambda: scale(cortado_time(f"{REF}/bvlc_googlenet/deploy.prototxt")),
        lambda: scale(torch_run(["time", "--model", f"{REF}/bvlc_googlenet/deploy.prototxt", "--iterations", "10"]))),
}


def scale(result):
    return result[0] * 1000, result[1]


def spread(values):
    return f"{statistics.median(values):.3g} ({min(values):.3g}–{max(values):.3g})"


def versions():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    def package(name):
        return subprocess.run(["sh", "-c", f"dpkg-query -W -f='${{Version}}' {name} 2>/dev/null || true"],
                              capture_output=True, text=True).stdout
    blas, dnnl = package("libopenblas0-pthread"), package("libdnnl2")
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    import torch
    return cpu, os.cpu_count(), blas, dnnl, swift, torch.__version__, torch.backends.mkldnn.is_available()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--only", help="run only workloads whose name contains this")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for name, (cortado, torch_fn) in WORKLOADS.items():
        if args.only and args.only.lower() not in name.lower():
            continue
        ours, theirs, rss = [], [], []
        for pair in range(args.pairs):
            t, r = cortado(); ours.append(t); rss.append(r)
            t, _ = torch_fn(); theirs.append(t)
            print(f"{name}: pair {pair + 1}: Cortado {ours[-1]:.3f}, PyTorch {theirs[-1]:.3f}", flush=True)
        ratio = statistics.median(ours) / statistics.median(theirs)
        rows.append((name, spread(ours), spread(theirs), ratio, max(rss)))
    cpu, cores, blas, dnnl, swift, torch_version, mkldnn = versions()
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    kernels = f"`OPENBLAS_CORETYPE={coretype}`" if coretype else "`OPENBLAS_CORETYPE` unset (OpenBLAS picks its kernels)"
    table = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/compare.sh` ({args.pairs} alternating pairs, Cortado first): "
             f"{cpu}, {cores} cores; Cortado with {cores} threads (oneDNN {dnnl or '?'} and OpenBLAS {blas or '?'}, "
             f"single-threaded under Cortado's own threads; {kernels}), {swift}; PyTorch {torch_version} with `torch.set_num_threads({cores})` "
             f"(oneDNN {'on' if mkldnn else 'off'}). Median (min–max).", "",
             "| workload | Cortado | PyTorch | Cortado/PyTorch | Cortado peak RSS |", "|---|---|---|---|---|"]
    for name, ours, theirs, ratio, rss in rows:
        table.append(f"| {name} | {ours} | {theirs} | **{ratio:.2f}** | {rss:.0f} MB |")
    text = "\n".join(table)
    print(text)
    if not args.no_write and not args.only:
        path = os.path.join(ROOT, "bench", "RESULTS.md")
        doc = open(path).read()
        label = coretype or "auto"
        begin, end = f"<!-- compare:begin {label} -->", f"<!-- compare:end {label} -->"
        if begin in doc:
            doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + "\n" + doc[doc.index(end):]
        else:
            doc += f"\n### OpenBLAS kernels: {label}\n\n{begin}\n{text}\n{end}\n"
        open(path, "w").write(doc)


if __name__ == "__main__":
    main()
