#!/usr/bin/env bash
# Record what a CI job just deployed: commit stacks/Pulumi.<stack>.yaml (the pins it wrote) to the branch it
# deployed from and push, so the repository keeps saying exactly what runs in each stack.
#
#   scripts/ci/record-pins.sh <stack> <commit message>
#
# Commits only that file. Rebases onto the remote branch and retries when another job pushed meanwhile (each
# job records a different stack file, so the rebase does not conflict). Needs `contents: write` and, when the
# branch is protected, a ruleset that lets the GitHub Actions app push (docs/promotion.md, "Setting up CI").
set -euo pipefail

stack="${1:?usage: record-pins.sh <stack> <commit message>}"
message="${2:?usage: record-pins.sh <stack> <commit message>}"
branch="${RECORD_BRANCH:-$(git rev-parse --abbrev-ref HEAD)}"
remote="${RECORD_REMOTE:-origin}"

cd "$(git rev-parse --show-toplevel)"
file="stacks/Pulumi.${stack}.yaml"
if git diff --quiet -- "$file"; then
  echo "${file}: nothing new to record"
  exit 0
fi

git config user.name >/dev/null || git config user.name "github-actions[bot]"
git config user.email >/dev/null || git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git add -- "$file"
# [skip ci]: recording a deployment must not start another one (GITHUB_TOKEN pushes never do; other tokens might).
git commit --quiet -m "${message} [skip ci]" -- "$file"

for attempt in 1 2 3 4 5; do
  if git push --quiet "$remote" "HEAD:${branch}"; then
    echo "recorded ${file} on ${branch}: $(git rev-parse --short HEAD)"
    exit 0
  fi
  echo "push rejected (attempt ${attempt}); rebasing onto ${remote}/${branch}" >&2
  sleep $((attempt * ${RECORD_RETRY_SECONDS:-2}))
  git pull --quiet --rebase --autostash "$remote" "$branch"
done
echo "error: could not push ${file} to ${branch} after 5 attempts" >&2
exit 1
