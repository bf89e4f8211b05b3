#!/usr/bin/env python3
"""Checks the Dockerfile's runtime stage against the built binary.

No Docker engine runs here, so the image cannot be built in CI. What can go
wrong in its runtime stage can be checked without it:

- every shared library the binary links directly (ELF NEEDED) comes from a
  package named in RUNTIME_PACKAGES;
- every library it loads (ldd) comes from one of those packages or from
  their Depends/Pre-Depends (as dpkg knows them on this Debian 12 machine);
- no -dev package is installed at runtime, the runtime user is not root, the
  entrypoint is gitfed, and the build stage runs scripts/setup and
  scripts/build (the same scripts as CI).

usage: image_runtime_libraries.py DOCKERFILE BINARY
"""
import os
import re
import subprocess
import sys


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def runtime_packages(dockerfile):
    text = open(dockerfile).read()
    m = re.search(r"# BEGIN RUNTIME_PACKAGES\n(.*?)# END RUNTIME_PACKAGES", text, re.S)
    if not m:
        fail("no '# BEGIN RUNTIME_PACKAGES' ... '# END RUNTIME_PACKAGES' block in " + dockerfile)
    block = m.group(1)
    value = re.search(r'ARG RUNTIME_PACKAGES="(.*?)"', block, re.S)
    if not value:
        fail("no ARG RUNTIME_PACKAGES=\"...\" in the block")
    pkgs = [t for t in re.split(r"[\s\\]+", value.group(1)) if t]
    for p in pkgs:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", p):
            fail("not a package name: %r" % p)
    return text, pkgs


def stages(text):
    """{stage name: its lines}"""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            name = (m.group(1) or str(len(out))).lower()
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return out


def package_of(path):
    """The Debian package that installed a library (usrmerge: /lib and /usr/lib)."""
    candidates = [path, os.path.realpath(path)]
    for c in list(candidates):
        if c.startswith("/usr/lib/"):
            candidates.append(c[len("/usr"):])
        elif c.startswith("/lib/"):
            candidates.append("/usr" + c)
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    return None


def depends_closure(roots):
    """Installed packages reachable from `roots` through Depends and Pre-Depends."""
    seen, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}\t${Depends}, ${Pre-Depends}", p],
                           capture_output=True, text=True)
        if r.returncode != 0 or "install ok installed" not in r.stdout:
            # A virtual package or an alternative not installed here.
            continue
        seen.add(p)
        deps = r.stdout.split("\t", 1)[1]
        for clause in deps.split(","):
            for alt in clause.split("|"):
                name = alt.strip().split(" ")[0].split(":")[0]
                if name:
                    todo.append(name)
    return seen


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    dockerfile, binary = sys.argv[1], sys.argv[2]
    if not os.access(binary, os.X_OK):
        print("%s not built (cmake --build first)" % binary)
        sys.exit(77)
    text, pkgs = runtime_packages(dockerfile)
    checks = 0

    dev = [p for p in pkgs if p.endswith("-dev")]
    if dev:
        fail("development packages in the runtime stage: " + " ".join(dev))
    checks += 1

    st = stages(text)
    if "build" not in st or "runtime" not in st:
        fail("expected stages 'build' and 'runtime', found " + ", ".join(st))
    build = "\n".join(st["build"])
    if "scripts/setup" not in build or "scripts/build" not in build:
        fail("the build stage must run scripts/setup and scripts/build (what CI runs)")
    runtime = st["runtime"]
    users = [l.split()[1] for l in runtime if l.startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root"):
        fail("the runtime stage must end as a non-root USER, found %s" % users)
    entry = [l for l in runtime if l.startswith("ENTRYPOINT")]
    if not entry or "gitfed" not in entry[-1]:
        fail("the runtime stage's ENTRYPOINT must be gitfed, found %s" % entry)
    if any(re.match(r"(RUN|COPY).*scripts/", l) for l in runtime):
        fail("the runtime stage must not run the build scripts")
    checks += 1

    # Direct dependencies: named explicitly.
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", run("readelf", "-d", binary))
    ldd = {}
    for line in run("ldd", binary).splitlines():
        m = re.match(r"\s*(\S+)\s+=>\s+(\S+)", line)
        if m:
            if m.group(2) == "not":
                fail("ldd: %s not found" % m.group(1))
            ldd[m.group(1)] = m.group(2)
    explicit = set(pkgs)
    for lib in needed:
        if lib not in ldd:
            fail("NEEDED %s not resolved by ldd" % lib)
        pkg = package_of(ldd[lib])
        if pkg is None:
            fail("no Debian package owns %s (%s)" % (lib, ldd[lib]))
        if pkg not in explicit:
            fail("%s (linked directly) comes from %s, which is not in RUNTIME_PACKAGES" % (lib, pkg))
        print("ok - direct   %-28s %s" % (lib, pkg))
        checks += 1

    # Everything ldd loads: from the list or what apt installs with it.
    closure = depends_closure(pkgs)
    missing = set(pkgs) - closure
    if missing:
        fail("RUNTIME_PACKAGES names packages not installed on this machine: " + " ".join(sorted(missing)))
    for lib, path in sorted(ldd.items()):
        pkg = package_of(path)
        if pkg is None:
            fail("no Debian package owns %s (%s)" % (lib, path))
        if pkg not in closure:
            fail("%s comes from %s, which neither RUNTIME_PACKAGES nor their dependencies install" % (lib, pkg))
        checks += 1
    print("ok - all %d libraries ldd lists come from RUNTIME_PACKAGES (%d packages, %d with dependencies)"
          % (len(ldd), len(pkgs), len(closure)))
    print("image_runtime_libraries: %d checks passed" % checks)


if __name__ == "__main__":
    main()
