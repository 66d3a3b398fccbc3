// Voice in the web client, proven with real browsers: three people (three Chromium contexts with
// Chromium's fake microphone) join one voice channel by clicking it, and each page's own
// RTCPeerConnection is read for what it receives from every other participant (inbound-rtp
// audio, keyed by the source's session id = the msid stream id of its track). Moderation is
// done through the UI's voice actions. Embedded: the API's in-process media node. With
// TEST_DATABASE_URL and TEST_REDIS_URL: two API instances (the people split between them) and a
// media node announced in Redis.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/index.js';
import { startAnnouncedTestNode } from '../media/support/node.js';
import { type TestServer, startTestServer, usingPostgres, usingRedis } from '../support/app.js';
import { Client } from '../support/client.js';
import { type Person, ensureWebBuild, expect, launchBrowser, newPerson, screenshot, uniqueUser } from './support/browser.js';

const clustered = usingPostgres && usingRedis;
const backend = clustered ? 'two instances, PostgreSQL + Redis, a media node found in Redis' : 'embedded media node';
const MEDIA_SECRET = 'media-secret-for-web-tests-0123';
// generous: on a loaded machine a step may take long; a failed wait (WAIT_MS) then says why
const SCENARIO_MS = 120_000;
const WAIT_MS = 20_000;

/** Keeps every RTCPeerConnection the app creates, and which stream (speaker) each received track belongs to. */
const RECORD_PEER_CONNECTIONS = `(() => {
  const Native = window.RTCPeerConnection;
  const pcs = [];
  window.__voice = { pcs };
  class Recorded extends Native {
    constructor(...args) {
      super(...args);
      this.__streams = {};
      pcs.push(this);
      this.addEventListener('track', (e) => { this.__streams[e.track.id] = e.streams[0] ? e.streams[0].id : null; });
    }
  }
  window.RTCPeerConnection = Recorded;
})();`;

/** The microphone refused, as when the person blocked it in the site settings. */
const BLOCK_MICROPHONE = `navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));`;

interface Inbound {
  /** the newest peer connection's state (null: none yet) */
  state: string | null;
  count: number;
  /** per source session id */
  from: Record<string, { packets: number; bytes: number }>;
}

let a: TestServer;
let b: TestServer;
let media: RunningMediaNode | undefined;
let browser: Browser;
let ada: Person;
let bob: Person;
let cy: Person;
let dee: Person;
let guildId: string;
let loungeId: string;
let stageId: string;
const ids: Record<string, string> = {};
let adaApi: Client;
const adaSockets: { close(options?: { code?: number; reason?: string }): Promise<void> }[] = [];

const inbound = (person: Person): Promise<Inbound> =>
  person.page.evaluate(async () => {
    const pcs = (window as unknown as { __voice: { pcs: (RTCPeerConnection & { __streams: Record<string, string | null> })[] } }).__voice.pcs;
    const pc = pcs[pcs.length - 1];
    const out: Inbound = { state: pc ? pc.connectionState : null, count: pcs.length, from: {} };
    if (!pc || pc.connectionState === 'closed') return out;
    (await pc.getStats()).forEach((r: { type: string; kind?: string; trackIdentifier?: string; packetsReceived?: number; bytesReceived?: number }) => {
      if (r.type !== 'inbound-rtp' || r.kind !== 'audio' || !r.trackIdentifier) return;
      const source = pc.__streams[r.trackIdentifier];
      if (source) out.from[source] = { packets: r.packetsReceived ?? 0, bytes: r.bytesReceived ?? 0 };
    });
    return out;
  });

