#!/usr/bin/python3
"""run.py — profond against PyTorch, on this machine, in one run (make bench).

Runs each benchmark of bench/ in PyTorch (bench/pytorch/torch_bench.py) and
in profond (build/bench/profond_bench), alternating them round by round, and
prints a table: each side's median, the ratio and the spread. The ratio is
PyTorch's time / profond's time (for throughput: profond / PyTorch), so
above 1 means profond is faster (for memory: uses less). The table is
appended, with the date, CPU, threads, load and versions, to
bench/RESULTS.md. Builds nothing: `make bench` builds first.

PyTorch: Debian's python3-torch (/usr/bin/python3) with OPENBLAS_NUM_THREADS=1
(OpenBLAS's own threads otherwise fight torch's OpenMP threads) and
torch.set_num_threads(T). Another interpreter with torch, e.g. a PyPI torch
in a virtual environment, is given by TORCH_PYTHON (or --torch-python); when
both are there both run, and profond is compared with the faster of the two
in each row, named in the table. A torch running on the reference BLAS
(Debian's libblas3) is refused. Without any torch the PyTorch side is
skipped with a message and only profond's figures are printed.

Standard library only. Options: --only train,infer,... (or BENCH=...),
--quick (one round, short runs, nothing appended), --rounds, --threads,
--no-append. See --help.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TORCH_SCRIPT = os.path.join(HERE, "pytorch", "torch_bench.py")
DEBIAN_PYTHON = "/usr/bin/python3"
REFERENCE_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/blas/"
CHILD_TIMEOUT = 1800  # seconds; a child taking longer is stopped
RETRIES = 2  # a run during which other programs took the cores is done again, at most this often

# The benchmarks: name -> (title, rows). Each row: label, the subcommand and
# its options (the same for both sides), the metric read from the output,
# its unit, and whether lower is better.
TRAIN_EPOCH = ("epoch", "s", True)
BENCHMARKS = {
    "train": ("(1) training epoch, lecture CNN, MNIST, batch 100, SGD lr 0.01", [
        ("train CNN b100", ["train-epoch", "--model", "lecture-cnn", "--batch", "100"], *TRAIN_EPOCH)]),
    "train256": ("(2) training epoch, lecture CNN, MNIST, batch 256, SGD lr 0.01", [
        ("train CNN b256", ["train-epoch", "--model", "lecture-cnn", "--batch", "256"], *TRAIN_EPOCH)]),
    "mlp": ("(3) training epoch, MLP 784-256-256-10, MNIST, batch 100, SGD lr 0.01", [
        ("train MLP b100", ["train-epoch", "--model", "mlp", "--batch", "100"], *TRAIN_EPOCH)]),
    "infer": ("(4) inference throughput, lecture CNN, MNIST test images", [
        ("infer CNN b100", ["infer", "--model", "lecture-cnn", "--batch", "100"], "images_per_second", "img/s", False),
        ("infer CNN b1000", ["infer", "--model", "lecture-cnn", "--batch", "1000"], "images_per_second", "img/s",
         False)]),
    "latency": ("(5) inference latency, lecture CNN, one image (median)", [
        ("latency CNN 1 image", ["latency"], "median_ms", "ms", True)]),
    "alexnet": ("(6) AlexNet-shaped inference, random weights, 3x224x224 (median)", [
        ("AlexNet b1", ["alexnet", "--batch", "1"], "median_ms", "ms", True),
        ("AlexNet b16", ["alexnet", "--batch", "16"], "median_ms", "ms", True)]),
    "memory": ("(7) peak resident memory of a 1-epoch training run (lecture CNN, batch 100)", [
        ("peak RSS, training", ["memory"], "max_rss_kb", "MB", True)]),
    "time99": ("(8) time to 99.0% MNIST test accuracy, lecture CNN (training time, evaluation excluded)", [
        ("time to 99%", ["time-to-99"], "reached", "s", True)]),
}
# The recipe of time-to-99, found by measurement (see bench/README.md):
# the same options go to both sides.
RECIPE = ["--optim", "sgd", "--lr", "0.2", "--momentum", "0.9", "--schedule", "one-cycle", "--batch", "128",
          "--epochs", "3"]
RECIPE_TEXT = ("SGD, one-cycle schedule over 3 epochs (PyTorch's OneCycleLR: max lr 0.2, cosine, momentum 0.95-0.85), "
               "batch 128, test accuracy measured after each epoch, stopping at 99%")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def run_child(command, env):
    """Runs a benchmark process; returns (JSON objects printed, error text)."""
    try:
        p = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {CHILD_TIMEOUT} s"
    objects = []
    for line in p.stdout.splitlines():
        try:
            objects.append(json.loads(line))
        except ValueError:
            pass
    if p.returncode != 0:
        return objects, (p.stderr.strip().splitlines() or ["exit status %d" % p.returncode])[-1]
    return objects, None


# ---- the two sides ---------------------------------------------------------

class Side:
    """One implementation: a command prefix, its environment, a name."""

    def __init__(self, name, prefix, env, info):
        self.name, self.prefix, self.env, self.info = name, prefix, env, info


def torch_side(python, threads, extra_env):
    """A torch interpreter as a Side (named Debian or PyPI after where its
    torch lives), or (None, message) when it has no torch or runs on the
    reference BLAS."""
    env = dict(os.environ, **extra_env)
    objects, error = run_child([python, TORCH_SCRIPT, "info", "--threads", str(threads)], env)
    if error or not objects:
        return None, f"{python}: no usable torch ({error or 'no output'})"
    info = objects[0]
    label = "Debian" if info["torch_file"].startswith("/usr/lib/python3/dist-packages/") else "PyPI"
    reference = [lib for lib in info["blas_libraries"] if lib.startswith(REFERENCE_BLAS_DIR)]
    if reference:
        return None, (f"{label} ({python}): REFUSED: torch runs on the reference BLAS ({reference[0]}), "
                      "whose products are many times slower than OpenBLAS; select OpenBLAS with\n"
                      "  update-alternatives --set libblas.so.3-x86_64-linux-gnu "
                      "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3")
    name = f"{label} torch {info['torch'].split('+')[0]}"
    blas = ", ".join(os.path.basename(lib) + (" (numpy's)" if "numpy" in lib else "")
                     for lib in info["blas_libraries"] if "cublas" not in lib) or "none"
    env_text = " ".join(f"{k}={v}" for k, v in extra_env.items())
    text = (f"{name}: {python} (Python {info['python']}), BLAS_INFO={info['blas_info']}, "
            f"BLAS libraries mapped: {blas}; mkldnn {'on' if info['mkldnn'] else 'off'}; "
            f"torch.set_num_threads({threads}){'; ' + env_text if env_text else ''}")
    return Side(name, [python, TORCH_SCRIPT], env, text), info["config"]


def profond_side(binary, threads):
    blas = "?"
    try:
        ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        blas = ", ".join(os.path.realpath(line.split("=>")[1].split()[0])
                         for line in ldd.splitlines() if "blas" in line and "=>" in line) or "?"
    except (OSError, IndexError):
        pass
    extra = ", ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("OPENBLAS_"))
    text = f"profond {version()}: {binary}, --threads {threads}, BLAS: {blas}" + (f" ({extra})" if extra else "")
    return Side("profond", [binary], dict(os.environ), text)


def version():
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    with open(os.path.join(ROOT, "include", "profond.h")) as f:
        v = next((line.split('"')[1] for line in f if "PF_VERSION_STRING" in line and '"' in line), "?")
    return f"{v} ({commit})" if commit else v


# ---- other programs on the machine ----------------------------------------------
# A shared machine makes timings noisy, and OpenMP programs (PyTorch) suffer
# most: a parallel region waits for its slowest thread. So each run starts
# only once other programs leave the cores nearly idle (waiting at most
# --max-wait seconds over the whole run), and the cores they used during
# each run are measured and reported with the results.

def busy_cpu_seconds():
    """CPU seconds used on this machine so far by everything (/proc/stat:
    all but idle and iowait, steal included: a neighbour's virtual machine
    taking our cores counts as a program taking them)."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def others_cores(seconds=1.0):
    """Cores busy with other programs over the next `seconds` (we sleep)."""
    start = busy_cpu_seconds()
    time.sleep(seconds)
    return (busy_cpu_seconds() - start) / seconds


