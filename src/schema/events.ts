// How fields resolve on published events, and which fields depend on who is asking.
//
// A subscription's event carries plain-JSON snapshots (src/pubsub/topics.ts). Their objects
// are marked as event parents; a field declared with `fromEvent` answers from the snapshot
// for such a parent and never reaches the database, whatever Pothos' Prisma plugin would
// have loaded for a database row. A field the snapshot does not carry (the resolver returns
// undefined) resolves as it would for a row.
//
// `viewerDependent` marks fields whose answer depends on the viewer (their id, permissions,
// read state). The delivery path executes a subscription document once per cohort of
// subscribers; a document that selects any marked field is executed per viewer instead.
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import type { GraphQLContext } from '../context.js';

const eventParents = new WeakSet<object>();
const FROM_EVENT = 'fromEvent';

/** Marks a snapshot object as an event parent (idempotent, no copy: snapshots are shared). */
export function asEventParent<T extends object, As = T>(snapshot: T): As {
  eventParents.add(snapshot);
  return snapshot as unknown as As;
}

export const isEventParent = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && eventParents.has(value);

type EventResolver<S> = (snapshot: S, args: Record<string, unknown>, ctx: GraphQLContext) => unknown;

/** Field extensions: resolve from the snapshot `S` when the parent is an event parent. */
export function fromEvent<S>(resolve: EventResolver<S>): Record<string, unknown> {
  return { [FROM_EVENT]: resolve };
}

/** Field extensions of a field whose value depends on who asks. */
export const viewerDependent = { viewerDependent: true } as const;

/** Both: answered from the event, but for the viewer (viewerReacted from carried reactor ids). */
export function viewerDependentFromEvent<S>(resolve: EventResolver<S>): Record<string, unknown> {
  return { ...viewerDependent, ...fromEvent(resolve) };
}

export const isViewerDependentField = (extensions: Readonly<Record<string, unknown>> | null | undefined) =>
  extensions?.viewerDependent === true;

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      eventSnapshots: EventSnapshotPlugin<Types>;
    }
  }
}

export class EventSnapshotPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const fromSnapshot = fieldConfig.extensions?.[FROM_EVENT] as EventResolver<unknown> | undefined;
    if (!fromSnapshot) return resolver;
    return (parent, args, ctx, info) => {
      if (eventParents.has(parent as object)) {
        const value = fromSnapshot(parent, args as Record<string, unknown>, ctx as unknown as GraphQLContext);
        if (value !== undefined) return value;
      }
      return resolver(parent, args, ctx, info);
    };
  }
}

SchemaBuilder.registerPlugin('eventSnapshots', EventSnapshotPlugin);
