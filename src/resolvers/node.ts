import { brandWithType } from '@pothos/core';
import { builder } from '../schema/builder.js';
import { Channel } from '../schema/channel.js';
import { Guild } from '../schema/guild.js';
import { parseAnyGlobalId } from '../globalIds.js';
import { Message } from '../schema/message.js';
import { User } from '../schema/user.js';
import { notFound } from '../services/errors.js';

builder.queryField('node', (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'Any object by its global id, if the viewer may see it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const { typename, id: localId } = parseAnyGlobalId(id);
      const load = {
        User: async () => [User, await ctx.services.users.get(ctx.actor, localId)] as const,
        Guild: async () => [Guild, await ctx.services.guilds.get(ctx.actor, localId)] as const,
        Channel: async () => [Channel, await ctx.services.channels.get(ctx.actor, localId)] as const,
        Message: async () => [Message, await ctx.services.messages.get(ctx.actor, localId)] as const,
      }[typename];
      if (!load) throw notFound('Node');
      const [type, value] = await load();
      brandWithType(value, type);
      return value;
    },
  }),
);
