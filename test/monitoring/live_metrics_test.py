#!/usr/bin/env python3
"""A live `gitfed agent` against the test environment's kube-apiserver and a
file:// repository: `promtool check metrics` passes on its /metrics (exit 0,
no lint problem printed) after a synced round and after a broken commit
(every labelled family then has series), the dashboard and the alerts read
only metrics it exports (metrics_reference_test.check), and the metrics the
alerts need say what happened: leader, phase, the revision behind and since
when, the drift mode, the process start time.

usage: live_metrics_test.py GITFED_BINARY PROMTOOL   (ctest: integration.monitoring.live-metrics)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics_reference_test  # noqa: E402

checks = 0


def require(cond, msg):
    global checks
    if not cond:
        raise SystemExit("FAIL: " + msg)
    checks += 1
    print("ok %d - %s" % (checks, msg))


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    if r.returncode != 0:
        raise SystemExit("FAIL: %s: %s" % (" ".join(args), (r.stdout + r.stderr).strip()[-1500:]))
    return r.stdout


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise SystemExit("FAIL: timed out after %ds waiting for %s" % (timeout, what))


def samples(text, name, labels=None):
    """The values of `name`'s series whose labels include `labels`."""
    out = []
    for line in text.splitlines():
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$", line)
        if m and m.group(1) == name and all('%s="%s"' % kv in (m.group(2) or "") for kv in (labels or {}).items()):
            out.append(float(m.group(3)))
    return out


def value(text, name, labels=None):
    v = samples(text, name, labels)
    return v[0] if len(v) == 1 else None


class Agent:
    def __init__(self, binary, config, log):
        self.log = log
        self.logf = open(log, "w")
        self.proc = subprocess.Popen([binary, "agent", "--config", config], stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.port = wait_for("the agent logging its HTTP port", self.logged_port, 30)

    def logged_port(self):
        if self.proc.poll() is not None:
            raise SystemExit("FAIL: the agent exited (%s); log:\n%s" % (self.proc.returncode, open(self.log).read()[-3000:]))
        for line in open(self.log, errors="replace"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "serving HTTP" and entry.get("port"):
                return int(entry["port"])
        return None

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5) as r:
            return r.read().decode()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.logf.close()


def promtool_check(promtool, text, when):
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    out = (r.stdout + r.stderr).strip()
    require(r.returncode == 0 and not out, "promtool check metrics %s: exit %d%s" % (when, r.returncode, (", " + out) if out else ""))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, promtool = sys.argv[1], sys.argv[2]
    if not os.access(binary, os.X_OK):
        print("%s not built" % binary)
        return 77
    kubeconfig = os.environ["GITFED_TEST_KUBECONFIG"]
    git_root = os.environ["GITFED_TEST_GIT_ROOT"]
    tag = "%d-%d" % (os.getpid(), int(time.time()) % 100000)
    ns = "gitfed-mon-" + tag
    kenv = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    kubectl = ["kubectl", "--kubeconfig", kubeconfig, "--request-timeout=30s"]
    bare = os.path.join(git_root, "monitoring-%s.git" % tag)
    work = tempfile.mkdtemp(prefix="gitfed-mon-")
    agent = None
    try:
        run(kubectl + ["create", "namespace", ns], env=kenv)
        run(["git", "init", "-q", "--bare", "-b", "main", bare])
        checkout = os.path.join(work, "checkout")
        os.makedirs(checkout)
        git = ["git", "-C", checkout, "-c", "user.name=t", "-c", "user.email=t@example.com"]
        run(git + ["init", "-q", "-b", "main"])
        run(git + ["remote", "add", "origin", bare])

        def commit(name, text, message):
            with open(os.path.join(checkout, name), "w") as f:
                f.write(text)
            run(git + ["add", "-A"])
            run(git + ["commit", "-q", "-m", message])
            run(git + ["push", "-q", "origin", "main"])
            return run(git + ["rev-parse", "HEAD"]).strip()

        commit("web.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: %s}\ndata: {k: v}\n" % ns, "web")
        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write("cluster: mon-test\nrepository: {url: 'file://%s', ref: main}\n" % bare)
            f.write("interval: 1s\ndriftInterval: 1m\nretryMin: 1s\nretryMax: 2s\n")
            f.write("inventory: {namespace: %s}\n" % ns)
            f.write("leaderElection: {leaseNamespace: %s, identity: mon-a}\n" % ns)
            f.write("status: {branch: gitfed-status, email: mon@gitfed.test}\n")
            f.write("kube: {kubeconfig: '%s'}\n" % kubeconfig)
            f.write("httpAddress: '127.0.0.1:0'\ncacheDir: '%s'\nlogFormat: json\n" % os.path.join(work, "cache"))
        started = time.time()
        agent = Agent(binary, config, os.path.join(work, "agent.log"))

        def synced():
            t = agent.metrics()
            return t if (value(t, "gitfed_leader") == 1 and value(t, "gitfed_phase", {"phase": "Synced"}) == 1
                         and (value(t, "gitfed_status_writes_total", {"outcome": "Committed"}) or 0) >= 1) else None
        text = wait_for("the agent to lead, sync and write its report", synced, 60)
        require(True, "the agent leads, has synced and written its report to the status branch")
        promtool_check(promtool, text, "after a synced round")
        require(value(text, "gitfed_revision_behind") == 0 and value(text, "gitfed_revision_behind_since_timestamp_seconds") == 0,
                "not behind the newest revision")
        require(value(text, "gitfed_drift_mode", {"mode": "self-heal"}) == 1
                and value(text, "gitfed_drift_mode", {"mode": "report-only"}) == 0, "drift mode self-heal")
        require(value(text, "gitfed_poll_interval_seconds") == 1, "poll interval 1 s")
        start = value(text, "process_start_time_seconds")
        require(start is not None and started - 5 <= start <= time.time(),
                "process_start_time_seconds %s is when the agent started (%.1f)" % (start, started))
        problems = metrics_reference_test.check(text)
        require(not problems, "the dashboard and the alerts read only metrics the live agent exports" + "".join("; " + p for p in problems))

        before = time.time()
        commit("bad.yaml", "a: [\n", "broken")

        def behind():
            t = agent.metrics()
            return t if value(t, "gitfed_revision_behind") == 1 and value(t, "gitfed_phase", {"phase": "Failed"}) == 1 else None
        text = wait_for("the broken commit to be reported behind and Failed", behind, 60)
        since = value(text, "gitfed_revision_behind_since_timestamp_seconds")
        require(before - 1 <= since <= time.time(), "behind since the broken commit was seen (%.1f, pushed %.1f)" % (since, before))
        promtool_check(promtool, text, "after a failed round")
        print("live metrics: %d checks passed" % checks)
        return 0
    finally:
        if agent:
            agent.stop()
        subprocess.run(kubectl + ["delete", "namespace", ns, "--wait=false"], capture_output=True, env=kenv, timeout=60)
        shutil.rmtree(bare, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
