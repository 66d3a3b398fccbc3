import { AuthPayload, LoginInput, RegisterInput } from '../schema/auth.js';
import { builder } from '../schema/builder.js';

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auth.register(input, ctx.clientAddress),
  }),
  login: t.field({
    type: AuthPayload,
    description:
      'Signs in with a username or email. An account with two-factor on answers the error TWO_FACTOR_REQUIRED instead, whose extensions.challengeToken goes to completeTwoFactorLogin.',
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.auth.login(input.login, input.password, ctx.clientAddress),
  }),
  refreshSession: t.field({
    type: AuthPayload,
    description: 'Rotates the refresh token: the one given stops working. Reusing an old one revokes the session.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, { refreshToken }, ctx) => ctx.services.auth.refresh(refreshToken),
  }),
  logout: t.boolean({
    description: 'Revokes the session of this refresh token, with its access tokens.',
    args: { refreshToken: t.arg.string({ required: true }) },
    resolve: (_root, { refreshToken }, ctx) => ctx.services.auth.logout(refreshToken),
  }),
}));
