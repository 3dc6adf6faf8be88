// Percentiles and small number helpers for the signalling benches.

/** The p-th percentile (0-100) of `values` by nearest rank; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function summary(values) {
  return {
    n: values.length,
    p50: round(percentile(values, 50), 2),
    p90: round(percentile(values, 90), 2),
    p99: round(percentile(values, 99), 2),
    max: round(values.length ? Math.max(...values) : NaN, 2),
  };
}

export function round(x, digits = 1) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** CPU use of each process between two snapshots, as a share of one core and per unit of work. */
export function cpuShare(before, after, seconds, units) {
  const out = {};
  for (const [name, start] of Object.entries(before)) {
    const end = after[name];
    if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
    const used = end - start;
    out[name] = { coreShare: round(used / seconds, 3), ...(units ? { cpuMsPerUnit: round((used * 1000) / units, 3) } : {}) };
  }
  return out;
}