class Quiet:
    """Waits for the machine to be quiet before each run, within a budget of
    seconds (spent waiting, or on runs done again because other programs
    took the cores meanwhile)."""

    def __init__(self, below, max_wait):
        self.below, self.budget, self.waited = below, max_wait, 0.0

    def exhausted(self):
        return self.waited >= self.budget

    def wait(self):
        busy = others_cores()
        announced = False
        while busy >= self.below and self.waited < self.budget:
            if not announced:
                log(f"    waiting: other programs use {busy:.2f} cores "
                    f"({self.budget - self.waited:.0f} s of waiting left)")
                announced = True
            time.sleep(5)
            self.waited += 6
            busy = others_cores()


def run_measured(command, env):
    """run_child, and the cores other programs used meanwhile."""
    busy, own, start = busy_cpu_seconds(), children_cpu_seconds(), time.perf_counter()
    objects, error = run_child(command, env)
    wall = time.perf_counter() - start
    others = (busy_cpu_seconds() - busy - (children_cpu_seconds() - own)) / wall
    return objects, error, max(0.0, others)


# ---- measuring -------------------------------------------------------------

def metric_values(objects, metric):
    """The samples a run gives: every epoch's seconds, or the one value."""
    if metric == "epoch":
        return [o["seconds"] for o in objects if "epoch" in o]
    if metric == "reached":
        last = next((o for o in objects if "reached" in o), None)
        return [last["seconds"]] if last and last["reached"] else []
    if metric == "max_rss_kb":
        return [o[metric] / 1024 for o in objects if metric in o]
    return [o[metric] for o in objects if metric in o]


