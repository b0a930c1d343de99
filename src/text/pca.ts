// PCA to two dimensions for the embedding scatter: center, then the top two eigenvectors of the
// covariance by power iteration with deflation. Deterministic: fixed start, fixed signs.

export interface Pca2d {
  points: [number, number][];
  /** fraction of the total variance each component explains */
  explainedVariance: [number, number];
}

export function pca2d(vectors: ArrayLike<number>[]): Pca2d {
  const n = vectors.length;
  if (n === 0) return { points: [], explainedVariance: [0, 0] };
  const d = vectors[0].length;
  const mean = new Float64Array(d);
  for (const v of vectors) for (let k = 0; k < d; k++) mean[k] += v[k] / n;
  const X = vectors.map((v) => Float64Array.from({ length: d }, (_, k) => v[k] - mean[k]));
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (const x of X) for (let i = 0; i < d; i++) if (x[i]) for (let j = i; j < d; j++) cov[i][j] += (x[i] * x[j]) / Math.max(1, n - 1);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i][j] = cov[j][i];
  const trace = cov.reduce((s, row, i) => s + row[i], 0);
  const comps: Float64Array[] = [];
  const values: number[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: d }, (_, k) => 1 / Math.sqrt(d) + k * 1e-3);
    let lambda = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) w[i] += cov[i][j] * v[j];
      for (const p of comps) {
        // deflation: remove what earlier components explain
        const dot = w.reduce((s, x, k) => s + x * p[k], 0);
        for (let k = 0; k < d; k++) w[k] -= dot * p[k];
      }
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      const next = w.map((x) => x / norm);
      const delta = next.reduce((s, x, k) => s + Math.abs(x - v[k]), 0);
      v = next;
      lambda = norm;
      if (delta < 1e-10) break;
    }
    // sign: the largest-magnitude coordinate is positive
    let big = 0;
    for (let k = 1; k < d; k++) if (Math.abs(v[k]) > Math.abs(v[big])) big = k;
    if (v[big] < 0) v = v.map((x) => -x);
    comps.push(v);
    values.push(lambda);
  }
  const points = X.map((x) => comps.map((p) => x.reduce((s, xi, k) => s + xi * p[k], 0)) as [number, number]);
  return { points, explainedVariance: [trace ? values[0] / trace : 0, trace ? values[1] / trace : 0] };
}
