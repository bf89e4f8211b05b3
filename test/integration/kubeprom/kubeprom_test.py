#!/usr/bin/env python3
"""kube-prometheus's manifests/, untouched, through gitfed (issue 17, "Done when").

    kubeprom_test.py GITFED [--apply]

Fetches the pinned module (test/env/fetch-kube-prometheus; skipped, exit 77,
with the toolchain's reason when the module proxy does not serve it), copies
manifests/ beside a one-Cluster registry and checks that `gitfed render
--cluster kubeprom --output json` gives EXPECTED_OBJECTS objects (its Lists
expanded), Namespaces before everything else and every CRD before the custom
resources of its kind. With --apply (and GITFED_TEST_KUBECONFIG, the cluster
of test/env) `gitfed apply` syncs it, and a second apply changes nothing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from live import require, run  # noqa: E402

EXPECTED_OBJECTS = 131  # issue 17's count of manifests/ (Lists expanded); recheck when the pin moves
SKIP = 77


def main():
    gitfed = os.path.abspath(sys.argv[1])
    apply = "--apply" in sys.argv[2:]
    scripts = os.environ.get("GITFED_TEST_ENV_SCRIPTS") or os.path.join(os.path.dirname(__file__), "..", "..", "env")
    r = subprocess.run([os.path.join(scripts, "fetch-kube-prometheus"), "--print-dir"],
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        print("SKIP: kube-prometheus is not available: " + r.stderr.strip()[-800:])
        return SKIP
    manifests = r.stdout.strip().splitlines()[-1]
    work = tempfile.mkdtemp(prefix="gitfed-kubeprom-")
    try:
        shutil.copytree(manifests, os.path.join(work, "manifests"))
        os.makedirs(os.path.join(work, "registry"))
        with open(os.path.join(work, "registry", "clusters.yaml"), "w") as f:
            f.write("apiVersion: gitfed.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: kubeprom\n")
        out = run([gitfed, "render", "--cluster", "kubeprom", "--output", "json", "registry", "manifests"], cwd=work)
        items = json.loads(out.stdout)["items"]
        require(len(items) == EXPECTED_OBJECTS, "renders %d objects (got %d)" % (EXPECTED_OBJECTS, len(items)))
        kinds = [o["kind"] for o in items]
        first_other = next((i for i, k in enumerate(kinds) if k != "Namespace"), len(kinds))
        require("Namespace" not in kinds[first_other:], "Namespaces come before every other object")
        crds = {}
        for i, o in enumerate(items):
            if o["kind"] == "CustomResourceDefinition":
                s = o["spec"]
                crds[(s["group"], s["names"]["kind"])] = i
        require(crds, "has CRDs (%d)" % len(crds))
        late = [("%s %s" % (o["kind"], o["metadata"]["name"])) for i, o in enumerate(items)
                if (o["apiVersion"].split("/")[0], o["kind"]) in crds and crds[(o["apiVersion"].split("/")[0], o["kind"])] > i]
        require(not late, "every CRD comes before the custom resources of its kind (%s)" % ", ".join(late[:5]))
        if apply:
            kubeconfig = os.environ["GITFED_TEST_KUBECONFIG"]
            cmd = [gitfed, "apply", "--cluster", "kubeprom", "--kubeconfig", kubeconfig, "registry", "manifests"]
            first = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
            require(first.returncode == 0, "gitfed apply syncs it (exit %d): %s" % (first.returncode, (first.stdout + first.stderr)[-1500:]))
            second = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
            require(second.returncode == 0, "a second apply succeeds: %s" % (second.stdout + second.stderr)[-800:])
            print(second.stdout[-1500:])
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
