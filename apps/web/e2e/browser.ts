import { sharedPlatform } from '@trellis/testing';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`npm test` installs it when missing); playwright never downloads one. */
const CHROMIUM = process.env.TRELLIS_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots of each page go: test artifacts, and the source of docs/ui.md's pictures. */
export const SCREENSHOTS = resolve(__dirname, '../../../tmp/ui-screenshots');

/** The shared standalone's gateway and its admin (jest.config.js's global setup starts it). */
export const testPlatform = sharedPlatform;

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (npm test installs it), or set TRELLIS_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root the sandbox cannot start; the rest keeps Chromium from calling out of this closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page of the UI that records every console error and uncaught exception, for `expectNoConsoleErrors`. */
export interface UiPage {
  page: Page;
  errors: string[];
}

/** Opens `path` of the UI and signs in with `apiKey` (the sign-in page sends the user back to `path`). */
export async function signedInPage(browser: Browser, path: string, apiKey = testPlatform().adminKey): Promise<UiPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${testPlatform().gateway}${path}`);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/ui/signin'));
  return { page, errors };
}

/** Saves a screenshot of the whole page as `<name>.png` under tmp/ui-screenshots. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** An axe-core violation as the check reports it. */
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** Runs axe-core on the page and returns its serious and critical violations (the check wants none). */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol: the UI's Content-Security-Policy refuses inline scripts, rightly.
  await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => (await (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe.run()).violations);
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).slice(0, 3).join(', ')}`);
}

/**
 * The checks every page gets once it shows what the test waited for: a screenshot, no serious
 * accessibility violation, and no console error since it opened.
 */
export async function checkPage(ui: UiPage, name: string): Promise<void> {
  await screenshot(ui.page, name);
  expect(await seriousAccessibilityViolations(ui.page)).toEqual([]);
  expect(ui.errors).toEqual([]);
}
