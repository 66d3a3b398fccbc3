import { builder } from '../schema/builder.js';
import { AuthPayload } from '../schema/auth.js';
import { RecoveryCodesPayload, TwoFactorEnrollment } from '../schema/twoFactor.js';
import { User } from '../schema/user.js';

const ANY_CODE = 'A code of your authenticator app, or one of your recovery codes.';

builder.mutationFields((t) => ({
  beginTwoFactorEnrollment: t.field({
    type: TwoFactorEnrollment,
    description: 'Starts turning on two-factor authentication (your password asked again): a new secret for your authenticator.',
    args: { password: t.arg.string({ required: true }) },
    resolve: (_root, { password }, ctx) => ctx.services.twoFactor.beginEnrollment(ctx.actor, password),
  }),
  confirmTwoFactorEnrollment: t.field({
    type: RecoveryCodesPayload,
    description: 'Turns two-factor authentication on with a code of the enrolled authenticator; answers the recovery codes.',
    args: { code: t.arg.string({ required: true, description: 'A code of your authenticator app.' }) },
    resolve: async (_root, args, ctx) => ({
      recoveryCodes: await ctx.services.twoFactor.confirmEnrollment(ctx.actor, args.code),
      userId: ctx.actor.requireUser(),
    }),
  }),
  disableTwoFactor: t.prismaField({
    type: User,
    description: 'Turns two-factor authentication off; the recovery codes go with it.',
    args: { code: t.arg.string({ required: true, description: ANY_CODE }) },
    resolve: (_query, _root, args, ctx) => ctx.services.twoFactor.disable(ctx.actor, args.code),
  }),
  regenerateRecoveryCodes: t.field({
    type: RecoveryCodesPayload,
    description: 'New recovery codes; the previous ones stop working.',
    args: { code: t.arg.string({ required: true, description: ANY_CODE }) },
    resolve: async (_root, args, ctx) => ({
      recoveryCodes: await ctx.services.twoFactor.regenerateRecoveryCodes(ctx.actor, args.code),
      userId: ctx.actor.requireUser(),
    }),
  }),
  completeTwoFactorLogin: t.field({
    type: AuthPayload,
    description: 'The second step of signing in to an account with two-factor on: the challengeToken of the TWO_FACTOR_REQUIRED error `login` answered, and a code.',
    args: {
      challengeToken: t.arg.string({ required: true }),
      code: t.arg.string({ required: true, description: ANY_CODE }),
    },
    resolve: (_root, args, ctx) => ctx.services.auth.completeTwoFactorLogin(args.challengeToken, args.code),
  }),
}));
