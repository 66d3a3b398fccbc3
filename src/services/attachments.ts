// File attachments: storing uploads on disk, and handing them to the message they are sent with.
// Bytes are streamed to disk as they arrive and counted on the way; a file over the limit is
// cut off and deleted, never held whole in memory. Disk names are generated (`<ulid><.ext>`),
// the uploader's file name is kept for display only.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../db/client.js';
import type { Attachment, Prisma } from '../generated/prisma/client.js';
import type { Actor } from './actor.js';
import { badInput, payloadTooLarge } from './errors.js';
import { newId } from './ids.js';

/** One file of an upload, as the transport hands it over. */
export interface IncomingFile {
  fileName: string;
  contentType: string;
  stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | NodeJS.ReadableStream;
}

export interface AttachmentLimits {
  /** where files are stored */
  uploadDir: string;
  /** largest file, in bytes */
  maxBytes: number;
  /** most files per upload, and most attachments per message */
  maxFiles: number;
  /** largest upload that may become an avatar, in bytes */
  maxAvatarBytes?: number;
}

/** The image types an avatar may be, by the bytes they start with (never the declared type). */
export function sniffImageType(head: Uint8Array): 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | null {
  const b = Buffer.from(head);
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'image/gif';
  if (b.length >= 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

/** An upload in use as an avatar belongs to no message and is not swept. */
const NOT_AN_AVATAR = { avatarOf: { none: {} } } as const;

/** The only names ever written to disk or served: a ULID and an optional short extension. */
export const STORED_NAME_RE = /^[0-9A-HJKMNP-TV-Z]{26}(?:\.[a-z0-9]{1,10})?$/;
export const isStoredName = (name: string): boolean => STORED_NAME_RE.test(name);
/** where an upload is written before it is complete */
const PARTIAL_FILE_RE = /^\.[0-9A-HJKMNP-TV-Z]{26}(?:\.[a-z0-9]{1,10})?\.[0-9a-f]{8}\.part$/;
const SWEEP_BATCH = 500;

const MAX_FILE_NAME = 255;
const FALLBACK_FILE_NAME = 'file';
const OCTET_STREAM = 'application/octet-stream';
const MIME_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
// C0/C1 controls, and the bidirectional overrides that make "gpj.exe" read as "exe.jpg".
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS_RE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The display name: no directories, no control characters, at most 255 characters. */
export function sanitizeFileName(name: string | null | undefined): string {
  const base = String(name ?? '')
    .normalize('NFC')
    .split(/[/\\]/)
    .pop()!
    .replace(UNSAFE_CHARS_RE, '')
    .trim();
  const capped = Array.from(base).slice(0, MAX_FILE_NAME).join('').trim();
  return capped === '' || capped === '.' || capped === '..' ? FALLBACK_FILE_NAME : capped;
}

/** `.ext` from a display name: lowercase, [a-z0-9] only, at most 10 characters; '' when none. */
export function storedExtension(fileName: string): string {
  const ext = path.posix.extname(fileName).slice(1).toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 10);
  return ext ? `.${ext}` : '';
}

/** The declared type when it looks like a MIME type (parameters dropped), else octet-stream. */
export function normalizeContentType(declared: string | null | undefined): string {
  const type = String(declared ?? '').split(';')[0]!.trim().toLowerCase();
  return MIME_RE.test(type) ? type : OCTET_STREAM;
}

type Tx = Prisma.TransactionClient;

export class AttachmentService {
  readonly limits: AttachmentLimits;
  private dirReady: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    limits: AttachmentLimits,
  ) {
    this.limits = { ...limits, uploadDir: path.resolve(limits.uploadDir) };
  }

  /**
   * Stores the files of one upload for the signed-in user and records them as unattached
   * attachments, all or nothing: when one file fails (too large, too many, broken stream),
   * the files already written are deleted and nothing is recorded.
   */
  async store(actor: Actor, files: AsyncIterable<IncomingFile> | Iterable<IncomingFile>): Promise<Attachment[]> {
    const uploaderId = actor.requireUser();
    const { maxFiles } = this.limits;
    await this.ensureDir();
    const written: Prisma.AttachmentCreateManyInput[] = [];
    try {
      for await (const file of files) {
        if (written.length >= maxFiles) throw payloadTooLarge(`At most ${maxFiles} files may be uploaded at once.`);
        written.push(await this.write(uploaderId, file));
      }
      if (written.length === 0) throw badInput('At least one file is required.', 'files');
      await this.db.attachment.createMany({ data: written });
    } catch (err) {
      await Promise.all(written.map((row) => this.removeFile(row.storedName)));
      throw err;
    }
    const rows = await this.db.attachment.findMany({ where: { id: { in: written.map((w) => w.id) } } });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return written.map((w) => byId.get(w.id)!);
  }

  /**
   * Throws BAD_USER_INPUT (field attachmentIds) unless every id names an upload of this user
   * that no message has claimed yet. For checking before a message is created; the claim
   * itself (claimForMessage) checks again, atomically.
   */
  async assertClaimable(uploaderId: string, attachmentIds: readonly string[]): Promise<void> {
    const ids = this.uniqueIds(attachmentIds);
    if (ids.length === 0) return;
    const count = await this.db.attachment.count({ where: { id: { in: ids }, uploaderId, messageId: null, ...NOT_AN_AVATAR } });
    if (count !== ids.length) throw this.notClaimable();
  }

  /**
   * Attaches the uploader's unattached uploads to a message, all or none: BAD_USER_INPUT
   * (field attachmentIds) when any id is not theirs, unknown, or already attached. Pass the
   * transaction the message is created in as `tx` so that a refused claim rolls it back too;
   * without one, the claim runs in a transaction of its own.
   */
  async claimForMessage(uploaderId: string, attachmentIds: readonly string[], messageId: string, tx?: Tx): Promise<void> {
    const ids = this.uniqueIds(attachmentIds);
    if (ids.length === 0) return;
    const claim = async (client: Tx) => {
      const { count } = await client.attachment.updateMany({
        where: { id: { in: ids }, uploaderId, messageId: null, ...NOT_AN_AVATAR },
        data: { messageId },
      });
      // Throwing inside the transaction undoes the rows that were claimed.
      if (count !== ids.length) throw this.notClaimable();
    };
    if (tx) await claim(tx);
    else await this.db.$transaction((client) => claim(client));
  }

  /**
   * Checks that the upload may become the uploader's avatar (their own, on no message, at most
   * maxAvatarBytes, a PNG, JPEG, GIF or WebP by its first bytes) and records its sniffed type,
   * which it is served with from then on. Returns its stored name.
   */
  async prepareAvatar(uploaderId: string, attachmentId: string): Promise<string> {
    const field = 'avatarAttachmentId';
    const attachment = await this.db.attachment.findFirst({ where: { id: attachmentId, uploaderId, messageId: null } });
    if (!attachment) throw badInput('The avatar must be your own upload that is not attached to a message.', field);
    const maxBytes = this.limits.maxAvatarBytes ?? this.limits.maxBytes;
    if (attachment.size > maxBytes) throw payloadTooLarge(`An avatar may be at most ${maxBytes} bytes.`);
    const type = sniffImageType(await this.readHead(attachment.storedName, 12));
    if (!type) throw badInput('An avatar must be a PNG, JPEG, GIF or WebP image.', field);
    if (type !== attachment.contentType) await this.db.attachment.update({ where: { id: attachment.id }, data: { contentType: type } });
    return attachment.storedName;
  }

  private async readHead(storedName: string, bytes: number): Promise<Uint8Array> {
    const file = await open(this.pathOf(storedName), 'r').catch(() => null);
    if (!file) return new Uint8Array();
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await file.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  /** A stored file for serving: its row and absolute path, or null when there is none. */
  async findStored(storedName: string): Promise<{ attachment: Attachment; path: string; size: number } | null> {
    if (!isStoredName(storedName)) return null;
    const attachment = await this.db.attachment.findUnique({ where: { storedName } });
    if (!attachment) return null;
    const filePath = this.pathOf(storedName);
    const info = await stat(filePath).catch(() => null);
    if (!info?.isFile()) return null;
    return { attachment, path: filePath, size: info.size };
  }

  /**
   * Housekeeping, safe to run from every instance at once: removes uploads never attached
   * to a message by `cutoff`, stored files whose row is gone (their message, channel or
   * guild was deleted), and partial files of interrupted uploads, all older than `cutoff`.
   * Returns how many files it removed.
   */
  async sweep(cutoff: Date): Promise<number> {
    const stale = await this.db.attachment.findMany({
      where: { messageId: null, createdAt: { lt: cutoff }, ...NOT_AN_AVATAR },
      select: { id: true, storedName: true },
      take: SWEEP_BATCH,
    });
    if (stale.length) {
      await this.db.attachment.deleteMany({ where: { id: { in: stale.map((a) => a.id) }, messageId: null, ...NOT_AN_AVATAR } });
    }

    const names = await readdir(this.limits.uploadDir).catch(() => [] as string[]);
    const old: string[] = [];
    for (const name of names) {
      const info = await stat(this.pathOf(name)).catch(() => null);
      if (info?.isFile() && info.mtime < cutoff) old.push(name);
    }
    const stored = old.filter(isStoredName);
    const known = new Set<string>();
    for (let i = 0; i < stored.length; i += SWEEP_BATCH) {
      const rows = await this.db.attachment.findMany({
        where: { storedName: { in: stored.slice(i, i + SWEEP_BATCH) } },
        select: { storedName: true },
      });
      for (const row of rows) known.add(row.storedName);
    }
    const doomed = old.filter((name) => (isStoredName(name) ? !known.has(name) : PARTIAL_FILE_RE.test(name)));
    await Promise.all(doomed.map((name) => this.removeFile(name)));
    return doomed.length;
  }

  private uniqueIds(attachmentIds: readonly string[]): string[] {
    const ids = [...new Set(attachmentIds)];
    if (ids.length > this.limits.maxFiles) {
      throw badInput(`A message may have at most ${this.limits.maxFiles} attachments.`, 'attachmentIds');
    }
    return ids;
  }

  private notClaimable() {
    return badInput('Attachments must be your own uploads that are not attached to a message yet.', 'attachmentIds');
  }

  private async write(uploaderId: string, file: IncomingFile): Promise<Prisma.AttachmentCreateManyInput> {
    const fileName = sanitizeFileName(file.fileName);
    const contentType = normalizeContentType(file.contentType);
    const id = newId();
    const storedName = `${id}${storedExtension(fileName)}`;
    const finalPath = this.pathOf(storedName);
    // A dot-name that never matches STORED_NAME_RE: a partial file is never served.
    const tempPath = path.join(this.limits.uploadDir, `.${storedName}.${randomBytes(4).toString('hex')}.part`);
    const { maxBytes } = this.limits;
    let size = 0;
    try {
      await pipeline(
        chunksOf(file.stream),
        async function* countBytes(source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            size += chunk.byteLength;
            if (size > maxBytes) throw payloadTooLarge(`A file may be at most ${maxBytes} bytes.`);
            yield chunk;
          }
        },
        createWriteStream(tempPath, { flags: 'wx', mode: 0o640 }),
      );
      await rename(tempPath, finalPath);
    } catch (err) {
      await unlink(tempPath).catch(() => undefined);
      throw err;
    }
    return { id, uploaderId, fileName, storedName, contentType, size };
  }

  private pathOf(storedName: string): string {
    return path.join(this.limits.uploadDir, storedName);
  }

  private async removeFile(storedName: string): Promise<void> {
    await unlink(this.pathOf(storedName)).catch(() => undefined);
  }

  private ensureDir(): Promise<void> {
    this.dirReady ??= mkdir(this.limits.uploadDir, { recursive: true }).then(
      () => undefined,
      (err: unknown) => {
        this.dirReady = null;
        throw err;
      },
    );
    return this.dirReady;
  }
}

/** Any of the stream shapes transports hand over, as chunks of bytes. */
async function* chunksOf(stream: IncomingFile['stream']): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in stream) {
    for await (const chunk of stream as AsyncIterable<Uint8Array | string>) {
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    }
    return;
  }
  const reader = (stream as ReadableStream<Uint8Array>).getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    // stopped early (the file was refused): tell the source we will not read the rest
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
