-- AlterEnum
ALTER TYPE "PresencePreference" ADD VALUE 'INVISIBLE';
