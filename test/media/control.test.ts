// The control socket as the API meets it: the secret, the answers to bad requests, and what
// happens to participants when the API's connection dies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/start.js';
import { ControlClient, VoiceRoom, eventually, stopsRising } from './support/control.js';
import { TEST_SECRET, startTestNode } from './support/node.js';

let media: RunningMediaNode;

beforeAll(async () => {
  media = await startTestNode({ MEDIA_CONTROL_GRACE_MS: '400', MEDIA_ICE_TIMEOUT_MS: '20000' });
});

afterAll(async () => {
  await media?.stop();
});

describe('control authentication', () => {
  it('refuses a wrong or missing secret with 401 and accepts the right one', async () => {
    await expect(ControlClient.connect(media.controlUrl, 'not-the-secret')).rejects.toMatchObject({ status: 401 });
    await expect(ControlClient.connect(media.controlUrl, undefined)).rejects.toMatchObject({ status: 401 });
    await expect(ControlClient.connect(media.controlUrl, '')).rejects.toMatchObject({ status: 401 });
    await expect(ControlClient.connect(media.controlUrl.replace('/control', '/other'), TEST_SECRET)).rejects.toMatchObject({ status: 404 });
    const ok = await ControlClient.connect(media.controlUrl, TEST_SECRET);
    expect(await ok.call('ping')).toMatchObject({ ok: true, nodeId: media.id });
    await ok.close();
  });
});

describe('bad requests', () => {
  let control: ControlClient;
  beforeAll(async () => {
    control = await ControlClient.connect(media.controlUrl, TEST_SECRET);
  });
  afterAll(() => control.close());

  const code = async (op: string, args: Record<string, unknown> = {}) => (await control.request(op, args)).error?.code;

  it('answers each with an error code and keeps serving', async () => {
    expect(await code('frobnicate')).toBe('BAD_REQUEST');
    expect(await code('join', { roomId: 'r' })).toBe('BAD_REQUEST');
    expect(await code('join', { roomId: 'r', participantId: 42, userId: 'u' })).toBe('BAD_REQUEST');
    expect(await code('answer', { participantId: 'nobody', sdp: 'v=0\r\n' })).toBe('NOT_FOUND');
    expect(await code('leave', { participantId: 'nobody' })).toBe('NOT_FOUND');
    expect(await code('setForwarding', { participantId: 'nobody', muted: true })).toBe('NOT_FOUND');
    expect(await code('stats', { roomId: 7 })).toBe('BAD_REQUEST');
    expect((await control.raw('{not json', null)).error?.code).toBe('BAD_REQUEST');
    expect((await control.raw(JSON.stringify({ op: 'ping' }), null)).error?.code).toBe('BAD_REQUEST');

    await control.call('join', { roomId: 'bad', participantId: 'bad-A', userId: 'u' });
    expect(await code('join', { roomId: 'bad', participantId: 'bad-A', userId: 'u' })).toBe('CONFLICT');
    expect(await code('answer', { participantId: 'bad-A', sdp: 'hello' })).toBe('BAD_REQUEST');
    expect(await code('answer', { participantId: 'bad-A', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=garbage\r\n' })).toBe('BAD_REQUEST');
    expect(await code('candidate', { participantId: 'bad-A', candidate: 5 })).toBe('BAD_REQUEST');
    expect(await code('setForwarding', { participantId: 'bad-A', muted: 'yes' })).toBe('BAD_REQUEST');
    await control.call('leave', { participantId: 'bad-A' });

    expect(await control.call('ping')).toMatchObject({ ok: true });
    expect(media.node.participantCount).toBe(0);
  });
});

describe('a dead API connection', () => {
  it('keeps its participants for the grace period, for another connection to claim, then tears down the rest', async () => {
    const first = await ControlClient.connect(media.controlUrl, TEST_SECRET);
    const r = new VoiceRoom(first, 'grace');
    const a = await r.join('g-A');
    const b = await r.join('g-B');
    await eventually('B hears A', () => b.packetsFrom('g-A') > 10);

    // the API instance dies; another one comes up and claims A only
    first.ws.terminate();
    const second = await ControlClient.connect(media.controlUrl, TEST_SECRET);
    expect(await second.call('claim', { participantIds: ['g-A', 'g-ghost'] })).toMatchObject({ claimed: ['g-A'], unknown: ['g-ghost'] });
    expect(media.node.has('g-B'), 'B survives the first moments without a connection').toBe(true);

    await eventually('the unclaimed B is torn down', () => !media.node.has('g-B'), 5000);
    expect(second.events).toContainEqual(expect.objectContaining({ event: 'left', participantId: 'g-B', reason: 'control-lost' }));
    expect(media.node.has('g-A')).toBe(true);
    await stopsRising('A hearing B after B was torn down', () => a.packetsFrom('g-B'));

    // nobody claims A after the second connection dies either
    await second.close();
    await eventually('A is torn down too', () => !media.node.has('g-A'), 5000);
    expect(media.node.participantCount).toBe(0);
    await r.close();
  });
});
