// Messages on their way: every send gets a nonce (SendMessageInput.nonce) once, when it is
// written, and keeps it on every retry, so the server stores it once however often it is tried
// (a retry after a lost answer gets the first message back). The server's copy carries the
// nonce too (Message.nonce, on the answer and on messageAdded): whichever of the two reaches the
// cache first puts the message in the channel's list, and from that render on the list shows it
// in place of the pending one (`unconfirmedSends`), which is then dropped (`settle`).
//
// Pending sends are kept here, not as graphcache optimistic results: an optimistic layer holds
// its own copy of the message list until the mutation answers, so a messageAdded event that
// comes first could not replace the pending message (and graphcache holds every optimistic
// mutation's answer until all of them are back).
import type { Client, TypedDocumentNode } from '@urql/core';
import type { SendMessageInput } from '../gql/graphql';
import { cacheHoldsMessage } from './cache';
import { describeError } from './errors';
import type { UploadedAttachment } from './uploads';

export interface PendingSend {
  /** SendMessageInput.nonce: chosen once, the same on every retry */
  nonce: string;
  channelId: string;
  content: string;
  replyToId: string | null;
  attachments: readonly UploadedAttachment[];
  /** when it was written (the pending message's time, and its place among the others) */
  createdAt: string;
  /** `sent`: answered, and the cache holds the server's copy; the list has not shown it yet */
  status: 'sending' | 'sent' | 'failed';
  error: string | null;
}

export type NewSend = Pick<PendingSend, 'channelId' | 'content' | 'replyToId' | 'attachments'> & { nonce?: string };

/** The mutation a send runs; its answer needs the message's id. */
export type SendDocument = TypedDocumentNode<{ sendMessage: { id: string } | null }, { input: SendMessageInput }>;

/**
 * A fresh nonce: a random UUID (v4). `crypto.randomUUID` exists only in secure contexts, and
 * plain http from another machine on the LAN is not one, so it is made from getRandomValues.
 */
export function newNonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function sendInput(send: PendingSend): SendMessageInput {
  return {
    channelId: send.channelId,
    content: send.content,
    replyToId: send.replyToId ?? undefined,
    attachmentIds: send.attachments.length ? send.attachments.map((a) => a.id) : undefined,
    nonce: send.nonce,
  };
}

interface ListedMessage {
  nonce?: string | null;
  author: { id: string };
}

/** The nonces of the viewer's messages in a list. */
export function confirmedNonces(messages: Iterable<ListedMessage>, viewerId: string): Set<string> {
  const nonces = new Set<string>();
  for (const message of messages) if (message.nonce && message.author.id === viewerId) nonces.add(message.nonce);
  return nonces;
}

/** The sends to show as pending or failed: those whose message the list does not hold yet. */
export function unconfirmedSends<T extends { nonce: string }>(sends: readonly T[], confirmed: ReadonlySet<string>): T[] {
  return sends.filter((send) => !confirmed.has(send.nonce));
}

const NONE: readonly PendingSend[] = Object.freeze([]);

/** The pending and failed sends of every channel, for one client (one session). */
export class Sends {
  private byChannel = new Map<string, readonly PendingSend[]>();
  private listeners = new Set<() => void>();

  constructor(
    private readonly client: Client,
    private readonly document: SendDocument,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** The channel's sends in the order they were written (the same array until one changes). */
  list = (channelId: string): readonly PendingSend[] => this.byChannel.get(channelId) ?? NONE;

  /** Sends a new message; false if it failed (it then stays listed, with the reason). */
  send(draft: NewSend): Promise<boolean> {
    const send: PendingSend = {
      nonce: draft.nonce ?? newNonce(),
      channelId: draft.channelId,
      content: draft.content,
      replyToId: draft.replyToId,
      attachments: draft.attachments,
      createdAt: new Date().toISOString(),
      status: 'sending',
      error: null,
    };
    this.write(send.channelId, [...this.list(send.channelId), send]);
    return this.run(send);
  }

  /** Sends a failed message again, with the same nonce: if the first try was stored, that is the answer. */
  retry(channelId: string, nonce: string): Promise<boolean> {
    const send = this.find(channelId, nonce);
    if (!send || send.status !== 'failed') return Promise.resolve(false);
    return this.run(this.update(send, { status: 'sending', error: null }));
  }

  discard(channelId: string, nonce: string): void {
    this.remove(channelId, [nonce]);
  }

  /** Drops the sends whose message the channel's list now shows (after it rendered them). */
  settle(channelId: string, confirmed: ReadonlySet<string>): void {
    this.remove(
      channelId,
      this.list(channelId)
        .filter((send) => confirmed.has(send.nonce))
        .map((send) => send.nonce),
    );
  }

  private async run(send: PendingSend): Promise<boolean> {
    const result = await this.client.mutation(this.document, { input: sendInput(send) }).toPromise();
    const current = this.find(send.channelId, send.nonce);
    if (result.error) {
      if (current) this.update(current, { status: 'failed', error: describeError(result.error, 'send the message') });
      return false;
    }
    const id = result.data?.sendMessage?.id;
    if (current) {
      // The answer put the message in the cache, so the list shows it at its next render and
      // settles this send then. If no cached list holds it (the channel's messages are not
      // loaded), none will: the pending one goes now.
      if (id && cacheHoldsMessage(this.client, send.channelId, id)) this.update(current, { status: 'sent' });
      else this.remove(send.channelId, [send.nonce]);
    }
    return true;
  }

  private find(channelId: string, nonce: string): PendingSend | undefined {
    return this.list(channelId).find((send) => send.nonce === nonce);
  }

  private update(send: PendingSend, patch: Partial<Pick<PendingSend, 'status' | 'error'>>): PendingSend {
    const next = { ...send, ...patch };
    this.write(
      send.channelId,
      this.list(send.channelId).map((s) => (s.nonce === send.nonce ? next : s)),
    );
    return next;
  }

  private remove(channelId: string, nonces: readonly string[]): void {
    if (nonces.length === 0) return;
    const kept = this.list(channelId).filter((send) => !nonces.includes(send.nonce));
    if (kept.length !== this.list(channelId).length) this.write(channelId, kept);
  }

  private write(channelId: string, sends: readonly PendingSend[]): void {
    if (sends.length) this.byChannel.set(channelId, sends);
    else this.byChannel.delete(channelId);
    for (const listener of this.listeners) listener();
  }
}

const stores = new WeakMap<Client, Sends>();

/** The sends of a client (one store per client, so per session). */
export function sendsFor(client: Client, document: SendDocument): Sends {
  let store = stores.get(client);
  if (!store) stores.set(client, (store = new Sends(client, document)));
  return store;
}
