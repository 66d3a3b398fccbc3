// Two-factor authentication: codes of an authenticator app (TOTP, RFC 6238: SHA-1, 6 digits,
// 30-second steps, one step of clock drift either way), and one-time recovery codes for when
// the authenticator is lost.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type { Db } from '../db/client.js';
import type { Actor } from './actor.js';
import { badInput, conflict } from './errors.js';
import { newId } from './ids.js';
import type { Passwords } from './passwords.js';
import type { RateLimits } from './rateLimits.js';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** steps either side of now whose code is accepted (a phone's clock is seldom exact) */
const WINDOW = 1;
/** what an authenticator code looks like; anything else is taken for a recovery code */
const AUTHENTICATOR_CODE = new RegExp(`^\\d{${DIGITS}}$`);
const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no I, L, O or U to misread; 16 symbols carry 80 random bits */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE_LENGTH = 16;

export interface TwoFactorOptions {
  /** the name authenticator apps show the account under (TOTP_ISSUER) */
  issuer: string;
  /** what the TOTP secrets are sealed with: the first seals, each opens (older keys, so a
   *  change of key loses no secret; one opened by an older key is sealed again when used) */
  encryptionSecrets: readonly string[];
}

export interface TwoFactorEnrollment {
  /** the secret in base32, for typing into an authenticator by hand */
  secret: string;
  /** otpauth://totp/… URI, for a QR code */
  provisioningUri: string;
}

/**
 * AES-256-GCM for TOTP secrets at rest: a database dump alone does not yield them. Unlike a
 * password, the server needs the secret itself to compute codes, so it is encrypted, not hashed.
 */
class SecretBox {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    if (!secrets.length) throw new Error('SecretBox needs a key');
    this.keys = secrets.map((s) => Buffer.from(hkdfSync('sha256', s, '', 'chat-backend totp secret', 32)));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The plain text, and whether a key other than the sealing one opened it. */
  open(sealed: string): { plain: string; stale: boolean } {
    const raw = Buffer.from(sealed.replace(/^v1\./, ''), 'base64url');
    for (const [i, key] of this.keys.entries()) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
        return { plain, stale: i > 0 };
      } catch {
        // the authentication tag did not match: another key sealed it
      }
    }
    throw new Error('A TOTP secret opens with none of the configured keys: was TOTP_ENCRYPTION_KEY (or JWT_SECRET, its default) changed?');
  }
}

/** A recovery code as typed: case, spaces and dashes ignored, look-alikes read as Crockford does. */
const normalizeRecoveryCode = (code: string) =>
  code.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');

/**
 * Recovery codes carry 80 random bits, so a plain SHA-256 is enough to keep them: a slow hash
 * (argon2) is for secrets people choose, whose few bits an attacker can enumerate; 2^80
 * candidates cannot be. A fast, deterministic digest also lets a code be found (and deleted,
 * once) by an indexed lookup instead of verifying ten argon2 hashes per attempt.
 */
const hashRecoveryCode = (normalized: string) => createHash('sha256').update(normalized).digest('hex');

function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let code = '';
  for (let i = 0; i < RECOVERY_CODE_LENGTH; i++) code = RECOVERY_ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)] + code;
  return code.match(/.{4}/g)!.join('-');
}

export class TwoFactorService {
  private readonly box: SecretBox;

  constructor(
    private readonly db: Db,
    private readonly passwords: Passwords,
    private readonly limits: RateLimits,
    private readonly options: TwoFactorOptions,
  ) {
    this.box = new SecretBox(options.encryptionSecrets);
  }

  /** Whether signing in as this user takes a second factor. */
  async isEnabled(userId: string): Promise<boolean> {
    const user = await this.db.user.findUnique({ where: { id: userId }, select: { twoFactorEnabledAt: true } });
    return Boolean(user?.twoFactorEnabledAt);
  }

  /**
   * Starts enrolment (the password is asked again): a new secret, nothing in force until
   * confirmEnrollment proves an authenticator holds it. Beginning again replaces a pending
   * secret; with two-factor already on it is CONFLICT (turn it off first).
   */
  async beginEnrollment(actor: Actor, password: string): Promise<TwoFactorEnrollment> {
    const userId = actor.requireUser();
    await this.passwords.confirm(userId, password, 'password');
    const secret = new OTPAuth.Secret({ size: 20 });
    const pending = await this.db.user.updateManyAndReturn({
      where: { id: userId, twoFactorEnabledAt: null },
      data: { totpSecret: this.box.seal(secret.base32), totpLastStep: null },
      select: { username: true },
    });
    if (!pending[0]) throw conflict('Two-factor authentication is already on; turn it off first.');
    const totp = this.totp(secret, pending[0].username);
    return { secret: secret.base32, provisioningUri: totp.toString() };
  }

