#!/usr/bin/env python3
"""gitfed's kustomize build against the real kustomize (issue 17, part 4).

    equivalence_test.py GITFED [--kustomize BIN] [--cases DIR] [--case NAME]...
                        [--random N] [--seed S] [--order any|kustomize|apply]
                        [--oracle-only] [--jobs N] [--keep DIR]

For every case directory under cases/ (and N generated trees, random_trees.py)
it builds each directory listed in the case's expect.yaml with `kustomize
build DIR` (the pinned v5.8.1 of test/env/build-kustomize) and `gitfed
kustomize DIR`, and compares them:

- both succeed: the documents of both streams, parsed and normalised to JSON
  (integral floats as integers, timestamps as the strings they are), must be
  the same multiset of objects, keyed by apiVersion/kind/namespace/name; every
  difference is printed as a unified diff of the two objects. The order must
  be kustomize's own or gitfed's apply order (docs/render-spec.md section 7),
  `--order` says which one (default: either).
- kustomize fails: gitfed must fail too (exit 1, nothing on stdout), with at
  least one `file:line: message` line on stderr, naming the case's
  `error_file` (and `error_line`) when expect.yaml gives them.
- expect: unsupported: gitfed must fail with `not supported` and file:line
  (and `error_text`, e.g. the field's name); kustomize must fail as well
  unless the case says `kustomize: skip` (remote URLs: not fetched here).

expect.yaml (all keys optional): build (list of directories, default [.]),
expect (ok | error | unsupported; default ok), objects (kustomize's object
count, one per build: the corpus's own check of the oracle), error_file (a
path relative to the case, or a list of them: any), error_line, error_text,
kustomize (run | skip | builds: kustomize must build it, gitfed must still say
`not supported`, for the fields gitfed leaves out on purpose).

`--oracle-only` checks the kustomize side alone (expect.yaml against
kustomize; the random trees are generated and built), for when gitfed has no
`kustomize` command yet. Without it, a gitfed that has no `kustomize`
command makes the test skip (exit 77). Exit 0 when everything matched, 1
otherwise; every failure names its case (and a random tree's seed, with the
command that rebuilds just that tree).
"""
import argparse
import concurrent.futures
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml  # python3-yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_trees  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_TIMEOUT = 120  # seconds for one build of one tool; the corpus's take < 1 s
SKIP = 77

# docs/render-spec.md, section 7: the apply order of gitfed's output.
KIND_RANK = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
             "ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume",
             "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding",
             "Role", "RoleBinding", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
             "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass",
             "Ingress", "APIService"]
ERROR_LINE = re.compile(r"^(?P<file>[^\s:][^:\n]*):(?P<line>\d+): (?P<msg>.+)$", re.M)


class Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):
    """The safe loader without the YAML 1.1 timestamp type: a date stays the
    string it is (as in a Kubernetes object read as JSON)."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def normalise(v):
    if isinstance(v, dict):
        return {str(k): normalise(x) for k, x in v.items()}
    if isinstance(v, list):
        return [normalise(x) for x in v]
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    if isinstance(v, bytes):  # !!binary
        return v.decode("latin-1")
    return v


def parse_stream(text):
    """The objects of a YAML stream, normalised; raises ValueError."""
    try:
        docs = list(yaml.load_all(text, Loader=Loader))
    except yaml.YAMLError as e:
        raise ValueError("not a YAML stream: %s" % e)
    out = []
    for d in docs:
        if d is None:
            continue
        if not isinstance(d, dict):
            raise ValueError("a document is not a mapping: %r" % (d,))
        out.append(normalise(d))
    return out


def identity(o):
    md = o.get("metadata") or {}
    return "%s %s %s/%s" % (o.get("apiVersion", "?"), o.get("kind", "?"), md.get("namespace", ""), md.get("name", "?"))


def apply_order_key(o):
    kind = o.get("kind", "")
    rank = KIND_RANK.index(kind) if kind in KIND_RANK else len(KIND_RANK)
    api = o.get("apiVersion", "")
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    md = o.get("metadata") or {}
    ns = md.get("namespace")
    return (rank, group, 0 if not ns else 1, ns or "", md.get("name", ""))


def pretty(o):
    return json.dumps(o, indent=2, sort_keys=True, ensure_ascii=False).splitlines()


def differences(a, b, path=""):
    """The paths where A and B differ, as `path: A-value != B-value`."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            p = "%s.%s" % (path, k) if path else k
            if k not in b:
                out.append("%s: only in kustomize's" % p)
            elif k not in a:
                out.append("%s: only in gitfed's" % p)
            else:
                out += differences(a[k], b[k], p)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, "%s[%d]" % (path, i))]
    if a == b and type(a) is type(b):
        return []
    return ["%s: %s != %s" % (path or "(object)", json.dumps(a)[:80], json.dumps(b)[:80])]