def measure(sides, args, metric, rounds, extra, quiet):
    """Runs args on every side `rounds` times, alternating (the order turns
    each round); returns {side name: [samples]}, {side name: [outputs]} and
    the cores other programs used during each run."""
    samples = {s.name: [] for s in sides}
    outputs = {s.name: [] for s in sides}
    others = []
    for r in range(rounds):
        for s in sides[r % len(sides):] + sides[:r % len(sides)]:
            for attempt in range(1 + RETRIES):
                quiet.wait()
                start = time.perf_counter()
                objects, error, busy = run_measured(s.prefix + args + extra, s.env)
                if busy < quiet.below or attempt == RETRIES or quiet.exhausted():
                    break
                log(f"    {s.name}: other programs used {busy:.2f} cores meanwhile: running it again")
                quiet.waited += time.perf_counter() - start
            others.append(busy)
            if error:
                log(f"    {s.name}: FAILED: {error}")
                continue
            values = metric_values(objects, metric)
            samples[s.name] += values
            outputs[s.name].append(objects)
            log(f"    round {r + 1}/{rounds} {s.name}: " + ", ".join(f"{v:.4g}" for v in values) +
                f"  (others used {busy:.2f} cores)")
    return samples, outputs, others


def spread(values):
    """(max - min) / median, in percent."""
    if len(values) < 2:
        return None
    return 100 * (max(values) - min(values)) / statistics.median(values)


def fmt(value):
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value >= 1 else f"{value:.3f}"


# ---- the machine -------------------------------------------------------------

def cpu_model():
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line:
                    key, value = (x.strip() for x in line.split(":", 1))
                    fields.setdefault(key, value)
    except OSError:
        return platform.processor() or "?"
    flags = fields.get("flags", "").split()
    simd = "avx512f" if "avx512f" in flags else "avx2" if "avx2" in flags else "no avx2"
    return (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}, {simd})")


def load_text():
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# ---- running and reporting -------------------------------------------------------

def extra_options(command, a):
    """Options added to a row's command line, and the number of rounds."""
    extra, rounds = ["--threads", str(a.threads)], a.rounds
    quick_training = ["--steps", "50", "--warmup", "5"] if a.quick else []
    if command == "train-epoch":
        extra += ["--epochs", "1"] + quick_training
    elif command in ("infer", "latency", "alexnet"):
        extra += ["--seconds", str(a.seconds)]
    elif command == "memory":
        extra, rounds = extra + quick_training, 1
    elif command == "time-to-99":
        extra += RECIPE + (["--epochs", "1", "--steps", "50"] if a.quick else [])
    return extra, rounds


