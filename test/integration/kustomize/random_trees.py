"""Random base+overlay trees for the kustomize equivalence test.

make_tree(rng, root) writes, from a vocabulary of the fields gitfed supports
(issue 17), a tree

    root/base/                  kustomization.yaml + resource files (sometimes a
                                nested kustomization under base/extra/)
    root/components/<name>/     sometimes, a Component used by an overlay
    root/overlays/<name>/       one to three overlays of ../../base

and returns its expect.yaml: every overlay and the base are built, and
`expect: any` (whatever kustomize says: objects to compare, or an error that
gitfed must report too). Everything comes from RNG, so one seed is one tree.
About one tree in ten is meant to fail somewhere (a patch whose target does
not exist, a generator merged into nothing, a JSON patch on a missing path).
"""
import os

import yaml

APPS = ["web", "api", "worker", "cache", "auth", "search", "billing", "mail"]
IMAGES = {"web": "nginx", "api": "example/api", "worker": "example/worker", "cache": "redis",
          "auth": "example.com/auth", "search": "registry.example.com:5000/search",
          "billing": "example/billing", "mail": "busybox"}
WORDS = ["alpha", "beta", "gamma", "delta", "blue", "green", "prod", "stage", "eu", "us", "1", "true", "on"]


def dump(docs):
    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def pick(rng, seq, lo=1, hi=None):
    hi = len(seq) if hi is None else min(hi, len(seq))
    return rng.sample(seq, rng.randint(min(lo, hi), hi))


def label_map(rng, n=None):
    keys = ["team", "tier", "env", "app.kubernetes.io/part-of", "example.com/owner", "track"]
    return {k: rng.choice(WORDS) for k in pick(rng, keys, 1, n or 2)}


class App:
    """One application of the base: what exists, so that references and
    patches can name it."""

    def __init__(self, rng, name):
        self.name = name
        self.kind = "StatefulSet" if rng.random() < 0.2 else "Deployment"
        self.service = rng.random() < 0.7
        self.config = rng.random() < 0.6       # a generated ConfigMap <name>-config
        self.secret = rng.random() < 0.4       # a generated Secret <name>-secret
        self.plain_cm = rng.random() < 0.3     # a plain ConfigMap <name>-static
        self.sa = rng.random() < 0.4           # ServiceAccount + Role + RoleBinding
        self.pvc = rng.random() < 0.2
        self.ingress = self.service and rng.random() < 0.3
        self.hpa = self.kind == "Deployment" and rng.random() < 0.2
        self.cron = rng.random() < 0.15
        self.tag = rng.choice(["1.0", "2.3.1", "latest", None])
        self.labels = {"app": name}
        if rng.random() < 0.3:
            self.labels["example.com/tier"] = rng.choice(["frontend", "backend"])

    def image(self):
        return IMAGES[self.name] + (":" + self.tag if self.tag else "")

    def objects(self, rng):
        pod = {"containers": [{"name": self.name, "image": self.image()}]}
        c = pod["containers"][0]
        if rng.random() < 0.3:
            pod["initContainers"] = [{"name": "init", "image": "busybox:1.36"}]
        if rng.random() < 0.5:
            c["ports"] = [{"containerPort": rng.choice([80, 8080, 9090]), "name": "http"}]
        env_from = []
        if self.config:
            env_from.append({"configMapRef": {"name": self.name + "-config"}})
        if self.secret:
            env_from.append({"secretRef": {"name": self.name + "-secret"}})
        if env_from:
            c["envFrom"] = env_from
        if rng.random() < 0.4:
            c["env"] = [{"name": "MODE", "value": rng.choice(WORDS)}]
            if self.plain_cm:
                c["env"].append({"name": "STATIC", "valueFrom": {"configMapKeyRef": {"name": self.name + "-static", "key": "k"}}})
        vols = []
        if self.pvc:
            vols.append({"name": "data", "persistentVolumeClaim": {"claimName": self.name + "-data"}})
        if self.config and rng.random() < 0.5:
            vols.append({"name": "config", "configMap": {"name": self.name + "-config"}})
        if vols:
            pod["volumes"] = vols
        if self.sa:
            pod["serviceAccountName"] = self.name
        meta = {"name": self.name}
        if rng.random() < 0.5:
            meta["labels"] = dict(self.labels)
        spec = {"replicas": rng.randint(1, 3), "selector": {"matchLabels": dict(self.labels)},
                "template": {"metadata": {"labels": dict(self.labels)}, "spec": pod}}
        if self.kind == "StatefulSet":
            spec["serviceName"] = self.name
        out = [{"apiVersion": "apps/v1", "kind": self.kind, "metadata": meta, "spec": spec}]
        if self.service:
            out.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": self.name, "labels": dict(self.labels)},
                        "spec": {"selector": dict(self.labels), "ports": [{"name": "http", "port": 80}]}})
        if self.plain_cm:
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": self.name + "-static"},
                        "data": {"k": rng.choice(WORDS), "other": "x"}})
        if self.sa:
            out += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": self.name}},
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": self.name},
                     "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
                    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": self.name},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": self.name},
                     "subjects": [{"kind": "ServiceAccount", "name": self.name}]}]
        if self.pvc:
            out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": self.name + "-data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})
        if self.ingress:
            out.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": self.name},
                        "spec": {"rules": [{"host": self.name + ".example.com", "http": {"paths": [
                            {"path": "/", "pathType": "Prefix",
                             "backend": {"service": {"name": self.name, "port": {"number": 80}}}}]}}]}})
        if self.hpa:
            out.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": self.name},
                        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name},
                                 "minReplicas": 1, "maxReplicas": 4}})
        if self.cron:
            out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": self.name + "-nightly"},
                        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "job", "image": self.image()}]}}}}}})
        return out


