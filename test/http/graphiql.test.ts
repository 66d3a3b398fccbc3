// GraphiQL as a newcomer meets it: served from the installed packages (no CDN, so it works
// without internet access), and its subscriptions carry the Headers pane, so `messageAdded`
// works with an Authorization header typed there. Real Chromium, no network but the server.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitForListener } from '../support/app.js';
import { type Client, createGuild, localId, send, signUp } from '../support/client.js';
import { launchBrowser } from '../web/support/browser.js';

let server: TestServer;
let browser: Browser;
let user: Client;

beforeAll(async () => {
  server = await startTestServer({ env: { NODE_ENV: 'development' } });
  user = await signUp(server.graphqlUrl);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const page = () => fetch(server.graphqlUrl, { headers: { accept: 'text/html' } });

describe('the page', () => {
  it('is self-contained: no script, style, font, worker or import from any other host', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('YogaGraphiQL.renderYogaGraphiQL');
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|googleapis|esm\.sh|skypack/i);
    // anything that makes a browser fetch, pointing at an absolute URL
    const loads = html.match(
      /(?:\b(?:src|href|action|poster|srcset)\s*=\s*\\?["']?\s*|url\(\s*\\?["']?|\b(?:import|importScripts|fetch|new\s+Worker|new\s+SharedWorker|new\s+EventSource|new\s+WebSocket)\s*\(\s*\\?["'`])(?:https?:)?\/\/[^\s"'`)]+/gi,
    );
    expect(loads ?? []).toEqual([]);
    // and the browser is told to refuse any other host, should a later version try
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });

  it('is not served in production unless GRAPHIQL=true', async () => {
    const production = await startTestServer({ env: { NODE_ENV: 'production' } });
    try {
      const res = await fetch(production.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(res.headers.get('content-type') ?? '').not.toMatch(/^text\/html/);
      await res.arrayBuffer();
    } finally {
      await production.stop();
    }
  });
});

describe('in a browser with no network but the server', () => {
  let tab: Page;
  const requested: string[] = [];
  const streams: { url: string; authorization?: string }[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    const context = await browser.newContext();
    // everything but the server (and the page's own blob:/data: URLs) is unreachable
    await context.route('**/*', (route) => {
      const url = route.request().url();
      requested.push(url);
      if (url.startsWith(server.url) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
      return route.abort('internetdisconnected');
    });
    tab = await context.newPage();
    tab.on('pageerror', (err) => problems.push(err.message));
    tab.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    tab.on('request', (r) => {
      if ((r.headers().accept ?? '').includes('text/event-stream')) streams.push({ url: r.url(), authorization: r.headers().authorization });
    });
    await tab.goto(`${server.url}/graphql`);
    await tab.waitForSelector('.graphiql-query-editor .monaco-editor', { timeout: 20_000 });
  });

  it('loads GraphiQL and the schema from the server alone', async () => {
    // the schema arrived: the explorer can show Query's fields
    await expect.poll(() => requested.filter((u) => u === server.graphqlUrl).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    const foreign = requested.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    // nothing the page's Content-Security-Policy had to refuse, no script error
    expect(problems).toEqual([]);
  });

  it("runs messageAdded with the Headers pane's Authorization", async () => {
    const { generalId } = await createGuild(user, 'GraphiQL guild');
    const fill = async (editor: string, text: string) => {
      await tab.click(`${editor} .monaco-editor`);
      await tab.keyboard.press('Control+A');
      await tab.keyboard.press('Delete');
      await tab.keyboard.insertText(text);
    };
    await fill('.graphiql-query-editor', 'subscription Live($channelId: ID!) { messageAdded(channelId: $channelId) { content author { username } } }');
    await tab.click('.graphiql-editor-tools button:has-text("Variables")');
    await fill('.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ channelId: generalId }));
    await tab.click('.graphiql-editor-tools button:has-text("Headers")');
    await fill('.graphiql-editor-tool .graphiql-editor:not(.hidden)', JSON.stringify({ Authorization: `Bearer ${user.token}` }));
    await tab.click('.graphiql-execute-button');

    // the subscription is live on the server once it was authorized (a member's channel)
    await waitForListener(server, 'messageAdded', localId(generalId));
    expect(streams.at(-1)?.authorization).toBe(`Bearer ${user.token}`);
    await send(user, generalId, 'hello from GraphiQL');
    // the editor renders spaces as no-break spaces
    const response = async () => (await tab.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(response, { timeout: 15_000 }).toContain('"content": "hello from GraphiQL"');
    expect(await response()).toContain(`"username": "${user.username}"`);
  });
});
