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
 * crossed in practice (n·d² >= 2.2, or d >= 0.5), Durbin's exact matrix formula for n <= 140 and
 * for n <= 100,000 with n·d^1.5 <= 1.4 (as scipy splits it); elsewhere the limiting Kolmogorov
 * distribution at √n·d, which differs from the finite-n value by O(1/√n).
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
  if (n <= SMALL_N || (n <= DURBIN_MAX_N && n * d ** 1.5 <= DURBIN_MAX_SPREAD)) return clamp(1 - durbinCdf(n, d));
  return kolmogorovSurvival(Math.sqrt(n) * d);
}

/** Up to this n, and below the spread limit up to the larger n, the exact matrix method is cheap enough (its matrix is about 2·n·d wide). */
const SMALL_N = 140;
const DURBIN_MAX_N = 100_000;
const DURBIN_MAX_SPREAD = 1.4;
const RESCALE = 1e140;
const RESCALE_LOG = Math.log(RESCALE);

/**
 * P(D_n < d) exactly, by Durbin's matrix formula: n!/n^n times the middle entry of H^n, where H
 * is the (2k-1)-square matrix of the boundary crossings (k = floor(n·d) + 1). Powers are rescaled
 * as they grow, the scale kept as a logarithm.
 */
function durbinCdf(n: number, d: number): number {
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  const h = k - n * d;
  const matrix = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) matrix[i * m + j] = i - j + 1 >= 0 ? 1 : 0;
  for (let i = 0; i < m; i++) {
    matrix[i * m] -= h ** (i + 1);
    matrix[(m - 1) * m + i] -= h ** (m - i);
  }
  if (2 * h - 1 > 0) matrix[(m - 1) * m] += (2 * h - 1) ** m;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      for (let g = 2; g <= i - j + 1; g++) matrix[i * m + j] /= g;
    }
  }
  const { power, logScale } = matrixPower(matrix, m, n);
  let logCdf = Math.log(power[(k - 1) * m + (k - 1)]) + logScale;
  for (let i = 1; i <= n; i++) logCdf += Math.log(i / n);
  return Math.exp(logCdf);
}

/** matrix^exponent as (power, logScale): the true power is power · e^logScale. */
function matrixPower(matrix: Float64Array, m: number, exponent: number): { power: Float64Array; logScale: number } {
  if (exponent === 1) return { power: matrix, logScale: 0 };
  const half = matrixPower(matrix, m, Math.floor(exponent / 2));
  let power = multiply(half.power, half.power, m);
  let logScale = 2 * half.logScale;
  if (exponent % 2 === 1) power = multiply(matrix, power, m);
  if (power[Math.floor(m / 2) * m + Math.floor(m / 2)] > RESCALE) {
    for (let i = 0; i < power.length; i++) power[i] /= RESCALE;
    logScale += RESCALE_LOG;
  }
  return { power, logScale };
}

function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const product = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l];
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) product[i * m + j] += ail * b[l * m + j];
    }
  }
  return product;
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