def common_fields(rng, k, apps, level):
    """The transformer fields a base or an overlay may set."""
    if rng.random() < 0.3:
        k["namespace"] = rng.choice(["shop", "team-a", "prod", "staging"])
    if rng.random() < 0.3:
        k["namePrefix"] = rng.choice(["a-", "blue-", "%s-" % level])
    if rng.random() < 0.2:
        k["nameSuffix"] = rng.choice(["-v2", "-x", "-%s" % level])
    if rng.random() < 0.2:
        k["commonLabels"] = label_map(rng)
    if rng.random() < 0.4:
        k["labels"] = []
        for _ in range(rng.randint(1, 2)):
            entry = {"pairs": label_map(rng)}
            for opt in ("includeSelectors", "includeTemplates"):
                if rng.random() < 0.4:
                    entry[opt] = rng.random() < 0.5
            k["labels"].append(entry)
    if rng.random() < 0.3:
        k["commonAnnotations"] = {rng.choice(["owner", "note", "example.com/cost"]): rng.choice(WORDS + ["a b", "x: y"])}
    if rng.random() < 0.4:
        k["images"] = []
        for a in pick(rng, apps, 1, 2):
            e = {"name": IMAGES[a.name] if rng.random() < 0.9 else "not-used"}
            r = rng.random()
            if r < 0.4:
                e["newTag"] = rng.choice(["9.9", "v2", "stable"])
            elif r < 0.6:
                e["newName"] = "mirror.example.com/" + a.name
            elif r < 0.8:
                e["digest"] = "sha256:" + "%064x" % rng.getrandbits(256)
            else:
                e["newName"], e["newTag"] = "mirror.example.com/" + a.name, "1"
            k["images"].append(e)
    workloads = [a for a in apps]
    if rng.random() < 0.3 and workloads:
        k["replicas"] = [{"name": a.name, "count": rng.randint(0, 5)} for a in pick(rng, workloads, 1, 2)]


