// Real Chromium (Debian's package) driven by playwright-core, against the real server serving
// the web client's production build. No browser is downloaded: the machine must have
// /usr/bin/chromium (`apt-get install -y chromium`; .ci/run installs it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { expect as vitestExpect } from 'vitest';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test/web/screenshots');
const WAIT_MS = 15_000;

/** Web-first assertions on a locator (retried until they hold), in the spirit of Playwright Test's. */
function locatorAssertions(locator: Locator) {
  const poll = <T>(read: () => Promise<T>, timeout = WAIT_MS) => vitestExpect.poll(read, { timeout, interval: 100 });
  return {
    toBeVisible: ({ timeout = WAIT_MS } = {}) => locator.first().waitFor({ state: 'visible', timeout }),
    toHaveCount: (n: number, { timeout = WAIT_MS } = {}) => poll(() => locator.count(), timeout).toBe(n),
    toHaveText: (text: string | RegExp, { timeout = WAIT_MS } = {}) =>
      typeof text === 'string' ? poll(() => locator.innerText(), timeout).toBe(text) : poll(() => locator.innerText(), timeout).toMatch(text),
    toContainText: (text: string, { timeout = WAIT_MS } = {}) => poll(() => locator.innerText(), timeout).toContain(text),
    toHaveAttribute: (name: string, value: string, { timeout = WAIT_MS } = {}) => poll(() => locator.getAttribute(name), timeout).toBe(value),
    toHaveClass: (re: RegExp, { timeout = WAIT_MS } = {}) => poll(async () => (await locator.getAttribute('class')) ?? '', timeout).toMatch(re),
  };
}

function isLocator(value: unknown): value is Locator {
  return typeof value === 'object' && value !== null && 'waitFor' in value && 'count' in value && 'getAttribute' in value;
}

/** vitest's expect, with locator assertions when given a Playwright locator. */
export const expect = Object.assign(
  ((value: unknown) => (isLocator(value) ? locatorAssertions(value) : vitestExpect(value))) as {
    (value: Locator): ReturnType<typeof locatorAssertions>;
    <T>(value: T): ReturnType<typeof vitestExpect<T>>;
  },
  { poll: <T>(fn: () => T | Promise<T>) => vitestExpect.poll(fn, { timeout: WAIT_MS, interval: 100 }) },
);

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds web/dist when its sources changed since the last build (scripts/build-web.mjs). */
export function ensureWebBuild(): void {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-web.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`the web build failed:\n${result.stdout}\n${result.stderr}`);
  if (!fs.existsSync(path.join(ROOT, 'web/dist/index.html'))) throw new Error(`web/dist was not built:\n${result.stdout}`);
}

/** Chromium's fake microphone (a beeping tone) and an auto-accepted permission prompt, for voice. */
export const FAKE_MEDIA_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

export async function launchBrowser({ fakeMedia = false }: { fakeMedia?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: the browser tests need Debian's chromium package ` +
        '(apt-get update && apt-get install -y chromium), or CHROMIUM_PATH pointing at a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: fakeMedia ? [...FLAGS, ...FAKE_MEDIA_FLAGS] : FLAGS, headless: true });
}

export interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  baseUrl: string;
  /** console errors and uncaught exceptions seen on this person's pages */
  errors: string[];
  /** errors matching these are expected (e.g. while the network is cut on purpose) */
  tolerate: RegExp[];
}

export async function newPerson(browser: Browser, name: string, baseUrl: string, viewport = { width: 1280, height: 800 }): Promise<Person> {
  const context = await browser.newContext({ viewport, baseURL: baseUrl, colorScheme: 'dark' });
  const page = await context.newPage();
  const person: Person = { name, context, page, baseUrl, errors: [], tolerate: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (!person.tolerate.some((re) => re.test(text))) person.errors.push(`${name}: ${text}`);
  });
  page.on('pageerror', (error) => person.errors.push(`${name}: uncaught ${error.message}`));
  // confirm() dialogs (delete, kick) are accepted
  page.on('dialog', (dialog) => void dialog.accept());
  return person;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

let counter = 0;
export const uniqueUser = (prefix: string) => `${prefix}${Date.now().toString(36).slice(-5)}${(counter++).toString(36)}`;

/** Registers through the UI and waits for the signed-in screen. */
export async function register(person: Person, username: string): Promise<void> {
  const { page } = person;
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Email').fill(`${username}@example.com`);
  await page.getByLabel('Display name (optional)').fill(person.name);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('viewer-name')).toHaveText(person.name);
}

export function composer(page: Page) {
  return page.getByRole('textbox', { name: /^Message #/ });
}

export async function sendMessage(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** The texts of the messages in the open channel, oldest first. */
export async function messageTexts(page: Page): Promise<string[]> {
  return page.getByTestId('message').locator('.message-content').allInnerTexts();
}

export function message(page: Page, text: string) {
  return page.getByTestId('message').filter({ has: page.locator('.message-content', { hasText: text }) });
}
