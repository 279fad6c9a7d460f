#!/usr/bin/env bash
# Installs the `openai` npm package (the real OpenAI client the server tests use) into DIR/node_modules, once:
#   tools/npm_openai.sh build/npm-openai
# Needs node and npm, and the npm registry. Prints nothing on success; exits non-zero (npm's message on stderr)
# when the package cannot be installed.
set -euo pipefail
dir="$1"
mkdir -p "$dir"
[ -f "$dir/node_modules/openai/package.json" ] && exit 0
exec 9>"$dir/.install.lock"
flock 9
[ -f "$dir/node_modules/openai/package.json" ] && exit 0
cd "$dir"
[ -f package.json ] || echo '{"private": true}' > package.json
npm install --no-audit --no-fund --silent --no-save openai@4 >&2
