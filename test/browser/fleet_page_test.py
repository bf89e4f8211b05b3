#!/usr/bin/env python3
"""The fleet page (`gitfed status --html`, docs/status-spec.md) in a real
browser: headless Chromium loads the page made from a generated status branch
of 1,000 clusters with three days of history (a rollout of a second revision,
failed, drifted and stale clusters, a hostile label value), and the test reads
the DOM: tiles and their phases, the counts, the error lines with file and
line, each cluster's timeline segments, the convergence table. Any console
message (an error, an exception, a Content-Security-Policy violation) fails
the test; the harness first proves it sees one. Prints the page's size and
load time; keeps a screenshot under --artifacts.

usage: fleet_page_test.py --binary build/agent/gitfed --work DIR --artifacts DIR
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chromium  # noqa: E402

N = 1000
REGIONS = ["eu-west", "eu-north", "us-east", "us-west", "ap-south"]
checks = 0


def check(cond, what):
  global checks
  checks += 1
  if not cond:
    print("FAIL: " + what, flush=True)
    sys.exit(1)


def iso(t):
  return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def git(args, cwd, stdin=None):
  env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")
  p = subprocess.run(["git"] + args, cwd=cwd, input=stdin, capture_output=True, env=env)
  if p.returncode != 0:
    raise RuntimeError("git %s: %s" % (" ".join(args), p.stderr.decode()))
  return p.stdout.decode().strip()


def report(name, labels, phase, revision, applied, at, errors=(), drift=False, failed=0):
  lab = ", ".join('%s: "%s"' % (k, v.replace('"', '\\"')) for k, v in sorted(labels.items()))
  out = ["apiVersion: gitfed.io/v1alpha1", "kind: ClusterStatus", "metadata:", "  name: " + name,
         "  labels: {%s}" % lab, "source:", "  url: https://git.example/fleet.git", "  ref: main",
         "  revision: " + revision, "sync:", "  phase: " + phase, "  appliedRevision: " + applied,
         '  lastAttemptAt: "%s"' % iso(at), '  message: ""']
  if errors:
    out.append("  errors:")
    for f, line, msg in errors:
      out.append('  - {file: %s, line: %d, message: "%s"}' % (f, line, msg))
  out.append("summary: {objects: 40, synced: %d, drifted: %d, missing: 0, failed: %d, progressing: 0, pruned: 0}"
             % (40 - failed - (1 if drift else 0), 1 if drift else 0, failed))
  if drift:
    out += ["objects:", "- apiVersion: v1", "  kind: Secret", "  namespace: shop", "  name: db", "  state: Drifted",
            "  health: Healthy", "  drift:", '  - {path: /data/password, desired: "<redacted>", live: "<redacted>"}']
  out.append('agent: {version: "0.1.0"}')
  return "\n".join(out) + "\n"


def build_fleet(work, now):
  """A bare repository: main with two revisions, gitfed-status with the
  reports; returns what the page must show."""
  repo = os.path.join(work, "fleet.git")
  shutil.rmtree(repo, ignore_errors=True)
  git(["init", "-q", "--bare", "-b", "main", repo], work)
  t0 = int(now) - 3 * 86400
  stream = []
  for i, rev in enumerate(["first", "second"]):
    stream.append("commit refs/heads/main\ncommitter dev <dev@example> %d +0000\ndata %d\n%s\n"
                  % (t0 - 600 + i, len(rev), rev))
    stream.append("M 644 inline README\ndata %d\n%s\n" % (len(rev), rev))
  git(["fast-import", "--quiet"], repo, "".join(stream).encode())
  b = git(["rev-parse", "main"], repo)
  a = git(["rev-parse", "main~1"], repo)

  rng = random.Random(19)
  clusters = {}
  for i in range(N):
    name = "c-%04d" % i
    labels = {"region": REGIONS[i % len(REGIONS)], "environment": "production" if i % 3 else "staging"}
    if i == 42:
      labels["team"] = "<script>alert(42)</script>"
    clusters[name] = {"labels": labels, "reports": []}
  events = []  # (time, cluster, phase, revision, applied, errors, drift, failed)
  for name in clusters:
    events.append((t0, name, "Synced", a, a, (), False, 0))
  t1 = t0 + 86400
  for i, name in enumerate(clusters):
    start = t1 + i * 30
    events.append((start, name, "Progressing", b, a, (), False, 0))
    events.append((start + 60, name, "Synced", b, b, (), False, 0))
  t2 = t0 + 2 * 86400
  for i, name in enumerate(clusters):
    at = t2 + i * 7 + rng.randrange(5)
    if i % 50 == 7:
      events.append((at, name, "Failed", b, b, (("apps/web.yaml", i % 90 + 1, "override path /spec/x: missing"),),
                     False, 1))
    elif i % 40 == 5:
      events.append((at, name, "Drifted", b, b, (), True, 0))
    elif i % 100 == 3:
      events.append((at, name, "Stale", b, b, (), False, 0))
  events.sort(key=lambda e: (e[0], e[1]))

  stream = []
  first = True
  for at, name, phase, rev, applied, errors, drift, failed in events:
    text = report(name, clusters[name]["labels"], phase, rev, applied, at, errors, drift, failed)
    clusters[name]["reports"].append((at, phase, errors))
    msg = "%s: %s %s" % (name, phase, rev[:7])
    stream.append("commit refs/heads/gitfed-status\ncommitter gitfed %s <gitfed@example> %d +0000\ndata %d\n%s\n"
                  % (name, at, len(msg), msg))
    if first and False:
      pass
    first = False
    data = text.encode()
    stream.append("M 644 inline clusters/%s.yaml\ndata %d\n" % (name, len(data)))
    stream.append(text + "\n")
  git(["fast-import", "--quiet"], repo, "".join(stream).encode())
  last_reach_b = max(r[0] for c in clusters.values() for r in c["reports"] if r[1] == "Synced" and r[0] >= t1)
  return repo, clusters, {"a": a, "b": b, "b_seconds": last_reach_b - t1, "commits": len(events)}


def self_test(work):
  bad = os.path.join(work, "bad.html")
  with open(bad, "w") as f:
    f.write("<!DOCTYPE html><html><body><script>undefinedFunction()</script></body></html>")
  _, console, _ = chromium.load("file://" + bad)
  check(any("undefinedFunction" in m for m in console), "the harness sees a page's console error: %r" % console)


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--binary", required=True)
  ap.add_argument("--work", required=True)
  ap.add_argument("--artifacts", required=True)
  args = ap.parse_args()
  if not os.path.exists(args.binary):
    print("%s not built" % args.binary)
    return 77
  if not chromium.binary():
    print("FAIL: no chromium on this machine (scripts/setup installs Debian's chromium)")
    return 1
  os.makedirs(args.work, exist_ok=True)
  os.makedirs(args.artifacts, exist_ok=True)
  self_test(args.work)

  now = time.time()
  started = time.monotonic()
  repo, clusters, expect = build_fleet(args.work, now)
  print("generated %d clusters, %d report commits in %.1f s" % (N, expect["commits"], time.monotonic() - started))

  page = os.path.join(args.work, "fleet-1000.html")
  started = time.monotonic()
  p = subprocess.run([args.binary, "status", "--html", page, "--group-by", "region", "--stale-after", "30d", repo],
                     capture_output=True, text=True)
  made = time.monotonic() - started
  check(p.returncode == 0, "gitfed status --html exits 0: %s %s" % (p.stdout, p.stderr))
  check(p.stderr == "", "no warnings: %r" % p.stderr)
  size = os.path.getsize(page)

  dom, console, took = chromium.load("file://" + page)
  check(console == [], "no console message: %r" % console[:5])
  root = chromium.parse(dom)
  body = next(root.find_all("body"))
  load_ms = int(body.attrs.get("data-load-ms", "-1"))
  check(load_ms >= 0, "the page's script ran and measured its load")
  print("page: %d clusters, %d bytes, made in %.2f s; load event after %d ms (browser run %.1f s)"
        % (N, size, made, load_ms, took))

  # Tiles: one per cluster, its phase the last report's.
  tiles = {t.attrs["data-cluster"]: t for t in root.find_all("a", cls="tile")}
  check(len(tiles) == N, "%d tiles (got %d)" % (N, len(tiles)))
  by_phase = {}
  for name, c in clusters.items():
    phase = c["reports"][-1][1]
    by_phase[phase] = by_phase.get(phase, 0) + 1
    check(tiles[name].attrs["data-phase"] == phase, "%s's tile is %s" % (name, phase))
  for li in root.find_all("li", cls="phase-count"):
    want = by_phase.get(li.attrs["data-phase"], 0)
    check(int(li.attrs["data-count"]) == want, "count of %s is %d" % (li.attrs["data-phase"], want))
  check(next(root.find_all(id="count-clusters")).attrs["data-count"] == str(N), "the cluster count")
  check(next(root.find_all(id="count-behind")).attrs["data-count"] == "0", "no cluster behind the newest")
  check(sum(1 for _ in root.find_all("div", cls="group")) == len(REGIONS), "one group per region")
  for g in root.find_all("div", cls="group"):
    members = [t.attrs["data-cluster"] for t in g.find_all("a", cls="tile")]
    check(all(clusters[m]["labels"]["region"] == g.attrs["data-group"] for m in members),
          "group %s holds only its region" % g.attrs["data-group"])

  # Error lines with file and line, for every failed cluster.
  for name, c in clusters.items():
    errors = c["reports"][-1][2]
    details = next(root.find_all("details", id="cluster-" + name))
    lines = list(details.find_all("li", cls="error"))
    check(len(lines) == len(errors), "%s has %d error lines" % (name, len(errors)))
    for (f, line, msg), li in zip(errors, lines):
      check(li.attrs["data-file"] == f and li.attrs["data-line"] == str(line), "%s: error at %s:%d" % (name, f, line))
      check(("%s:%d" % (f, line)) in li.all_text() and msg in li.all_text(), "%s: the error's text" % name)

  # The timeline: one segment per report (all within the 7-day window), in order.
  rows = {r.attrs["data-cluster"]: r for r in root.find_all("div", cls="trow")}
  check(len(rows) == N, "a timeline row per cluster")
  for name, c in clusters.items():
    segs = list(rows[name].find_all("rect", cls="seg"))
    check([s.attrs["data-phase"] for s in segs] == [r[1] for r in c["reports"]],
          "%s's timeline shows its %d reports in order" % (name, len(c["reports"])))
    xs = [float(s.attrs["x"]) for s in segs]
    check(xs == sorted(xs) and 0 <= xs[0] and xs[-1] <= 1000, "%s's segments are in time order" % name)

  # Convergence: the second revision reached by all, in the time the last cluster took.
  revs = {r.attrs["data-revision"]: r for r in root.find_all("tr", cls="revision")}
  check(set(revs) == {expect["a"], expect["b"]}, "two revisions in the convergence table")
  rb = revs[expect["b"]]
  check(rb.attrs["data-converged"] == "true" and rb.attrs["data-reached"] == str(N), "the rollout converged")
  check(rb.attrs.get("data-seconds") == str(expect["b_seconds"]),
        "converged in %d s (page: %s)" % (expect["b_seconds"], rb.attrs.get("data-seconds")))

  # The hostile label is text, not markup.
  check(sum(1 for _ in root.find_all("script")) == 1, "only the page's own script")
  check("team=<script>alert(42)</script>" in next(root.find_all("details", id="cluster-c-0042")).all_text(),
        "the hostile label is shown as text")

  png = os.path.join(args.artifacts, "fleet-1000.png")
  chromium.screenshot("file://" + page, png)
  print("screenshot: %s" % png)
  print("fleet page test: %d checks passed" % checks)
  return 0


if __name__ == "__main__":
  sys.exit(main())