def generators(rng, k, d, apps, overlay):
    """configMapGenerator/secretGenerator (+ generatorOptions), in base or overlay."""
    cms, secrets = [], []
    for a in apps:
        if a.config and (not overlay or rng.random() < 0.4):
            g = {"name": a.name + "-config"}
            if overlay:
                g["behavior"] = rng.choice(["merge", "replace"])
            g["literals"] = ["%s=%s" % (rng.choice(["COLOR", "SIZE", "LEVEL"]), rng.choice(WORDS))]
            if rng.random() < 0.3:
                write(os.path.join(d, "files", a.name + ".properties"), "key=%s\nother=%s\n" % (rng.choice(WORDS), rng.choice(WORDS)))
                g["files"] = ["files/%s.properties" % a.name]
            if rng.random() < 0.2:
                write(os.path.join(d, "files", a.name + ".env"), "# env\nA=%s\nB=%s\n" % (rng.choice(WORDS), rng.choice(WORDS)))
                g["envs"] = ["files/%s.env" % a.name]
            if rng.random() < 0.15:
                g["options"] = {"disableNameSuffixHash": True}
            cms.append(g)
        if a.secret and (not overlay or rng.random() < 0.3):
            g = {"name": a.name + "-secret", "literals": ["password=%s" % rng.choice(WORDS)]}
            if overlay:
                g["behavior"] = rng.choice(["merge", "replace"])
            secrets.append(g)
    if overlay and rng.random() < 0.3:
        cms.append({"name": "overlay-settings", "literals": ["x=%s" % rng.choice(WORDS)]})
    if overlay and rng.random() < 0.04:  # meant to fail: nothing to merge into
        cms.append({"name": "no-such-config", "behavior": "merge", "literals": ["a=b"]})
    if cms:
        k["configMapGenerator"] = cms
    if secrets:
        k["secretGenerator"] = secrets
    if (cms or secrets) and rng.random() < 0.3:
        o = {}
        if rng.random() < 0.5:
            o["disableNameSuffixHash"] = rng.random() < 0.5
        if rng.random() < 0.4:
            o["labels"] = label_map(rng, 1)
        if rng.random() < 0.3:
            o["annotations"] = {"generated-by": "kustomize"}
        if rng.random() < 0.2:
            o["immutable"] = True
        k["generatorOptions"] = o


def patches(rng, k, apps, base_fields):
    """patches (SMP and JSON 6902, inline and file) and the legacy fields."""
    out = []
    prefix = base_fields.get("namePrefix", "") if rng.random() < 0.3 else ""
    for a in pick(rng, apps, 1, 2):
        r = rng.random()
        name = prefix + a.name
        if r < 0.35:  # SMP naming its target
            p = {"apiVersion": "apps/v1", "kind": a.kind, "metadata": {"name": name},
                 "spec": {"template": {"spec": {"containers": [
                     {"name": a.name, "env": [{"name": "PATCHED", "value": rng.choice(WORDS)}]}]}}}}
            if rng.random() < 0.4:
                p["spec"]["replicas"] = rng.randint(1, 9)
            out.append({"patch": yaml.safe_dump(p, sort_keys=False)})
        elif r < 0.55:  # JSON 6902 by kind and name regex
            out.append({"target": {"kind": a.kind, "name": "^%s.*$" % a.name[:3]},
                        "patch": yaml.safe_dump([{"op": "add", "path": "/spec/template/metadata/annotations",
                                                  "value": {"patched": "yes"}}], sort_keys=False)})
        elif r < 0.7:  # JSON 6902 by label selector (meets only the objects with the label)
            out.append({"target": {"labelSelector": "app=%s" % a.name},
                        "patch": yaml.safe_dump([{"op": "add", "path": "/metadata/labels/patched", "value": "true"}])})
        elif r < 0.8:  # SMP with a target selector, to every Deployment
            out.append({"target": {"kind": "Deployment"},
                        "patch": yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "metadata": {"name": "any"},
                                                 "spec": {"revisionHistoryLimit": 3}})})
        elif r < 0.9:  # a replace that may find no such path (meant to fail sometimes)
            out.append({"target": {"kind": a.kind, "name": name},
                        "patch": yaml.safe_dump([{"op": "replace", "path": "/spec/replicas", "value": 7}])})
        else:  # an SMP deleting the container's ports, or naming a missing object
            missing = rng.random() < 0.25
            p = {"apiVersion": "apps/v1", "kind": a.kind,
                 "metadata": {"name": ("gone-" if missing else "") + name},
                 "spec": {"template": {"spec": {"containers": [{"name": a.name, "ports": None}]}}}}
            out.append({"patch": yaml.safe_dump(p, sort_keys=False)})
    return out


