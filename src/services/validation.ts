// Input rules of the contract. Each failure names the input field it concerns.
import { z } from 'zod';
import { badInput } from './errors.js';

export const rules = {
  username: z
    .string()
    .min(2, 'Username must be 2 to 32 characters.')
    .max(32, 'Username must be 2 to 32 characters.')
    .regex(/^[A-Za-z0-9_.-]+$/, 'Username may contain only letters, digits, "_", "." and "-".'),
  email: z.string().trim().max(254, 'Email is too long.').email('Email is not a valid address.'),
  password: z
    .string()
    .min(8, 'Password must be at least 8 characters.')
    .max(256, 'Password must be at most 256 characters.'),
  displayName: z.string().trim().min(1, 'Display name must be 1 to 32 characters.').max(32, 'Display name must be 1 to 32 characters.'),
  guildName: z.string().trim().min(1, 'Name must be 1 to 100 characters.').max(100, 'Name must be 1 to 100 characters.'),
  channelName: z.string().trim().min(1, 'Name must be 1 to 100 characters.').max(100, 'Name must be 1 to 100 characters.'),
  description: z.string().trim().max(1000, 'Description must be at most 1000 characters.'),
  topic: z.string().trim().max(1024, 'Topic must be at most 1024 characters.'),
  messageContent: z
    .string()
    .trim()
    .min(1, 'Message must not be empty.')
    .max(2000, 'Message must be at most 2000 characters.'),
  roleName: z.string().trim().min(1, 'Name must be 1 to 100 characters.').max(100, 'Name must be 1 to 100 characters.'),
  emoji: z.string().trim().min(1, 'Emoji must not be empty.').max(64, 'Emoji is too long.'),
  reason: z.string().trim().max(512, 'Reason must be at most 512 characters.'),
  bio: z.string().trim().max(300, 'Bio must be at most 300 characters.'),
  customStatusText: z.string().trim().max(128, 'Custom status must be at most 128 characters.'),
  search: z.string().max(100, 'Search must be at most 100 characters.'),
  searchQuery: z
    .string()
    .trim()
    .min(1, 'A search query must not be empty.')
    .max(200, 'A search query must be at most 200 characters.'),
  nonce: z.string().min(1, 'A nonce must be 1 to 64 characters.').max(64, 'A nonce must be 1 to 64 characters.'),
  pageSize: z.number().int().min(0, 'Page size must not be negative.').max(100, 'Page size must be at most 100.'),
};

/** Parses value with schema or throws BAD_USER_INPUT naming field. */
export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the database.
  if (typeof value === 'string' && value.includes('\u0000')) throw badInput(`${field} must not contain a NUL character.`, field);
  const result = schema.safeParse(value);
  if (!result.success) throw badInput(result.error.issues[0]?.message ?? `Invalid ${field}.`, field);
  return result.data;
}

/** Like check, but passes undefined and null through (optional inputs). */
export function checkOptional<T>(schema: z.ZodType<T>, value: unknown, field: string): T | undefined {
  return value === undefined || value === null ? undefined : check(schema, value, field);
}
