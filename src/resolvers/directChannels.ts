// Direct messages and group chats, blocking, and who may start a conversation with you.
import { builder } from '../schema/builder.js';
import { Channel } from '../schema/channel.js';
import { viewerDependent } from '../schema/events.js';
import { User } from '../schema/user.js';
import { parseGlobalId } from '../globalIds.js';
import { MAX_GROUP_CHAT_SIZE } from '../services/directChannels.js';

export const DirectMessagePolicy = builder.enumType('DirectMessagePolicy', {
  description: 'Who may open a DM with you, send you one, or put you in a group chat (besides nobody you blocked or who blocked you).',
  values: {
    EVERYONE: { description: 'Anyone who knows your id.' },
    SHARED_GUILDS: { description: 'People in a guild with you.' },
    NOBODY: { description: 'Nobody; group chats you are already in go on.' },
  },
});

const channelArg = (id: string) => parseGlobalId(id, 'Channel', 'channelId');
const userArg = (id: string, field = 'userId') => parseGlobalId(id, 'User', field);

builder.prismaObjectFields(User, (t) => ({
  directChannels: t.field({
    type: [Channel],
    description:
      "Your DMs and group chats, most recent activity first (their newest message, or their creation). Each has unreadCount and mentionCount. Empty on anyone else's profile.",
    extensions: viewerDependent,
    resolve: (user, _args, ctx) => (ctx.actor.userId === user.id ? ctx.services.directChannels.list(ctx.actor) : []),
  }),
  blockedUsers: t.field({
    type: [User],
    description: "Whom you blocked, most recent first. Empty on anyone else's profile.",
    extensions: viewerDependent,
    resolve: (user, _args, ctx) => ctx.services.directChannels.blockedUsers(ctx.actor, user.id),
  }),
  directMessagePolicy: t.field({
    type: DirectMessagePolicy,
    nullable: true,
    description: 'Who may start a conversation with you. Only visible to the user themself.',
    extensions: viewerDependent,
    resolve: (user, _args, ctx) => ctx.services.directChannels.policyOf(ctx.actor, user),
  }),
}));

builder.mutationFields((t) => ({
  openDirectChannel: t.field({
    type: Channel,
    description:
      "The one DM channel of you and userId, created on first use (the same channel whoever opens it, however many calls race). FORBIDDEN when either of you blocked the other or their directMessagePolicy refuses you.",
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.directChannels.open(ctx.actor, userArg(args.userId)),
  }),
  createGroupChat: t.field({
    type: Channel,
    description: `A group chat of you (its owner) and userIds: ${MAX_GROUP_CHAT_SIZE} people at most, you included. Each must accept you (as for openDirectChannel).`,
    args: { userIds: t.arg.idList({ required: true }), name: t.arg.string() },
    resolve: (_root, args, ctx) =>
      ctx.services.directChannels.createGroup(ctx.actor, args.userIds.map((id) => userArg(id, 'userIds')), args.name),
  }),
  addGroupChatMember: t.field({
    type: Channel,
    description: `Any member adds someone who accepts them, up to ${MAX_GROUP_CHAT_SIZE} people. Adding someone already there is success.`,
    args: { channelId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.directChannels.addGroupMember(ctx.actor, channelArg(args.channelId), userArg(args.userId)),
  }),
  removeGroupChatMember: t.field({
    type: Channel,
    description: "The owner removes someone; their open subscriptions of the chat end at once.",
    args: { channelId: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) =>
      ctx.services.directChannels.removeGroupMember(ctx.actor, channelArg(args.channelId), userArg(args.userId)),
  }),
  leaveGroupChat: t.id({
    description: 'Leaves a group chat (an owner hands it to the longest-standing member; the last one out deletes it). Returns the channel id.',
    args: { channelId: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      await ctx.services.directChannels.leaveGroup(ctx.actor, channelArg(args.channelId));
      return args.channelId;
    },
  }),
  renameGroupChat: t.field({
    type: Channel,
    description: 'Any member names the chat; an empty name clears it.',
    args: { channelId: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.directChannels.renameGroup(ctx.actor, channelArg(args.channelId), args.name),
  }),
  blockUser: t.field({
    type: User,
    description: 'They can no longer open a DM with you, send you DMs, or put you in a group chat (nor you them, until you unblock). Idempotent.',
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.directChannels.block(ctx.actor, userArg(args.userId)),
  }),
  unblockUser: t.field({
    type: User,
    description: 'NOT_FOUND "Block not found" when you had not blocked them.',
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.directChannels.unblock(ctx.actor, userArg(args.userId)),
  }),
  updateDirectMessageSettings: t.field({
    type: User,
    description: 'Sets who may start a conversation with you. Returns you.',
    args: { policy: t.arg({ type: DirectMessagePolicy, required: true }) },
    resolve: (_root, args, ctx) => ctx.services.directChannels.updatePolicy(ctx.actor, args.policy),
  }),
}));
