// File transport: `POST /uploads` (multipart, streamed to disk as it arrives), `GET /static/<name>`
// (the stored file), and the limits yoga applies to GraphQL multipart uploads. The rules live in
// AttachmentService; this file only speaks HTTP.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { GraphQLError } from 'graphql';
import { type Plugin, createGraphQLError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { toGlobalId } from '../globalIds.js';
import type { AttachmentService, IncomingFile } from '../services/attachments.js';
import type { AuthService } from '../services/auth.js';
import { DomainError, badInput, notFound, payloadTooLarge } from '../services/errors.js';
import { RETRY_AFTER_MS, isDependencyFailure } from './dependencyFailures.js';
import { HTTP_STATUS } from './errors.js';
import { sendJson } from './responses.js';

/** Room for the multipart framing and the non-file fields of an upload request. */
const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;
/** What yoga allows a non-upload request body by default; uploads get a larger allowance. */
const NON_UPLOAD_BODY_BYTES = 25_000_000;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface UploadRoutesDeps {
  attachments: AttachmentService;
  auth: AuthService;
  log: Logger;
}

export interface UploadRoutes {
  /** Answers /uploads and /static/* requests; false for any other path (yoga's turn). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** yoga's maxRequestBodySize: room for MAX_UPLOAD_FILES files of MAX_UPLOAD_BYTES. */
  graphqlMaxRequestBytes: number;
  /** the most a GraphQL body that is not an upload may hold */
  nonUploadBodyBytes: number;
  /** Limits yoga's multipart parsing to the upload limits; over-limit requests are PAYLOAD_TOO_LARGE. */
  yogaPlugin: Plugin;
}

export function createUploadRoutes({ attachments, auth, log }: UploadRoutesDeps): UploadRoutes {
  const { maxBytes, maxFiles } = attachments.limits;
  const maxUploadRequestBytes = maxFiles * maxBytes + MULTIPART_OVERHEAD_BYTES;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const pathname = (req.url ?? '/').split('?')[0]!;
    const isUpload = pathname === '/uploads';
    if (!isUpload && !pathname.startsWith('/static/')) return false;
    try {
      // CORS (preflights included) is answered before this, for every route: src/http/cors.ts
      if (isUpload) await upload(req, res);
      else await serveStatic(req, res, pathname.slice('/static/'.length));
    } catch (err) {
      sendError(res, err, log);
      discardBody(req, maxUploadRequestBytes);
    }
    return true;
  }

  async function upload(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendJson(res, 405, errorBody('Use POST with a multipart/form-data body.', 'BAD_USER_INPUT'));
    }
    const actor = await auth.authenticate(req.headers.authorization);
    actor.requireUser();
    if (!/^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '')) {
      throw badInput('The body must be multipart/form-data with one or more file parts.', 'files');
    }
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    if (declaredLength > maxUploadRequestBytes) {
      res.setHeader('connection', 'close');
      throw payloadTooLarge(`An upload may carry at most ${maxFiles} files of ${maxBytes} bytes.`);
    }

    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        // browsers send file names as raw UTF-8
        defParamCharset: 'utf8',
        // One byte and one file past the limits, so that the service sees the excess and refuses
        // it (busboy alone would silently truncate or skip).
        limits: { fileSize: maxBytes + 1, files: maxFiles + 1, fields: 20, fieldSize: 64 * 1024, parts: maxFiles + 21, headerPairs: 100 },
      });
    } catch {
      throw badInput('The multipart/form-data body is malformed.', 'files');
    }
    const files = new FileQueue();
    parser.on('file', (_field, stream, info) => files.push({ fileName: info.filename ?? '', contentType: info.mimeType, stream }));
    parser.on('field', () => undefined);
    parser.on('fieldsLimit', () => files.fail(payloadTooLarge('Too many form fields.')));
    parser.on('partsLimit', () => files.fail(payloadTooLarge('Too many form parts.')));
    parser.on('error', () => files.fail(badInput('The multipart/form-data body is malformed.', 'files')));
    parser.on('close', () => files.end());
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxUploadRequestBytes) {
        files.fail(payloadTooLarge(`An upload may carry at most ${maxFiles} files of ${maxBytes} bytes.`));
        parser.destroy(new Error('request too large'));
      }
    });
    req.on('close', () => {
      if (req.complete) return;
      files.fail(badInput('The upload was interrupted.', 'files'));
      parser.destroy(new Error('request aborted'));
    });
    req.pipe(parser);

    try {
      const stored = await attachments.store(actor, files);
      sendJson(res, 200, {
        attachments: stored.map((a) => ({
          id: toGlobalId('Attachment', a.id),
          fileName: a.fileName,
          contentType: a.contentType,
          size: a.size,
          url: attachmentUrl(a.storedName),
        })),
      });
    } catch (err) {
      // A parse failure destroys the file being streamed: report the parse failure, not the
      // broken stream it caused.
      await new Promise((resolve) => setImmediate(resolve));
      req.unpipe(parser);
      parser.destroy();
      throw files.failure ?? err;
    }
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, name: string) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, errorBody('Use GET.', 'BAD_USER_INPUT'));
    }
    // Only generated names: no "..", no slashes, no percent-escapes can reach the file system.
    const found = await attachments.findStored(name);
    if (!found) throw notFound('File');
    const { attachment } = found;
    const etag = `"${attachment.id}"`;
    const headers = {
      'content-type': attachment.contentType,
      'content-length': String(found.size),
      'content-disposition': `${isInlineType(attachment.contentType) ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeRfc5987(attachment.fileName)}`,
      'x-content-type-options': 'nosniff',
      // Served from the API's origin: an uploaded document must never run script here.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      'cache-control': IMMUTABLE,
      etag,
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'cache-control': IMMUTABLE });
      res.end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, headers);
      res.end();
      return;
    }
    const stream = createReadStream(found.path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    res.writeHead(200, headers);
    await pipeline(stream, res).catch((err: NodeJS.ErrnoException) => {
      // the client went away mid-download: nothing to answer
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.warn({ err, name }, 'serving an attachment failed');
    });
  }

  const yogaPlugin: Plugin = {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const multipart = /^multipart\/form-data/i.test(request.headers.get('content-type') ?? '');
      const limit = multipart ? maxUploadRequestBytes : NON_UPLOAD_BODY_BYTES;
      const contentLength = request.headers.get('content-length');
      // Checked here, before yoga's own check that would answer an unknown error code.
      if (contentLength && /^\d+$/.test(contentLength) && Number(contentLength) > limit) {
        throw tooLargeGraphQLError(`The request body may be at most ${limit} bytes.`);
      }
      if (!requestParser) return;
      const parse = requestParser;
      if (multipart) {
        const formDataLimits = { fileSize: maxBytes, files: maxFiles, fields: 10, fieldSize: 1024 * 1024, parts: maxFiles + 10 };
        setRequestParser(async (req) => {
          try {
            return await parse(withFormDataLimits(req, formDataLimits));
          } catch (err) {
            throw translateMultipartError(err, maxBytes, maxFiles);
          }
        });
      } else if (!contentLength) {
        // a declared length was checked above, and the HTTP parser reads no byte past it: only
        // a chunked body needs counting as it arrives
        setRequestParser((req) => parse(limitBody(req, limit, fetchAPI)));
      }
    },
  };

  // yoga's own cap sits past ours, so that ours (with the contract's PAYLOAD_TOO_LARGE) is the one
  // a chunked body runs into
  return { handle, graphqlMaxRequestBytes: 2 * Math.max(maxUploadRequestBytes, NON_UPLOAD_BODY_BYTES), nonUploadBodyBytes: NON_UPLOAD_BODY_BYTES, yogaPlugin };
}

