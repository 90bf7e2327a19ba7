import { Type, type Static } from '@sinclair/typebox';
import { InputSchemaLink, Nullable, Ref, SchemaLink } from '../http/schemas.js';
import { DEV_IDENTITY_IDS, type DevIdentityId } from './dev-identities.js';

export const DevIdentity = Type.Object(
  {
    id: Type.Unsafe<DevIdentityId>({ type: 'string', enum: [...DEV_IDENTITY_IDS], description: 'What to send to /dev/tokens' }),
    name: Type.String({ description: 'Who this is, for the sign-in page' }),
    user_id: Type.String({ description: 'The token’s subject' }),
    email: Type.String({ description: 'The token’s email claim' }),
    org_id: Type.String({ description: 'The active organization (tenant) of the token' }),
    is_staff: Type.Boolean({ description: 'Whether the token carries a support-staff role' }),
  },
  { $id: 'DevIdentity', additionalProperties: false },
);
export type DevIdentity = Static<typeof DevIdentity>;

export const DashboardConfig = Type.Object(
  {
    $schema: SchemaLink('DashboardConfig'),
    auth_mode: Type.Unsafe<'clerk' | 'development'>({
      type: 'string',
      enum: ['clerk', 'development'],
      description: 'How the dashboard signs in: Clerk’s JS SDK, or the demo identities of development sign-in',
    }),
    clerk_publishable_key: Nullable(Type.String({ description: 'The key for Clerk’s JS SDK (Clerk mode; null when not configured)' })),
    dev_identities: Type.Array(Ref(DevIdentity), {
      description: 'Demo identities (development sign-in only, and only to requests from the server’s own machine; empty otherwise)',
    }),
    dev_outbox: Type.Boolean({ description: 'Whether notifications are kept as files for staff to read (no SMTP server configured)' }),
  },
  { $id: 'DashboardConfig', additionalProperties: false },
);
export type DashboardConfig = Static<typeof DashboardConfig>;

export const CreateDevTokenBody = Type.Object(
  {
    $schema: InputSchemaLink('CreateDevTokenBody'),
    identity: Type.Unsafe<DevIdentityId>({ type: 'string', enum: [...DEV_IDENTITY_IDS], description: 'One of the demo identities' }),
  },
  { $id: 'CreateDevTokenBody', additionalProperties: false },
);
export type CreateDevTokenBody = Static<typeof CreateDevTokenBody>;

export const DevToken = Type.Object(
  {
    $schema: SchemaLink('DevToken'),
    token: Type.String({ description: 'A bearer token for the identity, signed with the development key' }),
    expires_at: Type.String({ format: 'date-time', description: 'When the token stops being accepted' }),
    identity: Ref(DevIdentity),
  },
  { $id: 'DevToken', additionalProperties: false },
);
export type DevToken = Static<typeof DevToken>;

export const webSchemas = [DevIdentity, DashboardConfig, CreateDevTokenBody, DevToken];
