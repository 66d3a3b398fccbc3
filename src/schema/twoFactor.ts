import type { TwoFactorEnrollment as Enrollment } from '../services/twoFactor.js';
import { builder } from './builder.js';
import { User } from './user.js';

export const TwoFactorEnrollment = builder.objectRef<Enrollment>('TwoFactorEnrollment').implement({
  description: 'A pending enrolment: nothing is in force until confirmTwoFactorEnrollment.',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The secret in base32, for typing into an authenticator app by hand.' }),
    provisioningUri: t.exposeString('provisioningUri', {
      description: 'otpauth://totp/… URI to show as a QR code for an authenticator app.',
    }),
  }),
});

export const RecoveryCodesPayload = builder
  .objectRef<{ recoveryCodes: string[]; userId: string }>('RecoveryCodesPayload')
  .implement({
    fields: (t) => ({
      recoveryCodes: t.exposeStringList('recoveryCodes', {
        description: 'One-time codes for when the authenticator is lost; shown this once, only their digests are kept.',
      }),
      user: t.prismaField({
        type: User,
        resolve: (query, payload, _args, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: payload.userId } }),
      }),
    }),
  });
