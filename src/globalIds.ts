// Global ids: every object's id is Relay-style, base64("Type:localId"), so `node(id)` can
// find anything and clients can cache by id. Message ids double as message cursors. One
// codec for the schema, the services (mentions name users by global id) and the HTTP routes.
import { badInput, notFound } from './services/errors.js';
import { isId } from './services/ids.js';

const encodeGlobalID = (typename: string, id: string) => Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');

function decodeGlobalID(globalId: string): { typename: string; id: string } {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new Error('not a global id');
  return { typename: decoded.slice(0, colon), id: decoded.slice(colon + 1) };
}

/** The type and local id inside a global id, or null when it is not one. */
export function decodeGlobalId(globalId: string): { typename: string; id: string } | null {
  try {
    const decoded = decodeGlobalID(String(globalId));
    return decoded.typename && isId(decoded.id) ? decoded : null;
  } catch {
    return null;
  }
}

export type NodeTypeName = 'User' | 'Guild' | 'Channel' | 'Message' | 'Member' | 'Role' | 'Attachment';

export const toGlobalId = (type: NodeTypeName, id: string): string => encodeGlobalID(type, id);

export function parseAnyGlobalId(globalId: string, field = 'id'): { typename: string; id: string } {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(String(globalId));
  } catch {
    throw badInput(`"${field}" is not a valid id.`, field);
  }
  if (!decoded.typename || !isId(decoded.id)) throw badInput(`"${field}" is not a valid id.`, field);
  return decoded;
}

/** The local id inside a global id of the expected type: BAD_USER_INPUT if malformed,
 *  NOT_FOUND if it names another type (no such object of this type). */
export function parseGlobalId(globalId: string, type: NodeTypeName, field = 'id'): string {
  const decoded = parseAnyGlobalId(globalId, field);
  if (decoded.typename !== type) throw notFound(type);
  return decoded.id;
}

export const parseOptionalGlobalId = (globalId: string | null | undefined, type: NodeTypeName, field: string) =>
  globalId == null ? null : parseGlobalId(globalId, type, field);
