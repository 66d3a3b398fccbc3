// Sessions in the browser with short-lived access tokens (6 s): two tabs of one person stay
// signed in across many expiries with one refresh per rotation (refreshSession rotates, and
// two refreshes with one token would revoke the session), and the socket the server closes
// with 4403 at each expiry comes back with a fresh token and resumes messageAdded with
// `since`, so every message sent across the closes arrives once, in order.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type TestServer, startTestServer } from '../support/app.js';
import { type Client, createGuild, invite, signUp } from '../support/client.js';
import { ensureWebBuild, expect, launchBrowser, message, messageTexts } from './support/browser.js';

const TTL_SECONDS = 6;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let tabs: Page[];
let friend: Client;
let channelId: string;
const errors: string[] = [];
let refreshCalls = 0;

beforeAll(async () => {
  ensureWebBuild();
  browser = await launchBrowser();
  server = await startTestServer({ env: { ACCESS_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } });
  const person = await signUp(server.graphqlUrl);
  friend = await signUp(server.graphqlUrl);
  const guild = await createGuild(person, 'Sessions');
  channelId = guild.generalId;
  await invite(person, guild.guildId, friend);
  await refresh(friend);

  context = await browser.newContext({ baseURL: server.url, viewport: { width: 1100, height: 760 } });
  await context.route(/\/graphql$/, async (route) => {
    if (route.request().method() === 'POST' && route.request().postData()?.includes('refreshSession')) refreshCalls++;
    await route.continue();
  });
  // signed in as `person` through the sign-in form in the first tab; the second tab shares it
  const first = await context.newPage();
  await first.goto('/login');
  await first.getByLabel('Username or email').fill(person.username!);
  await first.getByLabel('Password').fill('correct horse battery');
  await first.getByRole('button', { name: 'Sign in' }).click();
  await first.getByRole('heading', { name: '#general' }).waitFor();
  const second = await context.newPage();
  await second.goto(first.url());
  tabs = [first, second];
  for (const tab of tabs) {
    tab.on('console', (m) => {
      // Chromium itself reports the socket the server closed; the app logs nothing
      if (m.type() === 'error' && !/WebSocket/.test(m.text())) errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(e.message));
  }
  await second.getByRole('heading', { name: '#general' }).waitFor();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The sender's own short-lived token, renewed as it goes. */
async function refresh(client: Client) {
  const { refreshSession } = await client.ok<{ refreshSession: { accessToken: string; refreshToken: string } }>(
    `mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }`,
    { r: client.refreshToken },
  );
  client.token = refreshSession.accessToken;
  client.refreshToken = refreshSession.refreshToken;
}

describe('sessions in the browser', { timeout: 90_000 }, () => {
  it('keeps two tabs signed in and live across access token expiries, with one refresh per rotation', async () => {
    const sent: string[] = [];
    const started = Date.now();
    // about three lifetimes, a message every 600 ms: some are sent while a socket is closed
    for (let i = 0; Date.now() - started < TTL_SECONDS * 3 * 1000; i++) {
      if (i % 4 === 0) await refresh(friend);
      const text = `tick ${i}`;
      await friend.ok(`mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: text });
      sent.push(text);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    for (const tab of tabs) {
      await expect(message(tab, sent.at(-1)!)).toBeVisible({ timeout: 15_000 });
      const texts = await messageTexts(tab);
      const ticks = texts.filter((t) => t.startsWith('tick '));
      if (ticks.length !== sent.length) console.log('missing in tab', tabs.indexOf(tab), sent.filter((t) => !ticks.includes(t)), 'refreshes', refreshCalls);
      expect(ticks).toEqual(sent);
      await expect(tab.getByRole('button', { name: 'Sign out' })).toBeVisible();
    }
    // each rotation once for both tabs (a second refresh with the same token would have
    // revoked the session and signed both out); a little slack for the timers' phase
    const rotations = (Date.now() - started) / 1000 / (TTL_SECONDS * 0.75);
    expect(refreshCalls).toBeGreaterThanOrEqual(2);
    expect(refreshCalls).toBeLessThanOrEqual(Math.ceil(rotations) + 2);

    // a reload still finds the session
    await tabs[1]!.reload();
    await expect(tabs[1]!.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });

  it('signs out every tab when one signs out', async () => {
    await tabs[0]!.getByRole('button', { name: 'Sign out' }).click();
    for (const tab of tabs) await expect(tab.getByRole('button', { name: 'Sign in' })).toBeVisible();
  });

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
