#!/bin/sh
# One run of the scale benchmarks behind docs/performance.md's "A million documents" table (issue #18):
# rebuild, search, freshness and the site under load, at 100,000 and 1,000,000 generated documents,
# with Whoosh beside tantivy at both sizes (its 1M rebuild stopped after an hour, as the issue allows).
# The archives are made once into bench/.cache (the 1M catalog takes about 3.4 GB, its tantivy index
# about 4 GB, its Whoosh index about 28 GB). Run from the project root on a quiet machine:
# bench/scale.sh | tee scale.log
set -eu
PY=${PY:-.venv/bin/python}
echo "## commit $(git rev-parse --short HEAD) · $(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) CPUs · $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "### rebuild, 100k and 1M (both engines)"
$PY bench/tantivy_build.py 100000
$PY bench/tantivy_build.py 1000000 --only tantivy
$PY bench/tantivy_build.py 1000000 --only whoosh --limit-s 3600
for n in 100000 1000000; do
  echo "### search, $n, tantivy"
  $PY bench/search.py "$n" --backend tantivy
done
for n in 100000 1000000; do
  if [ -e "${XXGK_BENCH_DIR:-bench/.cache}/archive-$n/ready" ]; then  # (not when the 1M rebuild passed its hour)
    echo "### search, $n, whoosh"
    $PY bench/search.py "$n"
  fi
done
echo "### new documents searchable, 1M, tantivy"
$PY bench/freshness.py 1000000 --backend tantivy
echo "### the site under load, 1M, tantivy"
$PY bench/load.py 1000000 --backend tantivy --seconds 60
