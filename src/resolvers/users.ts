import { builder } from '../schema/builder.js';
import { pageArgs, toConnection } from '../schema/connections.js';
import { parseGlobalId } from '../globalIds.js';
import { User, UserConnection } from '../schema/user.js';

const CustomStatusInput = builder.inputType('CustomStatusInput', {
  description: 'Text, emoji or both; neither (or null) clears the status.',
  fields: (t) => ({
    text: t.string({ description: 'At most 128 characters.' }),
    emoji: t.string(),
    expiresAt: t.field({ type: 'DateTime', description: 'When it clears by itself; null: never.' }),
  }),
});

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  description: 'Only the fields given change; null clears bio, customStatus and avatar.',
  fields: (t) => ({
    displayName: t.string({ description: '1 to 32 characters.' }),
    bio: t.string({ description: 'At most 300 characters.' }),
    customStatus: t.field({ type: CustomStatusInput }),
    avatarAttachmentId: t.id({
      description: 'An upload of yours (POST /uploads) not attached to a message: a PNG, JPEG, GIF or WebP image of at most MAX_AVATAR_BYTES.',
    }),
    discoverable: t.boolean({ description: 'Whether users(search) finds you beyond your guilds (default true).' }),
  }),
});

builder.mutationFields((t) => ({
  updateProfile: t.field({
    type: User,
    description: 'Changes your profile; members of your guilds see it at once (a UserUpdatedEvent on guildEvents).',
    args: { input: t.arg({ type: UpdateProfileInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.profiles.update(ctx.actor, {
        ...input,
        avatarAttachmentId:
          input.avatarAttachmentId == null ? input.avatarAttachmentId : parseGlobalId(input.avatarAttachmentId, 'Attachment', 'avatarAttachmentId'),
      }),
  }),
}));

builder.queryFields((t) => ({
  viewer: t.field({
    type: User,
    nullable: true,
    description: 'The signed-in user; null when anonymous.',
    resolve: (_root, _args, ctx) => ctx.services.users.viewer(ctx.actor),
  }),
  user: t.field({
    type: User,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.users.get(ctx.actor, parseGlobalId(id, 'User')),
  }),
  users: t.connection(
    {
      type: User,
      description:
        'The directory. With `search`: everyone whose username or display name starts with it (ignoring case), except people who turned `discoverable` off and share no guild with you; also, by exact username, users banned from a guild of yours. Without: you and the people you share a guild with. Ordered by username. Signed-in users only; rate-limited.',
      args: { search: t.arg.string() },
      resolve: async (_root, args, ctx) =>
        toConnection(
          await ctx.services.users.search(ctx.actor, args.search, pageArgs(args, 'User'), ctx.clientAddress),
          'User',
        ),
    },
    UserConnection,
  ),
}));
