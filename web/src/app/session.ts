// The one session of this tab (see lib/session.ts).
import { Session } from '../lib/session';

export const session = new Session();
