#!/usr/bin/env bash
# Builds the Debian package from this tree and checks it with lintian:
#   bash scripts/build-deb.sh [OUTDIR]        (default build-deb/)
# Copies the tracked (and new, not ignored) files to a scratch directory so the
# tree stays clean, runs `dpkg-buildpackage -us -uc -b` there, and leaves the
# .deb, .changes, .buildinfo and lintian.txt in OUTDIR. Exit non-zero when the
# build fails or lintian reports an error. DEB_BUILD_OPTIONS=nocheck skips the
# package's unit tests (CI runs them from the source tree anyway).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-deb}")
for c in dpkg-buildpackage dh lintian scdoc; do
	command -v "$c" >/dev/null || { echo "build-deb: $c missing (bash scripts/install-deps.sh)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/lyncmock-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lyncmock" "$out"
git ls-files -z -co --exclude-standard | grep -zv '^build' | tar -c --null -T - -f - | tar -x -C "$work/lyncmock" -f -
(cd "$work/lyncmock" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (full log: $out/build.log)" >&2
	exit 1
}
rm -f "$out"/lyncmock_*.deb "$out"/lyncmock-dbgsym_*.deb "$out"/lyncmock_*.changes "$out"/lyncmock_*.buildinfo
cp "$work"/lyncmock_*.deb "$work"/lyncmock_*.changes "$work"/lyncmock_*.buildinfo "$out"/
cp "$work"/lyncmock-dbgsym_*.deb "$out"/ 2>/dev/null || true
changes=$(ls "$out"/lyncmock_*.changes)
# lintian exits non-zero on errors (its default --fail-on error); warnings are
# listed, and explained in debian/README.lintian
lintian --info --display-info "$changes" >"$out/lintian.txt" 2>&1 && lrc=0 || lrc=$?
cat "$out/lintian.txt"
deb=$(ls "$out"/lyncmock_*.deb | grep -v dbgsym)
echo "build-deb: $deb"
exit "$lrc"
