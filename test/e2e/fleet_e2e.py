#!/usr/bin/env python3
"""End-to-end: three real clusters, one HTTPS Git server, the example fleet,
and `gitfed agent` processes with in-cluster-style credentials.

Every cluster gets manifests/deployment applied for real (kubectl apply -k);
each agent then runs as a process with KUBERNETES_SERVICE_HOST/PORT and a
service-account directory whose token is minted by the TokenRequest API
(kubectl create token) for the gitfed-agent ServiceAccount those manifests
created: what the agents can do is exactly what the shipped RBAC grants.
prod-eu-west runs two agents (leader and standby), the others one each.

Scenarios, in order (each builds on the state the previous one left):
  first-sync     all three clusters converge to the first commit
  override       a commit changing the override of one label (release-channel:
                 canary) changes only the clusters with that label
  drift          `kubectl edit` in one cluster is healed and reported (on the
                 cluster's ref, read through `gitfed status`; not on the branch)
  broken         a commit with a broken file: nothing applied anywhere, every
                 cluster reports the error with file and line
  fix            the fix commit: all recover
  tenants        the example's tenants expanded where placed (namespaces, quota
                 with its override, NetworkPolicy, RBAC, admission policy); a
                 tenant's refused file (a cluster-admin binding) is reported
                 with tenant, file and line while the platform and the other
                 tenant converge and nothing of the broken tenant is touched
  leader         the leader killed (SIGKILL): the standby takes over within the
                 lease duration (+ client-go's retry jitter); a stopped leader
                 (SIGTERM) hands over at once
  git-down       the Git server stopped for a while: agents keep running (and
                 healing), report Stale, recover and apply what was pushed
  apiserver      one cluster's kube-apiserver restarted mid-sync: converges
  rbac           the ServiceAccount can do what manifests/ documents, not more
  page           `gitfed status --html` of the fleet's status branch in headless
                 Chromium: tiles, error lines, timeline segments (screenshot kept)

usage: fleet_e2e.py --binary build/agent/gitfed --work DIR [--keep] [--only a,b]
Exit status 0 when every scenario passed; prints one line per check.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ENV_SCRIPTS = os.path.join(ROOT, "test", "env")
CLUSTERS = ["prod-eu-west", "prod-us-east", "staging-eu-west"]
LEASE_DURATION = 15.0
RETRY_PERIOD = 2.0

checks = 0
started_at = time.time()


def log(msg):
    print("[%6.1fs] %s" % (time.time() - started_at, msg), flush=True)


def ok(msg):
    global checks
    checks += 1
    print("ok %d - %s" % (checks, msg), flush=True)


class Failure(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise Failure(msg)
    ok(msg)


def clean_env(extra=None):
    """The environment for child processes: no proxies or CA overrides from the machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "KUBERNETES_")) and k.lower() not in (
               "http_proxy", "https_proxy", "all_proxy", "no_proxy", "curl_ca_bundle", "ssl_cert_file", "kubeconfig")}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    if extra:
        env.update(extra)
    return env


