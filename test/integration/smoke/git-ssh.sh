#!/usr/bin/env bash
# sshd with key authentication: clone and push with the right key and
# known_hosts; a wrong key, an unknown host key and a shell command refused.
source "$(dirname "$0")/common.sh"
ssh_opts() { # key known_hosts
  echo "ssh -F none -i $1 -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$2 -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10"
}
good="$(ssh_opts "$GITFED_TEST_SSH_KEY" "$GITFED_TEST_SSH_KNOWN_HOSTS")"
run "clone and push with the right key" -- clone_commit_push "$GITFED_TEST_SSH_URL" "$work/a" -c "core.sshCommand=$good"
run "the push is visible to a new clone" -- bash -c "GIT_SSH_COMMAND='$good' timeout 60 git clone -q $GITFED_TEST_SSH_URL $work/b && test -f $work/b/smoke-$test_name.txt"
refuse "clone with a wrong key" 'Permission denied' -- timeout 60 git -c "core.sshCommand=$(ssh_opts "$GITFED_TEST_SSH_WRONG_KEY" "$GITFED_TEST_SSH_KNOWN_HOSTS")" clone -q "$GITFED_TEST_SSH_URL" "$work/c"
gitc -C "$work/a" commit -q --allow-empty -m "refused push"
refuse "push with a wrong key" 'Permission denied' -- timeout 60 git -c "core.sshCommand=$(ssh_opts "$GITFED_TEST_SSH_WRONG_KEY" "$GITFED_TEST_SSH_KNOWN_HOSTS")" -C "$work/a" push -q origin HEAD:main
refuse "host key not in known_hosts" 'Host key verification failed|No .* host key is known' -- timeout 60 git -c "core.sshCommand=$(ssh_opts "$GITFED_TEST_SSH_KEY" /dev/null)" ls-remote "$GITFED_TEST_SSH_URL"
refuse "host key different from known_hosts" 'REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed' -- timeout 60 git -c "core.sshCommand=$(ssh_opts "$GITFED_TEST_SSH_KEY" "$GITFED_TEST_SSH_WRONG_KNOWN_HOSTS")" ls-remote "$GITFED_TEST_SSH_URL"
refuse "a shell command is refused (forced git command)" 'only git upload-pack' -- timeout 60 $good -p "$GITFED_TEST_SSH_PORT" "$GITFED_TEST_SSH_USER@127.0.0.1" id
refuse "a repository outside the root is refused" 'only git upload-pack|not a git repository|does not appear' -- timeout 60 git -c "core.sshCommand=$good" ls-remote "$GITFED_TEST_SSH_BASE/../../etc"
done_ok