def describe_time99(sides, outputs):
    """One line per time-to-99 run: when it reached 99%, accuracy by epoch."""
    lines = []
    for s in sides:
        for objects in outputs[s.name]:
            accuracies = ", ".join(f"{100 * o['test_accuracy']:.2f}%" for o in objects if "test_accuracy" in o)
            end = next((o for o in objects if "reached" in o), {})
            outcome = (f"reached 99% after {end['epochs']} epoch(s), {end['seconds']:.1f} s of training"
                       if end.get("reached") else "did not reach 99%")
            lines.append(f"time to 99%, {s.name}: {outcome} (test accuracy by epoch: {accuracies})")
    return lines


def table(results, torches):
    """The Markdown table of the results: medians, ratio, spreads."""
    columns = ["benchmark", "unit"] + torches + ["profond", "ratio", "vs",
                                                 "spread " + " / ".join([t[0] for t in torches] + ["pf"]),
                                                 "others"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for label, unit, lower, samples, others in results:
        medians = {name: statistics.median(v) if v else None for name, v in samples.items()}
        pf = medians["profond"]
        candidates = [t for t in torches if medians[t] is not None]
        best = (min if lower else max)(candidates, key=lambda t: medians[t]) if candidates else None
        ratio = None
        if best and pf:
            ratio = medians[best] / pf if lower else pf / medians[best]
        spreads = []
        for name in torches + ["profond"]:
            value = spread(samples[name])
            spreads.append("-" if value is None else f"{value:.0f}%")
        cells = [label, unit] + [fmt(medians[t]) for t in torches] + [
            fmt(pf), f"{ratio:.2f}" if ratio else "-", best or "-", " / ".join(spreads),
            f"{statistics.mean(others):.2f}" if others else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def append_results(path, title, header, lines, footer):
    new = not os.path.exists(path)
    with open(path, "a") as f:
        if new:
            f.write("# profond against PyTorch: benchmark results\n\n"
                    "Appended by `make bench` (bench/run.py), newest last. Ratios above 1: profond is faster.\n")
        f.write(f"\n## {title}\n\n")
        for line in header:
            f.write(f"- {line}\n")
        f.write("\n" + "\n".join(lines) + "\n\n")
        for line in footer:
            f.write(f"- {line}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=os.environ.get("BENCH", ""),
                   help="comma-separated benchmarks among " + ",".join(BENCHMARKS) + " (default: all; also $BENCH)")
    p.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
                   help="one round, 50 training steps instead of epochs, 0.5 s of forwards; nothing appended")
    p.add_argument("--rounds", type=int, default=3, help="runs of each side per benchmark (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for both sides (default: cores)")
    p.add_argument("--seconds", type=float, default=2.0, help="seconds of forwards per inference run (default 2)")
    p.add_argument("--binary", default=os.path.join(ROOT, os.environ.get("BUILD", "build"), "bench", "profond_bench"))
    p.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", ""),
                   help="another Python with torch (also $TORCH_PYTHON)")
    p.add_argument("--no-debian-torch", action="store_true", help="skip Debian's /usr/bin/python3 torch")
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    p.add_argument("--no-append", action="store_true", help="do not append to bench/RESULTS.md")
    p.add_argument("--quiet-below", type=float, default=0.25,
                   help="start each run once other programs use fewer cores than this (default 0.25)")
    p.add_argument("--max-wait", type=float, default=900,
                   help="seconds of waiting for that (and of runs done again because others took the cores "
                        "meanwhile), over the whole run (default 900; 0: never wait)")
    a = p.parse_args()
    if a.quick:
        a.rounds, a.seconds = 1, 0.5

    selected = [n.strip() for n in a.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"run.py: unknown benchmark {', '.join(unknown)} (choose among {', '.join(BENCHMARKS)})")
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"run.py: {a.binary} not found: build it first (make bench does)")
    data = os.environ.get("PROFOND_DATA", "data")
    if not os.path.isdir(os.path.join(data, "mnist")):
        sys.exit(f"run.py: no MNIST in {data}/mnist (set PROFOND_DATA; scripts/fetch-mnist.sh downloads it)")

    # The sides: Debian's torch, the other torch, profond.
    start_load = load_text()
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    header = [f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
              f"threads: {a.threads} on both sides; {a.rounds} round(s) (memory: 1), the sides alternating"
              + ("; QUICK mode (50 training steps, not epochs)" if a.quick else ""),
              f"libblas.so.3 (Debian alternatives) -> {os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')}"]
    notes, sides, configs = [], [], {}
    pythons = [] if a.no_debian_torch else [(DEBIAN_PYTHON, {"OPENBLAS_NUM_THREADS": "1"})]
    if a.torch_python and os.path.realpath(a.torch_python) != os.path.realpath(DEBIAN_PYTHON):
        pythons.append((a.torch_python, {}))
    for python, extra_env in pythons:
        side, detail = torch_side(python, a.threads, extra_env)
        if side:
            sides.append(side)
            configs[side.name] = detail
            header.append(side.info)
        else:
            log("run.py: " + detail)
            notes.append(detail)
    if not sides:
        message = ("PyTorch side SKIPPED: no usable torch (install Debian's python3-torch, or set TORCH_PYTHON "
                   "to a Python with torch); only profond's figures are given")
        log("run.py: " + message)
        notes.append(message)
    torches = [s.name for s in sides]
    sides.append(profond_side(a.binary, a.threads))
    header.append(sides[-1].info)
    log(f"date: {date}")
    for line in header:
        log(line)
    for name, config in configs.items():
        log(f"--- {name}: torch.__config__.show() ---\n{config.strip()}")
    log(f"load average at start: {start_load}")

    # The runs.
    results = []  # (label, unit, lower_better, samples, others' cores during each run)
    quiet = Quiet(a.quiet_below, a.max_wait)
    time99 = []
    began = time.time()
    for key in selected:
        title, rows = BENCHMARKS[key]
        log(f"\n{title}")
        for label, args, metric, unit, lower in rows:
            extra, rounds = extra_options(args[0], a)
            samples, outputs, others = measure(sides, args, metric, rounds, extra, quiet)
            if args[0] == "time-to-99":
                time99 = describe_time99(sides, outputs)
                for line in time99:
                    log("    " + line)
            results.append((label, unit, lower, samples, others))
    minutes = (time.time() - began) / 60

    lines = table(results, torches)
    busy_rows = [r[0] for r in results if r[4] and statistics.mean(r[4]) >= a.quiet_below]
    if busy_rows:
        notes.append(f"WARNING: other programs used {a.quiet_below} cores or more during {', '.join(busy_rows)}: "
                     "those figures are less reliable (OpenMP programs, PyTorch, suffer most from shared cores)")
    footer = [f"load average (1/5/15 min) at start {start_load}, at end {load_text()}; "
              f"the run took {minutes:.1f} min",
              "ratio = PyTorch / profond for times and memory, profond / PyTorch for images/s: above 1, profond "
              "is faster (uses less); compared with the faster torch of each row (column vs)",
              "spread = (max - min) / median of each side's samples, in the order of the columns (pf: profond); "
              "'-' with a single sample",
              "others = cores used by other programs during the row's runs, on average (each run started once "
              f"they used fewer than {a.quiet_below} cores, and was done again, up to {RETRIES} times, when they "
              f"used more meanwhile, within {a.max_wait:.0f} s of waiting and redoing in all; "
              f"this run spent {quiet.waited:.0f} s so)",
              f"time to 99%: {RECIPE_TEXT}; '-' where 99% was not reached",
              "peak RSS: ru_maxrss of the whole process (the Python interpreter and torch's libraries count "
              "on the PyTorch side)"] + time99 + notes
    print(f"\ndate: {date}")
    print("\n".join(header + [""] + lines + [""] + footer))

    if a.quick or a.no_append:
        log("\n(not appended to RESULTS.md: " + ("quick mode)" if a.quick else "--no-append)"))
        return
    cpu = cpu_model().split(" (")[0]
    title = f"{date}, {cpu}, {a.threads} threads" + (f" (only {','.join(selected)})" if a.only else "")
    append_results(a.results, title, header, lines, footer)
    log(f"\nappended to {a.results}")


if __name__ == "__main__":
    main()
