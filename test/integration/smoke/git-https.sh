#!/usr/bin/env bash
# Smart HTTP over TLS (per-run CA) with basic auth: clone and push with the
# right credentials; wrong password, no credentials and an unknown CA refused.
source "$(dirname "$0")/common.sh"
host="${GITFED_TEST_HTTPS_BASE#https://}"
good="https://$GITFED_TEST_HTTPS_USER:$GITFED_TEST_HTTPS_PASSWORD@$host/fleet.git"
bad="https://$GITFED_TEST_HTTPS_USER:wrong-$GITFED_TEST_HTTPS_PASSWORD@$host/fleet.git"
tls=(-c "http.sslCAInfo=$GITFED_TEST_HTTPS_CA" -c http.lowSpeedLimit=1 -c http.lowSpeedTime=30)
run "clone and push with the right password" -- clone_commit_push "$good" "$work/a" "${tls[@]}"
run "the push is visible to a new clone" -- bash -c "timeout 60 git -c http.sslCAInfo=$GITFED_TEST_HTTPS_CA clone -q $good $work/b && test -f $work/b/smoke-$test_name.txt"
refuse "clone with a wrong password" 'Authentication failed|401' -- timeout 60 git "${tls[@]}" clone -q "$bad" "$work/c"
refuse "ls-remote without credentials" 'Authentication failed|could not read Username|401' -- timeout 60 git "${tls[@]}" ls-remote "$GITFED_TEST_HTTPS_URL"
gitc -C "$work/a" commit -q --allow-empty -m "refused push"
refuse "push with a wrong password" 'Authentication failed|401' -- timeout 60 git "${tls[@]}" -C "$work/a" push -q "$bad" HEAD:main
refuse "TLS refused without the per-run CA" 'certificate|SSL' -- timeout 60 git -c http.sslCAInfo=/etc/ssl/certs/ca-certificates.crt ls-remote "$good"
done_ok
