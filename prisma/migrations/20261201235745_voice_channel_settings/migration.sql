-- Voice channel settings: the participant limit (0 = none) and the bitrate clients encode at.
ALTER TABLE "Channel" ADD COLUMN     "bitrate" INTEGER NOT NULL DEFAULT 64000,
ADD COLUMN     "userLimit" INTEGER NOT NULL DEFAULT 0;
