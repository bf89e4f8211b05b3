"""What the live-agent tests share (test/integration/*/..._test.py): checks
that count, bounded polls, a `gitfed agent` process with a JSON log, and a
file:// repository to commit to. Every wait is a poll with a deadline; the
caller derives the deadline from the mechanism it waits for.
"""
import json
import os
import signal
import subprocess
import time

checks = 0


def require(cond, msg):
    global checks
    if not cond:
        raise SystemExit("FAIL: " + msg)
    checks += 1
    print("ok %d - %s" % (checks, msg))


def run(args, check=True, **kw):
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
    if check and r.returncode != 0:
        raise SystemExit("FAIL: %s: %s" % (" ".join(args), (r.stdout + r.stderr).strip()[-1500:]))
    return r


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.3)
    raise SystemExit("FAIL: timed out after %ds waiting for %s" % (timeout, what))


class Agent:
    """`gitfed agent --config CONFIG`, its output (JSON lines) in LOG."""

    def __init__(self, binary, config, log):
        self.log = log
        self.logf = open(log, "w")
        self.proc = subprocess.Popen([binary, "agent", "--config", config], stdout=self.logf,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def lines(self):
        out = []
        for line in open(self.log, errors="replace"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def alive(self):
        if self.proc.poll() is not None:
            raise SystemExit("FAIL: the agent exited (%s); log:\n%s" % (self.proc.returncode, open(self.log).read()[-3000:]))
        return True

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.logf.close()


class Repo:
    """A bare repository at WORK/fleet.git (the agent's file:// URL) and a
    checkout to commit to."""

    def __init__(self, work):
        self.bare = os.path.join(work, "fleet.git")
        self.checkout = os.path.join(work, "checkout")
        self.url = "file://" + self.bare
        run(["git", "init", "-q", "--bare", "-b", "main", self.bare])
        os.makedirs(self.checkout)
        self.git = ["git", "-C", self.checkout, "-c", "user.name=t", "-c", "user.email=t@example.com"]
        run(self.git + ["init", "-q", "-b", "main"])
        run(self.git + ["remote", "add", "origin", self.bare])

    def commit(self, files, message):
        """Writes FILES ({path: text, or None to delete}), commits and pushes;
        returns the commit id."""
        for name, text in files.items():
            p = os.path.join(self.checkout, name)
            if text is None:
                os.remove(p)
                continue
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        run(self.git + ["add", "-A"])
        run(self.git + ["commit", "-q", "-m", message])
        run(self.git + ["push", "-q", "origin", "main"])
        return run(self.git + ["rev-parse", "HEAD"]).stdout.strip()

    def show(self, rev_path):
        """`git show REV:PATH` in the bare repository, or None."""
        r = run(["git", "--git-dir", self.bare, "show", rev_path], check=False)
        return r.stdout if r.returncode == 0 else None
