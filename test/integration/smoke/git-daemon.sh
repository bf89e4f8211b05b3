#!/usr/bin/env bash
# git daemon (unauthenticated; receive-pack enabled): clone and push;
# a repository whose daemon.receivepack is false refuses pushes.
source "$(dirname "$0")/common.sh"
run "clone and push" -- clone_commit_push "$GITFED_TEST_GIT_URL" "$work/a"
run "the push is visible to a new clone" -- bash -c "timeout 60 git clone -q $GITFED_TEST_GIT_URL $work/b && test -f $work/b/smoke-$test_name.txt"
run "clone the read-only repository" -- timeout 60 git clone -q "$GITFED_TEST_GIT_READONLY_URL" "$work/c"
gitc -C "$work/c" commit -q --allow-empty -m "refused push"
refuse "push to the read-only repository" 'service not enabled|access denied|remote error' -- timeout 60 git -C "$work/c" push -q origin HEAD:main
refuse "a missing repository" 'does not appear|not found|No such|access denied|remote error' -- timeout 60 git ls-remote "$GITFED_TEST_GIT_BASE/missing.git"
done_ok
