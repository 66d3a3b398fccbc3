import { builder } from '../schema/builder.js';
import { Attachment } from '../schema/message.js';
import type { IncomingFile } from '../services/attachments.js';
import { badInput } from '../services/errors.js';

builder.mutationFields((t) => ({
  uploadAttachments: t.field({
    type: [Attachment],
    description:
      'Stores files (GraphQL multipart request) as attachments of the viewer, for sendMessage(input: { attachmentIds }). ' +
      'At most MAX_UPLOAD_FILES files of MAX_UPLOAD_BYTES each, else PAYLOAD_TOO_LARGE.',
    args: { files: t.arg({ type: ['File'], required: true }) },
    resolve: (_root, { files }, ctx) => {
      // Streams are opened one at a time, as the service gets to each file.
      function* incoming(): Generator<IncomingFile> {
        for (const file of files) {
          if (typeof (file as Partial<File> | null)?.stream !== 'function') {
            throw badInput('"files" must be uploaded files (a multipart request).', 'files');
          }
          yield { fileName: file.name, contentType: file.type, stream: file.stream() };
        }
      }
      return ctx.services.attachments.store(ctx.actor, incoming());
    },
  }),
}));