/** The session id of the person's current voice connection (the app tags its hidden audio container with it). */
const sessionOf = (person: Person) =>
  person.page.evaluate(() => document.querySelector<HTMLElement>('[data-voice-audio]')?.dataset.voiceAudio ?? null);

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}\n${await diagnosis()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a failed wait should say: each page's connection, what it receives, its notices and warnings. */
async function diagnosis(): Promise<string> {
  const lines: string[] = [];
  for (const person of [ada, bob, cy, dee]) {
    const notices = await person.page.getByTestId('notice').allInnerTexts().catch(() => []);
    lines.push(
      `${person.name}: session ${await sessionOf(person)}, ${JSON.stringify(await inbound(person))}, notices ${JSON.stringify(notices)}, warnings ${JSON.stringify(warnings.get(person) ?? [])}`,
    );
  }
  return lines.join('\n');
}
const warnings = new Map<Person, string[]>();

/** Packets and bytes from `source` keep rising on `person`'s connection (from `source`'s current
 *  session: if it changes meanwhile, e.g. a reconnection, the count starts again from that one). */
async function keepsReceiving(person: Person, source: Person) {
  let first: { sid: string; packets: number; bytes: number } | undefined;
  await until(`${person.name} keeps receiving ${source.name}`, async () => {
    const sid = await sessionOf(source);
    const now = sid ? (await inbound(person)).from[sid] : undefined;
    if (!sid || !now || now.packets === 0) return false;
    if (!first || first.sid !== sid) {
      first = { sid, ...now };
      return false;
    }
    return now.packets >= first.packets + 10 && now.bytes > first.bytes;
  });
}

/** Within 1 s (from now: the change just showed in the UI), two reads ≥ 300 ms apart are equal. */
async function stopsReceiving(person: Person, source: Person) {
  const sid = (await sessionOf(source))!;
  const deadline = Date.now() + 1_000;
  const read = async () => (await inbound(person)).from[sid]?.packets ?? 0;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${person.name} still receives ${source.name} 1 s after the change`);
    const before = await read();
    await sleep(300);
    if ((await read()) === before) return;
  }
}

const participants = (viewer: Person, channelId: string) =>
  viewer.page.locator(`[data-testid="voice-channel"][data-channel-id="${channelId}"] [data-testid="voice-participant"]`);
const participant = (viewer: Person, channelId: string, who: Person) =>
  viewer.page.locator(`[data-testid="voice-channel"][data-channel-id="${channelId}"] [data-testid="voice-participant"][data-user-id="${ids[who.name]}"]`);

async function joinByClick(person: Person, channelName: string) {
  await person.page.getByRole('button', { name: new RegExp(`^${channelName}, voice channel`) }).click();
}

async function connected(person: Person) {
  await expect(person.page.getByTestId('voice-status')).toHaveText('Voice connected', { timeout: WAIT_MS });
  await until(`${person.name}'s connection is connected`, async () => (await inbound(person)).state === 'connected');
}

async function voiceAction(moderator: Person, target: Person, action: string) {
  const row = participant(moderator, loungeId, target);
  await row.getByRole('button', { name: `Voice actions for ${target.name}` }).click();
  await row.getByRole('menuitem', { name: action }).click();
}

const inVoice = async (channelId: string) =>
  (await adaApi.ok<{ channel: { voiceStates: { user: { id: string } }[] } }>(`query($c: ID!) { channel(id: $c) { voiceStates { user { id } } } }`, { c: channelId }))
    .channel.voiceStates.map((s) => s.user.id);

/** Signs up through the API (the chat test covers the forms) and hands the page the session, as a sign-in would. */
async function signedIn(person: Person) {
  const username = uniqueUser(person.name.toLowerCase());
  const client = new Client(`${person.baseUrl}/graphql`);
  const { register: auth } = await client.ok<{ register: { accessToken: string; refreshToken: string; accessTokenExpiresAt: string; user: { id: string } } }>(
    `mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken accessTokenExpiresAt user { id } } }`,
    { i: { username, email: `${username}@example.com`, password: 'correct horse battery', displayName: person.name } },
  );
  client.token = auth.accessToken;
  ids[person.name] = auth.user.id;
  await person.page.goto('/login');
  await person.page.evaluate(
    (tokens) => localStorage.setItem('chat.session.v1', JSON.stringify(tokens)),
    { accessToken: auth.accessToken, refreshToken: auth.refreshToken, accessTokenExpiresAt: auth.accessTokenExpiresAt, receivedAt: Date.now(), userId: auth.user.id },
  );
  return client;
}

beforeAll(async () => {
  ensureWebBuild();
  browser = await launchBrowser({ fakeMedia: true });
  if (clustered) {
    media = await startAnnouncedTestNode(MEDIA_SECRET);
  }
  // the default presence TTL (a voice session must be opened within half of it): a shorter one
  // lets a session lapse on a loaded machine between joinVoiceChannel and voiceSignals
  const env = { MEDIA_SECRET };
  a = await startTestServer({ env });
  b = clustered ? await startTestServer({ databaseUrl: a.databaseUrl, env }) : a;
  ada = await newPerson(browser, 'Ada', a.url);
  bob = await newPerson(browser, 'Bob', b.url);
  cy = await newPerson(browser, 'Cy', a.url);
  dee = await newPerson(browser, 'Dee', b.url);
  // Ada's sockets can be cut (the route applies to every socket her pages open)
  await ada.context.routeWebSocket(/\/graphql$/, (ws) => {
    ws.connectToServer();
    adaSockets.push(ws);
  });
  for (const person of [ada, bob, cy, dee]) {
    await person.context.addInitScript(RECORD_PEER_CONNECTIONS);
    const seen: string[] = [];
    warnings.set(person, seen);
    person.page.on('console', (m) => {
      if (m.type() === 'warning') seen.push(`${new Date().toISOString().slice(11, 23)} ${m.text()}`);
    });
  }
  await dee.context.addInitScript(BLOCK_MICROPHONE);

}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (b && b !== a) await b.stop();
  await a?.stop();
  await media?.stop();
});

