// AttachmentService on its own: name and type rules, streaming limits, and claiming uploads
// for a message (what sendMessage relies on).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Actor } from '../../src/services/actor.js';
import {
  AttachmentService,
  type IncomingFile,
  isStoredName,
  normalizeContentType,
  sanitizeFileName,
  storedExtension,
} from '../../src/services/attachments.js';
import { DomainError } from '../../src/services/errors.js';
import { type TestServer, startTestServer } from '../support/app.js';
import { createGuild, localId, send, signUp } from '../support/client.js';

describe('names and types', () => {
  it('keeps only the last path component of a display name, without control characters', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('C:\\Users\\me\\report.pdf')).toBe('report.pdf');
    expect(sanitizeFileName('a\u0000b\u0007c\u001b.txt')).toBe('abc.txt');
    expect(sanitizeFileName('evil\u202Egpj.exe')).toBe('evilgpj.exe');
    expect(sanitizeFileName('  spaced  ')).toBe('spaced');
    expect(sanitizeFileName('')).toBe('file');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('dir/')).toBe('file');
    expect(sanitizeFileName(undefined)).toBe('file');
    expect([...sanitizeFileName('😀'.repeat(300))]).toHaveLength(255);
  });

  it('derives a short lowercase [a-z0-9] extension', () => {
    expect(storedExtension('photo.JPEG')).toBe('.jpeg');
    expect(storedExtension('archive.tar.gz')).toBe('.gz');
    expect(storedExtension('x.p-n_g')).toBe('.png');
    expect(storedExtension('x.abcdefghijklmnop')).toBe('.abcdefghij');
    expect(storedExtension('x.é')).toBe('');
    expect(storedExtension('README')).toBe('');
    expect(storedExtension('.bashrc')).toBe('');
  });

  it('keeps a declared type that looks like a MIME type, else octet-stream', () => {
    expect(normalizeContentType('image/png')).toBe('image/png');
    expect(normalizeContentType('Text/Plain; charset=utf-8')).toBe('text/plain');
    expect(normalizeContentType('application/vnd.api+json')).toBe('application/vnd.api+json');
    expect(normalizeContentType('not a mime type')).toBe('application/octet-stream');
    expect(normalizeContentType('text/html\r\nX-Evil: 1')).toBe('application/octet-stream');
    expect(normalizeContentType('')).toBe('application/octet-stream');
    expect(normalizeContentType(undefined)).toBe('application/octet-stream');
  });

  it('recognizes only generated stored names', () => {
    expect(isStoredName('01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe(true);
    expect(isStoredName('01ARZ3NDEKTSV4RRFFQ69G5FAV.png')).toBe(true);
    for (const bad of ['../x', '01ARZ3NDEKTSV4RRFFQ69G5FAV.PNG', '01ARZ3NDEKTSV4RRFFQ69G5FAV.png/', 'x.png', '.01ARZ3NDEKTSV4RRFFQ69G5FAV.png.part']) {
      expect(isStoredName(bad), bad).toBe(false);
    }
  });
});

