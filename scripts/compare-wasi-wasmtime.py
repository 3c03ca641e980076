#!/usr/bin/env python3
"""Dev-only: runs the WASI test programs (tests/wasi/*.wasm) and the benchmark corpus
(../shared/bench/wasm, if present) under `wasmc run` and under wasmtime (the `wasmtime`
package from PyPI: `pip install wasmtime`), with the same arguments, environment, stdin and
fresh copies of the same directories, and compares stdout and the exit status. The tests do
not depend on this; it is a cross-check against the reference runtime.

Usage: scripts/compare-wasi-wasmtime.py [PATH/TO/wasmc]   (default: target/release/wasmc)
Exit status 0 if every case matches (or differs only where listed as expected).
"""

import os
import shutil
import subprocess
import sys
import tempfile

try:
    import wasmtime
except ImportError:
    sys.exit("the wasmtime package is not installed (pip install wasmtime)")

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
WASI = os.path.join(ROOT, "tests", "wasi")
BENCH = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", "wasm"))


def setup_sandbox(root):
    """The directory layout tests/all/wasi.rs builds for sandbox.wasm and files.wasm."""
    for d in ["sandbox/sub", "outside", "ro/sub"]:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    with open(os.path.join(root, "outside/secret.txt"), "w") as f:
        f.write("secret\n")
    with open(os.path.join(root, "ro/ro.txt"), "w") as f:
        f.write("read only\n")
    with open(os.path.join(root, "sandbox/inside.txt"), "w") as f:
        f.write("inside\n")
    os.symlink("../outside/secret.txt", os.path.join(root, "sandbox/link_rel"))
    os.symlink(os.path.join(root, "outside/secret.txt"), os.path.join(root, "sandbox/link_abs"))
    os.symlink("../outside", os.path.join(root, "sandbox/link_dir"))


# (name, wasm, args, env, stdin, dirs [(rel host, guest, writable)], needs sandbox setup,
#  compare stdout?)
CASES = [
    ("args_env", "args_env.wasm", ["one", "two words", "--three", ""],
     [("GREETING", "hello, world"), ("EMPTY", "")], b"", [], False, True),
    ("stdin_echo", "stdin_echo.wasm", [], [], b"first line\nsecond line\nno newline", [], False, True),
    ("files", "files.wasm", [], [], b"", [("sandbox", "/sandbox", True)], True, True),
    ("clocks", "clocks.wasm", [], [], b"", [], False, True),
    # Random bytes differ between any two runs; only the second line is compared.
    ("random", "random.wasm", [], [], b"", [], False, False),
    ("exit_code_7", "exit_code.wasm", ["7"], [], b"", [], False, True),
    ("exit_code_0", "exit_code.wasm", [], [], b"", [], False, True),
    ("trap", "trap.wasm", [], [], b"", [], False, True),
    ("sandbox", "sandbox.wasm", [], [], b"",
     [("sandbox", "/sandbox", True), ("ro", "/ro", False)], True, True),
]

# Lines that differ on purpose: wasmtime does not implement the CPU-time clocks
# (clock_getres/clock_gettime fail there), wasmc reads them with clock_gettime(2); and
# wasmtime lets a descriptor opened with O_CREAT|O_RDONLY write, where wasmc (like POSIX)
# returns EBADF; and wasmtime no longer implements fd_fdstat_set_rights (ENOTSUP), where
# wasmc lets rights be dropped, as preview1 specifies.
KNOWN_DIFFERENCES = {
    "clocks": ["cputime"],
    "files": ["O_CREAT|O_RDONLY", "write right", "without the right"],
}


def run_wasmc(wasmc, wasm, argv0, args, env, stdin, dirs, root):
    cmd = [wasmc, "run"]
    for host, guest, writable in dirs:
        cmd += ["--dir" if writable else "--dir-readonly", f"{os.path.join(root, host)}::{guest}"]
    for k, v in env:
        cmd += ["--env", f"{k}={v}"]
    cmd += [wasm] + args
    p = subprocess.run(cmd, input=stdin, capture_output=True)
    # argv[0] is MODULE as given (an absolute path here); wasmtime gets the bare file name,
    # so the path is rewritten before comparing.
    out = p.stdout.replace(wasm.encode(), argv0.encode())
    return out, p.returncode


def run_wasmtime(wasm, argv0, args, env, stdin, dirs, root):
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, wasm)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    cfg = wasmtime.WasiConfig()
    cfg.argv = [argv0] + args
    cfg.env = env
    with tempfile.TemporaryDirectory() as io_dir:
        stdin_path = os.path.join(io_dir, "stdin")
        stdout_path = os.path.join(io_dir, "stdout")
        with open(stdin_path, "wb") as f:
            f.write(stdin)
        cfg.stdin_file = stdin_path
        cfg.stdout_file = stdout_path
        cfg.stderr_file = os.path.join(io_dir, "stderr")
        for host, guest, writable in dirs:
            cfg.preopen_dir(os.path.join(root, host), guest, writable)
        store.set_wasi(cfg)
        status = 0
        try:
            instance = linker.instantiate(store, module)
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            status = e.code
        except wasmtime.Trap:
            status = 134
        with open(stdout_path, "rb") as f:
            return f.read(), status


def main():
    wasmc = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/wasmc"))
    failures = 0
    for name, wasm, args, env, stdin, dirs, sandbox, compare in CASES:
        results = []
        for runner in ("wasmc", "wasmtime"):
            with tempfile.TemporaryDirectory() as root:
                if sandbox:
                    setup_sandbox(root)
                path = os.path.join(WASI, wasm)
                if runner == "wasmc":
                    results.append(run_wasmc(wasmc, path, wasm, args, env, stdin, dirs, root))
                else:
                    results.append(run_wasmtime(path, wasm, args, env, stdin, dirs, root))
        (a_out, a_st), (b_out, b_st) = results
        if not compare:
            a_out, b_out = a_out.splitlines()[1:], b_out.splitlines()[1:]
        elif name in KNOWN_DIFFERENCES:
            skip = [k.encode() for k in KNOWN_DIFFERENCES[name]]
            a_out = [l for l in a_out.splitlines() if not any(k in l for k in skip)]
            b_out = [l for l in b_out.splitlines() if not any(k in l for k in skip)]
        if a_out == b_out and a_st == b_st:
            print(f"same      {name} (status {a_st})")
        else:
            failures += 1
            print(f"DIFFERENT {name}: wasmc status {a_st}, wasmtime status {b_st}")
            a_lines = a_out if isinstance(a_out, list) else a_out.splitlines()
            b_lines = b_out if isinstance(b_out, list) else b_out.splitlines()
            for i in range(max(len(a_lines), len(b_lines))):
                x = a_lines[i] if i < len(a_lines) else b"<none>"
                y = b_lines[i] if i < len(b_lines) else b"<none>"
                if x != y:
                    print(f"    wasmc:    {x.decode(errors='replace')}")
                    print(f"    wasmtime: {y.decode(errors='replace')}")
    if os.path.isdir(BENCH):
        for wasm in sorted(os.listdir(BENCH)):
            path = os.path.join(BENCH, wasm)
            a = run_wasmc(wasmc, path, wasm, [], [], b"", [], ROOT)
            b = run_wasmtime(path, wasm, [], [], b"", [], ROOT)
            same = a == b
            failures += not same
            print(f"{'same     ' if same else 'DIFFERENT'} bench/{wasm}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