def run(args, check=True, env=None, timeout=120, input=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env or clean_env(), timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise Failure("%s failed (%d): %s" % (" ".join(args), r.returncode, (r.stderr or r.stdout)[-2000:]))
    return r


def wait_for(what, cond, timeout, interval=0.25):
    """Polls cond() until it returns a truthy value; returns (value, seconds)."""
    t0 = time.time()
    last = None
    while True:
        try:
            last = cond()
        except Failure:
            raise
        except Exception as e:  # a server restarting, a process not yet serving
            last = None
            err = e
        if last:
            return last, time.time() - t0
        if time.time() - t0 > timeout:
            raise Failure("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def read_env(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
    return out


class Cluster:
    def __init__(self, name, dir):
        self.name, self.dir = name, dir
        self.env = read_env(os.path.join(dir, "kube.env"))
        self.kubeconfig = self.env["GITFED_TEST_KUBECONFIG"]
        self.port = self.env["GITFED_TEST_APISERVER_PORT"]

    def kubectl(self, *args, check=True, env=None, timeout=60):
        e = clean_env(env)
        return run(["kubectl", "--kubeconfig", self.kubeconfig, "--request-timeout=30s"] + list(args),
                   check=check, env=e, timeout=timeout)

    def get(self, kind, name, ns=None):
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        r = self.kubectl(*args, check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def managed_snapshot(self):
        """Per object the agent owns: when gitfed last wrote it (its managedFields entry) and generation."""
        snap = {}
        kinds = "namespaces,configmaps,services,serviceaccounts,deployments,daemonsets,horizontalpodautoscalers," \
                "ingresses,networkpolicies,poddisruptionbudgets,clusterroles,rolebindings,storageclasses," \
                "priorityclasses,customresourcedefinitions,backupschedules"
        r = self.kubectl("get", kinds, "-A", "-l", "gitfed.io/managed-by=gitfed", "-o", "json")
        for o in json.loads(r.stdout)["items"]:
            md = o["metadata"]
            key = "%s/%s/%s" % (o["kind"], md.get("namespace", ""), md["name"])
            times = sorted(m.get("time", "") for m in md.get("managedFields", []) if m.get("manager") == "gitfed")
            snap[key] = (times, md.get("generation"))
        return snap


class Agent:
    def __init__(self, env, cluster, name):
        self.env, self.cluster, self.name = env, cluster, name
        self.port = None  # the agent binds port 0; start() reads the port from its log
        self.dir = os.path.join(env.work, "agents", name)
        self.log = os.path.join(self.dir, "agent.log")
        self.proc = None
        self.extra_env = {}

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        e = self.env
        sa = os.path.join(e.work, "sa", self.cluster.name)
        config = os.path.join(self.dir, "config.yaml")
        # The config file carries the settings a ConfigMap would; flags and
        # the environment the rest (all three sources in use).
        with open(config, "w") as f:
            f.write("cluster: %s\n" % self.cluster.name)
            f.write("repository:\n  url: %s\n  ref: main\n  credentialsDir: %s\n" % (e.repo_url, e.credentials))
            f.write("interval: 2s\ndriftInterval: 5s\nretryMin: 1s\nretryMax: 5s\n")
            f.write("status: {branch: gitfed-status, email: %s@gitfed.test}\n" % self.cluster.name)
            f.write("logFormat: json\n")
        args = [e.binary, "agent", "--config", config,
                "--http-address", "127.0.0.1:0",
                "--cache-dir", os.path.join(self.dir, "cache"),
                "--service-account-dir", sa]
        env = clean_env({"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": self.cluster.port,
                         "POD_NAME": self.name, "GITFED_LOG_LEVEL": "info"})
        env.update(self.extra_env)
        self.logf = open(self.log, "a")
        offset = os.path.getsize(self.log)  # a restarted agent appends: read only this run's lines
        self.port = None
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        # The kernel picks the port when the agent binds (no race with another
        # program for a port picked in advance); the agent logs it.
        self.port, _ = wait_for("agent %s logging its HTTP port" % self.name, lambda: self.logged_port(offset), 30)
        wait_for("agent %s serving HTTP" % self.name, lambda: self.http("/healthz") is not None, 30)

    def logged_port(self, offset):
        if self.proc.poll() is not None:
            raise Failure("agent %s exited (%s) before serving HTTP; log: %s" % (self.name, self.proc.returncode, self.log))
        with open(self.log, errors="replace") as f:
            f.seek(offset)
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "serving HTTP" and entry.get("port"):
                    return int(entry["port"])
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.alive():
            return None
        self.send(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            return self.proc.wait(10)

    def http(self, path, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return None

    def status(self):
        r = self.http("/status")
        return json.loads(r[1]) if r and r[0] == 200 else None

    def leading(self):
        s = self.status()
        return bool(s and s["leader"])

    def report(self):
        s = self.status()
        return s["report"] if s else None

    def metric(self, name, labels=None):
        r = self.http("/metrics")
        if not r:
            return None
        total = None
        for line in r[1].splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)", line)
            if not m or m.group(1) != name:
                continue
            if labels and not all('%s="%s"' % kv in (m.group(2) or "") for kv in labels.items()):
                continue
            total = (total or 0) + float(m.group(3))
        return total

    def log_lines(self):
        out = []
        for line in open(self.log, errors="replace"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out


class Env:
    def __init__(self, args):
        self.binary = os.path.abspath(args.binary)
        self.work = os.path.abspath(args.work)
        self.keep = args.keep
        self.clusters = {}
        self.agents = {}
        self.revisions = []

    # ---- set-up -------------------------------------------------------------
    def up(self):
        if os.path.exists(self.work):
            self.down(quiet=True)
            shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        log("starting 3 clusters and a Git server")
        for name in CLUSTERS:
            d = os.path.join(self.work, "kube", name)
            run([os.path.join(ENV_SCRIPTS, "kube-up"), name, d], timeout=300)
            self.clusters[name] = Cluster(name, d)
        gd = os.path.join(self.work, "git")
        run([os.path.join(ENV_SCRIPTS, "git-up"), gd], timeout=120)
        self.git = read_env(os.path.join(gd, "git.env"))
        self.git_dir = gd
        log("clusters and Git server up")
        # The fleet repository, served over https (by name: libgit2 with
        # mbedTLS cannot match an IP address in a certificate).
        self.bare = os.path.join(self.git["GITFED_TEST_GIT_ROOT"], "fleet-e2e.git")
        run(["git", "init", "-q", "--bare", "-b", "main", self.bare])
        self.repo_url = "https://localhost:%s/fleet-e2e.git" % self.git["GITFED_TEST_HTTPS_PORT"]
        self.credentials = os.path.join(self.work, "git-credentials")
        os.makedirs(self.credentials, mode=0o700)
        for name, value in (("username", self.git["GITFED_TEST_HTTPS_USER"]),
                            ("password", self.git["GITFED_TEST_HTTPS_PASSWORD"])):
            with open(os.path.join(self.credentials, name), "w") as f:
                f.write(value + "\n")
            os.chmod(os.path.join(self.credentials, name), 0o600)
        shutil.copy(self.git["GITFED_TEST_HTTPS_CA"], os.path.join(self.credentials, "ca.crt"))
        self.checkout = os.path.join(self.work, "checkout")
        shutil.copytree(os.path.join(ROOT, "examples", "fleet"), self.checkout)
        self.git_cmd("init", "-q", "-b", "main")
        self.git_cmd("remote", "add", "origin", self.bare)
        self.commit("examples/fleet")

    def git_cmd(self, *args):
        return run(["git", "-C", self.checkout, "-c", "user.name=Fleet Admin", "-c", "user.email=admin@example.com"]
                   + list(args)).stdout.strip()

    def commit(self, message, files=None, remove=None):
        """Writes `files` {path: text} into the checkout, commits, pushes; returns the revision."""
        for path, text in (files or {}).items():
            p = os.path.join(self.checkout, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        for path in remove or []:
            os.remove(os.path.join(self.checkout, path))
        self.git_cmd("add", "-A")
        self.git_cmd("commit", "-q", "-m", message)
        # Pushed through the filesystem: works while the https server is down.
        self.git_cmd("push", "-q", "origin", "main")
        rev = self.git_cmd("rev-parse", "HEAD")
        self.revisions.append(rev)
        log("pushed %s: %s" % (rev[:7], message))
        return rev

    def install(self):
        """manifests/deployment on every cluster, and a minted token for its ServiceAccount."""
        for c in self.clusters.values():
            r = c.kubectl("apply", "-k", os.path.join(ROOT, "manifests", "deployment"), "--server-side")
            require("serviceaccount/gitfed-agent serverside-applied" in r.stdout,
                    "%s: kubectl apply -k manifests/deployment" % c.name)
            sa = os.path.join(self.work, "sa", c.name)
            os.makedirs(sa)
            token = c.kubectl("create", "token", "gitfed-agent", "-n", "gitfed-system", "--duration=4h").stdout.strip()
            with open(os.path.join(sa, "token"), "w") as f:
                f.write(token)
            shutil.copy(c.env["GITFED_TEST_KUBE_CA"], os.path.join(sa, "ca.crt"))
            with open(os.path.join(sa, "namespace"), "w") as f:
                f.write("gitfed-system")
        ok("a TokenRequest token for gitfed-system/gitfed-agent in each cluster")

    def start_agents(self):
        plan = [("eu-a", "prod-eu-west"), ("eu-b", "prod-eu-west"), ("us", "prod-us-east"), ("staging", "staging-eu-west")]
        for name, cluster in plan:
            a = Agent(self, self.clusters[cluster], name)
            if name == "staging":
                # Slower applies, so that the apiserver scenario restarts it
                # in the middle of a sync (300 objects at 100/s).
                a.extra_env = {"GITFED_QPS": "100", "GITFED_BURST": "20"}
            a.start()
            self.agents[name] = a
            if name == "eu-a":
                wait_for("eu-a leading", a.leading, 20)
        log("agents started: " + ", ".join("%s(%s) :%d" % (n, a.cluster.name, a.port) for n, a in self.agents.items()))

    def down(self, quiet=False):
        for a in getattr(self, "agents", {}).values():
            a.stop(signal.SIGTERM, timeout=15)
        kube = os.path.join(self.work, "kube")
        if os.path.isdir(kube):
            for name in os.listdir(kube):
                run([os.path.join(ENV_SCRIPTS, "kube-down"), os.path.join(kube, name)], check=False, timeout=120)
        if os.path.isdir(os.path.join(self.work, "git")):
            run([os.path.join(ENV_SCRIPTS, "git-down"), os.path.join(self.work, "git")], check=False, timeout=60)

    # ---- helpers ------------------------------------------------------------
    def leader_of(self, cluster):
        for a in self.agents.values():
            if a.cluster.name == cluster and a.alive() and a.leading():
                return a
        return None

    def active_agents(self):
        return [self.leader_of(c) for c in CLUSTERS]

    def branch_file(self, cluster):
        r = run(["git", "--git-dir", self.bare, "show", "gitfed-status:clusters/%s.yaml" % cluster], check=False)
        return r.stdout if r.returncode == 0 else None

    def branch_subjects(self, cluster):
        r = run(["git", "--git-dir", self.bare, "log", "--format=%s", "gitfed-status", "--",
                 "clusters/%s.yaml" % cluster], check=False)
        return r.stdout.splitlines() if r.returncode == 0 else []

    def wait_converged(self, rev, timeout=60, phase="Synced"):
        """Every cluster's leader reports `phase` at `rev`, and so does the status branch."""
        def done():
            for c in CLUSTERS:
                a = self.leader_of(c)
                rep = a and a.report()
                if not rep or rep["source"]["revision"] != rev or rep["sync"]["phase"] != phase:
                    return False
                f = self.branch_file(c)
                if not f or ("revision: " + rev) not in f or ("phase: " + phase) not in f:
                    return False
            return True
        _, took = wait_for("all clusters %s at %s" % (phase, rev[:7]), done, timeout)
        return took

    def rendered(self, cluster):
        r = run([self.binary, "render", "--cluster", cluster, "--output", "json", self.checkout])
        return json.loads(r.stdout)["items"]


# ---- scenarios --------------------------------------------------------------

def scenario_first_sync(env):
    rev = env.revisions[-1]
    took = env.wait_converged(rev, timeout=90)
    ok("first sync: all three clusters Synced at %s in %.1fs (agents' reports and the status branch)" % (rev[:7], took))
    for c in CLUSTERS:
        rep = env.leader_of(c).report()
        want = len(env.rendered(c))
        require(rep["summary"]["objects"] == want and rep["summary"]["synced"] == want,
                "%s: %d objects synced, as gitfed render says" % (c, want))
    prod, staging = env.clusters["prod-eu-west"], env.clusters["staging-eu-west"]
    require(prod.get("namespace", "payments") is not None and staging.get("namespace", "payments") is None,
            "payments runs in production only")
    web = {c: env.clusters[c].get("deployment", "web", "shop") for c in CLUSTERS}
    require(web["prod-eu-west"]["spec"]["replicas"] == 4 and web["prod-us-east"]["spec"]["replicas"] == 6
            and web["staging-eu-west"]["spec"]["replicas"] == 2, "web replicas 4 / 6 / 2 as overridden")
    std = env.leader_of("prod-eu-west")
    require(env.agents["eu-b"].alive() and not env.agents["eu-b"].leading() and std is env.agents["eu-a"],
            "prod-eu-west: one leader (eu-a), one standby (eu-b)")


def image(cluster):
    d = cluster.get("deployment", "web", "shop")
    return d["spec"]["template"]["spec"]["containers"][0]["image"]


def scenario_override(env):
    before = {c: env.clusters[c].managed_snapshot() for c in CLUSTERS}
    path = os.path.join(env.checkout, "apps/shop/web-deployment.yaml")
    text = open(path).read()
    require("web:1.5.0-rc.1" in text, "the canary override sets web:1.5.0-rc.1")
    rev = env.commit("shop: release candidate rc.2 to the canary channel",
                     {"apps/shop/web-deployment.yaml": text.replace("web:1.5.0-rc.1", "web:1.5.0-rc.2")})
    took = env.wait_converged(rev, timeout=60)
    ok("override: all three clusters Synced at %s %.1fs after the push" % (rev[:7], took))
    imgs = {c: image(env.clusters[c]) for c in CLUSTERS}
    require(imgs["prod-us-east"].endswith(":1.5.0-rc.2") and imgs["staging-eu-west"].endswith(":1.5.0-rc.2"),
            "canary clusters (prod-us-east, staging-eu-west) run rc.2")
    require(imgs["prod-eu-west"].endswith(":1.4.2"), "the stable cluster (prod-eu-west) still runs 1.4.2")
    after = {c: env.clusters[c].managed_snapshot() for c in CLUSTERS}
    require(after["prod-eu-west"] == before["prod-eu-west"], "prod-eu-west: no object written")
    for c in ("prod-us-east", "staging-eu-west"):
        changed = sorted(k for k in after[c] if after[c][k] != before[c].get(k))
        require(changed == ["Deployment/shop/web"], "%s: only Deployment shop/web written (%s)" % (c, changed))


class ReportWatcher:
    """Keeps every distinct report of one cluster that `gitfed status --cluster
    NAME -o json` reads from the server's repository (the newer of the
    cluster's ref refs/gitfed/status/NAME and its file on the status branch).
    A report that changes neither the phase nor a revision goes to the ref
    only, and lives there until the cluster's next report replaces it (a
    parentless commit per report): the watcher polls from before the change
    so that it sees it. Stopped with stop()."""

    def __init__(self, env, cluster):
        self.env, self.cluster = env, cluster
        self.seen = []  # (where, sequence, sync.message), in the order first seen
        self.errors = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            r = run([self.env.binary, "status", "--cluster", self.cluster, "--output", "json", self.env.bare],
                    check=False, timeout=30)
            if r.returncode == 0:
                j = json.loads(r.stdout)
                origin = j["status"]["report"]
                entry = (origin["from"], origin.get("sequence", 0), j["sync"].get("message", ""))
                with self._lock:
                    if not self.seen or self.seen[-1] != entry:
                        self.seen.append(entry)
            else:
                with self._lock:
                    self.errors.append(r.stderr[-500:])
            self._stop.wait(0.2)

    def reports(self):
        with self._lock:
            return list(self.seen)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=60)


def edit(cluster, kind, name, ns, sed):
    """kubectl edit, with sed as the editor."""
    cluster.kubectl("edit", kind, name, "-n", ns, env={"KUBE_EDITOR": "sed -i -e '%s'" % sed, "EDITOR": ""})


def scenario_drift(env):
    staging = env.clusters["staging-eu-west"]
    agent = env.leader_of("staging-eu-west")
    require(staging.get("configmap", "web-config", "shop")["data"]["LOG_LEVEL"] == "debug", "staging LOG_LEVEL is debug")
    branch_before = env.branch_subjects("staging-eu-west")
    watcher = ReportWatcher(env, "staging-eu-west")
    try:
        _scenario_drift(env, staging, agent, watcher, branch_before)
    finally:
        watcher.stop()


def _scenario_drift(env, staging, agent, watcher, branch_before):
    edit(staging, "configmap", "web-config", "shop", "s/LOG_LEVEL: debug/LOG_LEVEL: trace/")
    require(staging.get("configmap", "web-config", "shop")["data"]["LOG_LEVEL"] == "trace", "kubectl edit: LOG_LEVEL trace")
    t0 = time.time()
    _, took = wait_for("drift healed", lambda: staging.get("configmap", "web-config", "shop")["data"]["LOG_LEVEL"] == "debug",
                       30)
    ok("drift healed %.1fs after kubectl edit (drift interval 5s, poll 2s)" % took)
    healed = [l for l in agent.log_lines() if l.get("msg") == "reconciled" and l.get("healed", 0) >= 1]
    require(healed, "the agent logged the round that healed it (healed: %d)" % (healed[-1]["healed"] if healed else 0))

    # The healing changes neither the phase nor a revision: it is reported
    # on the cluster's ref only (docs/status-spec.md, "Per-cluster reports"),
    # which `gitfed status` reads with the branch.
    def reported():
        return [r for r in watcher.reports() if "1 healed" in r[2]]
    healing, _ = wait_for("the healing reported on the cluster's ref (gitfed status)", reported, 30)
    where, sequence, message = healing[0]
    require(where == "ref", "gitfed status read it from refs/gitfed/status/staging-eu-west (report #%d: \"%s\")"
            % (sequence, message))
    require(not watcher.errors, "gitfed status read the cluster's report at every poll (%d reports seen)"
            % len(watcher.reports()))
    # Nothing about it on the people's branch: no headline change.
    branch_after = env.branch_subjects("staging-eu-west")
    require(branch_after == branch_before, "the status branch got no commit for it (%d commits of the cluster, as before)"
            % len(branch_after))
    require(env.agents["us"].metric("gitfed_objects", {"state": "Drifted"}) == 0, "other clusters saw no drift")
    del t0


def kube_calls(agent):
    return sum(agent.metric("gitfed_kube_requests_total", {"verb": v}) or 0 for v in ("apply", "list", "delete"))


def cluster_total(env, cluster, fn):
    """fn summed over every agent of the cluster (leader and standby alike), so
    that a leader change in the window cannot hide or invent a request."""
    return sum(fn(a) or 0 for a in env.agents.values() if a.cluster.name == cluster and a.alive())


def failed_rounds(agent):
    """Rounds the agent ended Failed (its gitfed_reconciles_total{phase="Failed"})."""
    return agent.metric("gitfed_reconciles_total", {"phase": "Failed"})


def scenario_broken(env):
    before = {c: env.clusters[c].managed_snapshot() for c in CLUSTERS}
    broken = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: shop\n"
              "data:\n  key: [unterminated\n")
    text = open(os.path.join(env.checkout, "platform/cluster-info.yaml")).read()
    rev = env.commit("broken: a file with a YAML error, and a valid change next to it",
                     {"apps/shop/broken.yaml": broken,
                      "platform/cluster-info.yaml": text.replace("team: platform", "team: platform-sre")})
    env.wait_converged(rev, timeout=60, phase="Failed")
    ok("broken: every cluster reports Failed at %s (agents and status branch)" % rev[:7])
    # From here on every round of every agent is a retry of the broken
    # revision (agent/daemon/README.md: a revision that does not render is
    # neither applied nor healed, and no drift check runs while it is the
    # newest). Counted over all agents of a cluster, from this point.
    calls = {c: cluster_total(env, c, kube_calls) for c in CLUSTERS}
    rounds = {c: cluster_total(env, c, failed_rounds) for c in CLUSTERS}
    for c in CLUSTERS:
        rep = env.leader_of(c).report()
        errs = rep["sync"]["errors"]
        require(any(e.get("file") == "apps/shop/broken.yaml" and e.get("line", 0) >= 7 for e in errs),
                "%s reports apps/shop/broken.yaml line %s: %s" % (c, errs[0].get("line") if errs else "?",
                                                                   errs[0].get("message", "")[:60] if errs else ""))
        f = env.branch_file(c)
        require("file: apps/shop/broken.yaml" in f and re.search(r"line: \d+", f), "%s: the status file names file and line" % c)
        require(rep["sync"]["appliedRevision"] == env.revisions[-2], "%s: appliedRevision is still the last good one" % c)
    # Two more retry rounds in every cluster (backoff from retryMin 1s
    # doubling to retryMax 5s, +-10% jitter: the next two come within
    # 1.1 * (2 + 4) s; the deadline leaves room for a loaded machine).
    wait_for("two more failed retry rounds in every cluster",
             lambda: all(cluster_total(env, c, failed_rounds) >= rounds[c] + 2 for c in CLUSTERS), 60)
    after = {c: env.clusters[c].managed_snapshot() for c in CLUSTERS}
    require(after == before, "nothing applied anywhere (gitfed's managedFields unchanged on every object)")
    moved = {c: cluster_total(env, c, kube_calls) - calls[c] for c in CLUSTERS}
    require(all(v == 0 for v in moved.values()),
            "no apply, list or delete request while the revision is broken (new requests per cluster: %s)" % moved)
    require(env.clusters["prod-eu-west"].get("configmap", "cluster-info", "platform")["metadata"]["labels"]["team"] == "platform",
            "the valid change next to the broken file was not applied either")


def scenario_fix(env):
    rev = env.commit("fix the broken file", remove=["apps/shop/broken.yaml"])
    took = env.wait_converged(rev, timeout=60)
    ok("fix: all three clusters Synced at %s %.1fs after the push" % (rev[:7], took))
    require(all(env.clusters[c].get("configmap", "cluster-info", "platform")["metadata"]["labels"]["team"] == "platform-sre"
                for c in CLUSTERS), "the change held back by the broken file is applied everywhere")


def scenario_tenants(env):
    """Tenants (examples/fleet/platform/tenants.yaml): what they expand to in
    every cluster that places them; a tenant's broken commit confined to it."""
    prod, us, staging = (env.clusters[c] for c in ("prod-eu-west", "prod-us-east", "staging-eu-west"))
    require(prod.get("namespace", "analytics") is not None and us.get("namespace", "analytics") is not None
            and staging.get("namespace", "analytics") is None, "analytics: production clusters only")
    pods = {c: env.clusters[c].get("resourcequota", "tenant-quota", "analytics")["spec"]["hard"]["pods"]
            for c in ("prod-eu-west", "prod-us-east")}
    require(pods == {"prod-eu-west": "20", "prod-us-east": "40"}, "analytics quota: 20 pods, 40 on prod-us-east (override)")
    for c in CLUSTERS:
        cl = env.clusters[c]
        for ns in ("blog", "blog-preview"):
            n = cl.get("namespace", ns)
            require(n and n["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted"
                    and n["metadata"]["labels"].get("gitfed.io/tenant") == "blog", "%s: namespace %s, restricted" % (c, ns))
            np = cl.get("networkpolicy", "tenant-default-deny", ns)
            sel = np and np["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"][0]
            require(sel and sel["values"] == ["blog", "blog-preview", "platform"] and np["spec"]["podSelector"] == {},
                    "%s: default-deny NetworkPolicy in %s admits blog, blog-preview, platform" % (c, ns))
            require(cl.get("limitrange", "tenant-limits", ns) is not None, "%s: LimitRange in %s" % (c, ns))
        require(cl.get("serviceaccount", "gitfed-tenant", "blog") is not None
                and cl.get("rolebinding", "gitfed-tenant", "blog-preview")["roleRef"]["name"] == "admin",
                "%s: the tenant's ServiceAccount, admin in its namespaces" % c)
        require(cl.get("validatingadmissionpolicy", "gitfed-tenant-blog") is not None, "%s: blog's admission policy" % c)
        require(cl.get("deployment", "site", "blog") is not None, "%s: blog's own Deployment" % c)
    ok("tenants: namespaces, quota (with override), limits, network policy, RBAC, admission policy in every cluster")

    site_uid = {c: env.clusters[c].get("deployment", "site", "blog")["metadata"]["uid"] for c in CLUSTERS}
    reports = os.path.join(env.checkout, "tenants/analytics/reports.yaml")
    info = os.path.join(env.checkout, "platform/cluster-info.yaml")
    rev = env.commit("blog binds cluster-admin (refused); analytics and the platform change something", {
        "tenants/blog/root.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
                                  "metadata: {name: root, namespace: blog}\n"
                                  "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"
                                  "subjects: [{kind: Group, name: everyone, apiGroup: rbac.authorization.k8s.io}]\n",
        "tenants/analytics/reports.yaml": open(reports).read().replace("schedule: nightly", "schedule: hourly"),
        "platform/cluster-info.yaml": open(info).read().replace("team: platform-sre", "team: platform-ops")})

    def reported():
        for c in CLUSTERS:
            rep = env.leader_of(c).report()
            if not rep or rep["source"]["revision"] != rev:
                return False
            if not any(e.get("file") == "tenants/blog/root.yaml" for e in rep["sync"]["errors"]):
                return False
        return True
    wait_for("every cluster to report blog's refused RoleBinding at %s" % rev[:7], reported, 60)
    for c in CLUSTERS:
        rep = env.leader_of(c).report()
        err = next(e for e in rep["sync"]["errors"] if e.get("file") == "tenants/blog/root.yaml")
        require(rep["sync"]["phase"] != "Synced" and "cluster-admin" in err.get("message", "")
                and err.get("tenant") == "blog" and err.get("line") == 1,
                "%s: %s, the error names tenant blog, file and line: %s" % (c, rep["sync"]["phase"], err.get("message", "")[:80]))
    wait_for("the platform's and analytics' changes applied", lambda: all(
        env.clusters[c].get("configmap", "cluster-info", "platform")["metadata"]["labels"]["team"] == "platform-ops"
        for c in CLUSTERS) and all(env.clusters[c].get("configmap", "reports", "analytics")["data"]["schedule"] == "hourly"
                                   for c in ("prod-eu-west", "prod-us-east")), 60)
    ok("the platform and tenant analytics converged beside the broken tenant")
    for c in CLUSTERS:
        cl = env.clusters[c]
        require(cl.get("rolebinding", "root", "blog") is None, "%s: no cluster-admin binding in blog" % c)
        require(cl.get("deployment", "site", "blog")["metadata"]["uid"] == site_uid[c],
                "%s: blog's objects kept as they were (not pruned, not recreated)" % c)
    rev = env.commit("blog: drop the cluster-admin binding", remove=["tenants/blog/root.yaml"])
    took = env.wait_converged(rev, timeout=60)
    ok("blog fixed: all three clusters Synced at %s %.1fs after the push" % (rev[:7], took))


def scenario_leader(env):
    a, b = env.agents["eu-a"], env.agents["eu-b"]
    leader, standby = (a, b) if a.leading() else (b, a)
    require(leader.leading() and not standby.leading(), "%s leads prod-eu-west, %s stands by" % (leader.name, standby.name))
    t_kill = time.time()
    leader.send(signal.SIGKILL)
    leader.proc.wait(10)
    _, took = wait_for("the standby to lead", standby.leading, LEASE_DURATION + 3 * RETRY_PERIOD + 10, interval=0.1)
    env.takeover_seconds = took
    bound = LEASE_DURATION + 2.2 * RETRY_PERIOD
    require(took <= bound, "leader killed: %s took over in %.1fs (lease %ds; bound %.1fs with client-go's retry jitter)"
            % (standby.name, took, LEASE_DURATION, bound))
    rev = env.commit("cluster-info: a new key after the failover",
                     {"platform/cluster-info.yaml": open(os.path.join(env.checkout, "platform/cluster-info.yaml")).read()
                      .replace("  provider: ${cluster.labels.provider:-none}\n",
                               "  provider: ${cluster.labels.provider:-none}\n  oncall: platform-sre\n")})
    env.wait_converged(rev, timeout=60)
    require(env.clusters["prod-eu-west"].get("configmap", "cluster-info", "platform")["data"].get("oncall") == "platform-sre",
            "the new leader applies new commits")
    # The killed agent comes back as the standby; then a graceful stop of
    # the leader releases the Lease and the standby takes over at once.
    leader.start()
    wait_for("%s ready as standby" % leader.name, lambda: leader.http("/readyz") and leader.http("/readyz")[0] == 200, 30)
    require(not leader.leading(), "%s restarted as the standby" % leader.name)
    t0 = time.time()
    code = standby.stop(signal.SIGTERM)
    stop_took = time.time() - t0
    require(code == 0, "SIGTERM: %s exited 0 in %.1fs" % (standby.name, stop_took))
    _, took = wait_for("handover after SIGTERM", leader.leading, 15, interval=0.1)
    env.handover_seconds = took
    require(took < 2.2 * RETRY_PERIOD + 1, "SIGTERM released the Lease: %s took over in %.1fs" % (leader.name, took))
    standby.start()
    del t_kill


def scenario_git_down(env):
    service = os.path.join(ENV_SCRIPTS, "service")
    stale_before = {c: sum(1 for s in env.branch_subjects(c) if ": Stale " in s) for c in CLUSTERS}
    run([service, env.git_dir, "https", "stop"])
    t0 = time.time()
    ok("Git server (https) stopped")

    def all_stale():
        return all((env.leader_of(c).report() or {}).get("sync", {}).get("phase") == "Stale" and
                   env.leader_of(c).metric("gitfed_source_stale") == 1 for c in CLUSTERS)
    _, took = wait_for("every agent to report Stale", all_stale, 30)
    ok("every agent reports Stale %.1fs after the outage began (poll 2s)" % took)
    # Agents keep running: drift is still corrected from the last revision.
    us = env.clusters["prod-us-east"]
    edit(us, "configmap", "web-config", "shop", "s/LOG_LEVEL: info/LOG_LEVEL: trace/")
    wait_for("drift healed during the outage", lambda: us.get("configmap", "web-config", "shop")["data"]["LOG_LEVEL"] == "info", 30)
    ok("drift in prod-us-east healed while Git is down")
    rev = env.commit("a commit pushed during the outage",
                     {"platform/cluster-info.yaml": open(os.path.join(env.checkout, "platform/cluster-info.yaml")).read()
                      .replace("oncall: platform-sre", "oncall: platform-sre-2")})
    time.sleep(max(0, 12 - (time.time() - t0)))
    require(all(a.alive() for a in env.agents.values()), "all agents still running after %.0fs of outage" % (time.time() - t0))
    run([service, env.git_dir, "https", "start"])
    ok("Git server started again after %.0fs" % (time.time() - t0))
    took = env.wait_converged(rev, timeout=60)
    ok("recovered: every cluster Synced at the commit pushed during the outage, %.1fs after the server came back" % took)

    def stale_recorded():
        return all(sum(1 for s in env.branch_subjects(c) if ": Stale " in s) > stale_before[c] for c in CLUSTERS)
    wait_for("the Stale reports on the status branch", stale_recorded, 60)
    ok("the status branch's history holds each cluster's Stale report, then the recovery")


def scenario_apiserver(env):
    staging = env.clusters["staging-eu-west"]
    agent = env.leader_of("staging-eu-west")
    n = 300
    items = []
    for i in range(n):
        items.append("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: bulk-%03d\n    namespace: shop\n"
                     "    annotations:\n      gitfed.io/cluster-names: staging-eu-west\n  data:\n    i: \"%d\"\n" % (i, i))
    rounds_before = len([l for l in agent.log_lines() if l.get("msg") == "reconciled"])
    rev = env.commit("%d ConfigMaps for staging" % n, {"apps/shop/bulk.yaml": "apiVersion: v1\nkind: List\nitems:\n" + "".join(items)})

    # Restart the apiserver as soon as the agent starts applying them.
    def applying():
        r = staging.kubectl("get", "configmaps", "-n", "shop", "-l", "gitfed.io/managed-by=gitfed", "-o", "name", check=False)
        return r.returncode == 0 and "bulk-" in r.stdout
    wait_for("the sync of the bulk commit to begin", applying, 30, interval=0.05)
    service = os.path.join(ENV_SCRIPTS, "service")
    t0 = time.time()
    run([service, staging.dir, "apiserver", "restart"], timeout=120)
    ok("kube-apiserver of staging-eu-west restarted mid-sync (%.1fs)" % (time.time() - t0))
    took = env.wait_converged(rev, timeout=90)
    cms = staging.kubectl("get", "configmaps", "-n", "shop", "-o", "name").stdout.count("configmap/bulk-")
    require(cms == n, "converged %.1fs later: all %d ConfigMaps there" % (took, n))
    rounds = [l for l in agent.log_lines() if l.get("msg") == "reconciled"][rounds_before:]
    failed = [l for l in rounds if l.get("phase") == "Failed"]
    ok("rounds after the push: %d (%d failed and retried)" % (len(rounds), len(failed)))
    require(env.clusters["prod-eu-west"].get("configmap", "bulk-000", "shop") is None, "the other clusters did not get them")


def scenario_rbac(env):
    c = env.clusters["prod-us-east"]
    sa = "system:serviceaccount:gitfed-system:gitfed-agent"

    def can(*q):
        r = c.kubectl("auth", "can-i", *q, "--as", sa, check=False)
        return r.stdout.strip() == "yes"
    require(can("create", "leases", "-n", "gitfed-system") and can("update", "leases", "-n", "gitfed-system"),
            "the agent may take its Lease in gitfed-system")
    require(can("create", "events", "-n", "gitfed-system") and can("patch", "events", "-n", "gitfed-system"),
            "the agent may write its Events in gitfed-system")
    require(can("patch", "deployments", "-n", "shop") and can("create", "customresourcedefinitions")
            and can("delete", "clusterroles"), "full-cluster default: apply and delete any object (as documented)")
    require(not can("impersonate", "users") and not can("escalate", "clusterroles") and not can("bind", "clusterroles"),
            "no impersonate, escalate or bind")
    require(can("bind", "clusterroles/admin") and can("bind", "clusterroles/view")
            and not can("bind", "clusterroles/cluster-admin"), "tenants: bind admin, edit, view only")
    require(can("impersonate", "serviceaccounts/gitfed-tenant", "-n", "blog")
            and not can("impersonate", "serviceaccounts/default", "-n", "kube-system")
            and not can("impersonate", "serviceaccounts/gitfed-agent", "-n", "gitfed-system"),
            "tenants: impersonate the tenants' gitfed-tenant accounts only")
    require(not can("deletecollection", "configmaps", "-n", "shop"), "no deletecollection")
    # The restricted variant: only in shop and payments, nothing cluster-scoped.
    c.kubectl("apply", "-k", os.path.join(ROOT, "manifests", "restricted"), "--server-side")
    c.kubectl("delete", "clusterrolebinding", "gitfed-agent")
    require(can("patch", "deployments", "-n", "shop") and can("create", "secrets", "-n", "payments"),
            "restricted: apply rights in shop and payments")
    require(not can("create", "configmaps", "-n", "default") and not can("create", "namespaces")
            and not can("create", "customresourcedefinitions"), "restricted: nothing in other namespaces, nothing cluster-scoped")
    require(can("create", "leases", "-n", "gitfed-system") and can("patch", "configmaps", "-n", "gitfed-system"),
            "restricted: still its Lease and its inventory")
    require(can("create", "events", "-n", "gitfed-system") and can("patch", "events", "-n", "gitfed-system")
            and not can("delete", "events", "-n", "gitfed-system") and not can("list", "events", "-n", "gitfed-system")
            and not can("create", "events", "-n", "default"),
            "restricted: Events: create and patch in gitfed-system, nothing more")
    # The agent carries on within those rights: namespaced objects apply,
    # cluster-scoped ones fail per object with 403.
    agent = env.leader_of("prod-us-east")
    agent.http("/trigger", method="POST")

    def forbidden_reported():
        rep = agent.report()
        return rep and rep["sync"]["phase"] == "Failed" and any("403" in e.get("message", "") or "forbidden" in
                                                                 e.get("message", "").lower() for e in rep["sync"]["errors"])
    wait_for("403s reported per object", forbidden_reported, 30)
    rep = agent.report()
    ok("restricted agent: %d objects failed with 403 (cluster-scoped), %d synced" % (rep["summary"]["failed"], rep["summary"]["synced"]))
    c.kubectl("apply", "-k", os.path.join(ROOT, "manifests", "deployment"), "--server-side")


def scenario_page(env):
    """`gitfed status --html` of the fleet's real status branch, in headless
    Chromium: a tile per cluster with the phase `gitfed status` shows, the
    clusters' error lines, one timeline segment per report commit; no console
    message. The screenshot is kept (docs/fleet-page.png is one of these)."""
    sys.path.insert(0, os.path.join(ROOT, "test", "browser"))
    import chromium
    require(chromium.binary(), "chromium is installed (scripts/setup)")
    page = os.path.join(env.work, "fleet-page.html")
    # One snapshot for the page and for the oracle (`gitfed status` in JSON,
    # and git log): the agents keep reporting meanwhile, to the branch and to
    # their refs (refs/gitfed/status/*, which `gitfed status` reads too), so
    # the snapshot is a mirror of the server's repository, every ref in it.
    snapshot = os.path.join(env.work, "page-snapshot.git")
    shutil.rmtree(snapshot, ignore_errors=True)
    run(["git", "clone", "-q", "--mirror", env.bare, snapshot])
    run([env.binary, "status", "--html", page, "--group-by", "region", snapshot])
    rows = {c["name"]: c for c in json.loads(run([env.binary, "status", "--output", "json", snapshot]).stdout)["clusters"]}
    dom, console, _ = chromium.load("file://" + page)
    require(console == [], "no console message on the fleet page: %r" % console[:5])
    root = chromium.parse(dom)
    tiles = {t.attrs["data-cluster"]: t for t in root.find_all("a", cls="tile")}
    require(set(tiles) == set(CLUSTERS), "a tile per cluster: %s" % sorted(tiles))
    for name in CLUSTERS:
        shown = "Stale" if rows[name]["stale"] else rows[name]["phase"]
        require(tiles[name].attrs["data-phase"] == shown, "%s's tile is %s" % (name, shown))
        report = json.loads(run([env.binary, "status", "--cluster", name, "--output", "json", snapshot]).stdout)
        want = [(e.get("file", ""), str(e.get("line", 0))) for e in report["sync"].get("errors", [])]
        details = next(root.find_all("details", id="cluster-" + name))
        got = [(li.attrs["data-file"], li.attrs["data-line"]) for li in details.find_all("li", cls="error")]
        require(got == want[:50], "%s: the page lists its %d errors with file and line" % (name, len(want)))
        commits = len(run(["git", "--git-dir", snapshot, "log", "--format=%H", "gitfed-status", "--",
                           "clusters/%s.yaml" % name]).stdout.split())
        row = next(root.find_all("div", cls="trow", data_cluster=name))
        segs = list(row.find_all("rect", cls="seg"))
        require(len(segs) == commits, "%s: %d timeline segments for %d report commits" % (name, len(segs), commits))
    groups = sorted(g.attrs["data-group"] for g in root.find_all("div", cls="group"))
    require(groups == ["eu-west", "us-east"], "tiles grouped by region: %s" % groups)
    png = os.path.join(env.work, "fleet-page.png")
    chromium.screenshot("file://" + page, png, height=1400)
    ok("fleet page: %s (%d bytes), screenshot %s" % (page, os.path.getsize(page), png))


SCENARIOS = [("first-sync", scenario_first_sync), ("override", scenario_override), ("drift", scenario_drift),
             ("broken", scenario_broken), ("fix", scenario_fix), ("tenants", scenario_tenants),
             ("leader", scenario_leader),
             ("git-down", scenario_git_down), ("apiserver", scenario_apiserver), ("rbac", scenario_rbac),
             ("page", scenario_page)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--keep", action="store_true", help="leave everything running")
    p.add_argument("--only", help="comma-separated scenarios (default: all, in order)")
    args = p.parse_args()
    if not os.access(args.binary, os.X_OK):
        print("%s not built (cmake --build first)" % args.binary)
        return 77
    env = Env(args)
    failed = None
    summary = []
    try:
        env.up()
        env.install()
        env.start_agents()
        only = set(args.only.split(",")) if args.only else None
        for name, fn in SCENARIOS:
            if only and name not in only:
                continue
            log("== scenario %s" % name)
            t0 = time.time()
            fn(env)
            summary.append((name, time.time() - t0))
        dead = [a.name for a in env.agents.values() if not a.alive()]
        require(not dead, "no agent died (%s)" % ", ".join(dead) if dead else "no agent died")
        for a in env.agents.values():
            rss = a.metric("process_resident_memory_bytes")
            cpu = a.metric("process_cpu_seconds_total")
            log("agent %-8s %-16s RSS %5.1f MiB, CPU %.2fs" % (a.name, a.cluster.name, (rss or 0) / 2**20, cpu or 0))
    except Failure as e:
        failed = str(e)
    except Exception as e:  # a bug in this script: still clean up
        failed = "%s: %s" % (type(e).__name__, e)
    finally:
        for name, took in summary:
            log("scenario %-11s %.1fs" % (name, took))
        if failed:
            print("FAIL: %s" % failed, flush=True)
            for a in env.agents.values():
                print("---- last lines of %s (%s)" % (a.log, "running" if a.alive() else "exited"))
                try:
                    print("".join(open(a.log, errors="replace").readlines()[-15:]))
                except OSError:
                    pass
        if args.keep:
            log("left running under %s (--keep)" % env.work)
        else:
            env.down()
    if failed:
        return 1
    print("fleet_e2e: %d checks passed in %.0fs" % (checks, time.time() - started_at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
