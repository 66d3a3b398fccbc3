// Assembles the schema: object types from src/schema, root fields from src/resolvers.
import { lexicographicSortSchema } from 'graphql';
import './scalars.js';
import './user.js';
import './guild.js';
import './channel.js';
import './message.js';
import './auth.js';
import './role.js';
import './realtime.js';
import '../resolvers/node.js';
import '../resolvers/auth.js';
import '../resolvers/users.js';
import '../resolvers/guilds.js';
import '../resolvers/channels.js';
import '../resolvers/messages.js';
import '../resolvers/presence.js';
import '../resolvers/management.js';
import '../resolvers/subscriptions.js';
import '../resolvers/attachments.js';
import '../resolvers/search.js';
import { builder } from './builder.js';

export const schema = builder.toSchema();
export const sortedSchema = () => lexicographicSortSchema(schema);