def compare_objects(want, got, order_mode):
    """Problems (strings) between kustomize's objects WANT and gitfed's GOT."""
    problems = []
    by_id_w, by_id_g = {}, {}
    for o in want:
        by_id_w.setdefault(identity(o), []).append(o)
    for o in got:
        by_id_g.setdefault(identity(o), []).append(o)
    for k in sorted(set(by_id_w) | set(by_id_g)):
        w, g = by_id_w.get(k, []), by_id_g.get(k, [])
        if not g:
            problems.append("missing from gitfed's output: %s" % k)
            continue
        if not w:
            problems.append("not in kustomize's output: %s\n%s" % (k, "\n".join("  " + l for l in pretty(g[0])[:60])))
            continue
        if len(w) != len(g):
            problems.append("%s: kustomize has %d of it, gitfed %d" % (k, len(w), len(g)))
            continue
        ws = sorted(json.dumps(x, sort_keys=True) for x in w)
        gs = sorted(json.dumps(x, sort_keys=True) for x in g)
        for a, b in zip(ws, gs):
            if a != b:
                diff = difflib.unified_diff(pretty(json.loads(a)), pretty(json.loads(b)),
                                            "kustomize", "gitfed", n=3, lineterm="")
                where = differences(json.loads(a), json.loads(b))
                problems.append("%s differs (kustomize's != gitfed's):\n%s\n%s" % (
                    k, "\n".join("  " + l for l in where[:12]), "\n".join("  " + l for l in list(diff)[:120])))
    if not problems:
        ids_w = [identity(o) for o in want]
        ids_g = [identity(o) for o in got]
        ids_apply = [identity(o) for o in sorted(want, key=apply_order_key)]
        ok = {"kustomize": ids_g == ids_w, "apply": ids_g == ids_apply}
        if not (ok["kustomize"] or ok["apply"]) if order_mode == "any" else not ok[order_mode]:
            problems.append("order: gitfed's is %s:\n  gitfed:    %s\n  kustomize: %s\n  apply:     %s"
                            % ("neither kustomize's nor the apply order" if order_mode == "any"
                               else "not the %s order" % order_mode,
                               ", ".join(ids_g), ", ".join(ids_w), ", ".join(ids_apply)))
    return problems


def run_tool(args, cwd):
    try:
        r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                           env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
        return r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % BUILD_TIMEOUT


def error_lines(stderr):
    return [m.groupdict() for m in ERROR_LINE.finditer(stderr)]


def names_file(entry, expected, case_dir, build):
    """Whether the error line's file is EXPECTED (relative to the case):
    gitfed may print it relative to the working directory (the case) or to
    the directory it builds."""
    f = entry["file"]
    cands = {os.path.normpath(f), os.path.normpath(os.path.join(build, f))}
    if os.path.isabs(f):
        cands.add(os.path.relpath(f, case_dir))
    if os.path.normpath(expected) in cands:
        return True
    # Relative to the repository root (render-spec 12.7: the nearest .git
    # ancestor, else /): a tail of the absolute path.
    full = os.path.normpath(os.path.join(os.path.abspath(case_dir), expected))
    return not os.path.isabs(f) and (full.endswith("/" + os.path.normpath(f)) and
                                     os.path.normpath(f).endswith(os.path.normpath(expected)))


