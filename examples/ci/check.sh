#!/usr/bin/env bash
# A CI gate on S3 access: collect a snapshot (or use a committed one), make
# sure every input loaded, then check the assertions and leave SARIF for
# the code-scanning upload. Exit status: 0 all hold, 1 an assertion failed
# or an input is broken, 2 bucketlog could not run.
#
#   SNAPSHOT=snapshot ASSERTIONS=access.check bash check.sh
#   COLLECT=1 SNAPSHOT=snapshot ASSERTIONS=access.check bash check.sh   # collect first (aws CLI credentials)
set -euo pipefail
bucketlog=${BUCKETLOG:-bucketlog}
snapshot=${SNAPSHOT:?set SNAPSHOT to the snapshot directory}
assertions=${ASSERTIONS:?set ASSERTIONS to the assertion file}
sarif=${SARIF:-bucketlog.sarif}
if [ "${COLLECT:-0}" = 1 ]; then
  "$bucketlog" collect -o "$snapshot" ${AWS_ENDPOINT_URL:+--endpoint-url "$AWS_ENDPOINT_URL"}
fi
# Every policy parses and lints clean (a broken policy must not turn the gate green).
"$bucketlog" --env "$snapshot" validate
# --format sarif implies --strict: an input that did not load fails the check.
status=0
"$bucketlog" --env "$snapshot" --format sarif check "$assertions" > "$sarif" || status=$?
# The same results as text, for the job's log.
"$bucketlog" --env "$snapshot" check "$assertions" || true
exit "$status"
