#!/usr/bin/env bash
# expect_failure.sh SECONDS REGEX COMMAND...: passes when COMMAND fails (non-zero exit) within
# SECONDS and its output matches the extended regular expression REGEX. A command that succeeds,
# hangs past SECONDS, or fails without the expected message fails the test.
set -u
seconds=$1 regex=$2
shift 2
start=$SECONDS
output=$(timeout --kill-after=5 "$seconds" "$@" 2>&1)
rc=$?
printf '%s\n' "$output"
echo "expect_failure: exit code $rc after $((SECONDS - start)) s"
if [ "$rc" -eq 0 ]; then echo "expect_failure: the job succeeded but should have failed"; exit 1; fi
# timeout's own codes (124, or 137 after --kill-after) can also be the job's: go by the clock.
if [ $((SECONDS - start)) -ge "$seconds" ]; then echo "expect_failure: the job hung (killed after $seconds s)"; exit 1; fi
if ! grep -Eq -- "$regex" <<<"$output"; then echo "expect_failure: no line matches '$regex'"; exit 1; fi
echo "expect_failure: failed as expected"