def check_failure(case, build, spec, code, out, err, unsupported):
    problems = []
    if code != 1:
        problems.append("gitfed should fail with exit 1 (kustomize rejects it), got %s; stdout %d bytes" % (code, len(out)))
    if out.strip():
        problems.append("gitfed failed but printed objects to stdout")
    lines = error_lines(err)
    if not lines:
        problems.append("gitfed's stderr has no `file:line: message` line")
    files = spec.get("error_file")
    if files:
        files = files if isinstance(files, list) else [files]
        named = [e for e in lines if any(names_file(e, f, case, build) for f in files)]
        if not named:
            problems.append("no error line names %s" % " or ".join(files))
        elif spec.get("error_line") and not any(int(e["line"]) == int(spec["error_line"]) for e in named):
            problems.append("the error on %s is not at line %s" % (files[0], spec["error_line"]))
    if unsupported:
        if not any("not supported" in e["msg"] for e in lines):
            problems.append("no `file:line: ... not supported` line")
        if spec.get("error_text") and spec["error_text"] not in err:
            problems.append("stderr does not mention %r" % spec["error_text"])
    if problems:
        problems.append("gitfed's stderr:\n" + "\n".join("  " + l for l in err.strip().splitlines()[:20]))
    return problems


def check_case(name, case_dir, spec, tools, opts):
    """Problems of one case directory, [(label, problem)], and how many of
    its builds kustomize rejected."""
    builds = spec.get("build") or ["."]
    counts = spec.get("objects")
    if counts is not None and not isinstance(counts, list):
        counts = [counts]
    expect = spec.get("expect", "ok")  # or error, unsupported; any: whatever kustomize says
    results = []
    rejected = 0
    for i, build in enumerate(builds):
        label = name if build == "." else "%s/%s" % (name, build)
        problems = []
        k_code, k_out, k_err = (None, "", "")
        run_k = spec.get("kustomize", "run") != "skip"
        if run_k:
            k_code, k_out, k_err = run_tool([tools["kustomize"], "build", build], case_dir)
            if k_code is None:
                problems.append("kustomize: " + k_err)
        k_ok = run_k and k_code == 0
        if run_k and not k_ok:
            rejected += 1
        if run_k and expect == "ok" and not k_ok:
            problems.append("kustomize rejects a case meant to build:\n  " + k_err.strip()[-1500:])
        k_builds = spec.get("kustomize") == "builds"  # a field kustomize has and gitfed not
        if run_k and expect in ("error", "unsupported") and k_ok and not k_builds:
            problems.append("kustomize builds a case meant to fail (expect: %s)" % expect)
        if k_builds and not k_ok:
            problems.append("kustomize should build this (kustomize: builds):\n  " + k_err.strip()[-1500:])
        want = None
        if k_ok and not k_builds:
            try:
                want = parse_stream(k_out)
            except ValueError as e:
                problems.append("kustomize's output: %s" % e)
            if want is not None and counts and i < len(counts) and counts[i] is not None and len(want) != counts[i]:
                problems.append("kustomize made %d objects, expect.yaml says %d" % (len(want), counts[i]))
        if not opts.oracle_only and not problems:
            g_code, g_out, g_err = run_tool([tools["gitfed"], "kustomize", build], case_dir)
            if expect == "unsupported" or (run_k and not k_ok):
                problems += check_failure(case_dir, build, spec, g_code, g_out, g_err, expect == "unsupported")
            elif g_code != 0:
                problems.append("gitfed failed (exit %s) where kustomize builds:\n%s"
                                % (g_code, "\n".join("  " + l for l in g_err.strip().splitlines()[:20])))
            else:
                try:
                    got = parse_stream(g_out)
                    problems += compare_objects(want, got, opts.order)
                except ValueError as e:
                    problems.append("gitfed's output: %s" % e)
        results += [(label, p) for p in problems]
    return results, rejected


def load_spec(case_dir):
    p = os.path.join(case_dir, "expect.yaml")
    if not os.path.exists(p):
        return {}
    with open(p) as f:
        return yaml.safe_load(f) or {}


