/** Kubernetes resource quantities (`500m`, `2`, `1.5`, `128Mi`, `1G`, `1e3`) as numbers, and back. */

const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/;

/** The number a quantity stands for (cores for CPU, bytes for memory); throws on a string that is none. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) throw new Error(`${JSON.stringify(quantity)} is not a Kubernetes quantity`);
  const [, digits, exponent, suffix = ''] = match;
  return exponent ? Number(`${digits}${exponent}`) : Number(digits) * SUFFIXES[suffix];
}

/** Whether `quantity` is a valid Kubernetes quantity string. */
export function isQuantity(quantity: unknown): boolean {
  return typeof quantity === 'number' || (typeof quantity === 'string' && QUANTITY.test(quantity.trim()));
}

/** CPU cores as a quantity in whole millicores (`1500m`), at least 1m. */
export function cpuQuantity(cores: number): string {
  return `${Math.max(1, Math.ceil(cores * 1000))}m`;
}

/** Bytes as a quantity of whole bytes. */
export function memoryQuantity(bytes: number): string {
  return String(Math.ceil(bytes));
}
