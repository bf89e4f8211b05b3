"""The monitoring assets as the tests see them: the component built in an
overlay (kubectl kustomize), the metric names a PromQL expression reads, and
the metric families an agent's /metrics exports."""
import json
import os
import re
import subprocess

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OVERLAY = os.path.join(HERE, "overlay")
README = os.path.join(ROOT, "manifests", "README.md")


def built_objects(overlay=OVERLAY):
    """The objects of `kubectl kustomize OVERLAY` (offline)."""
    r = subprocess.run(["kubectl", "kustomize", overlay], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit("kubectl kustomize %s: %s" % (overlay, r.stderr.strip()))
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def one(objects, kind, name=None):
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    if len(found) != 1:
        raise SystemExit("expected one %s%s in the build, found %d" % (kind, " " + name if name else "", len(found)))
    return found[0]


def alerts(objects):
    """Every alerting rule of the built PrometheusRule."""
    return [r for g in one(objects, "PrometheusRule")["spec"]["groups"] for r in g["rules"] if "alert" in r]


def dashboard(objects):
    cm = one(objects, "ConfigMap", "gitfed-dashboard")
    (text,) = cm["data"].values()
    return cm, json.loads(text)


def dashboard_exprs(d):
    """(where, expression) of every panel target and templating query."""
    out = []
    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(d.get("panels", [])):
        for t in p.get("targets", []):
            out.append(("panel %r %s" % (p.get("title"), t.get("refId")), t["expr"]))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            out.append(("variable %r" % v["name"], q))
    return out


# ---- PromQL: the metric names an expression selects --------------------------
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}
FUNCTIONS = {
    "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor", "histogram_count",
    "histogram_fraction", "histogram_quantile", "histogram_sum", "holt_winters", "hour", "idelta", "increase",
    "irate", "label_join", "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate",
    "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "time", "timestamp", "vector", "year",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "quantile_over_time",
    "stddev_over_time", "stdvar_over_time", "last_over_time", "present_over_time",
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
            "Inf", "NaN", "inf", "nan"}


def referenced(expr):
    """The metric names `expr` selects (PromQL, with Grafana's $variables and
    label_values(METRIC, LABEL)). Unknown functions are an error, so that a
    typo cannot pass for a metric."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # strings
    e = re.sub(r"\blabel_values\(([^,]*),\s*\w+\s*\)", r"(\1)", e)  # the label argument is not a metric
    e = re.sub(r"\{[^{}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges and subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", e)  # label lists
    e = re.sub(r"\$\{?\w+\}?", " ", e)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", e):
        tok = m.group(0)
        if tok in KEYWORDS:
            continue
        called = e[m.end():].lstrip().startswith("(")
        if tok in AGGREGATIONS or tok in FUNCTIONS:
            if not called:
                raise ValueError("%r: %s without arguments" % (expr, tok))
            continue
        if called:
            raise ValueError("%r: unknown function %s" % (expr, tok))
        names.add(tok)
    return names


def exported(text):
    """{series name: family} of a /metrics text: each `# TYPE` family, with
    _bucket/_sum/_count for histograms (and _sum/_count for summaries)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)$", line)
        if not m:
            continue
        name, kind = m.groups()
        out[name] = name
        if kind == "histogram":
            for s in ("_bucket", "_sum", "_count"):
                out[name + s] = name
        elif kind == "summary":
            for s in ("_sum", "_count"):
                out[name + s] = name
    return out


def families(text):
    """{family: type} of a /metrics text."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def anchors(markdown_path=README):
    """GitHub's anchors of a Markdown file's headings."""
    out = set()
    for line in open(markdown_path):
        m = re.match(r"#{1,6}\s+(.*?)\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            out.add(slug)
    return out
