#!/usr/bin/env bash
# Plain file:// repositories (no credentials): clone and push; a missing
# repository refused.
source "$(dirname "$0")/common.sh"
run "clone and push" -- clone_commit_push "$GITFED_TEST_FILE_URL" "$work/a"
run "the push is visible to a new clone" -- bash -c "timeout 60 git clone -q $GITFED_TEST_FILE_URL $work/b && test -f $work/b/smoke-$test_name.txt"
refuse "a missing repository" 'does not appear|not a git repository|No such' -- timeout 60 git ls-remote "$GITFED_TEST_FILE_BASE/missing.git"
done_ok
