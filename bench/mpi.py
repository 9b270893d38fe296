"""Runs the data-parallel scaling benchmark (see bench/mpi.sh) and prints a Markdown table."""
import argparse, os, re, statistics, subprocess, tempfile

WORKLOADS = {
    # name: (solver to copy, timed iterations)
    "LeNet, batch 64 per rank": ("bench/solvers/lenet_1000.prototxt", 300),
    "CIFAR-10 quick, batch 100 per rank": ("bench/solvers/cifar10_quick_200.prototxt", 60),
}
SETUPS = ["1 rank", "2 ranks", "2 ranks, no overlap"]

def solver_copy(path, iterations, folder):
    text = open(path).read()
    text = re.sub(r"display: \d+", f"display: {iterations}", text)
    text = re.sub(r"max_iter: \d+", f"max_iter: {iterations + 1}", text)
    out = os.path.join(folder, os.path.basename(path))
    open(out, "w").write(text)
    return out

def run(setup, solver):
    env = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = [".build/release/cortado", "train", "--solver", solver, "--threads", "1", "--progress", "never"]
    if setup != "1 rank":
        command = ["mpirun", "-np", "2", "--bind-to", "none"] + command
        env["CORTADO_OVERLAP"] = "0" if "no overlap" in setup else "1"
    log = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr
    seconds = float(re.findall(r"iter/s, ([0-9.e+-]+)s/\d+ iters\)", log)[-1])
    talk = re.search(r"Summing gradients took ([0-9.e+-]+) s .*waited for it ([0-9.e+-]+) s", log)
    return seconds, (float(talk.group(1)), float(talk.group(2))) if talk else None

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    print(f"CPU: {cpu}, {os.cpu_count()} cores; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
          f"{args.rounds} alternating rounds; median (min–max)\n")
    print("| workload | setup | s per iteration | images/s | speed-up over 1 rank | gradient thread in MPI calls (incl. waiting for the other rank) | training waiting after backward (not hidden) |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name, (path, iterations) in WORKLOADS.items():
            solver = solver_copy(path, iterations, folder)
            batch = 64 if "LeNet" in name else 100
            times = {s: [] for s in SETUPS}
            talks = {s: [] for s in SETUPS}
            for _ in range(args.rounds):
                for setup in SETUPS:
                    seconds, talk = run(setup, solver)
                    times[setup].append(seconds / iterations)
                    if talk:
                        talks[setup].append(talk)
            base = statistics.median(times["1 rank"])
            for setup in SETUPS:
                t = times[setup]
                ranks = 1 if setup == "1 rank" else 2
                median = statistics.median(t)
                row = [name, setup, f"{median * 1000:.2f} ms ({min(t) * 1000:.2f}–{max(t) * 1000:.2f})",
                       f"{ranks * batch / median:.0f}", f"{ranks * base / median:.2f}×"]
                if talks[setup]:
                    total = median * iterations
                    busy = statistics.median(c for c, _ in talks[setup])
                    waited = statistics.median(w for _, w in talks[setup])
                    row += [f"{busy:.2f} s ({100 * busy / total:.0f}%)", f"{waited:.2f} s ({100 * waited / total:.0f}%)"]
                else:
                    row += ["–", "–"]
                print("| " + " | ".join(row) + " |")

if __name__ == "__main__":
    main()
