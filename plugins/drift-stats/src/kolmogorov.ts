/** The distributions of the Kolmogorov-Smirnov statistic that `ks_2samp`'s p-value comes from. */

/** Below this larger sample size the two-sample p-value is exact, as `scipy.stats.ks_2samp(method='auto')` decides. */
export const EXACT_MAX_SAMPLE = 10_000;

/**
 * P(D >= d) for the two-sample statistic of samples of `n1` and `n2` values, exactly: the
 * probability that a uniformly random path from (0, 0) to (n1, n2) touches |i/n1 - j/n2| >= d,
 * with d first rounded to the lattice (a multiple of 1/lcm(n1, n2)).
 */
export function twoSampleExactSurvival(n1: number, n2: number, d: number): number {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  if (h === 0) return 1;
  const [a, b] = [n2 / g, n1 / g];
  const outside = (i: number, j: number) => Math.abs(i * a - j * b) >= h;
  // inside[j]: the probability of reaching (i, j) without having touched the boundary.
  let inside = new Float64Array(n2 + 1);
  inside[0] = 1;
  for (let j = 1; j <= n2 && !outside(0, j); j++) inside[j] = inside[j - 1] * ((n2 - j + 1) / (n1 + n2 - j + 1));
  for (let i = 1; i <= n1; i++) {
    const next = new Float64Array(n2 + 1);
    for (let j = 0; j <= n2; j++) {
      if (outside(i, j)) continue;
      const fromLeft = inside[j] * ((n1 - i + 1) / (n1 - i + 1 + n2 - j));
      const fromBelow = j > 0 ? next[j - 1] * ((n2 - j + 1) / (n1 - i + n2 - j + 1)) : 0;
      next[j] = fromLeft + fromBelow;
    }
    inside = next;
  }
  return clamp(1 - inside[n2]);
}

/**
 * P(D_n >= d) for the one-sample two-sided statistic of `n` values, which `ks_2samp` applies with
 * n = round(n1·n2/(n1+n2)) to larger samples. Exact where the distribution is simple (d <= 1/(2n),
 * d <= 1/n, d >= 1 - 1/n), twice the one-sided Smirnov tail where the two tails cannot both be
 * crossed in practice (n·d² >= 2.2, or d >= 0.5); elsewhere the limiting Kolmogorov distribution
 * at √n·d, which differs from the finite-n value by O(1/√n).
 */
export function oneSampleSurvival(n: number, d: number): number {
  if (d >= 1) return 0;
  const t = n * d;
  if (t <= 0.5) return 1;
  if (t <= 1) {
    let logCdf = n * Math.log(2 * t - 1);
    for (let i = 1; i <= n; i++) logCdf += Math.log(i / n);
    return clamp(1 - Math.exp(logCdf));
  }
  if (t >= n - 1) return clamp(2 * (1 - d) ** n);
  if (d >= 0.5 || n * d * d >= 2.2) return clamp(2 * smirnovSurvival(n, d));
  return kolmogorovSurvival(Math.sqrt(n) * d);
}

/** P(D+_n >= d), the one-sided statistic's tail, by the Birnbaum-Tingey sum (every term positive). */
export function smirnovSurvival(n: number, d: number): number {
  let logChoose = 0;
  let sum = 0;
  const last = Math.floor(n * (1 - d));
  for (let j = 0; j <= last; j++) {
    if (j > 0) logChoose += Math.log((n - j + 1) / j);
    const below = 1 - d - j / n;
    if (below > 0) sum += Math.exp(logChoose + (n - j) * Math.log(below) + (j - 1) * Math.log(d + j / n));
  }
  return clamp(d * sum);
}

/** P(K > x) for the limiting Kolmogorov distribution, by whichever of its two series converges fast at x. */
export function kolmogorovSurvival(x: number): number {
  if (x <= 0) return 1;
  if (x < 1) {
    let cdf = 0;
    for (let k = 1; k <= 20; k++) cdf += Math.exp(-((2 * k - 1) ** 2) * Math.PI ** 2 / (8 * x * x));
    return clamp(1 - (Math.sqrt(2 * Math.PI) / x) * cdf);
  }
  let tail = 0;
  for (let k = 1; k <= 100; k++) tail += 2 * (k % 2 === 1 ? 1 : -1) * Math.exp(-2 * k * k * x * x);
  return clamp(tail);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function clamp(p: number): number {
  return Math.min(1, Math.max(0, p));
}
