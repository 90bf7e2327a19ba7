/** The people of the demo desk: the same ones the test suite uses (test/helpers.ts). */
export const DEV_IDENTITIES = [
  { id: 'customer-acme', name: 'Alice, a customer at Acme', user_id: 'user_alice', email: 'alice@acme.test', org_id: 'org_acme', is_staff: false },
  { id: 'customer-globex', name: 'Carol, a customer at Globex', user_id: 'user_carol', email: 'carol@globex.test', org_id: 'org_globex', is_staff: false },
  { id: 'staff', name: 'Sam, support staff', user_id: 'user_sam', email: 'sam@helpdesk.test', org_id: 'org_helpdesk', is_staff: true },
] as const;

/** The demo identities' ids, which is all `POST /dev/tokens` accepts. */
export const DEV_IDENTITY_IDS = DEV_IDENTITIES.map((identity) => identity.id);
export type DevIdentityId = (typeof DEV_IDENTITIES)[number]['id'];
