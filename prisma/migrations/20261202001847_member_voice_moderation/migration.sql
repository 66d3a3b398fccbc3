-- A moderator's voice mute and deafen stay on the member when they leave voice, until lifted.
ALTER TABLE "Member" ADD COLUMN     "voiceDeafened" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "voiceMuted" BOOLEAN NOT NULL DEFAULT false;
