// The web client end to end, as people use it: two people in two browser contexts, against
// the real server (embedded default), or against two instances sharing PostgreSQL and Redis
// (each person on their own instance) when TEST_DATABASE_URL and TEST_REDIS_URL are set.
// Screenshots of the main screens land in test/web/screenshots/ (git-ignored).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

const SCENARIO_MS = 90_000;
import { type TestServer, startTestServer, usingPostgres, usingRedis } from '../support/app.js';
import {
  type Person,
  composer,
  ensureWebBuild,
  expect,
  launchBrowser,
  message,
  messageTexts,
  newPerson,
  register,
  screenshot,
  sendMessage,
  uniqueUser,
} from './support/browser.js';

const clustered = usingPostgres && usingRedis;
const backend = clustered ? 'two instances, PostgreSQL + Redis' : 'embedded';

// A 2x2 PNG (red, green, blue, white).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

let a: TestServer;
let b: TestServer;
let browser: Browser;
let ada: Person;
let bob: Person;
const guildName = `Lovelace ${Date.now().toString(36).slice(-4)}`;

beforeAll(async () => {
  ensureWebBuild();
  browser = await launchBrowser();
  a = await startTestServer({ env: { PRESENCE_TTL_MS: '2000' } });
  b = clustered ? await startTestServer({ databaseUrl: a.databaseUrl, env: { PRESENCE_TTL_MS: '2000' } }) : a;
  ada = await newPerson(browser, 'Ada', a.url);
  bob = await newPerson(browser, 'Bob', b.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (b && b !== a) await b.stop();
  await a?.stop();
});

describe(`the web client (${backend})`, { timeout: SCENARIO_MS }, () => {
  it('serves the app at / and leaves /graphql to the API', async () => {
    const page = await fetch(`${a.url}/invite/some-code`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<div id="root">');
    const health = await fetch(`${a.url}/health/live`);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('signs up two people; one creates a guild and invites the other by link', async () => {
    await register(ada, uniqueUser('ada'));
    await screenshot(ada.page, 'welcome');
    await ada.page.getByRole('button', { name: 'Create a server' }).first().click();
    await ada.page.getByLabel('Server name').fill(guildName);
    await ada.page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(ada.page.getByRole('heading', { name: '#general' })).toBeVisible();

    await ada.page.getByRole('link', { name: 'Server settings' }).click();
    await ada.page.getByRole('link', { name: 'Invites' }).click();
    await ada.page.getByRole('button', { name: 'Create invite link' }).click();
    const link = await ada.page.getByTestId('invite-link').inputValue();
    expect(link).toMatch(/\/invite\/[^/]+$/);
    await screenshot(ada.page, 'settings-invites');
    await ada.page.getByRole('link', { name: 'Back to chat' }).click();

    // Bob opens the link signed out: he registers, and the app joins him to the guild.
    const invitePath = new URL(link).pathname;
    await bob.page.goto(invitePath);
    await expect(bob.page.getByText('You have been invited to a server')).toBeVisible();
    await screenshot(bob.page, 'invite-sign-in');
    await bob.page.getByRole('button', { name: 'Register' }).click();
    const bobName = uniqueUser('bob');
    await bob.page.getByLabel('Username').fill(bobName);
    await bob.page.getByLabel('Email').fill(`${bobName}@example.com`);
    await bob.page.getByLabel('Display name (optional)').fill('Bob');
    await bob.page.getByLabel('Password').fill('correct horse battery');
    await bob.page.getByRole('button', { name: 'Create account' }).click();
    await expect(bob.page.getByRole('heading', { name: '#general' })).toBeVisible();
    await expect(bob.page.getByRole('link', { name: new RegExp(`^${guildName}`) })).toBeVisible();
    // Ada sees Bob join
    await expect(ada.page.getByTestId('member').filter({ hasText: 'Bob' })).toBeVisible();
  });

  it('chats live both ways, shows typing to the other only, and presence changes', async () => {
    await sendMessage(ada.page, 'Hello Bob!');
    await expect(message(bob.page, 'Hello Bob!')).toBeVisible();
    await sendMessage(bob.page, 'Hi Ada, nice server.');
    await expect(message(ada.page, 'Hi Ada, nice server.')).toBeVisible();
    // own message shows at once, then stays once (reconciled, no duplicate)
    await expect(message(bob.page, 'Hi Ada, nice server.')).toHaveCount(1);
    await expect(message(ada.page, 'Hello Bob!')).toHaveCount(1);

    await composer(bob.page).pressSequentially('typing something', { delay: 10 });
    await expect(ada.page.getByTestId('typing')).toHaveText(/Bob is typing/);
    await expect(bob.page.getByTestId('typing')).toHaveText('');
    await screenshot(ada.page, 'chat-typing');
    await composer(bob.page).fill('');
    await composer(bob.page).blur();
    await expect(ada.page.getByTestId('typing')).toHaveText('', { timeout: 12_000 });

    await ada.page.getByLabel('Status').selectOption('DND');
    const adaRow = bob.page.getByTestId('member').filter({ hasText: 'Ada' });
    await expect(adaRow).toHaveAttribute('data-status', 'DND');
    await ada.page.getByLabel('Status').selectOption('ONLINE');
    await expect(adaRow).toHaveAttribute('data-status', 'ONLINE');
  });

  it('shows a reaction, an edit and a mention live on the other side', async () => {
    const bobsMessage = message(ada.page, 'Hi Ada, nice server.');
    await bobsMessage.hover();
    await bobsMessage.getByRole('button', { name: 'Add reaction' }).click();
    await bobsMessage.getByRole('button', { name: 'React with 👍' }).click();
    await expect(bobsMessage.getByRole('button', { name: /👍 1 reaction, including yours/ })).toBeVisible();
    const onBobsSide = message(bob.page, 'Hi Ada, nice server.');
    await expect(onBobsSide.getByRole('button', { name: /^👍 1 reaction$/ })).toBeVisible();

    await onBobsSide.hover();
    await onBobsSide.getByRole('button', { name: 'Edit message' }).click();
    const edit = bob.page.getByLabel('Edit your message');
    await edit.fill('Hi Ada, lovely server.');
    await edit.press('Enter');
    await expect(message(ada.page, 'Hi Ada, lovely server.')).toContainText('(edited)');

    // Escape cancels an edit
    const again = message(bob.page, 'Hi Ada, lovely server.');
    await again.hover();
    await again.getByRole('button', { name: 'Edit message' }).click();
    await bob.page.getByLabel('Edit your message').fill('never saved');
    await bob.page.getByLabel('Edit your message').press('Escape');
    await expect(message(bob.page, 'never saved')).toHaveCount(0);

    // @-mention with autocomplete; highlighted for the one mentioned
    await composer(ada.page).pressSequentially('ping @Bo', { delay: 10 });
    await expect(ada.page.getByRole('option', { name: /Bob/ })).toBeVisible();
    await composer(ada.page).press('Enter');
    await composer(ada.page).pressSequentially('look at this');
    await composer(ada.page).press('Enter');
    const mention = message(bob.page, 'look at this');
    await expect(mention).toHaveClass(/mentions-me/);
    await expect(mention.locator('.mention.me')).toHaveText('@Bob');
    await screenshot(bob.page, 'chat-mention-reaction');
  });

  it('uploads an image that shows inline for both', async () => {
    await bob.page.getByTestId('file-input').setInputFiles({ name: 'pixels.png', mimeType: 'image/png', buffer: PNG });
    await expect(bob.page.getByText('— ready')).toBeVisible();
    await sendMessage(bob.page, 'a picture');
    for (const page of [bob.page, ada.page]) {
      const image = message(page, 'a picture').getByRole('img', { name: 'pixels.png' });
      await expect(image).toBeVisible();
      await expect.poll(() => image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(2);
    }
  });

  it('keeps the session across a reload', async () => {
    await bob.page.reload();
    await expect(bob.page.getByTestId('viewer-name')).toHaveText('Bob');
    await expect(message(bob.page, 'a picture')).toBeVisible();
    await sendMessage(bob.page, 'still here after a reload');
    await expect(message(ada.page, 'still here after a reload')).toBeVisible();
  });

  it('catches up every message sent while the socket was cut, in order, without duplicates', async () => {
    const { page, context } = bob;
    let offline = false;
    const sockets: { close(options?: { code?: number; reason?: string }): Promise<void> }[] = [];
    await context.routeWebSocket(/\/graphql$/, (ws) => {
      if (offline) {
        void ws.close({ code: 3000, reason: 'offline' });
        return;
      }
      ws.connectToServer();
      sockets.push(ws);
    });
    // the route applies to sockets opened from now on: reconnect through it
    await page.reload();
    await expect(message(page, 'still here after a reload')).toBeVisible();
    bob.tolerate.push(/WebSocket|ERR_INTERNET_DISCONNECTED|Failed to load resource/);

    offline = true;
    await context.setOffline(true);
    for (const ws of sockets.splice(0)) await ws.close({ code: 3000, reason: 'cut' });
    await expect(page.getByText('Connection lost. Reconnecting…')).toBeVisible();
    const missed = Array.from({ length: 6 }, (_, i) => `sent while Bob was away ${i + 1}`);
    for (const text of missed) await sendMessage(ada.page, text);
    await expect(message(ada.page, missed.at(-1)!)).toBeVisible();
    await screenshot(page, 'reconnecting');

    offline = false;
    await context.setOffline(false);
    await expect(message(page, missed.at(-1)!)).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('Connection lost. Reconnecting…')).toHaveCount(0);
    const texts = await messageTexts(page);
    const tail = texts.slice(texts.indexOf('still here after a reload'));
    expect(tail).toEqual(['still here after a reload', ...missed]);
    const ids = await page.getByTestId('message').evaluateAll((els) => els.map((el) => (el as unknown as { dataset: { messageId: string } }).dataset.messageId));
    expect(new Set(ids).size).toBe(ids.length);
    // and it is live again
    await sendMessage(ada.page, 'welcome back');
    await expect(message(page, 'welcome back')).toBeVisible();
    await context.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('works 375 px wide', async () => {
    await bob.page.setViewportSize({ width: 375, height: 740 });
    await expect(bob.page.getByRole('button', { name: 'Open navigation' })).toBeVisible();
    await screenshot(bob.page, 'phone-chat');
    await bob.page.getByRole('button', { name: 'Open navigation' }).click();
    await expect(bob.page.getByRole('navigation', { name: 'Channels' })).toBeVisible();
    await bob.page.waitForTimeout(400); // the drawer slides in
    await screenshot(bob.page, 'phone-drawer');
    await bob.page.getByRole('link', { name: /general/ }).click();
    await expect(composer(bob.page)).toBeVisible();
    const width = await bob.page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
    await bob.page.setViewportSize({ width: 1280, height: 800 });
  });

  it('takes the guild out of view at once when the member is kicked', async () => {
    const row = ada.page.getByTestId('member').filter({ hasText: 'Bob' });
    await row.getByRole('button', { name: 'Actions for Bob' }).click();
    await row.getByRole('menuitem', { name: 'Kick Bob' }).click();
    await expect(bob.page.getByText(`You were kicked from ${guildName}.`).or(bob.page.getByText(`You are no longer a member of ${guildName}.`))).toBeVisible();
    await expect(bob.page.getByRole('link', { name: new RegExp(`^${guildName}`) })).toHaveCount(0);
    await expect(bob.page.getByRole('heading', { name: 'Welcome!' })).toBeVisible();
    await expect(ada.page.getByTestId('member').filter({ hasText: 'Bob' })).toHaveCount(0);
    await screenshot(ada.page, 'chat-desktop');
  });

  it('logged no console errors', () => {
    expect([...ada.errors, ...bob.errors]).toEqual([]);
  });
});