def find_kustomize(explicit):
    if explicit:
        return explicit
    scripts = os.environ.get("GITFED_TEST_ENV_SCRIPTS") or os.path.join(HERE, "..", "..", "env")
    r = subprocess.run([os.path.join(scripts, "build-kustomize"), "--print-bin-dir"],
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit("FAIL: test/env/build-kustomize: " + r.stderr.strip()[-1500:])
    return os.path.join(r.stdout.strip().splitlines()[-1], "kustomize")


def gitfed_has_kustomize(gitfed):
    r = subprocess.run([gitfed, "kustomize", "--help"], capture_output=True, text=True, timeout=30)
    return 'unknown command "kustomize"' not in r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gitfed", nargs="?", help="the gitfed binary (not needed with --oracle-only)")
    ap.add_argument("--kustomize", help="kustomize binary (default: test/env/build-kustomize's)")
    ap.add_argument("--cases", default=os.path.join(HERE, "cases"))
    ap.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    ap.add_argument("--random", type=int, default=0, metavar="N", help="also N random base+overlay trees")
    ap.add_argument("--seed", type=int, help="first seed of the random trees (default: from the clock)")
    ap.add_argument("--order", choices=["any", "kustomize", "apply"], default="any")
    ap.add_argument("--oracle-only", action="store_true", help="check the kustomize side only")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--keep", help="write every failing random tree under this directory")
    opts = ap.parse_args()

    tools = {"kustomize": find_kustomize(opts.kustomize)}
    version = subprocess.run([tools["kustomize"], "version"], capture_output=True, text=True).stdout.strip()
    print("kustomize: %s (%s)" % (tools["kustomize"], version))
    if not opts.oracle_only:
        if not opts.gitfed:
            ap.error("GITFED is required unless --oracle-only")
        tools["gitfed"] = os.path.abspath(opts.gitfed)
        if not os.access(tools["gitfed"], os.X_OK):
            print("SKIP: %s is not built (cmake --build first)" % tools["gitfed"])
            return SKIP
        if not gitfed_has_kustomize(tools["gitfed"]):
            print("SKIP: %s has no `kustomize` command yet (issue 17, part 2)" % tools["gitfed"])
            return SKIP
        print("gitfed: %s" % tools["gitfed"])

    names = sorted(d for d in os.listdir(opts.cases) if os.path.isdir(os.path.join(opts.cases, d)))
    if opts.case:
        unknown = set(opts.case) - set(names)
        if unknown:
            ap.error("no such case: %s" % ", ".join(sorted(unknown)))
        names = [n for n in names if n in opts.case]

    start = time.monotonic()
    failures = []
    checked = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        futs = {pool.submit(check_case, n, os.path.join(opts.cases, n),
                            load_spec(os.path.join(opts.cases, n)), tools, opts): n for n in names}
        for fut in concurrent.futures.as_completed(futs):
            checked += 1
            res, _ = fut.result()
            print("%s %s" % ("FAIL" if res else "ok  ", futs[fut]), flush=True)
            failures += res

        if opts.random:
            seed = opts.seed if opts.seed is not None else int(time.time()) % 1000000
            print("random trees: %d, seeds %d..%d (rerun one: --random 1 --seed S)" % (opts.random, seed, seed + opts.random - 1))
            work = tempfile.mkdtemp(prefix="gitfed-kustomize-random-")
            futs = {}
            for i in range(opts.random):
                s = seed + i
                root = os.path.join(work, "tree-%d" % s)
                spec = random_trees.make_tree(random.Random(s), root)
                futs[pool.submit(check_case, "random seed %d" % s, root, spec, tools, opts)] = (s, root)
            stats = {"ok": 0, "error": 0}
            for fut in concurrent.futures.as_completed(futs):
                s, root = futs[fut]
                res, rejected = fut.result()
                checked += 1
                if res:
                    print("FAIL random tree, seed %d (rerun: %s %s --random 1 --seed %d)"
                          % (s, sys.argv[0], opts.gitfed or "--oracle-only", s), flush=True)
                    failures += res
                    if opts.keep:
                        shutil.copytree(root, os.path.join(opts.keep, "tree-%d" % s), dirs_exist_ok=True)
                stats["error" if rejected else "ok"] += 1
            shutil.rmtree(work, ignore_errors=True)
            print("random trees: %(ok)d built by kustomize, %(error)d rejected by it" % stats)

    for label, problem in sorted(failures, key=lambda f: f[0]):
        print("\n--- %s: %s" % (label, problem))
    print("\n%d case(s)/tree(s) in %.1f s: %d problem(s)%s" % (
        checked, time.monotonic() - start, len(failures), " (kustomize side only)" if opts.oracle_only else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
