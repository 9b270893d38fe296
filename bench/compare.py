"""Cortado against PyTorch on the same workloads, alternating (A B A B ...), on this machine.
Run through bench/compare.sh, which builds Cortado in release and makes the venv. Prints a
table and writes it between the compare markers of bench/RESULTS.md."""
import argparse, json, os, platform, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORTADO = os.path.join(ROOT, ".build", "release", "cortado")
TORCH = [sys.executable, os.path.join(ROOT, "bench", "torch_caffe.py")]


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


def cortado_train(solver, last, first=0):
    """Trains with the solver; returns the seconds from the display of iteration `first` to
    that of `last` (both must be displayed), and the peak RSS."""
    log = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False).name
    try:
        out, rss = peak_rss([CORTADO, "train", "--solver", solver, "--log-json", log, "--progress", "never"])
        seconds = {r["iteration"]: r["seconds"] for r in map(json.loads, open(log)) if r["type"] == "train"}
    finally:
        os.unlink(log)
    return seconds[last] - seconds[first], rss


def torch_run(args):
    out, rss = peak_rss(TORCH + args)
    line = next(l for l in reversed(out.strip().splitlines()) if l.startswith("{"))
    return json.loads(line)["seconds"], rss


# ImageNet-class training nets (bench/nets/make_nets.py): a full SGD step at batch 16 on
# synthetic data, momentum 0.9 and weight decay 1e-4, as their papers train them.
STEPS = 3


def cortado_step(net):
    """Steps 2..STEPS+1, timed from the display of iteration 1 to that of STEPS+1: the first
    step, which touches the momentum history for the first time, is left out on both sides."""
    with tempfile.NamedTemporaryFile("w", suffix=".solver.prototxt", delete=False) as f:
        f.write(f'net: "bench/nets/{net}_train.prototxt"\nbase_lr: 0.01\nmomentum: 0.9\nweight_decay: 0.0001\n'
                f'lr_policy: "fixed"\ndisplay: 1\nmax_iter: {STEPS + 2}\nsnapshot_after_train: false\nrandom_seed: 1\n')
    try:
        seconds, rss = cortado_train(f.name, STEPS + 1, first=1)
    finally:
        os.unlink(f.name)
    return seconds / STEPS * 1000, rss


def torch_step(net):
    seconds, rss = torch_run(["train", "--model", f"bench/nets/{net}_train.prototxt", "--iterations", str(STEPS),
                              "--policy", "fixed", "--lr", "0.01", "--decay", "0.0001"])
    return seconds / STEPS * 1000, rss


def multiply_adds(model):
    """The forward pass's multiply-adds for the whole batch, from `cortado summary`'s total row."""
    total = run([CORTADO, "summary", model]).strip().splitlines()[-1]
    return int(total.split()[-1].replace(",", ""))


WORKLOADS = {
    "LeNet training, 1000 iterations, batch 64 (s)": (
        lambda: cortado_train("bench/solvers/lenet_1000.prototxt", 1000),
        lambda: torch_run(["train", "--model", "models/lenet/lenet_train_test.prototxt", "--data",
                           "data/fashion-mnist/train.h5", "--batch", "64", "--iterations", "1000"])),
    "CIFAR-10 quick training, 200 iterations, batch 100 (s)": (
        lambda: cortado_train("bench/solvers/cifar10_quick_200.prototxt", 200),
        lambda: torch_run(["train", "--model", "bench/nets/cifar10_quick_synthetic.prototxt", "--batch", "100",
                           "--shape", "3", "32", "32", "--iterations", "200", "--lr", "0.001", "--decay", "0.004"])),
}
for title, net in [("ResNet-50", "resnet50"), ("MobileNet v1", "mobilenet_v1"), ("MobileNet v2", "mobilenet_v2"),
                   ("GoogLeNet", "googlenet"), ("SqueezeNet 1.1", "squeezenet11"), ("CaffeNet", "caffenet")]:
    WORKLOADS[f"{title} SGD step, batch 16 (ms)"] = (lambda net=net: cortado_step(net), lambda net=net: torch_step(net))
MODELS = {"LeNet": "models/lenet/lenet_train_test.prototxt", "CIFAR-10": "bench/nets/cifar10_quick_synthetic.prototxt",
          "ResNet-50": "bench/nets/resnet50_train.prototxt", "MobileNet v1": "bench/nets/mobilenet_v1_train.prototxt",
          "MobileNet v2": "bench/nets/mobilenet_v2_train.prototxt", "GoogLeNet": "bench/nets/googlenet_train.prototxt",
          "SqueezeNet": "bench/nets/squeezenet11_train.prototxt", "CaffeNet": "bench/nets/caffenet_train.prototxt"}


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
        ours, theirs, rss, torch_rss = [], [], [], []
        for pair in range(args.pairs):
            t, r = cortado(); ours.append(t); rss.append(r)
            t, r = torch_fn(); theirs.append(t); torch_rss.append(r)
            print(f"{name}: pair {pair + 1}: Cortado {ours[-1]:.3f}, PyTorch {theirs[-1]:.3f}", flush=True)
        ratio = statistics.median(theirs) / statistics.median(ours)
        model = next(m for key, m in MODELS.items() if name.startswith(key))
        rows.append((name, multiply_adds(model), spread(ours), spread(theirs), ratio, max(rss), max(torch_rss)))
    cpu, cores, blas, dnnl, swift, torch_version, mkldnn = versions()
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    kernels = f"`OPENBLAS_CORETYPE={coretype}`" if coretype else "`OPENBLAS_CORETYPE` unset (OpenBLAS picks its kernels)"
    table = [f"Measured {time.strftime('%Y-%m-%d')} by `bench/compare.sh` ({args.pairs} alternating pairs, Cortado first): "
             f"{cpu}, {cores} cores; Cortado with {cores} threads (oneDNN {dnnl or '?'} and OpenBLAS {blas or '?'}, "
             f"single-threaded under Cortado's own threads; {kernels}), {swift}; PyTorch {torch_version} with `torch.set_num_threads({cores})` "
             f"(oneDNN {'on' if mkldnn else 'off'}). Median (min–max); speed-up is PyTorch's median time over Cortado's "
             f"(above 1: Cortado faster). Multiply-adds: one forward pass of the batch (`cortado summary`).", "",
             "| workload | multiply-adds | Cortado | PyTorch | speed-up | peak RSS, Cortado / PyTorch |", "|---|---|---|---|---|---|"]
    for name, macs, ours, theirs, ratio, rss, trss in rows:
        table.append(f"| {name} | {macs / 1e9:.2f} G | {ours} | {theirs} | **{ratio:.2f}×** | {rss:.0f} / {trss:.0f} MB |")
    text = "\n".join(table)
    print(text)
    if not args.no_write and not args.only:
        path = os.path.join(ROOT, "bench", "RESULTS.md")
        doc = open(path).read()
        label = coretype or "current"
        begin, end = f"<!-- compare:begin {label} -->", f"<!-- compare:end {label} -->"
        if begin in doc:
            doc = doc[:doc.index(begin) + len(begin)] + "\n" + text + "\n" + doc[doc.index(end):]
        else:
            doc += f"\n### OpenBLAS kernels: {label}\n\n{begin}\n{text}\n{end}\n"
        open(path, "w").write(doc)


if __name__ == "__main__":
    main()
