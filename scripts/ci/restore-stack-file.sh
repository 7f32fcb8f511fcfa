#!/usr/bin/env bash
# Roll a stack back to the pinned artifacts of an earlier commit: restore stacks/Pulumi.<stack>.yaml as it was
# at <git-ref>, so the next `pulumi up` re-deploys the previous image digest and model versions.
#
#   scripts/ci/restore-stack-file.sh <stack> [<git-ref>]
#
# <git-ref> defaults to HEAD (discard this job's uncommitted pin); an empty or all-zero ref (GitHub's "before"
# of a first push) also means HEAD. Only the one stack file changes; code stays as checked out, so this rolls
# back artifacts, not infrastructure code (for that: `git revert` and the normal pipeline).
set -euo pipefail

stack="${1:?usage: restore-stack-file.sh <stack> [<git-ref>]}"
ref="${2:-HEAD}"
if [[ -z "$ref" || "$ref" =~ ^0+$ ]]; then
  ref=HEAD
fi
if [[ ! "$stack" =~ ^[a-z][a-z0-9-]*$ ]]; then
  echo "error: '$stack' is not a stack name" >&2
  exit 2
fi

cd "$(git rev-parse --show-toplevel)"
file="stacks/Pulumi.${stack}.yaml"
if ! git cat-file -e "${ref}:${file}" 2>/dev/null; then
  echo "error: ${file} does not exist at ${ref}; nothing to roll back to" >&2
  exit 2
fi

# Through a temporary file and a rename, like every other writer of stack files: never half a file.
tmp="$(mktemp "stacks/.Pulumi.${stack}.yaml.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
git show "${ref}:${file}" >"$tmp"
chmod --reference="$file" "$tmp" 2>/dev/null || chmod 644 "$tmp"
mv "$tmp" "$file"
trap - EXIT

echo "restored ${file} from $(git rev-parse --short "$ref"):"
git --no-pager diff --stat -- "$file"
git --no-pager diff -- "$file"
