#!/usr/bin/env bash
# A Git server can be stopped (clients fail fast) and started again with the
# same port, credentials and repositories.
source "$(dirname "$0")/common.sh"
svc="$(dirname "$0")/../../env/service"
url="https://$GITFED_TEST_HTTPS_USER:$GITFED_TEST_HTTPS_PASSWORD@${GITFED_TEST_HTTPS_BASE#https://}/fleet.git"
tls=(-c "http.sslCAInfo=$GITFED_TEST_HTTPS_CA")
run "https serves" -- timeout 60 git "${tls[@]}" ls-remote "$url"
run "https stopped" -- "$svc" "$GITFED_TEST_GIT_DIR" https stop
refuse "https unreachable during the outage" 'Failed to connect|Connection refused|Could not connect' -- timeout 60 git "${tls[@]}" ls-remote "$url"
run "https started again" -- "$svc" "$GITFED_TEST_GIT_DIR" https start 30
run "https serves again" -- timeout 60 git "${tls[@]}" ls-remote "$url"
ssh_cmd="ssh -F none -i $GITFED_TEST_SSH_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$GITFED_TEST_SSH_KNOWN_HOSTS -o ConnectTimeout=10"
run "ssh restarted" -- "$svc" "$GITFED_TEST_GIT_DIR" ssh restart 30
run "ssh serves again (same host key)" -- timeout 60 git -c "core.sshCommand=$ssh_cmd" ls-remote "$GITFED_TEST_SSH_URL"
run "git daemon restarted" -- "$svc" "$GITFED_TEST_GIT_DIR" git-daemon restart 30
run "git daemon serves again" -- timeout 60 git ls-remote "$GITFED_TEST_GIT_URL"
# fcgiwrap's parent must idle (it spins on a stray child's exit, see git-up).
pid="$(cat "$GITFED_TEST_GIT_DIR/pids/fcgiwrap")"
ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
(( ticks < 300 )) || fail "fcgiwrap (pid $pid) used $ticks CPU ticks: it is spinning"
ok "fcgiwrap idles ($ticks CPU ticks)"
done_ok