  /** Turns two-factor on with a code of the enrolled authenticator; returns the recovery
   *  codes, shown this once (only their digests are kept). */
  async confirmEnrollment(actor: Actor, code: string): Promise<string[]> {
    const userId = actor.requireUser();
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { totpSecret: true, twoFactorEnabledAt: true, totpLastStep: true },
    });
    if (user?.twoFactorEnabledAt) throw conflict('Two-factor authentication is already on.');
    if (!user?.totpSecret) throw conflict('No enrolment to confirm: call beginTwoFactorEnrollment first.');
    const { totpSecret } = user;
    await this.counted(userId, () => this.acceptTotp(userId, { ...user, totpSecret }, code));
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const enabled = await this.db.$transaction(async (tx) => {
      // the secret confirmed, not one a concurrent beginTwoFactorEnrollment put in its place
      const { count } = await tx.user.updateMany({
        where: { id: userId, twoFactorEnabledAt: null, totpSecret },
        data: { twoFactorEnabledAt: new Date() },
      });
      if (count === 1) await this.storeRecoveryCodes(tx, userId, codes);
      return count === 1;
    });
    if (!enabled) throw conflict('The enrolment changed meanwhile; begin again.');
    return codes;
  }

  /** Turns two-factor off with a code (authenticator or recovery); recovery codes go with it. */
  async disable(actor: Actor, code: string) {
    const userId = actor.requireUser();
    await this.verifyCode(userId, code);
    const [user] = await this.db.$transaction([
      this.db.user.update({
        where: { id: userId },
        data: { totpSecret: null, twoFactorEnabledAt: null, totpLastStep: null },
      }),
      this.db.recoveryCode.deleteMany({ where: { userId } }),
    ]);
    return user;
  }

  /** New recovery codes for a code (authenticator or recovery); the old ones stop working. */
  async regenerateRecoveryCodes(actor: Actor, code: string): Promise<string[]> {
    const userId = actor.requireUser();
    await this.verifyCode(userId, code);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.db.$transaction((tx) => this.storeRecoveryCodes(tx, userId, codes));
    return codes;
  }

  /**
   * Accepts a second factor of a user with two-factor on: a code of their authenticator, or
   * one of their recovery codes (spent by its use). An authenticator code is good once: none
   * of its step or an earlier one is taken after it. Wrong codes are BAD_USER_INPUT on `code`
   * and count per account (TWO_FACTOR_FAILURE_LIMIT, across every challenge and operation).
   */
  async verifyCode(userId: string, code: string): Promise<void> {
    const user = await this.db.user.findUnique({
      where: { id: userId },
      select: { totpSecret: true, twoFactorEnabledAt: true, totpLastStep: true },
    });
    if (!user?.twoFactorEnabledAt || !user.totpSecret) throw conflict('Two-factor authentication is off.');
    const { totpSecret } = user;
    const typed = String(code ?? '').replace(/\s/g, '');
    await this.counted(userId, () =>
      AUTHENTICATOR_CODE.test(typed) ? this.acceptTotp(userId, { ...user, totpSecret }, typed) : this.spendRecoveryCode(userId, typed),
    );
  }

  /** One attempt at a code, counted before it is checked (so a concurrent burst stops at the
   *  limit too); a right code clears the count. */
  private async counted(userId: string, attempt: () => Promise<boolean>): Promise<void> {
    const key = `user:${userId}`;
    await this.limits.consume('twoFactor', key);
    if (!(await attempt())) throw badInput('That code is not valid.', 'code');
    await this.limits.reset('twoFactor', key);
  }

  private async acceptTotp(
    userId: string,
    user: { totpSecret: string; totpLastStep: number | null },
    code: string,
  ): Promise<boolean> {
    const token = String(code ?? '').replace(/\s/g, '');
    if (!AUTHENTICATOR_CODE.test(token)) return false;
    const { plain, stale } = this.box.open(user.totpSecret);
    const now = Date.now();
    const delta = OTPAuth.TOTP.validate({
      token,
      secret: OTPAuth.Secret.fromBase32(plain),
      digits: DIGITS,
      period: PERIOD_SECONDS,
      timestamp: now,
      window: WINDOW,
    });
    if (delta === null) return false;
    const step = OTPAuth.TOTP.counter({ period: PERIOD_SECONDS, timestamp: now }) + delta;
    if (user.totpLastStep !== null && step <= user.totpLastStep) return false;
    // Compare-and-set: of two requests with one code, one moves the step and the other fails.
    const { count } = await this.db.user.updateMany({
      where: { id: userId, totpSecret: user.totpSecret, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
      data: { totpLastStep: step, ...(stale ? { totpSecret: this.box.seal(plain) } : {}) },
    });
    return count === 1;
  }

  private async spendRecoveryCode(userId: string, code: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(code);
    if (normalized.length !== RECOVERY_CODE_LENGTH) return false;
    const { count } = await this.db.recoveryCode.deleteMany({ where: { userId, codeHash: hashRecoveryCode(normalized) } });
    return count === 1;
  }

  private async storeRecoveryCodes(tx: Pick<Db, 'recoveryCode'>, userId: string, codes: readonly string[]): Promise<void> {
    await tx.recoveryCode.deleteMany({ where: { userId } });
    await tx.recoveryCode.createMany({
      data: codes.map((c) => ({ id: newId(), userId, codeHash: hashRecoveryCode(normalizeRecoveryCode(c)) })),
    });
  }

  private totp(secret: OTPAuth.Secret, accountName: string): OTPAuth.TOTP {
    return new OTPAuth.TOTP({
      issuer: this.options.issuer,
      label: accountName,
      algorithm: 'SHA1',
      digits: DIGITS,
      period: PERIOD_SECONDS,
      secret,
    });
  }
}
