#!/usr/bin/env python3
"""The dashboard and the alerts of manifests/components/monitoring read only
metrics the agent exports, and agent/daemon/README.md lists exactly the
families it exports (with their types).

What the agent exports is read from a /metrics text: the output of
gitfed_print_metrics (the registry of AgentMetrics, as a live agent serves
it) or a live agent's (live_metrics_test.py calls check() with it).

usage: metrics_reference_test.py (--metrics-from PROGRAM | --metrics-file FILE) [--expect-missing NAME]
  --expect-missing NAME  rename family NAME in the exported text first and
                         pass only if the check then reports it missing
                         (proof that the check sees a renamed metric)
"""
import argparse
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import assets  # noqa: E402

DOC = os.path.join(assets.ROOT, "agent", "daemon", "README.md")


def documented():
    """{family: type} of the metrics table of agent/daemon/README.md."""
    text = open(DOC).read()
    m = re.search(r"<!-- metrics:begin -->(.*?)<!-- metrics:end -->", text, re.S)
    if not m:
        raise SystemExit("%s: no metrics table (<!-- metrics:begin --> ... <!-- metrics:end -->)" % DOC)
    return dict(re.findall(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \| (\w+) \|", m.group(1), re.M))


def self_test():
    got = assets.referenced('histogram_quantile(0.9, sum by (le) (rate(a_bucket{x="y"}[$__rate_interval]))) '
                            '* on(job, instance) group_left(cluster) b{c=~"$cluster"} > 1e3 or vector(0) '
                            'unless label_values(c_info, cluster)')
    assert got == {"a_bucket", "b", "c_info"}, got


def check(metrics_text, objects=None):
    """Problems (strings): what the assets read that is not exported, and
    where the documentation differs from the export."""
    objects = objects or assets.built_objects()
    series = assets.exported(metrics_text)
    problems = []
    if not series:
        return ["no metric families in the exported text"]
    exprs = [("alert %s" % r["alert"], r["expr"]) for r in assets.alerts(objects)]
    _, dash = assets.dashboard(objects)
    exprs += assets.dashboard_exprs(dash)
    for where, expr in exprs:
        names = assets.referenced(expr)
        if not names:
            problems.append("%s: no metric found in %r" % (where, expr))
        for n in sorted(names - set(series)):
            problems.append("%s reads %s, which the agent does not export" % (where, n))
    exported = assets.families(metrics_text)
    doc = documented()
    for f in sorted(set(exported) - set(doc)):
        problems.append("%s is exported but not in %s" % (f, DOC))
    for f in sorted(set(doc) - set(exported)):
        problems.append("%s is in %s but not exported" % (f, DOC))
    for f in sorted(set(doc) & set(exported)):
        if doc[f] != exported[f]:
            problems.append("%s: %s says %s, the agent exports a %s" % (f, DOC, doc[f], exported[f]))
    print("checked %d expressions (%d alerts, the dashboard's panels and variables) against %d exported families"
          % (len(exprs), len(assets.alerts(objects)), len(exported)))
    return problems


def main():
    p = argparse.ArgumentParser()
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--metrics-from")
    src.add_argument("--metrics-file")
    p.add_argument("--expect-missing")
    a = p.parse_args()
    self_test()
    if a.metrics_from:
        text = subprocess.run([a.metrics_from], capture_output=True, text=True, check=True, timeout=60).stdout
    else:
        text = open(a.metrics_file).read()
    if a.expect_missing:
        if "# TYPE %s " % a.expect_missing not in text:
            print("FAIL: %s is not exported at all" % a.expect_missing)
            return 1
        text = re.sub(r"\b%s\b" % re.escape(a.expect_missing), a.expect_missing + "_renamed", text)
        problems = check(text)
        hits = [x for x in problems if re.search(r" reads %s(_bucket|_sum|_count)?," % re.escape(a.expect_missing), x)]
        print("\n".join(problems))
        if not hits:
            print("FAIL: renaming %s went unnoticed" % a.expect_missing)
            return 1
        print("ok - renaming %s is reported (%d places read it)" % (a.expect_missing, len(hits)))
        return 0
    problems = check(text)
    for x in problems:
        print("FAIL: " + x)
    if problems:
        return 1
    print("ok - the dashboard and the alerts read only exported metrics; the documentation lists every family")
    return 0


if __name__ == "__main__":
    sys.exit(main())
