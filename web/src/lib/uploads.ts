// Attachments go up before the message: POST /uploads (multipart, Bearer token), with upload
// progress (fetch cannot report it, XMLHttpRequest can).
export interface UploadedAttachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  url: string;
}

export class UploadError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export function uploadFiles(
  files: readonly File[],
  token: string,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<UploadedAttachment[]> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const body = new FormData();
    for (const file of files) body.append('file', file, file.name);
    xhr.open('POST', '/uploads');
    xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'json';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      const response = xhr.response as {
        attachments?: UploadedAttachment[];
        errors?: { message?: string; extensions?: { code?: string } }[];
      } | null;
      if (xhr.status >= 200 && xhr.status < 300 && response?.attachments) {
        onProgress(1);
        resolve(response.attachments);
        return;
      }
      const error = response?.errors?.[0];
      const code = error?.extensions?.code ?? (xhr.status === 413 ? 'PAYLOAD_TOO_LARGE' : null);
      const message =
        code === 'PAYLOAD_TOO_LARGE'
          ? 'That file is too large to upload.'
          : (error?.message ?? `The upload failed (HTTP ${xhr.status}).`);
      reject(new UploadError(message, code));
    });
    xhr.addEventListener('error', () => reject(new UploadError('The upload failed: the server cannot be reached.', null)));
    xhr.addEventListener('abort', () => reject(new UploadError('The upload was cancelled.', null)));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(body);
  });
}

export const isImage = (contentType: string) => /^image\/(png|jpe?g|gif|webp|avif|bmp)$/i.test(contentType);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
