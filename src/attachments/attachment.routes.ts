import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireStaff, type Actor } from '../http/auth.js';
import { problemResponses, Ref } from '../http/schemas.js';
import type { AttachmentSide } from './attachment.presenter.js';
import { AttachmentParams, Upload } from './attachment.schemas.js';
import { downloadAttachment, multipartLimits, receiveUpload, type AttachmentDeps } from './attachment.service.js';

const security = [{ bearerClerk: [] }];

const UPLOAD_DESCRIPTION =
  'Send one file as `multipart/form-data`, in a field named `file`. Its type is decided from its content; ' +
  'the answer’s `upload_id` goes in `attachments` of a new ticket or comment within an hour, after which an unattached upload is deleted.';

// The binary answer of a download, and its conditional and partial forms.
const downloadResponses = {
  200: { description: 'The file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
  206: { description: 'The requested range of the file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
  304: { description: 'Not modified (If-None-Match matched the ETag)' },
};

// For the OpenAPI document only: the multipart parser leaves no body to validate (the file is
// streamed from the parts and checked by receiveUpload), so the route compiles no validator.
const UploadBody = {
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: { file: { type: 'string', format: 'binary', description: 'The file; its name is kept for display' } },
        required: ['file'],
      },
    },
  },
} as const;

const AttachmentHeaders = {
  type: 'object',
  properties: {
    range: { type: 'string', maxLength: 200, description: 'One byte range, `bytes=START-END`' },
    'if-none-match': { type: 'string', maxLength: 200, description: 'An ETag from an earlier download' },
  },
} as const;

/** Uploads and downloads of attachments, for one side of the desk (customer or staff). */
function attachmentSide(side: AttachmentSide): FastifyPluginAsyncTypebox<AttachmentDeps> {
  const prefix = side === 'staff' ? '/admin/support' : '/support';
  const tags = side === 'staff' ? ['Support (staff)'] : ['Support'];
  const suffix = side === 'staff' ? '-staff' : '';
  return async (app, deps) => {
    if (side === 'staff') app.addHook('onRequest', requireStaff);
    const actorOf = (request: { actor: Actor | null }): Actor => request.actor as Actor;
    // Here only: the rest of the API takes JSON alone.
    await app.register(multipart, { limits: multipartLimits(deps.limits), throwFileSizeLimit: true });

    app.post(
      `${prefix}/uploads`,
      {
        validatorCompiler: () => () => true,
        schema: {
          operationId: `upload-file${suffix}`,
          summary: side === 'staff' ? 'Upload a file to attach (staff)' : 'Upload a file to attach',
          description: UPLOAD_DESCRIPTION,
          tags,
          security,
          body: UploadBody,
          response: { 201: Ref(Upload), ...problemResponses(400, 401, ...(side === 'staff' ? [403] : []), 413, 415, 422, 429, 500) },
        },
      },
      async (request, reply) => reply.code(201).send(await receiveUpload(deps, actorOf(request), () => request.parts())),
    );

    app.get(
      `${prefix}/attachments/:attachmentId`,
      {
        schema: {
          operationId: `download-attachment${suffix}`,
          summary: side === 'staff' ? 'Download an attachment (staff)' : 'Download an attachment',
          description: 'Served with its sniffed type, as a download unless it is a raster image or PDF, in a sandbox.',
          tags,
          security,
          params: AttachmentParams,
          headers: AttachmentHeaders,
          response: { ...downloadResponses, ...problemResponses(400, 401, ...(side === 'staff' ? [403] : []), 404, 416, 422, 429, 500) },
        },
      },
      async (request, reply) => {
        const headers = request.headers as { range?: string; 'if-none-match'?: string };
        const download = await downloadAttachment(deps, actorOf(request), side, request.params.attachmentId, { range: headers.range, ifNoneMatch: headers['if-none-match'] });
        return reply.code(download.status).headers(download.headers).send(download.body ?? '');
      },
    );
  };
}

/** Attachments: `POST /support/uploads` and `GET /support/attachments/{id}`, and their staff twins. */
export const attachmentRoutes: FastifyPluginAsyncTypebox<AttachmentDeps> = async (app, deps) => {
  await app.register(attachmentSide('customer'), deps);
  await app.register(attachmentSide('staff'), deps);
};
