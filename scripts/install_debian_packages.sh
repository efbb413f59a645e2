#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing (real data sets
# for rustgan.data's loaders, the browser for the explorer's test). Without root or
# password-less sudo it says what it could not install and succeeds: the tests that need a
# package skip, naming it.
set -uo pipefail
missing=()
for package in "$@"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
if ! { $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"; } >/dev/null 2>&1; then
  echo "could not install ${missing[*]} (apt-get install needs root): the tests that use them will skip" >&2
fi
exit 0
