import { useEffect, useState, type DragEvent } from 'react';
import { ApiError, type Api, type Problem } from '../api/client';
import type { components } from '../api/schema';
import { useSession } from '../session/session';

type Attachment = components['schemas']['Attachment'];
type Upload = components['schemas']['Upload'];

/** Raster images are shown as thumbnails; everything else as a file row. */
const THUMBNAIL_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif']);
const MAX_FILES = 10;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * An attachment's bytes as a blob: the download needs the session's token, which a plain link
 * or <img src> would not send.
 */
async function fetchBlob(api: Api, url: string): Promise<Blob> {
  // The URL comes from the API (its own attachment route); the client adds the token.
  const result = await api.GET(url as '/api/v1/support/attachments/{attachmentId}', {
    params: { path: { attachmentId: url.split('/').pop() as string } },
    parseAs: 'blob',
  });
  if (result.error !== undefined || !(result.data instanceof Blob)) throw new ApiError(result.response.status, result.error as Problem | undefined);
  return result.data;
}

function Thumbnail({ attachment }: { attachment: Attachment }) {
  const { api } = useSession();
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let url: string | undefined;
    let live = true;
    fetchBlob(api, attachment.url).then(
      (blob) => {
        url = URL.createObjectURL(blob);
        if (live) setSrc(url);
      },
      () => undefined,
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [api, attachment.url]);
  return src ? <img src={src} alt={attachment.filename} className="attachment-thumbnail" /> : <span className="attachment-thumbnail placeholder" aria-hidden="true" />;
}

/** A message's files: thumbnails for images, a row for the rest; each downloads on click. */
export function AttachmentList({ attachments }: { attachments: readonly Attachment[] | undefined }) {
  const { api } = useSession();
  const [failed, setFailed] = useState<string>();
  if (!attachments || attachments.length === 0) return null;
  async function download(attachment: Attachment) {
    setFailed(undefined);
    try {
      const url = URL.createObjectURL(await fetchBlob(api, attachment.url));
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.filename;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      setFailed(error instanceof Error ? error.message : 'The file could not be downloaded.');
    }
  }
  return (
    <div className="attachments">
      <ul>
        {attachments.map((attachment) => (
          <li key={attachment.attachment_id}>
            <button type="button" className="attachment" onClick={() => void download(attachment)} title={`Download ${attachment.filename}`}>
              {THUMBNAIL_TYPES.has(attachment.content_type) ? <Thumbnail attachment={attachment} /> : null}
              <span className="attachment-name">{attachment.filename}</span>
              <small className="muted">{formatSize(attachment.size)}</small>
            </button>
          </li>
        ))}
      </ul>
      {failed ? <p className="field-error">{failed}</p> : null}
    </div>
  );
}

interface Pending {
  key: string;
  name: string;
  state: 'uploading' | 'done' | 'failed';
  progress: number;
  upload?: Upload;
  error?: string;
}

/**
 * Sends one file to the uploads operation with its progress. XMLHttpRequest rather than fetch:
 * only it reports upload progress.
 */
function sendFile(token: string | null, url: string, file: File, onProgress: (fraction: number) => void): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    if (token) request.setRequestHeader('authorization', `Bearer ${token}`);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status === 201) resolve(body as Upload);
      else reject(new ApiError(request.status, body as Problem | undefined));
    };
    request.onerror = () => reject(new ApiError(0, undefined));
    const form = new FormData();
    form.append('file', file);
    request.send(form);
  });
}

/**
 * Files to attach to what is being written: picked or dropped, uploaded at once with their
 * progress, each removable; a refused type or size says why. `onChange` gets the upload IDs
 * ready to send.
 */
export function AttachmentPicker({ staff = false, onChange }: { staff?: boolean; onChange: (uploadIds: string[]) => void }) {
  const { api } = useSession();
  const [files, setFiles] = useState<Pending[]>([]);
  const [dragging, setDragging] = useState(false);
  useEffect(() => onChange(files.flatMap((f) => (f.upload ? [f.upload.upload_id] : []))), [files, onChange]);
  const update = (key: string, change: Partial<Pending>) => setFiles((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));

  async function add(list: FileList | null) {
    for (const file of Array.from(list ?? []).slice(0, Math.max(0, MAX_FILES - files.length))) {
      const key = `${file.name}-${Math.random()}`;
      setFiles((all) => [...all, { key, name: file.name, state: 'uploading', progress: 0 }]);
      try {
        const upload = await sendFile(await api.token(), staff ? '/api/v1/admin/support/uploads' : '/api/v1/support/uploads', file, (progress) => update(key, { progress }));
        update(key, { state: 'done', progress: 1, upload });
      } catch (error) {
        update(key, { state: 'failed', error: error instanceof Error ? error.message : 'The file could not be uploaded.' });
      }
    }
  }
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    void add(event.dataTransfer.files);
  };

  return (
    <div
      className={dragging ? 'attachment-picker dragging' : 'attachment-picker'}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={drop}
    >
      <label className="button">
        Attach files
        <input type="file" multiple className="visually-hidden" onChange={(event) => void add(event.target.files).then(() => (event.target.value = ''))} />
      </label>
      <span className="muted small"> or drop them here (up to {MAX_FILES})</span>
      {files.length > 0 ? (
        <ul className="attachment-uploads">
          {files.map((f) => (
            <li key={f.key}>
              <span className="attachment-name">{f.name}</span>{' '}
              {f.state === 'uploading' ? <progress value={f.progress} max={1} aria-label={`Uploading ${f.name}`} /> : null}
              {f.state === 'failed' ? <span className="field-error">{f.error}</span> : null}
              {f.upload ? <small className="muted">{formatSize(f.upload.size)}</small> : null}{' '}
              <button type="button" className="link" onClick={() => setFiles((all) => all.filter((x) => x.key !== f.key))} aria-label={`Remove ${f.name}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
