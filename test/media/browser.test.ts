// One real browser through the media node: headless Chromium joins through the control protocol
// (this test relays the SDP, as the API will) and hears a werift peer; the peer hears the
// browser's fake microphone, and the node sees Chromium's own audio-level header extension.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMediaNode } from '../../media/src/start.js';
import { ControlClient, VoiceRoom, eventually, rises } from './support/control.js';
import { TEST_SECRET, startTestNode } from './support/node.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>voice</title><script>
  const pc = new RTCPeerConnection();
  let mic;
  window.answer = async (offer) => {
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    if (!mic) {
      mic = (await navigator.mediaDevices.getUserMedia({ audio: true })).getAudioTracks()[0];
      const up = pc.getTransceivers()[0];
      up.direction = 'sendonly';
      await up.sender.replaceTrack(mic);
    }
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete')
      await new Promise((resolve) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve()));
    return pc.localDescription.sdp;
  };
  window.inboundPackets = async () => {
    let n = 0;
    (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n += r.packetsReceived; });
    return n;
  };
  window.connectionState = () => pc.connectionState;
</script>`;

let media: RunningMediaNode;
let control: ControlClient;
let browser: Browser;
let server: http.Server;

beforeAll(async () => {
  media = await startTestNode();
  control = await ControlClient.connect(media.controlUrl, TEST_SECRET);
  server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  await control?.close();
  await media?.stop();
});

describe('a browser in a voice room', () => {
  it('receives a werift peer through the node, and is heard by it', async () => {
    const room = new VoiceRoom(control, 'browser-room');
    const page = await (await browser.newContext({ permissions: ['microphone'] })).newPage();
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const peer = await room.join('w-A', { level: 30 });
      // renegotiations of the browser's connection, relayed like the API will
      control.onEvent((e) => {
        if (e.event === 'offer' && e.participantId === 'b-B')
          void page.evaluate((sdp) => (window as unknown as { answer(s: string): Promise<string> }).answer(sdp), String(e.sdp)).then((sdp) =>
            control.call('answer', { participantId: 'b-B', sdp }),
          );
      });
      const { offer } = await control.call<{ offer: string }>('join', { roomId: 'browser-room', participantId: 'b-B', userId: 'user-b' });
      const answer = await page.evaluate((sdp) => (window as unknown as { answer(s: string): Promise<string> }).answer(sdp), offer);
      await control.call('answer', { participantId: 'b-B', sdp: answer });

      await eventually('the browser is connected', async () => (await page.evaluate(() => (window as unknown as { connectionState(): string }).connectionState())) === 'connected', 15_000);
      const inbound = () => page.evaluate(() => (window as unknown as { inboundPackets(): Promise<number> }).inboundPackets());
      let first = 0;
      await eventually('the browser receives audio', async () => (first = await inbound()) > 0, 10_000);
      await eventually('and keeps receiving it', async () => (await inbound()) >= first + 25, 10_000);

      // the browser's fake microphone, forwarded to the werift peer (its payload has no tag)
      await rises('the werift peer hears the browser', () => peer.packetsFrom('?'), 25);
      expect(peer.packetsFrom('w-A')).toBe(0);
      // Chromium writes the RFC 6464 level of its fake tone: the node reports it speaking
      await eventually('the browser is reported speaking', () => control.events.some((e) => e.event === 'speaking' && e.participantId === 'b-B' && e.speaking === true), 10_000);
    } finally {
      await page.close();
      await room.close();
    }
  });
});
