#!/usr/bin/env bash
# Installs the test IdP: Debian's xmlsec1 (pysaml2 signs and encrypts through it) and a venv
# with the pinned pysaml2 at .venv-saml. Idempotent; reinstalls when the pins change.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
venv=$root/.venv-saml
requirements=tests/saml/requirements.txt

if ! command -v xmlsec1 >/dev/null; then
  apt-get install -y xmlsec1 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y xmlsec1 >/dev/null; }
fi
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/installed-requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$requirements"
  cp "$requirements" "$venv/installed-requirements.txt"
fi
echo "test IdP ready: $venv/bin/python tests/saml/idp.py --help"