describe(`voice in the web client (${backend})`, { timeout: SCENARIO_MS }, () => {
  it('signs up four people; the owner makes a guild with two voice channels, the others join by invite', async () => {
    const [adaClient, bobClient, cyClient, deeClient] = await Promise.all([ada, bob, cy, dee].map(signedIn));
    const clients = { ada: adaClient!, bob: bobClient!, cy: cyClient!, dee: deeClient! };
    adaApi = clients.ada;
    const created = await adaApi.ok<{ createGuild: { id: string } }>(`mutation($i: CreateGuildInput!) { createGuild(input: $i) { id } }`, {
      i: { name: `Voice ${Date.now().toString(36).slice(-4)}` },
    });
    guildId = created.createGuild.id;
    const channel = async (name: string) =>
      (
        await adaApi.ok<{ createChannel: { id: string } }>(`mutation($i: CreateChannelInput!) { createChannel(input: $i) { id } }`, {
          i: { guildId, name, type: 'VOICE' },
        })
      ).createChannel.id;
    loungeId = await channel('Lounge');
    stageId = await channel('Stage');
    const { createInvite } = await adaApi.ok<{ createInvite: { code: string } }>(`mutation($g: ID!) { createInvite(guildId: $g) { code } }`, { g: guildId });
    for (const member of [clients.bob, clients.cy, clients.dee]) await member.ok(`mutation($c: String!) { joinGuild(inviteCode: $c) { id } }`, { c: createInvite.code });
    for (const person of [ada, bob, cy, dee]) {
      await person.page.goto(`/g/${guildId}`);
      await expect(person.page.getByTestId('viewer-name')).toHaveText(person.name);
      await expect(person.page.getByRole('button', { name: /^Lounge, voice channel/ })).toBeVisible();
    }
  });

  it('two, then three people join by clicking the channel and each hears every other', async () => {
    await joinByClick(ada, 'Lounge');
    await joinByClick(bob, 'Lounge');
    await connected(ada);
    await connected(bob);
    await keepsReceiving(ada, bob);
    await keepsReceiving(bob, ada);

    await joinByClick(cy, 'Lounge');
    await connected(cy);
    for (const [listener, source] of [
      [ada, bob],
      [ada, cy],
      [bob, ada],
      [bob, cy],
      [cy, ada],
      [cy, bob],
    ] as const)
      await keepsReceiving(listener, source);
    // the participant list, live on every page (Dee is not in voice and sees them too)
    for (const viewer of [ada, bob, cy, dee]) await expect(participants(viewer, loungeId)).toHaveCount(3);
    await expect(ada.page.getByRole('button', { name: 'Lounge, voice channel, connected' })).toBeVisible();
    expect((await inVoice(loungeId)).sort()).toEqual([ids.Ada, ids.Bob, ids.Cy].sort());
  });

  it('shows who is speaking (the fake microphone beeps)', async () => {
    await expect(ada.page.locator('[data-testid="voice-participant"][data-speaking="true"]')).toBeVisible({ timeout: WAIT_MS });
    await screenshot(ada.page, 'voice-channel');
  });

  it('a moderator’s server mute stops everyone hearing them within a second, and unmute brings them back', async () => {
    // moderator controls only for those with the permissions: Bob has none
    await expect(participant(bob, loungeId, cy).getByRole('button', { name: /^Voice actions/ })).toHaveCount(0);
    await voiceAction(ada, bob, 'Server mute');
    await expect(participant(ada, loungeId, bob).getByTestId('server-muted')).toBeVisible();
    await Promise.all([stopsReceiving(ada, bob), stopsReceiving(cy, bob)]);
    // shown to everyone, in red, as a moderator's
    await expect(participant(cy, loungeId, bob).getByTestId('server-muted')).toHaveAttribute('title', 'Muted by a moderator');
    await expect(participant(bob, loungeId, bob).getByTestId('server-muted')).toBeVisible();
    // a muted person is not shown speaking
    await expect(participant(cy, loungeId, bob)).toHaveAttribute('data-speaking', 'false');
    await expect(participant(ada, loungeId, bob)).toHaveAttribute('data-speaking', 'false');
    await screenshot(cy.page, 'voice-server-muted');
    // Bob still hears the others
    await keepsReceiving(bob, cy);

    const bobOnAda = participant(ada, loungeId, bob);
    await bobOnAda.getByRole('button', { name: 'Voice actions for Bob' }).click();
    await expect(bobOnAda.getByRole('menuitem', { name: 'Move to Stage' })).toBeVisible();
    await screenshot(ada.page, 'voice-moderator-menu');
    await bobOnAda.getByRole('menuitem', { name: 'Server unmute' }).click();
    await expect(participant(ada, loungeId, bob).getByTestId('server-muted')).toHaveCount(0);
    await keepsReceiving(ada, bob);
    await keepsReceiving(cy, bob);
  });

  it('self mute in the voice panel stops the microphone for everyone; unmute restores it', async () => {
    const mute = bob.page.getByRole('button', { name: 'Mute', exact: true });
    await mute.click();
    await expect(mute).toHaveAttribute('aria-pressed', 'true');
    await expect(participant(ada, loungeId, bob).getByTestId('self-muted')).toBeVisible();
    await stopsReceiving(ada, bob);
    expect(await bob.page.evaluate(() => (window as unknown as { __voice: { pcs: RTCPeerConnection[] } }).__voice.pcs.at(-1)!.getSenders()[0]!.track?.enabled)).toBe(false);
    await mute.click();
    await expect(participant(ada, loungeId, bob).getByTestId('self-muted')).toHaveCount(0);
    await keepsReceiving(ada, bob);
  });

  it('self deafen in the voice panel silences the others locally and stops them reaching you; undeafen restores it', async () => {
    const deafen = bob.page.getByRole('button', { name: 'Deafen', exact: true });
    await deafen.click();
    await expect(deafen).toHaveAttribute('aria-pressed', 'true');
    await expect(participant(ada, loungeId, bob).getByTestId('self-deafened')).toHaveAttribute('title', 'Deafened');
    await Promise.all([stopsReceiving(bob, ada), stopsReceiving(bob, cy)]);
    const audio = () => bob.page.evaluate(() => [...document.querySelectorAll<HTMLAudioElement>('audio[data-voice-stream]')].map((a) => a.muted));
    expect(await audio()).toEqual([true, true]);
    await deafen.click();
    await expect(participant(ada, loungeId, bob).getByTestId('self-deafened')).toHaveCount(0);
    expect(await audio()).toEqual([false, false]);
    await keepsReceiving(bob, ada);
  });

  it('a lost socket ends the session, and the client joins again by itself', async () => {
    const before = await sessionOf(ada);
    ada.tolerate.push(/WebSocket/);
    for (const ws of adaSockets.splice(0)) await ws.close({ code: 3000, reason: 'cut' });
    await expect(ada.page.getByTestId('notice').filter({ hasText: 'The voice connection to Lounge was lost. Reconnecting…' })).toBeVisible();
    await until('Ada has a new session', async () => ![before, null].includes(await sessionOf(ada)));
    await connected(ada);
    await keepsReceiving(bob, ada);
    await keepsReceiving(cy, ada);
    await keepsReceiving(ada, bob);
    for (const viewer of [ada, bob]) await expect(participants(viewer, loungeId)).toHaveCount(3);
  });

  it('a moderator’s server deafen stops everything reaching them; undeafen brings it back', async () => {
    await voiceAction(ada, cy, 'Server deafen');
    await expect(participant(ada, loungeId, cy).getByTestId('server-deafened')).toBeVisible();
    await Promise.all([stopsReceiving(cy, ada), stopsReceiving(cy, bob)]);
    await expect(participant(bob, loungeId, cy).getByTestId('server-deafened')).toHaveAttribute('title', 'Deafened by a moderator');
    // the others still hear Cy
    await keepsReceiving(bob, cy);
    await voiceAction(ada, cy, 'Server undeafen');
    await expect(participant(ada, loungeId, cy).getByTestId('server-deafened')).toHaveCount(0);
    await keepsReceiving(cy, ada);
  });

  it('a disconnect closes their connection, says so, and takes them out of the channel everywhere', async () => {
    await voiceAction(ada, cy, 'Disconnect');
    await until("Cy's connection is closed", async () => ['closed', 'failed'].includes((await inbound(cy)).state ?? ''));
    await expect(cy.page.getByTestId('notice').filter({ hasText: 'A moderator disconnected you from Lounge.' })).toBeVisible();
    await expect(cy.page.getByTestId('voice-panel')).toHaveCount(0);
    for (const viewer of [ada, bob, cy, dee]) await expect(participant(viewer, loungeId, cy)).toHaveCount(0);
    await until('Cy is out of channel.voiceStates', async () => !(await inVoice(loungeId)).includes(ids.Cy!));
    // the two left still hear each other
    await keepsReceiving(ada, bob);
  });

  it('a move re-joins the moved person in the new channel by itself', async () => {
    const before = (await inbound(bob)).count;
    await voiceAction(ada, bob, 'Move to Stage');
    await expect(bob.page.getByTestId('notice').filter({ hasText: 'A moderator moved you to Stage.' })).toBeVisible();
    await until('Bob has a new connection', async () => (await inbound(bob)).count > before);
    await connected(bob);
    await expect(bob.page.getByRole('button', { name: 'Stage, voice channel, connected' })).toBeVisible();
    for (const viewer of [ada, bob]) {
      await expect(participant(viewer, stageId, bob)).toHaveCount(1);
      await expect(participant(viewer, loungeId, bob)).toHaveCount(0);
    }
    expect(await inVoice(stageId)).toEqual([ids.Bob]);
  });

  it('a blocked microphone is explained, and leaves the person out of voice', async () => {
    await joinByClick(dee, 'Lounge');
    await expect(
      dee.page.getByTestId('notice').filter({ hasText: 'Microphone access was blocked — allow it in the browser’s site settings and try again.' }),
    ).toBeVisible();
    await expect(dee.page.getByTestId('voice-panel')).toHaveCount(0);
    await until('Dee is not in channel.voiceStates', async () => !(await inVoice(loungeId)).includes(ids.Dee!));
    await expect(participant(ada, loungeId, dee)).toHaveCount(0);
    await screenshot(dee.page, 'voice-microphone-blocked');
  });

  it('Leave in the voice panel ends the session for everyone, without console errors', async () => {
    await ada.page.getByRole('button', { name: 'Leave voice' }).click();
    await expect(ada.page.getByTestId('voice-panel')).toHaveCount(0);
    await until("Ada's connection is closed", async () => (await inbound(ada)).state === 'closed');
    for (const viewer of [ada, bob]) await expect(participant(viewer, loungeId, ada)).toHaveCount(0);
    await until('the lounge is empty', async () => (await inVoice(loungeId)).length === 0);
    expect([...ada.errors, ...bob.errors, ...cy.errors, ...dee.errors]).toEqual([]);
  });
});
