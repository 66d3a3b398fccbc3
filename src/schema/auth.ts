import type { AuthResult } from '../services/auth.js';
import { builder } from './builder.js';
import { User } from './user.js';

export const AuthPayload = builder.objectRef<AuthResult>('AuthPayload').implement({
  fields: (t) => ({
    accessToken: t.exposeString('accessToken'),
    refreshToken: t.exposeString('refreshToken'),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    user: t.prismaField({
      type: User,
      resolve: (query, payload, _args, ctx) => {
        ctx.selfUserIds.add(payload.userId);
        return ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: payload.userId } });
      },
    }),
  }),
});

export const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    displayName: t.string(),
  }),
});

export const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    login: t.string({ required: true, description: 'Username or email.' }),
    password: t.string({ required: true }),
  }),
});
