#!/bin/sh
# One run of the scale benchmarks behind docs/performance.md's "A million documents" table (issue #18):
# rebuild, search, freshness and the site under load, at 100,000 and 1,000,000 generated documents.
# The archives are made once into bench/.cache (the 1M catalog takes about 3.4 GB, its tantivy index
# about 7 GB). Run from the project root on a quiet machine: bench/scale.sh | tee scale.log
set -eu
PY=${PY:-.venv/bin/python}
echo "## commit $(git rev-parse --short HEAD) · $(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) CPUs · $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "### rebuild, 100k (both engines) and 1M (tantivy)"
$PY bench/tantivy_build.py 100000
$PY bench/tantivy_build.py 1000000 --only tantivy
for n in 100000 1000000; do
  echo "### search, $n, tantivy"
  $PY bench/search.py "$n" --backend tantivy
done
echo "### search, 100000, whoosh"
$PY bench/search.py 100000
echo "### new documents searchable, 1M, tantivy"
$PY bench/freshness.py 1000000 --backend tantivy
echo "### the site under load, 1M, tantivy"
$PY bench/load.py 1000000 --backend tantivy --seconds 60
