# The gitfed agent's image.
#
#   docker build -t REGISTRY/gitfed:0.1.0 .
#   (then: kustomize edit set image gitfed=REGISTRY/gitfed:0.1.0 in your overlay of manifests/)
#
# The build stage runs the very scripts CI runs (scripts/setup installs the
# Debian packages, scripts/build configures with warnings as errors and
# builds); the runtime stage is Debian 12 slim with only the shared libraries
# the binary links, a non-root user, and `gitfed` as the entrypoint.
# test/e2e/image_runtime_libraries.py checks that the RUNTIME_PACKAGES list
# below names the package of every library the binary links directly, and
# that apt's dependencies of that list cover the rest (ldd + dpkg -S).

ARG DEBIAN=debian:12-slim

FROM ${DEBIAN} AS build
WORKDIR /src
COPY . .
# GITFED_SKIP_TESTENV: no Kubernetes or Git servers are needed to build.
RUN GITFED_SKIP_TESTENV=1 scripts/setup \
 && scripts/build build -DCMAKE_BUILD_TYPE=Release -DGITFED_TESTS=OFF \
 && strip --strip-unneeded build/agent/gitfed \
 && build/agent/gitfed --version

FROM ${DEBIAN} AS runtime
# RUNTIME_PACKAGES: one per line between the markers (read by the test).
# BEGIN RUNTIME_PACKAGES
ARG RUNTIME_PACKAGES="\
  ca-certificates \
  libc6 \
  libcurl4 \
  libfmt9 \
  libgcc-s1 \
  libgit2-1.5 \
  libmbedcrypto7 \
  libspdlog1.10 \
  libssl3 \
  libssh2-1 \
  libstdc++6 \
  libyaml-0-2 \
  libyaml-cpp0.7 \
  "
# END RUNTIME_PACKAGES
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* \
 && groupadd --system --gid 65532 gitfed \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin gitfed \
 && mkdir -p /var/cache/gitfed \
 && chown 65532:65532 /var/cache/gitfed
COPY --from=build /src/build/agent/gitfed /usr/local/bin/gitfed
USER 65532:65532
# The Git caches (mount an emptyDir here with a read-only root filesystem).
VOLUME ["/var/cache/gitfed"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gitfed"]
CMD ["agent", "--config", "/etc/gitfed/config/config.yaml"]
