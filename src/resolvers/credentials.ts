import { builder } from '../schema/builder.js';
import { User } from '../schema/user.js';

builder.mutationFields((t) => ({
  changePassword: t.boolean({
    description: 'Replaces your password and signs out every other session of yours; this one stays signed in.',
    args: {
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.changePassword(ctx.actor, args.currentPassword, args.newPassword),
  }),
  changeEmail: t.prismaField({
    type: User,
    description: 'Moves your account to another email (your password asked again).',
    args: {
      password: t.arg.string({ required: true }),
      newEmail: t.arg.string({ required: true }),
    },
    resolve: (_query, _root, args, ctx) =>
      ctx.services.auth.changeEmail(ctx.actor, args.password, args.newEmail, ctx.clientAddress),
  }),
}));
