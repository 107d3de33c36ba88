#!/usr/bin/env bash
# Reproduce the UCSD Ped2 numbers of docs/RESULTS.md from scratch: prepare, train-gan, generate,
# train-detector and evaluate with one preset, for each method and seed, then one comparison table.
#
#   benchmarks/ped2.sh [STORE]            (default STORE: artifacts-ped2)
#   env: PED2=path/to/ped2  PRESET=cpu  DEVICE=cpu  SEEDS="0"  METHODS="ffp-pseudo skip-frame patch"
#        MIX=a,b,... (the sets the detector learns besides the method's; unset: run's default mix; MIX=none: the method alone)
#        THREADS=N (CPU threads; unset: torch's default. Recorded in the manifests: results change with it)
#        CODE=DIR (the vgisgan source tree to run; default: the one holding this script)
#
# A whole cpu-preset run takes about an hour, and Python imports some of vgisgan's modules only when a stage
# needs them: edits made to a tree while a run uses it reach that run's later stages. For figures that must
# come from one version, freeze a copy first (`git worktree add /tmp/code COMMIT`) and pass CODE=/tmp/code.
# The script runs `python -m vgisgan` from inside CODE, so that copy is what is imported, whatever the
# current folder or the installed package is.
#
# Each stage's own time is in its manifest summary ("seconds"); `vgisgan artifacts show REF` prints it.
# compare.csv is the table docs/runs/ keeps, one file a run; benchmarks/seeds.py summarises such files over seeds.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
PED2=$(realpath -m "${PED2:-$here/../shared/datasets/ped2}")
STORE=$(realpath -m "${1:-artifacts-ped2}")
CODE=$(cd "${CODE:-$here}" && pwd)
vgisgan() { (cd "$CODE" && python -m vgisgan "$@"); }
echo "vgisgan $(cd "$CODE" && python -c 'import vgisgan; print(vgisgan.__version__, "from", vgisgan.__file__)')"
for seed in ${SEEDS:-0}; do
  for method in ${METHODS:-ffp-pseudo skip-frame patch}; do
    start=$(date +%s)
    vgisgan run ped2 --source "$PED2" --preset "${PRESET:-cpu}" --method "$method" --seed "$seed" \
      ${MIX:+--mix "$MIX"} --device "${DEVICE:-cpu}" ${THREADS:+--threads "$THREADS"} --store "$STORE"
    echo "ped2 ${PRESET:-cpu} $method (mix ${MIX:-the default}) seed $seed: $(( $(date +%s) - start )) s wall"
  done
done
vgisgan compare --store "$STORE" --markdown "$STORE/compare.md" --csv "$STORE/compare.csv"