def make_tree(rng, root):
    apps = [App(rng, n) for n in pick(rng, APPS, 1, 4)]
    base = os.path.join(root, "base")
    k = {}
    files = []
    docs = {a.name: a.objects(rng) for a in apps}
    layout = rng.choice(["one-file", "per-app", "nested"])
    if layout == "one-file":
        write(os.path.join(base, "all.yaml"), dump([o for a in apps for o in docs[a.name]]))
        files = ["all.yaml"]
    else:
        for i, a in enumerate(apps):
            if layout == "nested" and i % 2 == 1:
                d = os.path.join(base, "extra", a.name)
                write(os.path.join(d, "objects.yaml"), dump(docs[a.name]))
                write(os.path.join(d, "kustomization.yaml"), dump([{"resources": ["objects.yaml"]}]))
                files.append("extra/" + a.name)
            else:
                write(os.path.join(base, a.name + ".yaml"), dump(docs[a.name]))
                files.append(a.name + ".yaml")
    rng.shuffle(files)
    k["resources"] = files
    common_fields(rng, k, apps, "base")
    generators(rng, k, base, apps, overlay=False)
    write(os.path.join(base, "kustomization.yaml"), dump([k]))

    component = None
    if rng.random() < 0.25:
        component = "components/extras"
        c = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
             "labels": [{"pairs": {"component": "extras"}}]}
        if rng.random() < 0.5:
            c["configMapGenerator"] = [{"name": "extras", "literals": ["enabled=true"]}]
        write(os.path.join(root, component, "kustomization.yaml"), dump([c]))

    builds = ["base"]
    for n in pick(rng, ["dev", "staging", "production"], 1, 3):
        d = os.path.join(root, "overlays", n)
        o = {"resources": ["../../base"]}
        if rng.random() < 0.3:
            write(os.path.join(d, "extra.yaml"), dump([{"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": n + "-only"}, "data": {"env": n}}]))
            o["resources"].append("extra.yaml")
        if component and rng.random() < 0.7:
            o["components"] = ["../../" + component]
        common_fields(rng, o, apps, n)
        generators(rng, o, d, apps, overlay=True)
        if rng.random() < 0.75:
            ps = patches(rng, o, apps, k)
            r = rng.random()
            if r < 0.15:  # some as a file
                write(os.path.join(d, "patch.yaml"), ps[0]["patch"])
                ps[0] = dict(ps[0], path="patch.yaml")
                del ps[0]["patch"]
            o["patches"] = ps
        if rng.random() < 0.15:
            a = rng.choice(apps)
            o["patchesStrategicMerge"] = [yaml.safe_dump({"apiVersion": "apps/v1", "kind": a.kind,
                                                          "metadata": {"name": a.name},
                                                          "spec": {"minReadySeconds": 5}})]
        if rng.random() < 0.1:
            a = rng.choice(apps)
            o["patchesJson6902"] = [{"target": {"group": "apps", "version": "v1", "kind": a.kind, "name": a.name},
                                     "patch": yaml.safe_dump([{"op": "add", "path": "/spec/paused", "value": False}])}]
        write(os.path.join(d, "kustomization.yaml"), dump([o]))
        builds.append("overlays/" + n)
    return {"build": builds, "expect": "any"}
