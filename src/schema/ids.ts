// Global ids: every object's id is Relay-style, base64("Type:localId"), so `node(id)` can
// find anything and clients can cache by id. Message ids double as message cursors.
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { badInput, notFound } from '../services/errors.js';
import { isId } from '../services/ids.js';

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