export const attachmentUrl = (storedName: string) => `/static/${storedName}`;

/** Images are shown in place; anything else (SVG too: it can carry script) is downloaded. */
const isInlineType = (contentType: string) => contentType.startsWith('image/') && contentType !== 'image/svg+xml';

/** RFC 5987 value: percent-encoded UTF-8, with the characters encodeURIComponent leaves alone escaped too. */
const encodeRfc5987 = (value: string) =>
  encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The files of a multipart body in arrival order, as the service pulls them. Busboy only
 *  moves on to the next part once the service has read the current file to its end. */
class FileQueue implements AsyncIterable<IncomingFile> {
  private readonly items: IncomingFile[] = [];
  private ended = false;
  failure: DomainError | null = null;
  private wake: (() => void) | null = null;

  push(file: IncomingFile) {
    this.items.push(file);
    this.notify();
  }

  end() {
    this.ended = true;
    this.notify();
  }

  fail(error: DomainError) {
    this.failure ??= error;
    this.notify();
  }

  private notify() {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<IncomingFile> {
    for (;;) {
      if (this.failure) throw this.failure;
      const next = this.items.shift();
      if (next) yield next;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** After a refusal: read and drop what the client still sends (so that it gets to read the
 *  answer) up to `cap` bytes, then hang up. */
function discardBody(req: IncomingMessage, cap: number) {
  if (req.complete || req.destroyed) return;
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > cap) req.socket.destroy();
  });
  req.resume();
}

/** Makes yoga's multipart parser (the ponyfill's formData) enforce the upload limits while it
 *  parses: a file is cut off at maxBytes instead of being buffered whole first. */
function withFormDataLimits(request: Request, formDataLimits: Record<string, number>): Request {
  return new Proxy(request, {
    get(target, prop) {
      if (prop === 'formData') {
        return () => (target.formData as (opts?: unknown) => Promise<FormData>).call(target, { formDataLimits });
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function translateMultipartError(err: unknown, maxBytes: number, maxFiles: number): unknown {
  if (!(err instanceof GraphQLError)) return err;
  const message = err.message;
  if (message.includes('File size limit exceeded')) return tooLargeGraphQLError(`A file may be at most ${maxBytes} bytes.`);
  if (message.includes('Files limit exceeded')) return tooLargeGraphQLError(`At most ${maxFiles} files may be uploaded at once.`);
  if (message.includes('Request body too large') || err.extensions.code === 'REQUEST_ENTITY_TOO_LARGE') {
    return tooLargeGraphQLError('The request body is too large.');
  }
  if (/limit exceeded|size exceeded/i.test(message)) return tooLargeGraphQLError('The multipart request is too large.');
  if (err.extensions.code === 'BAD_REQUEST') {
    return createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
  }
  return err;
}

/** A non-multipart body cut off past `limit` bytes, for bodies without a Content-Length. */
function limitBody(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  const body = request.body;
  if (!body) return request;
  // as yoga does: a native stream needs the native TransformStream, the ponyfill its own
  const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let read = 0;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read > limit) controller.error(tooLargeGraphQLError(`The request body may be at most ${limit} bytes.`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: limited,
    duplex: 'half',
  } as RequestInit);
}

const tooLargeGraphQLError = (message: string) =>
  createGraphQLError(message, { extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413 } } });

function errorBody(message: string, code: string, extensions: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...extensions } }] };
}

function sendError(res: ServerResponse, err: unknown, log: Logger) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof DomainError) {
    if (err.code === 'UNAUTHENTICATED') res.setHeader('www-authenticate', 'Bearer');
    const retryAfterMs = err.extensions.retryAfterMs;
    if (typeof retryAfterMs === 'number') res.setHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
    return sendJson(res, HTTP_STATUS[err.code], errorBody(err.message, err.code, err.extensions));
  }
  if (isDependencyFailure(err)) {
    log.warn({ err }, 'upload request failed: a dependency is unavailable');
    res.setHeader('retry-after', String(Math.ceil(RETRY_AFTER_MS / 1000)));
    return sendJson(res, HTTP_STATUS.SERVICE_UNAVAILABLE, errorBody('A service this request needs is unavailable; retry shortly.', 'SERVICE_UNAVAILABLE', { retryAfterMs: RETRY_AFTER_MS }));
  }
  log.error({ err }, 'upload request failed');
  sendJson(res, 500, errorBody('Unexpected error.', 'INTERNAL_SERVER_ERROR'));
}