describe('storing and claiming', () => {
  const MAX_BYTES = 4096;
  let server: TestServer;
  let dir: string;
  let service: AttachmentService;
  let ownerId: string;
  let otherId: string;
  let messageId: string;
  let otherMessageId: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'chat-attachments-'));
    server = await startTestServer();
    service = new AttachmentService(server.app.db.prisma, { uploadDir: dir, maxBytes: MAX_BYTES, maxFiles: 3 });
    const owner = await signUp(server.graphqlUrl);
    const other = await signUp(server.graphqlUrl);
    ownerId = localId(owner.userId!);
    otherId = localId(other.userId!);
    const { generalId } = await createGuild(owner);
    messageId = localId(await send(owner, generalId, 'with attachments'));
    otherMessageId = localId(await send(owner, generalId, 'another'));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const actorOf = (userId: string | null) => new Actor(server.app.db.prisma, userId);
  const file = (bytes: number, fileName = 'f.bin'): IncomingFile => ({
    fileName,
    contentType: 'application/octet-stream',
    stream: Readable.from([randomBytes(bytes)]),
  });
  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  const codeOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (err: unknown) => (err instanceof DomainError ? `${err.code}:${String(err.extensions.field ?? '')}` : String(err)),
    );

  it('streams chunks from a node stream, a web stream or an async iterable', async () => {
    const chunks = [randomBytes(1000), randomBytes(1000)];
    const rows = await service.store(actorOf(ownerId), [
      { fileName: 'node.bin', contentType: 'x/y', stream: Readable.from(chunks) },
      { fileName: 'web.bin', contentType: 'x/y', stream: new Blob(chunks).stream() },
      { fileName: 'iter.bin', contentType: 'x/y', stream: (async function* () { yield* chunks; })() },
    ]);
    expect(rows.map((r) => r.size)).toEqual([2000, 2000, 2000]);
    expect(rows.every((r) => r.uploaderId === ownerId && r.messageId === null)).toBe(true);
  });

  it('cuts a stream off past maxBytes and removes what was written', async () => {
    const before = (await readdir(dir)).sort();
    async function* endless() {
      for (;;) yield randomBytes(1024);
    }
    const result = await codeOf(
      service.store(actorOf(ownerId), [file(10), { fileName: 'endless', contentType: 'x/y', stream: endless() }]),
    );
    expect(result).toBe('PAYLOAD_TOO_LARGE:');
    expect((await readdir(dir)).sort()).toEqual(before);
  });

  it('requires a signed-in actor', async () => {
    expect(await codeOf(service.store(actorOf(null), [file(1)]))).toBe('UNAUTHENTICATED:');
  });

  it('claims the uploader’s own unattached uploads for a message, all at once', async () => {
    const rows = await service.store(actorOf(ownerId), [file(1), file(2)]);
    await service.assertClaimable(ownerId, ids(rows));
    await service.claimForMessage(ownerId, [...ids(rows), rows[0]!.id], messageId);
    const stored = await server.app.db.prisma.attachment.findMany({ where: { id: { in: ids(rows) } } });
    expect(stored.every((r) => r.messageId === messageId)).toBe(true);
    // claimed once: not again, for this message or another
    expect(await codeOf(service.assertClaimable(ownerId, ids(rows)))).toBe('BAD_USER_INPUT:attachmentIds');
    expect(await codeOf(service.claimForMessage(ownerId, ids(rows), otherMessageId))).toBe('BAD_USER_INPUT:attachmentIds');
  });

  it('claims nothing when one id is someone else’s, unknown or already attached', async () => {
    const [mine] = await service.store(actorOf(ownerId), [file(1)]);
    const [theirs] = await service.store(actorOf(otherId), [file(1)]);
    const [attached] = await service.store(actorOf(ownerId), [file(1)]);
    await service.claimForMessage(ownerId, [attached!.id], messageId);
    for (const bad of [theirs!.id, '01ARZ3NDEKTSV4RRFFQ69G5FAV', attached!.id]) {
      expect(await codeOf(service.assertClaimable(ownerId, [mine!.id, bad]))).toBe('BAD_USER_INPUT:attachmentIds');
      expect(await codeOf(service.claimForMessage(ownerId, [mine!.id, bad], otherMessageId))).toBe(
        'BAD_USER_INPUT:attachmentIds',
      );
      const row = await server.app.db.prisma.attachment.findUnique({ where: { id: mine!.id } });
      expect(row!.messageId).toBeNull();
    }
  });

  it('rolls back the caller’s transaction when a claim inside it is refused', async () => {
    const [mine] = await service.store(actorOf(ownerId), [file(1)]);
    const [theirs] = await service.store(actorOf(otherId), [file(1)]);
    const db = server.app.db.prisma;
    const result = await codeOf(
      db.$transaction(async (tx) => {
        await tx.message.update({ where: { id: otherMessageId }, data: { content: 'changed in tx' } });
        await service.claimForMessage(ownerId, [mine!.id, theirs!.id], otherMessageId, tx);
      }),
    );
    expect(result).toBe('BAD_USER_INPUT:attachmentIds');
    expect((await db.message.findUnique({ where: { id: otherMessageId } }))!.content).toBe('another');
    expect((await db.attachment.findUnique({ where: { id: mine!.id } }))!.messageId).toBeNull();
  });

  it('allows at most maxFiles attachments per message; no ids is a no-op', async () => {
    const many = ['01ARZ3NDEKTSV4RRFFQ69G5FA0', '01ARZ3NDEKTSV4RRFFQ69G5FA1', '01ARZ3NDEKTSV4RRFFQ69G5FA2', '01ARZ3NDEKTSV4RRFFQ69G5FA3'];
    expect(await codeOf(service.assertClaimable(ownerId, many))).toBe('BAD_USER_INPUT:attachmentIds');
    await service.assertClaimable(ownerId, []);
    await service.claimForMessage(ownerId, [], messageId);
  });
});
